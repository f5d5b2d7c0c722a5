"""REST routes: the persona library, owned sessions (with swipes and scores), a streamed turn, and scoring."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, HTTPException, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from personae.persona import PersonaFormatError
from personae.scoring import split_sentences
from personae.server._auth import KeyDep, ServiceDep
from personae.server._avatars import AvatarError
from personae.server._errors import ApiError, error_reply
from personae.server._service import PersonaInfo, SessionView, TooLargeError, TurnOutcome, TurnView, turn_view
from personae.server._sse import EventStream, LastEvents
from personae.session import Explanation

router = APIRouter(prefix="/v1", tags=["rest"])


class StartSession(BaseModel):
    """Body of `POST /v1/sessions`."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    persona: str = Field(min_length=1)
    """Persona id."""
    user_name: str = Field(default="User", min_length=1, max_length=200)
    """The user's name ({{user}})."""


class UserMessage(BaseModel):
    """Body of `POST /v1/sessions/{id}/messages`."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    content: str = Field(min_length=1)
    """What the user says."""


class ScoreRequest(BaseModel):
    """Body of `POST /v1/score`."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    persona: str = Field(min_length=1)
    """Persona id."""
    query: str
    """The user's message the reply answers."""
    reply: str = Field(min_length=1)
    """The reply to score."""


@router.get("/personas")
def list_personas(service: ServiceDep, key: KeyDep) -> list[PersonaInfo]:
    """The persona library this key sees."""
    return service.persona_infos(key)


@router.get("/personas/{persona_id}")
def get_persona(persona_id: str, service: ServiceDep, key: KeyDep) -> dict[str, Any]:
    """One persona in full."""
    return service.persona(key, persona_id).model_dump(mode="json", exclude_none=True)


@router.post("/personas", status_code=201)
async def upload_persona(
    request: Request,
    service: ServiceDep,
    key: KeyDep,
    filename: str = Query(min_length=1, max_length=255, description="Upload's file name; its suffix picks YAML."),
) -> list[PersonaInfo]:
    """Import a character card (PNG, JSON, CHARX) or a persona file (YAML/JSON) sent as the raw request body."""
    data = await request.body()
    if not data:
        raise HTTPException(400, "body: empty upload; send the file's bytes as the request body")
    try:  # parsed in a worker thread: a large card or persona must not stall other requests
        return await asyncio.to_thread(service.upload, key, data, filename)
    except PersonaFormatError as exc:
        raise ApiError(400, str(exc), param="body", code="invalid_persona") from None
    except TooLargeError as exc:
        raise ApiError(413, str(exc), param="body", code="too_large") from None


@router.get(
    "/personas/{persona_id}/avatar",
    response_class=Response,
    responses={200: {"content": {"image/png": {}, "image/jpeg": {}, "image/webp": {}}}},
)
def get_avatar(
    persona_id: str,
    request: Request,
    service: ServiceDep,
    key: KeyDep,
    v: str | None = Query(None, max_length=64, description="The picture's version, as `avatar_url` gives it."),
) -> Response:
    """A persona's picture (PNG, JPEG or WebP), 404 when it has none.

    Under its versioned `avatar_url` it is cached for good (a new picture is a new URL); otherwise revalidated.
    """
    avatar = service.avatar(key, persona_id)
    etag = f'"{avatar.sha256}"'
    versioned = v is not None and avatar.sha256.startswith(v) and len(v) >= 16
    headers = {
        "ETag": etag,
        "Cache-Control": "private, max-age=31536000, immutable" if versioned else "private, no-cache",
        "Content-Disposition": "inline",
    }
    if etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    return Response(avatar.data, media_type=avatar.media_type, headers=headers)


@router.put("/personas/{persona_id}/avatar")
async def put_avatar(persona_id: str, request: Request, service: ServiceDep, key: KeyDep) -> dict[str, str]:
    """Set the picture of one of this key's uploaded personas: the raw PNG, JPEG or WebP image as the body."""
    data = await request.body()
    try:
        url = await asyncio.to_thread(service.set_avatar, key, persona_id, data)
    except AvatarError as exc:
        status, code = (413, "too_large") if exc.too_large else (400, "invalid_image")
        raise ApiError(status, str(exc), param="body", code=code) from None
    return {"avatar_url": url}


@router.delete("/personas/{persona_id}", status_code=204)
def delete_persona(persona_id: str, service: ServiceDep, key: KeyDep) -> Response:
    """Delete one of this key's uploaded personas."""
    service.delete_persona(key, persona_id)
    return Response(status_code=204)


@router.get("/sessions")
def list_sessions(
    service: ServiceDep,
    key: KeyDep,
    q: str | None = Query(None, max_length=200, description="Keep sessions whose persona or messages contain this."),
    limit: int | None = Query(None, ge=1, le=1000, description="At most this many sessions (default: all)."),
    offset: int = Query(0, ge=0, description="Skip this many sessions first (paging)."),
) -> list[dict[str, Any]]:
    """This key's sessions, most recent first, with persona id, its picture's URL, start time and last message."""
    listed = service.access.list_sessions(key.id, search=q or None, limit=limit, offset=offset)
    urls = service.avatar_urls(key)
    return [{**s.model_dump(mode="json"), "avatar_url": urls.get(s.persona_id)} for s in listed]


@router.post("/sessions", status_code=201)
def start_session(body: StartSession, service: ServiceDep, key: KeyDep) -> SessionView:
    """Start a session with a persona."""
    chat = service.start(key, body.persona, body.user_name)
    return service.view(key, chat.id)


@router.get("/sessions/{session_id}")
def get_session(session_id: str, service: ServiceDep, key: KeyDep) -> SessionView:
    """A session with every turn, its swipes and their scores."""
    return service.view(key, session_id)


@router.delete("/sessions/{session_id}", status_code=204)
def delete_session(session_id: str, service: ServiceDep, key: KeyDep) -> Response:
    """Delete a session."""
    service.delete_session(key, session_id)
    return Response(status_code=204)


def _event(name: str, data: Any) -> str:
    return f"event: {name}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


@router.post("/sessions/{session_id}/messages")
async def send_message(session_id: str, body: UserMessage, service: ServiceDep, key: KeyDep) -> EventStream:
    """Send a message; server-sent events `delta` (reply text) then `turn` (the stored turn with scores).

    A failure after the headers are sent is the last event, `error`, with OpenAI's error object (`message`, `type`,
    `param`, `code`) as an error status would carry it: upstream failures redacted, internals left out.
    """
    chat = service.session(key, session_id)

    async def events() -> AsyncIterator[str]:
        streamed = False
        tail = ""
        try:
            async with service.lock(chat.id):
                async for item in service.turn_stream(chat, body.content):
                    if isinstance(item, TurnOutcome):  # a guarded reply comes whole, with its turn
                        tail = "" if streamed else _event("delta", {"text": item.turn.reply})
                        data = turn_view(item.turn).model_dump(mode="json")
                        tail += _event("turn", {**data, "backend_ms": round(item.backend_seconds * 1000.0, 3)})
                    else:
                        streamed = True
                        yield _event("delta", {"text": item})
        except Exception as exc:  # headers are sent: report in the stream, as an error status would (`error_reply`)
            tail += _event("error", error_reply(exc, service.backend.api.redact)[1]["error"])
        yield LastEvents(tail)

    return EventStream(events())


@router.post("/sessions/{session_id}/swipe")
async def swipe(
    session_id: str,
    service: ServiceDep,
    key: KeyDep,
    to: int | None = Query(None, ge=0, description="Show this candidate (its `index`) instead of the next one."),
) -> TurnView:
    """Show the next candidate of the last turn (in the guard's ranking order, wrapping around), or candidate `to`."""
    chat = service.session(key, session_id)
    if not chat.turns:
        raise HTTPException(409, "session has no turn to swipe yet")
    async with service.lock(chat.id):
        service.swipe(chat, to)
    return turn_view(chat.turns[-1])


@router.post("/sessions/{session_id}/regenerate")
async def regenerate(session_id: str, service: ServiceDep, key: KeyDep) -> TurnView:
    """Generate fresh candidates for the last message; they join its swipes."""
    chat = service.session(key, session_id)
    if not chat.turns:
        raise HTTPException(409, "session has no turn to regenerate yet")
    async with service.lock(chat.id):
        async for _ in service.turn_stream(chat, chat.turns[-1].user_text, regenerate=True):
            pass
    return turn_view(chat.turns[-1])


@router.get("/sessions/{session_id}/why")
def why(session_id: str, service: ServiceDep, key: KeyDep) -> Explanation:
    """Supported and violated statements of the shown reply of the last turn."""
    chat = service.session(key, session_id)
    if not chat.turns:
        raise HTTPException(409, "session has no reply to explain yet")
    return chat.why()


@router.post("/score")
def score(body: ScoreRequest, service: ServiceDep, key: KeyDep) -> dict[str, object]:
    """APC of a reply against a persona, with per-statement probabilities."""
    if service.models is None:
        raise HTTPException(503, "scoring is off on this server (started with --scoring off)")
    persona = service.persona(key, body.persona)
    pairs = len(split_sentences(body.reply)) * len(persona.statements)
    if pairs > service.config.max_score_pairs:
        raise HTTPException(
            413,
            f"reply: {pairs} sentence x statement pairs to score, over the server's limit of "
            f"{service.config.max_score_pairs}; send a shorter reply",
        )
    scorer = service.models.scorer(persona)
    if scorer is None:
        raise HTTPException(400, f"persona: {body.persona!r} has no statements to score against")
    return scorer.score(body.query, body.reply).to_json()
