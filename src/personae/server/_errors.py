"""Every error the server answers, in OpenAI's shape: `{"error": {"message", "type", "param", "code"}}`.

OpenAI's SDKs read `error.message`, `error.type`, `error.param` and `error.code` from this body (FastAPI's own
`{"detail": ...}` left them None), and map status codes to exception classes, so validation failures answer 400
as OpenAI does, never 422. Routes raise `ApiError` (or a plain `HTTPException`, whose `field: reason` message
prefix becomes `param`); typed errors of the service, store and backends are mapped here once.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from personae.backends import BackendError, RejectedRequestError
from personae.server._service import ConflictError, NotFoundError
from personae.store import SessionNotFoundError, TurnConflictError

log = logging.getLogger(__name__)

ERROR_TYPES: dict[int, str] = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    409: "conflict_error",
    413: "invalid_request_error",
    429: "rate_limit_error",
}
"""OpenAI error `type` by status; other 4xx are `invalid_request_error`, 5xx `server_error`."""

SERVER_SIDE_REFUSALS = frozenset({401, 403, 404, 407})
"""Upstream statuses about the server's own upstream settings, never a client's request: its key (401), account
(403), a `--base-url` path or upstream model that does not exist (404) and proxy (407). A 502 whose message names
only the status: how the server is set up (where its key comes from, the upstream's own words about it) goes to the
server's log, not to clients."""

_FIELD = re.compile(r"^([A-Za-z_][\w.\[\]-]{0,80}): ")


class ApiError(HTTPException):
    """An HTTP error with OpenAI's `type`, `param` (the request field at fault) and `code`.

    Example:
        raise ApiError(400, "tools: personas cannot call tools", param="tools", code="unsupported_parameter")
    """

    def __init__(
        self,
        status_code: int,
        message: str,
        *,
        param: str | None = None,
        code: str | None = None,
        type: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(status_code, message, headers=dict(headers) if headers else None)
        self.param = param
        self.code = code
        self.type = type


def error_type(status: int) -> str:
    """OpenAI's error `type` for an HTTP status."""
    return ERROR_TYPES.get(status, "server_error" if status >= 500 else "invalid_request_error")


def error_body(
    status: int, message: str, param: str | None = None, code: str | None = None, type: str | None = None
) -> dict[str, Any]:
    """The JSON body of an error; `param` defaults to the `field: reason` prefix of the message."""
    if param is None and (match := _FIELD.match(message)):
        param = match.group(1)
    return {"error": {"message": message, "type": type or error_type(status), "param": param, "code": code}}


def field_path(loc: Sequence[int | str]) -> str:
    """A validation location as OpenAI spells a param: `messages[0].role` (the leading `body` dropped)."""
    parts = list(loc[1:] if loc and loc[0] in ("body", "query", "path", "header") else loc)
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or str(loc[0] if loc else "body")


def validation_message(exc: RequestValidationError) -> tuple[str, str | None]:
    """One line naming each invalid field (the first three), and the first field as `param`."""
    problems: list[str] = []
    first: str | None = None
    for error in exc.errors()[:3]:
        path = field_path(error.get("loc", ()))
        first = first or path
        problems.append(f"{path}: {error.get('msg', 'invalid')}")
    more = len(exc.errors()) - len(problems)
    return "; ".join(problems) + (f" (and {more} more)" if more > 0 else ""), first


def error_reply(exc: Exception, redact: Callable[[str], str] = str) -> tuple[int, dict[str, Any], dict[str, str]]:
    """The status, OpenAI-shaped body and headers answering `exc`: the one mapping, for responses and streams alike.

    Upstream failures (502) and unexpected errors (500, named by class only) are logged here. `redact` hides the
    upstream's address and key from upstream failures sent to clients (the log keeps them); a refusal about the
    server's own settings (`SERVER_SIDE_REFUSALS`) is told to clients by its status alone.
    """
    if isinstance(exc, StarletteHTTPException):
        message = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        headers = dict(exc.headers or {})
        if isinstance(exc, ApiError):
            return exc.status_code, error_body(exc.status_code, message, exc.param, exc.code, exc.type), headers
        code = "invalid_api_key" if exc.status_code == 401 else None
        return exc.status_code, error_body(exc.status_code, message, code=code), headers
    if isinstance(exc, RequestValidationError):
        message, param = validation_message(exc)
        return 400, error_body(400, message, param, code="invalid_value"), {}
    if isinstance(exc, NotFoundError | SessionNotFoundError):
        return 404, error_body(404, str(exc), code="not_found"), {}
    if isinstance(exc, ConflictError | TurnConflictError):
        return 409, error_body(409, str(exc), code="conflict"), {}
    if isinstance(exc, BackendError):
        log.warning("upstream model failed: %s", exc)
        message = f"upstream model: {redact(str(exc))}"
        if isinstance(exc, RejectedRequestError) and exc.status_code in SERVER_SIDE_REFUSALS:
            message = (
                f"upstream model: the server's upstream refused its request (HTTP {exc.status_code}), a fault in "
                "the server's own settings rather than in this request; the server's log has the details"
            )
        return 502, error_body(502, message, code="upstream_error", type="server_error"), {}
    log.exception("unhandled error", exc_info=exc)
    return 500, error_body(500, f"internal error: {exc.__class__.__name__}", code="internal_error"), {}


def client_error(
    exc: BaseException, redact: Callable[[str], str] = str, own: tuple[type[BaseException], ...] = ()
) -> dict[str, Any]:
    """The OpenAI error object a client may read about `exc`, worded as `error_reply` words it.

    For errors reported outside a response (stream events, a failed run's status). Errors of the `own` types are
    the client's own input's (its spec, its persona) and are told in full; anything not an `Exception` by class.
    """
    if isinstance(exc, own):
        return {"message": f"{exc.__class__.__name__}: {exc}"}
    if not isinstance(exc, Exception):
        return {"message": exc.__class__.__name__}
    error: dict[str, Any] = error_reply(exc, redact)[1]["error"]
    return error


def install(app: FastAPI, redact: Callable[[str], str] = str) -> None:
    """Answer every error of `app` in OpenAI's shape (`error_reply`: the one place errors are turned into replies)."""

    async def reply(_request: Request, exc: Exception) -> JSONResponse:
        status, body, headers = error_reply(exc, redact)
        return JSONResponse(body, status_code=status, headers=headers or None)

    for handled in (
        StarletteHTTPException,
        RequestValidationError,
        NotFoundError,
        SessionNotFoundError,
        ConflictError,
        TurnConflictError,
        BackendError,
        Exception,
    ):
        app.add_exception_handler(handled, reply)
