"""The FastAPI app: OpenAI-compatible and REST routes under /v1, the web UI at /, size limits, optional CORS."""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import os
from pathlib import Path

import anyio
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy import event
from sqlalchemy.exc import SQLAlchemyError

from personae import __version__
from personae._util.paths import home_dir
from personae.server import _errors, _evals, _memory, _openai, _rest, _scenes
from personae.server._config import ServerConfig
from personae.server._evals import ServerEvals
from personae.server._limits import ASGIApp, BodyLimit, Message, Receive, Scope, Send
from personae.server._service import Service

log = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "static"
CONFIG_ENV = "PERSONAE_SERVER_CONFIG"
"""Environment variable through which `personae serve` hands its config to `app_from_env` in uvicorn workers."""


def _tune_sqlite(service: Service) -> bool:
    """WAL, NORMAL sync and no automatic checkpoints on SQLite; returns whether the database is SQLite.

    WAL lets readers run while a turn commits and NORMAL saves an fsync per commit. Automatic checkpoints would
    copy the WAL into the database inside whichever request crossed the threshold (tens of ms with the event loop
    blocked), so the app checkpoints from a worker thread instead (`_checkpoints`).
    """
    engine = service.store.engine
    if engine.dialect.name != "sqlite":
        return False

    def pragmas(dbapi_connection: object, _record: object) -> None:
        cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.execute("PRAGMA wal_autocheckpoint=0")
        cursor.close()

    event.listen(engine, "connect", pragmas)
    engine.dispose()  # connections opened before the listener reconnect with the pragmas
    return True


async def _checkpoints(service: Service, every: float = 1.0) -> None:
    """Copy the SQLite WAL into the database once a second, off the event loop (sqlite3 releases the GIL)."""

    def checkpoint() -> None:
        with service.store.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")

    while True:
        await asyncio.sleep(every)
        try:
            await asyncio.to_thread(checkpoint)
        except SQLAlchemyError as exc:  # a busy database is checkpointed next time
            log.warning("WAL checkpoint failed: %s", exc)


WARMED_ROUTES = ("/v1/chat/completions", "/v1/sessions/warm-up/messages")
"""Routes each worker requests once at start-up (`warm_routes`): those of a chat turn."""


async def _post_without_key(app: ASGIApp, path: str) -> None:
    """POST `{}` to `path` in process, without a key, and drop the answer (a 401)."""
    body = b"{}"
    scope: Scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        "client": ("127.0.0.1", 0),
        "server": ("127.0.0.1", 0),
    }
    messages: list[Message] = [{"type": "http.request", "body": body, "more_body": False}]

    async def receive() -> Message:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(_message: Message) -> None:
        return None

    await app(scope, receive, send)


async def warm_routes(app: ASGIApp, paths: tuple[str, ...] = WARMED_ROUTES) -> None:
    """Request each of `paths` once, in process and without a key (a 401): a route's first request does one-time work.

    FastAPI reads an endpoint's source file on its first request (for the context of error messages), some 20 ms
    on the event loop; a worker's first chat turn paid it while every request in flight waited.
    """
    for path in paths:
        await _post_without_key(app, path)


def create_app(config: ServerConfig | None = None, service: Service | None = None) -> FastAPI:
    """Build the app around one `Service` (made from `config` unless given)."""
    config = config or (service.config if service else ServerConfig())
    service = service or Service(config)
    sqlite = _tune_sqlite(service)
    app = FastAPI(title="personae", version=__version__, docs_url="/docs", redoc_url=None)
    app.state.service = service
    app.state.evals = ServerEvals(
        service.access,
        config.evals_dir or home_dir() / "server-evals",
        config.eval_base_dir or Path.cwd(),
        # A worker starting beside others must not mark their runs interrupted: `personae serve` did it once.
        interrupt_stale=service.sole_writer,
        config=config,
        redact=service.backend.api.redact,
    )
    app.include_router(_openai.router)
    app.include_router(_rest.router)
    app.include_router(_evals.router)
    app.include_router(_memory.router)
    app.state.scenes = _scenes.ServerScenes(service)
    app.include_router(_scenes.router)

    _errors.install(app, service.backend.api.redact)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok", "backend": service.backend.address}

    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        return FileResponse(STATIC / "index.html")

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> FileResponse:
        return FileResponse(STATIC / "favicon.ico", media_type="image/x-icon")

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.add_middleware(SecurityHeaders)
    app.add_middleware(BodyLimit, default=config.max_request_bytes, upload=config.max_upload_bytes)
    if config.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=config.cors_origins,
            allow_methods=["GET", "POST", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "X-API-Key", "X-Personae-Session"],
        )
    tasks: list[asyncio.Task[None]] = []

    async def start_up() -> None:
        service.warm()
        await warm_routes(app)
        async with anyio.create_task_group():  # loads anyio's asyncio backend, which every streamed response uses
            pass
        if sqlite:
            tasks.append(asyncio.create_task(_checkpoints(service)))

    async def shutdown() -> None:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await app.state.evals.aclose()
        service.close()

    app.router.add_event_handler("startup", start_up)
    app.router.add_event_handler("shutdown", shutdown)
    return app


UI_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
    "connect-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
"""Content-Security-Policy of the web UI: its own scripts and API only; never framed. Inline styles are allowed
because an eval report shown in the UI (a sandboxed `srcdoc` frame, which inherits this policy) is styled inline."""
SECURITY_HEADERS = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
)
"""Sent with every response."""


class SecurityHeaders:
    """ASGI middleware: nosniff, no framing and no referrer on every response, and a CSP on the web UI's pages.

    The CSP is left off the API's JSON, the self-contained eval reports (inline styles and scripts) and /docs.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Add the headers to the response's start message."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = str(scope.get("path", ""))
        ui = path == "/" or path.startswith("/static/")

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += SECURITY_HEADERS
                if ui:
                    headers.append((b"content-security-policy", UI_POLICY.encode()))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)


GC_THRESHOLDS = (20_000, 50, 100)
"""Collection thresholds of a serving process: young garbage is collected after 20,000 allocations, not 700."""


def tune_gc() -> None:
    """Freeze the heap built at start-up and collect young objects less often (`personae serve`, after start-up).

    What start-up allocated (imports, personas, models) lives as long as the process; frozen, it is skipped by every
    collection, where a full one would walk it all with every request in flight stalled. A turn allocates many
    short-lived objects, so at the default threshold young collections ran several times per turn.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def app_from_env() -> FastAPI:
    """Uvicorn factory of `personae serve`: the config comes as JSON in `PERSONAE_SERVER_CONFIG`.

    The process is the server's alone, so the garbage collector is tuned for it once start-up is done.
    """
    raw = os.environ.get(CONFIG_ENV)
    config = ServerConfig.model_validate(json.loads(raw)) if raw else ServerConfig()
    app = create_app(config)
    app.router.add_event_handler("startup", tune_gc)
    return app
