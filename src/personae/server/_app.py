"""The FastAPI app: OpenAI-compatible and REST routes under /v1, the web UI at /, size limits, optional CORS."""

from __future__ import annotations

import json
import os
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy import event

from personae import __version__
from personae.server import _openai, _rest
from personae.server._config import ServerConfig
from personae.server._limits import BodyLimit
from personae.server._service import ConflictError, NotFoundError, Service
from personae.store import SessionNotFoundError

STATIC = Path(__file__).parent / "static"
CONFIG_ENV = "PERSONAE_SERVER_CONFIG"
"""Environment variable through which `personae serve` hands its config to `app_from_env` in uvicorn workers."""


def _tune_sqlite(service: Service) -> None:
    """WAL and NORMAL sync: concurrent readers while one turn commits, without an fsync per commit."""
    engine = service.store.engine
    if engine.dialect.name != "sqlite":
        return

    def pragmas(dbapi_connection: object, _record: object) -> None:
        cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.close()

    event.listen(engine, "connect", pragmas)
    engine.dispose()  # connections opened before the listener reconnect with the pragmas


def create_app(config: ServerConfig | None = None, service: Service | None = None) -> FastAPI:
    """Build the app around one `Service` (made from `config` unless given)."""
    config = config or (service.config if service else ServerConfig())
    service = service or Service(config)
    _tune_sqlite(service)
    app = FastAPI(title="personae", version=__version__, docs_url="/docs", redoc_url=None)
    app.state.service = service
    app.include_router(_openai.router)
    app.include_router(_rest.router)

    @app.exception_handler(NotFoundError)
    @app.exception_handler(SessionNotFoundError)
    async def not_found(_request: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=404)

    @app.exception_handler(ConflictError)
    async def conflict(_request: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=409)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok", "backend": service.backend.address}

    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        return FileResponse(STATIC / "index.html")

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.add_middleware(BodyLimit, default=config.max_request_bytes, upload=config.max_upload_bytes)
    if config.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=config.cors_origins,
            allow_methods=["GET", "POST", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "X-API-Key", "X-Personae-Session"],
        )
    app.router.add_event_handler("shutdown", service.close)
    return app


def app_from_env() -> FastAPI:
    """Uvicorn factory: the config comes as JSON in `PERSONAE_SERVER_CONFIG`."""
    raw = os.environ.get(CONFIG_ENV)
    config = ServerConfig.model_validate(json.loads(raw)) if raw else ServerConfig()
    return create_app(config)
