"""OpenAI-compatible routes: personas as models, chat completions run through the guarded role-play runtime.

Each reply carries a `personae` extension object (session id, turn, scores, supported and violated statements)
that plain OpenAI clients ignore.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Any, Literal

from fastapi import APIRouter, Header, HTTPException
from pydantic import BaseModel, ConfigDict, Field

from personae.server._auth import KeyDep, ServiceDep
from personae.server._service import (
    NotFoundError,
    ParsedChat,
    Service,
    TurnOutcome,
    candidate_view,
    parse_messages,
)
from personae.server._sse import EventStream, LastEvents
from personae.session import ChatSession
from personae.store import ApiKey

router = APIRouter(prefix="/v1", tags=["openai"])

SESSION_HEADER = "X-Personae-Session"
"""Optional request header naming the session to continue, instead of matching the message history."""


class ChatMessage(BaseModel):
    """One OpenAI chat message (text content only; content parts are joined)."""

    model_config = ConfigDict(extra="ignore", use_attribute_docstrings=True)

    role: Literal["system", "user", "assistant", "developer", "tool"]
    """Who said it."""
    content: str | list[dict[str, Any]] | None = None
    """Text, or content parts of which the text parts are kept."""
    name: str | None = None
    """Optional speaker name; a user message's name becomes {{user}} of a new session."""

    def text(self) -> str:
        """The message's text."""
        if isinstance(self.content, list):
            return "".join(str(p.get("text", "")) for p in self.content if p.get("type") == "text")
        return self.content or ""


class ChatCompletionRequest(BaseModel):
    """The fields of an OpenAI chat-completion request personae uses; the rest are accepted and ignored."""

    model_config = ConfigDict(extra="ignore", use_attribute_docstrings=True)

    model: str
    """Persona id."""
    messages: list[ChatMessage] = Field(min_length=1)
    """The whole conversation so far, as stateless clients send it."""
    stream: bool = False
    """Server-sent events when true."""
    max_tokens: int | None = Field(default=None, ge=1, le=8192)
    """Cap on reply tokens."""
    max_completion_tokens: int | None = Field(default=None, ge=1, le=8192)
    """Newer name of `max_tokens`."""
    temperature: float | None = Field(default=None, ge=0.0, le=2.0)
    """Sampling temperature."""
    user: str | None = None
    """End-user id; becomes {{user}} of a new session when no message carries a name."""


def _generate_overrides(body: ChatCompletionRequest) -> dict[str, Any]:
    overrides: dict[str, Any] = {}
    if body.max_completion_tokens or body.max_tokens:
        overrides["max_tokens"] = body.max_completion_tokens or body.max_tokens
    if body.temperature is not None:
        overrides["temperature"] = body.temperature
    return overrides


def extension(outcome: TurnOutcome, swipe: bool) -> dict[str, Any]:
    """The `personae` field of a reply: where it is stored and why it is (un)faithful."""
    turn = outcome.turn
    shown = turn.shown
    view = candidate_view(shown) if shown else None
    return {
        "session_id": outcome.chat.id,
        "turn": turn.index,
        "candidate": turn.chosen_index,
        "candidates": len(turn.candidates),
        "swipe": swipe,
        "guard": outcome.chat.guard.policy,
        "apc_normalized": view.apc_normalized if view else None,
        "supported": view.supported if view else [],
        "violated": view.violated if view else [],
        "contradictions": view.contradictions if view else [],
        "ooc": view.ooc if view else False,
        "ooc_reasons": view.ooc_reasons if view else [],
        "backend_ms": round(outcome.backend_seconds * 1000.0, 3),
    }


def _user_name(body: ChatCompletionRequest) -> str:
    named = next((m.name for m in body.messages if m.role == "user" and m.name), None)
    return named or body.user or "User"


def _resolve(
    service: Service, key: ApiKey, body: ChatCompletionRequest, parsed: ParsedChat, session_id: str | None
) -> tuple[ChatSession, bool]:
    if session_id:  # an explicit session: its stored turns are the history, the last user message is the turn
        return service.session(key, session_id), False
    return service.match_conversation(key, body.model, parsed, _user_name(body))


async def _run(
    service: Service, key: ApiKey, body: ChatCompletionRequest, parsed: ParsedChat, session_id: str | None
) -> AsyncIterator[str | TurnOutcome]:
    """Locks the conversation and the session for the whole turn, so resent requests cannot double a turn."""
    async with service.conversation_lock(key, body.model, _user_name(body), parsed):
        chat, swipe = _resolve(service, key, body, parsed, session_id)
        async with service.lock(chat.id):
            async for item in service.turn_stream(chat, parsed.user_text, swipe, _generate_overrides(body)):
                if isinstance(item, TurnOutcome):
                    yield item
                    yield "swipe" if swipe else "turn"
                    return
                yield item


def _sse(data: dict[str, Any]) -> str:
    return f"data: {json.dumps(data, ensure_ascii=False)}\n\n"


@router.get("/models")
def list_models(service: ServiceDep, key: KeyDep) -> dict[str, Any]:
    """Personas this key can chat with, as OpenAI models."""
    created = int(time.time())
    return {
        "object": "list",
        "data": [
            {"id": info.id, "object": "model", "created": created, "owned_by": "personae", "name": info.name}
            for info in service.persona_infos(key)
        ],
    }


@router.post("/chat/completions", response_model=None)
async def chat_completions(
    body: ChatCompletionRequest,
    service: ServiceDep,
    key: KeyDep,
    x_personae_session: str | None = Header(
        default=None, description="Continue this session instead of matching the message history."
    ),
) -> dict[str, Any] | EventStream:
    """Reply in character; the message history selects the stored session (docs/guides/serving.md)."""
    try:
        service.persona(key, body.model)
        parsed = parse_messages([(m.role, m.text()) for m in body.messages if m.role in ("user", "assistant")])
    except NotFoundError as exc:
        raise HTTPException(404, f"model: {exc}; GET /v1/models lists the personas") from None
    except ValueError as exc:
        raise HTTPException(400, str(exc)) from None
    created = int(time.time())
    if x_personae_session:  # 404 or 400 before streaming starts
        service.session(key, x_personae_session)
        owner = service.owner(x_personae_session)
        if owner is not None and owner.persona_id != body.model:
            raise HTTPException(400, f"model: session {x_personae_session} is with {owner.persona_id!r}")

    if not body.stream:
        outcome: TurnOutcome | None = None
        kind = "turn"
        async for item in _run(service, key, body, parsed, x_personae_session):
            if isinstance(item, TurnOutcome):
                outcome = item
            elif outcome is not None:
                kind = item  # after the outcome comes whether it was a turn or a swipe
        assert outcome is not None
        reply = outcome.turn.reply
        return {
            "id": f"chatcmpl-{outcome.chat.id}-{outcome.turn.index}-{outcome.turn.chosen_index}",
            "object": "chat.completion",
            "created": created,
            "model": body.model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": reply}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
            "personae": extension(outcome, kind == "swipe"),
        }

    async def events() -> AsyncIterator[str]:
        cid = f"chatcmpl-{created}"
        head = {"id": cid, "object": "chat.completion.chunk", "created": created, "model": body.model}
        role = _sse({**head, "choices": [{"index": 0, "delta": {"role": "assistant"}, "finish_reason": None}]})

        def content(text: str) -> str:
            return _sse({**head, "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": None}]})

        outcome: TurnOutcome | None = None
        streamed = False  # reply pieces already sent (the guard is off), the role chunk first among them
        tail = ""
        try:
            async for item in _run(service, key, body, parsed, x_personae_session):
                if isinstance(item, TurnOutcome):
                    outcome = item
                elif outcome is None:
                    yield content(item) if streamed else role + content(item)
                    streamed = True
                else:  # a guarded reply arrives whole with the outcome: it goes out with the final chunk
                    final = {"index": 0, "delta": {}, "finish_reason": "stop"}
                    tail = "" if streamed else content(outcome.turn.reply)
                    tail += _sse({**head, "choices": [final], "personae": extension(outcome, item == "swipe")})
        except Exception as exc:  # the status line is already sent: report the error in the stream
            tail += _sse({"error": {"message": f"{exc.__class__.__name__}: {exc}", "type": "server_error"}})
        # Under the guard this is the whole body, role chunk to [DONE], written once with the end of the response.
        yield LastEvents(("" if streamed else role) + tail + "data: [DONE]\n\n")

    return EventStream(events())
