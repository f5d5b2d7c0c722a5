"""API-key authentication: `Authorization: Bearer <key>` (what OpenAI clients send) or `X-API-Key: <key>`."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from personae.server._errors import ApiError
from personae.server._service import Service
from personae.store import ApiKey


async def get_service(request: Request) -> Service:
    """The process's service, stored on the app (async, like `current_key`: FastAPI runs sync ones in threads)."""
    service: Service = request.app.state.service
    return service


async def current_key(request: Request, service: Annotated[Service, Depends(get_service)]) -> ApiKey:
    """The request's key, or 401 naming how to get one.

    Async so that FastAPI calls it on the event loop: a sync dependency costs a thread-pool round trip per request,
    while this is a dict lookup except on a cache miss (one indexed query per key every 30 s).
    """
    header = request.headers.get("authorization", "")
    secret = header[7:].strip() if header.lower().startswith("bearer ") else request.headers.get("x-api-key", "")
    key = service.authenticate(secret) if secret else None
    if key is None:
        raise ApiError(
            401,
            "missing or unknown API key: send 'Authorization: Bearer <key>'; create one with `personae keys create`",
            code="invalid_api_key",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return key


ServiceDep = Annotated[Service, Depends(get_service)]
KeyDep = Annotated[ApiKey, Depends(current_key)]
