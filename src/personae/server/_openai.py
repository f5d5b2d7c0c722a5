"""OpenAI-compatible routes: personas as models, chat completions run through the guarded role-play runtime.

Each reply carries a `personae` extension object (session id, turn, scores, supported and violated statements)
that plain OpenAI clients ignore. Fields a persona cannot honour (tools, JSON output, logprobs) are refused, unless
the server passes them through to its OpenAI-compatible upstream (`ServerConfig.pass_through`): such a turn is the
upstream's own reply to the persona's prompt, unguarded.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import AsyncIterator, Collection, Sequence
from typing import Any, Literal, NamedTuple

from fastapi import APIRouter, Header
from pydantic import BaseModel, ConfigDict, Field

from personae.backends import Backend, Choice, Message, RejectedRequestError, Usage
from personae.guard import Candidate
from personae.persona import Persona
from personae.server._auth import KeyDep, ServiceDep
from personae.server._config import PassThroughField
from personae.server._errors import SERVER_SIDE_REFUSALS, ApiError, error_reply
from personae.server._service import (
    NotFoundError,
    ParsedChat,
    PassedThrough,
    PersonaInfo,
    Service,
    TurnOutcome,
    candidate_view,
    parse_messages,
)
from personae.server._sse import EventStream, LastEvents, started
from personae.session import ChatSession
from personae.store import ApiKey

router = APIRouter(prefix="/v1", tags=["openai"])

SESSION_HEADER = "X-Personae-Session"
"""Optional request header naming the session to continue, instead of matching the message history."""


class ChatMessage(BaseModel):
    """One OpenAI chat message (text content only; content parts are joined)."""

    model_config = ConfigDict(extra="ignore", use_attribute_docstrings=True)

    role: Literal["system", "user", "assistant", "developer", "tool", "function"]
    """Who said it; `tool` and `function` messages (tool results) reach the upstream only when `tools` are passed
    through."""
    content: str | list[dict[str, Any]] | None = None
    """Text, or content parts of which the text parts are kept."""
    name: str | None = None
    """Optional speaker name; a user message's name becomes {{user}} of a new session."""
    tool_calls: list[dict[str, Any]] | None = None
    """An assistant message's tool calls (when `tools` are passed through): its text is then no part of the
    role-play conversation, whose reply is the one after the tool results."""
    function_call: dict[str, Any] | None = None
    """The older form of `tool_calls`."""
    tool_call_id: str | None = None
    """The call a `tool` message answers."""

    def text(self) -> str:
        """The message's text."""
        if isinstance(self.content, list):
            return "".join(str(p.get("text", "")) for p in self.content if p.get("type") == "text")
        return self.content or ""

    def calls_tools(self) -> bool:
        """Whether this is an assistant message calling tools: part of a tool exchange, not of the role-play."""
        return self.role == "assistant" and bool(self.tool_calls or self.function_call)

    def conversation_text(self) -> str:
        """The text the role-play conversation holds of this message: none for a tool call (the reply follows it)."""
        return "" if self.calls_tools() else self.text()

    def in_tool_exchange(self) -> bool:
        """Whether this is a tool call or a tool's result."""
        return self.role in ("tool", "function") or self.calls_tools()

    def upstream(self) -> Message:
        """This message of a tool exchange (`in_tool_exchange`) as sent upstream: its role and fields as given."""
        fields: dict[str, Any] = {"content": self.content}
        for name in ("name", "tool_calls", "function_call", "tool_call_id"):
            if getattr(self, name) is not None:
                fields[name] = getattr(self, name)
        role: Literal["assistant", "tool", "function"] = (
            "tool" if self.role == "tool" else "function" if self.role == "function" else "assistant"
        )
        return Message(role=role, content=self.text(), fields=fields)


class StreamOptions(BaseModel):
    """OpenAI's `stream_options`."""

    model_config = ConfigDict(extra="ignore", use_attribute_docstrings=True)

    include_usage: bool = False
    """Send a last chunk with the request's token usage (and no choices) before `[DONE]`."""


class ChatCompletionRequest(BaseModel):
    """The fields of an OpenAI chat-completion request personae uses or refuses; the rest are accepted and ignored."""

    model_config = ConfigDict(extra="ignore", use_attribute_docstrings=True)

    model: str = Field(max_length=200)
    """Persona id."""
    messages: list[ChatMessage] = Field(min_length=1, max_length=10_000)
    """The whole conversation so far, as stateless clients send it."""
    stream: bool = False
    """Server-sent events when true."""
    stream_options: StreamOptions | None = None
    """`include_usage`: a final usage chunk when streaming."""
    max_tokens: int | None = Field(default=None, ge=1, le=8192)
    """Cap on reply tokens."""
    max_completion_tokens: int | None = Field(default=None, ge=1, le=8192)
    """Newer name of `max_tokens`."""
    temperature: float | None = Field(default=None, ge=0.0, le=2.0)
    """Sampling temperature."""
    top_p: float | None = Field(default=None, gt=0.0, le=1.0)
    """Nucleus sampling mass."""
    seed: int | None = None
    """Seed of the first candidate (later ones add their index), where the upstream honours seeds."""
    n: int = Field(default=1, ge=1, le=16)
    """Choices to return: the top `n` guarded candidates (the guard samples at least this many); with a field
    passed through, the upstream's `n` choices."""
    stop: str | list[str] | None = None
    """Up to 4 strings that end the reply: passed upstream and cut from the reply stored and returned."""
    user: str | None = Field(default=None, max_length=200)
    """End-user id; becomes {{user}} of a new session when no message carries a name."""
    tools: list[Any] | None = None
    """Refused when non-empty (a persona does not call tools), unless the server passes `tools` through: then sent
    upstream as given, with `functions`, `tool_choice`, `function_call` and `parallel_tool_calls`."""
    functions: list[Any] | None = None
    """Refused when non-empty (the older name of `tools`), unless the server passes `tools` through."""
    tool_choice: Any = None
    """Refused unless absent or "none", unless the server passes `tools` through."""
    function_call: Any = None
    """Refused unless absent or "none", unless the server passes `tools` through."""
    parallel_tool_calls: bool | None = None
    """Sent upstream with `tools` when they are passed through; otherwise ignored."""
    response_format: dict[str, Any] | None = None
    """Refused unless absent or `{"type": "text"}` (replies are role-play text, not JSON), unless the server passes
    `response_format` through: then sent upstream as given."""
    logprobs: bool | None = None
    """Refused when true (guarded replies are chosen among candidates, so token log-probabilities do not apply),
    unless the server passes `logprobs` through: then sent upstream with `top_logprobs`."""
    top_logprobs: int | None = None
    """Refused when above 0, as `logprobs`."""

    def stops(self) -> tuple[str, ...]:
        """`stop` as a tuple."""
        if self.stop is None:
            return ()
        return (self.stop,) if isinstance(self.stop, str) else tuple(self.stop)


UNSUPPORTED_HINT = "personae serves role-play personas, which reply in character as plain text"

PASS_THROUGH_GROUPS: dict[PassThroughField, tuple[str, ...]] = {
    "tools": ("tools", "functions", "tool_choice", "function_call", "parallel_tool_calls"),
    "response_format": ("response_format",),
    "logprobs": ("logprobs", "top_logprobs"),
}
"""What each `pass_through` option forwards upstream (those of the fields given) once a request asks for it."""


def _asked(body: ChatCompletionRequest) -> list[tuple[str, PassThroughField]]:
    """Each field asking for what a persona model cannot do (tools, JSON output, logprobs), with its option."""
    asked: list[tuple[str, PassThroughField, bool]] = [
        ("tools", "tools", bool(body.tools)),
        ("functions", "tools", bool(body.functions)),
        ("tool_choice", "tools", body.tool_choice not in (None, "none")),
        ("function_call", "tools", body.function_call not in (None, "none")),
        (
            "response_format",
            "response_format",
            bool(body.response_format and body.response_format.get("type") != "text"),
        ),
        ("logprobs", "logprobs", bool(body.logprobs)),
        ("top_logprobs", "logprobs", bool(body.top_logprobs)),
    ]
    return [(field, option) for field, option, used in asked if used]


def pass_through_fields(
    body: ChatCompletionRequest, passed: Collection[PassThroughField] = (), upstream: Backend | None = None
) -> dict[str, Any]:
    """The fields to pass through to the upstream (empty: an ordinary guarded turn), or a 400 naming the field.

    A field asking for what a persona cannot do is refused unless its option is in `passed` (the server's
    `pass_through`) and the `upstream` can take it (`BackendAPI.passes_through`: not the embedded model or a mock).
    """
    options: list[PassThroughField] = []
    for field, option in _asked(body):
        if option not in passed:
            raise ApiError(
                400,
                f"{field}: not supported; {UNSUPPORTED_HINT} (`personae serve --pass-through {option}` forwards it to "
                "an OpenAI-compatible upstream)",
                param=field,
                code="unsupported_parameter",
            )
        if upstream is None or not upstream.api.passes_through:
            where = f"upstream {upstream.address}" if upstream else "upstream"
            raise ApiError(
                400,
                f"{field}: not supported; this server passes {option} through, but its {where} cannot take it "
                "(only an OpenAI-compatible upstream can)",
                param=field,
                code="unsupported_parameter",
            )
        options.append(option)
    stops = body.stops()
    if len(stops) > 4 or any(len(s) > 200 for s in stops) or not all(stops):
        raise ApiError(400, "stop: up to 4 non-empty strings of at most 200 characters", param="stop")
    names = [name for option in dict.fromkeys(options) for name in PASS_THROUGH_GROUPS[option]]
    return {name: getattr(body, name) for name in names if getattr(body, name) is not None}


def split_tool_exchange(messages: Sequence[ChatMessage]) -> tuple[list[ChatMessage], list[ChatMessage]]:
    """The conversation, and the tool exchange at its end (tool calls and results since the last message)."""
    cut = len(messages)
    while cut and messages[cut - 1].in_tool_exchange():
        cut -= 1
    return list(messages[:cut]), list(messages[cut:])


def upstream_refusal(exc: RejectedRequestError, upstream: Backend) -> ApiError | None:
    """The upstream's refusal of fields a client passed through, as that client's error; None (a 502) if not its.

    A refusal of a request the server built itself (a memory summary: nothing `passed_through`) or about the
    server's own settings (`SERVER_SIDE_REFUSALS`: its key, account, proxy, or a `--base-url` path or upstream model
    that does not exist) is not the client's: a 502, as for a guarded request. The status is the upstream's, except
    that 422 answers 400 (as every request this server cannot validate does). `param` stays when it names a field
    passed through; the message says the refusal is the upstream's and hides where the upstream is and its key
    (`BackendAPI.redact`).
    """
    if not exc.passed_through or exc.status_code in SERVER_SIDE_REFUSALS:
        return None
    named = re.match(r"[A-Za-z_]+", exc.param or "")
    param = exc.param if named and named.group(0) in exc.passed_through else None
    said = f"HTTP {exc.status_code}" + (f", code {exc.code}" if exc.code else "")
    message = f"upstream model rejected the request ({said}): {exc.reason}"
    status = 400 if exc.status_code == 422 else exc.status_code
    return ApiError(status, upstream.api.redact(message), param=param, code="upstream_rejected")


def _generate_overrides(body: ChatCompletionRequest) -> dict[str, Any]:
    overrides: dict[str, Any] = {}
    if body.max_completion_tokens or body.max_tokens:
        overrides["max_tokens"] = body.max_completion_tokens or body.max_tokens
    if body.temperature is not None:
        overrides["temperature"] = body.temperature
    if body.top_p is not None:
        overrides["top_p"] = body.top_p
    if body.seed is not None:
        overrides["seed"] = body.seed
    if body.stop is not None:
        overrides["stop"] = body.stops()
    return overrides


def extension(outcome: TurnOutcome, swipe: bool) -> dict[str, Any]:
    """The `personae` field of a reply: where it is stored and why it is (un)faithful.

    A reply the guard never judged (`Candidate.guard_skipped`, as stored with the turn) says so rather than naming
    the session's policy (which governs its other turns): `guard` is "skipped", `guard_skipped` says why, and `ooc`
    is null, since nothing checked the reply.
    """
    turn = outcome.turn
    shown = turn.shown
    view = candidate_view(shown) if shown else None
    if view is not None and view.guard_skipped is not None:
        skipped = {"guard": "skipped", "guard_skipped": view.guard_skipped, "ooc": None}
    else:
        skipped = {}
    return {
        "session_id": outcome.chat.id,
        "turn": turn.index,
        "candidate": turn.chosen_index,
        "candidates": len(turn.candidates),
        "swipe": swipe,
        "continued": outcome.added is not None,
        "guard": outcome.chat.guard.policy,
        "apc_normalized": view.apc_normalized if view else None,
        "supported": view.supported if view else [],
        "violated": view.violated if view else [],
        "contradictions": view.contradictions if view else [],
        "claimed_user_facts": view.claimed_user_facts if view else [],
        "ooc": view.ooc if view else False,
        "ooc_reasons": view.ooc_reasons if view else [],
        "backend_ms": round(outcome.backend_seconds * 1000.0, 3),
        **skipped,
    }


_ST_MAIN_PROMPT = re.compile(r"fictional chat between (.{1,200}?) and ([^.\n]{1,100})\.")
"""SillyTavern's default main prompt names the user: "... in a fictional chat between {{char}} and {{user}}."."""


def _st_names(body: ChatCompletionRequest) -> tuple[str, str] | None:
    """The character's and the user's names in SillyTavern's main prompt, if a system message holds it."""
    for message in body.messages:
        if message.role == "system" and (match := _ST_MAIN_PROMPT.search(message.text()[:4000])):
            return match.group(1).strip(), match.group(2).strip()
    return None


def _user_name(body: ChatCompletionRequest) -> str:
    """{{user}}: a user message's `name`, else the `user` field, else the name SillyTavern's main prompt gives."""
    named = next((m.name for m in body.messages if m.role == "user" and m.name), None)
    if named or body.user:
        return (named or body.user or "").strip()[:200] or "User"
    names = _st_names(body)
    return names[1] if names else "User"


def _resolve(
    service: Service,
    key: ApiKey,
    body: ChatCompletionRequest,
    parsed: ParsedChat,
    session_id: str | None,
    persona: Persona | None = None,
) -> tuple[ChatSession, bool]:
    if session_id:  # an explicit session: its stored turns are the history, the last user message is the turn
        return service.session(key, session_id), False
    return service.match_conversation(key, body.model, parsed, _user_name(body), persona)


class Impersonation(NamedTuple):
    """The user's next line written for them (Impersonate): never stored."""

    chat: ChatSession
    text: str
    usage: Usage


async def _run(
    service: Service,
    key: ApiKey,
    body: ChatCompletionRequest,
    parsed: ParsedChat,
    session_id: str | None,
    passed: dict[str, Any],
    tail: Sequence[Message] = (),
    persona: Persona | None = None,
) -> AsyncIterator[str | TurnOutcome | Impersonation | PassedThrough]:
    """Locks the conversation and the session for the whole turn, so resent requests cannot double a turn.

    With fields `passed` through, the turn is the upstream's own reply (`Service.pass_through_turn`); a tool
    exchange in `tail` answers the last user message, so it adds to that turn's swipes. `persona` is the one the
    request was checked against, which a new session starts with (rather than looking it up again).
    """
    async with service.conversation_lock(key, body.model, _user_name(body), parsed):
        chat, swipe = _resolve(service, key, body, parsed, session_id, persona)
        async with service.lock(chat.id):
            if passed:
                last = chat.turns[-1].user_text if chat.turns else None
                again = swipe or (bool(tail) and last is not None and last.split() == parsed.user_text.split())
                overrides = _generate_overrides(body)
                yield await service.pass_through_turn(chat, parsed.user_text, passed, tail, again, overrides, body.n)
                yield "swipe" if again else "turn"
                return
            if parsed.mode == "impersonate":
                text, usage = await service.impersonate(chat, parsed.instruction, _generate_overrides(body))
                yield Impersonation(chat, text, usage)
                return
            if parsed.mode == "continue" and not chat.turns:
                raise ApiError(400, "messages: Continue needs a reply to extend", param="messages")
            stream = service.turn_stream(
                chat,
                parsed.user_text,
                swipe,
                _generate_overrides(body),
                mode="continue" if parsed.mode == "continue" else "send",
                n=body.n,
                instruction=parsed.instruction,
            )
            async for item in stream:
                if isinstance(item, TurnOutcome):
                    yield item
                    yield "swipe" if swipe else "turn"
                    return
                yield item


async def _finished(
    service: Service,
    key: ApiKey,
    body: ChatCompletionRequest,
    parsed: ParsedChat,
    session_id: str | None,
    passed: dict[str, Any],
    tail: Sequence[Message] = (),
    persona: Persona | None = None,
) -> tuple[TurnOutcome | Impersonation | PassedThrough, bool]:
    """Run the turn to its end (`_run`): its outcome, and whether it was a swipe.

    The upstream's refusal of the fields `passed` through is the client's error (`upstream_refusal`).
    """
    outcome: TurnOutcome | Impersonation | PassedThrough | None = None
    kind = "turn"
    try:
        async for item in _run(service, key, body, parsed, session_id, passed, tail, persona):
            if isinstance(item, TurnOutcome | Impersonation | PassedThrough):
                outcome = item
            elif outcome is not None:
                kind = item  # after the outcome comes whether it was a turn or a swipe
    except RejectedRequestError as exc:
        refusal = upstream_refusal(exc, service.backend)
        if refusal is None:
            raise
        raise refusal from None
    assert outcome is not None
    return outcome, kind == "swipe"


def _sse(data: dict[str, Any]) -> str:
    return f"data: {json.dumps(data, ensure_ascii=False)}\n\n"


def _usage(usage: Usage) -> dict[str, int]:
    return {
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "total_tokens": usage.total_tokens,
    }


def _finish(candidate: Candidate | None) -> str:
    reason = candidate.finish_reason if candidate else None
    return reason if reason in ("stop", "length") else "stop"


def choices(outcome: TurnOutcome, n: int) -> list[tuple[str, str]]:
    """(text, finish_reason) of the reply shown, then of the next best candidates, `n` in all.

    Candidates whose text differs from those already chosen come first; repeats fill up only when the upstream
    gave fewer than `n` different replies (the guard sampled at least `n`).
    """
    turn = outcome.turn
    if outcome.added is not None:
        return [(outcome.added, _finish(turn.shown))]
    ranked = sorted(turn.candidates, key=lambda c: (c.index != turn.chosen_index, c.rank_key()))
    seen: set[str] = set()
    distinct: list[Candidate] = []
    repeats: list[Candidate] = []
    for candidate in ranked:
        normal = " ".join(candidate.text.split())
        (repeats if normal in seen else distinct).append(candidate)
        seen.add(normal)
    picked = [*distinct, *repeats][:n]
    return [(c.text, _finish(c)) for c in picked] or [(turn.reply, _finish(None))]


def _passed_message(choice: Choice) -> dict[str, Any]:
    """An upstream choice's message as it gave it: text, tool calls, refusal, ..."""
    return {"role": "assistant", "content": choice.text, **choice.fields}


def _passed_delta(choice: Choice) -> dict[str, Any]:
    """An upstream choice's message as one stream delta: its tool calls numbered, as streamed tool calls are."""
    delta = {"content": choice.text, **choice.fields}
    calls = delta.get("tool_calls")
    if isinstance(calls, list):
        delta["tool_calls"] = [{"index": i, **c} if isinstance(c, dict) else c for i, c in enumerate(calls)]
    return delta


def passed_choices(passed: PassedThrough) -> list[dict[str, Any]]:
    """The `choices` of a pass-through reply: the upstream's, with their messages, logprobs and finish reasons."""
    return [
        {
            "index": i,
            "message": _passed_message(c),
            "logprobs": c.logprobs,
            "finish_reason": c.finish_reason or "stop",
        }
        for i, c in enumerate(passed.output.choices)
    ]


def _passed_extension(passed: PassedThrough, swipe: bool, fields: dict[str, Any]) -> dict[str, Any]:
    """The `personae` field of a pass-through reply: where it is stored, and which fields went upstream.

    The guard did not run: the stored turn records it (`extension` reads `guard_skipped` from it).
    """
    return {**extension(passed.outcome, swipe), "pass_through": sorted(fields)}


def passed_events(
    passed: PassedThrough, swipe: bool, fields: dict[str, Any], head: dict[str, Any], include_usage: bool
) -> str:
    """A pass-through reply as its whole event stream, known before the stream starts (so is any error).

    Per choice a role chunk, one delta with its message and logprobs, and the finish chunk (the last one carrying
    `personae`); then the usage chunk if asked for, and `[DONE]`.
    """
    events = ""
    given = passed.output.choices
    for i, c in enumerate(given):
        delta = {"index": i, "delta": _passed_delta(c), "logprobs": c.logprobs, "finish_reason": None}
        ext = {"personae": _passed_extension(passed, swipe, fields)} if i == len(given) - 1 else {}
        finish = {"index": i, "delta": {}, "finish_reason": c.finish_reason or "stop"}
        role = {"index": i, "delta": {"role": "assistant"}, "finish_reason": None}
        events += "".join(_sse({**head, "choices": [part]}) for part in (role, delta))
        events += _sse({**head, "choices": [finish], **ext})
    if include_usage:
        events += _sse({**head, "choices": [], "usage": _usage(passed.outcome.usage)})
    return events + "data: [DONE]\n\n"


async def _whole(events: str) -> AsyncIterator[str]:
    """An event stream known whole before it starts, sent in one write with the end of the response."""
    yield LastEvents(events)


def _model(info: PersonaInfo, created: int) -> dict[str, Any]:
    return {"id": info.id, "object": "model", "created": created, "owned_by": "personae", "name": info.name}


@router.get("/models")
def list_models(service: ServiceDep, key: KeyDep) -> dict[str, Any]:
    """Personas this key can chat with, as OpenAI models."""
    return {"object": "list", "data": [_model(i, service.created(i.id)) for i in service.persona_infos(key)]}


@router.get("/models/{model_id}")
def get_model(model_id: str, service: ServiceDep, key: KeyDep) -> dict[str, Any]:
    """One persona as an OpenAI model."""
    info = next((i for i in service.persona_infos(key) if i.id == model_id), None)
    if info is None:
        raise ApiError(
            404, f"model: no persona {model_id!r}; GET /v1/models lists them", param="model", code="model_not_found"
        )
    return _model(info, service.created(info.id))


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
    passed = pass_through_fields(body, service.config.pass_through, service.backend)
    try:
        persona = service.persona(key, body.model)  # a new session starts with it: one lookup per request
    except NotFoundError as exc:
        raise ApiError(
            404, f"model: {exc}; GET /v1/models lists the personas", param="model", code="model_not_found"
        ) from None
    messages, tail = split_tool_exchange(body.messages) if passed else (body.messages, [])
    try:
        st_names = _st_names(body)
        parsed = parse_messages(
            [(m.role, m.conversation_text()) for m in messages],
            service.markers,
            user_names=[_user_name(body)],
            char_names=[persona.name, *(st_names[:1] if st_names else [])],
        )
    except ValueError as exc:
        raise ApiError(400, str(exc), param="messages") from None
    if passed and parsed.mode != "send":
        field = next(iter(passed))
        raise ApiError(
            400, f"{field}: passed through only with a new message, not Continue or Impersonate", param=field
        )
    if body.n > 1 and not passed and (parsed.mode != "send" or service.models is None or service.config.guard == "off"):
        raise ApiError(400, "n: more than one choice needs the guard on (and not Continue or Impersonate)", param="n")
    upstream_tail = [m.upstream() for m in tail]
    created = int(time.time())
    cid = f"chatcmpl-{uuid.uuid4().hex}"
    if x_personae_session:  # 404 or 400 before streaming starts
        service.session(key, x_personae_session)
        owner = service.owner(x_personae_session)
        if owner is not None and owner.persona_id != body.model:
            raise ApiError(400, f"model: session {x_personae_session} is with {owner.persona_id!r}", param="model")

    include_usage = bool(body.stream_options and body.stream_options.include_usage)
    if passed or not body.stream:  # a pass-through reply comes whole: an error is an error status, not in a stream
        outcome, swipe = await _finished(service, key, body, parsed, x_personae_session, passed, upstream_tail, persona)
        if isinstance(outcome, PassedThrough) and body.stream:
            chunk_head = {"id": cid, "object": "chat.completion.chunk", "created": created, "model": body.model}
            return EventStream(_whole(passed_events(outcome, swipe, passed, chunk_head, include_usage)))
        head = {"id": cid, "object": "chat.completion", "created": created, "model": body.model}
        if isinstance(outcome, PassedThrough):
            return {
                **head,
                "choices": passed_choices(outcome),
                "usage": _usage(outcome.outcome.usage),
                "personae": _passed_extension(outcome, swipe, passed),
            }
        if isinstance(outcome, Impersonation):
            message = {"role": "assistant", "content": outcome.text}
            return {
                **head,
                "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
                "usage": _usage(outcome.usage),
                "personae": {"session_id": outcome.chat.id, "impersonation": True},
            }
        return {
            **head,
            "choices": [
                {"index": i, "message": {"role": "assistant", "content": text}, "finish_reason": finish}
                for i, (text, finish) in enumerate(choices(outcome, body.n))
            ],
            "usage": _usage(outcome.usage),
            "personae": extension(outcome, swipe),
        }

    async def events() -> AsyncIterator[str]:
        head = {"id": cid, "object": "chat.completion.chunk", "created": created, "model": body.model}

        def chunk(index: int, delta: dict[str, Any], finish: str | None = None, **extra: Any) -> str:
            return _sse({**head, "choices": [{"index": index, "delta": delta, "finish_reason": finish}], **extra})

        role = chunk(0, {"role": "assistant"})
        outcome: TurnOutcome | Impersonation | PassedThrough | None = None  # never PassedThrough: sent whole above
        streamed = False  # reply pieces already sent (the guard is off), the role chunk first among them
        tail = ""
        try:
            async for item in _run(service, key, body, parsed, x_personae_session, passed, upstream_tail, persona):
                if isinstance(item, TurnOutcome | Impersonation | PassedThrough):
                    outcome = item
                    if isinstance(item, Impersonation):
                        tail = role + chunk(0, {"content": item.text})
                        tail += chunk(0, {}, "stop", personae={"session_id": item.chat.id, "impersonation": True})
                elif outcome is None:
                    yield chunk(0, {"content": item}) if streamed else role + chunk(0, {"content": item})
                    streamed = True
                elif isinstance(outcome, TurnOutcome):  # a guarded reply arrives whole with the outcome
                    picked = choices(outcome, body.n)
                    tail = ""
                    for i, (text, finish) in enumerate(picked):
                        if i or not streamed:
                            tail += (role if i == 0 else chunk(i, {"role": "assistant"})) + chunk(i, {"content": text})
                        ext = {"personae": extension(outcome, item == "swipe")} if i == len(picked) - 1 else {}
                        tail += chunk(i, {}, finish, **ext)
            if include_usage and outcome is not None:
                usage = outcome.outcome.usage if isinstance(outcome, PassedThrough) else outcome.usage
                tail += _sse({**head, "choices": [], "usage": _usage(usage)})
        except Exception as exc:
            if not streamed:  # nothing is sent yet (`started`): the error is answered with its status
                raise
            # The status line went with the first piece: report the error in the stream, as its status would be.
            tail += _sse(error_reply(exc, service.backend.api.redact)[1])
        # Under the guard this is the whole body, role chunk to [DONE], written once with the end of the response.
        yield LastEvents(("" if streamed or tail.startswith(role) else role) + tail + "data: [DONE]\n\n")

    # The response starts with the first piece: under the guard, once the reply is chosen and stored (an upstream
    # failure is then an error status, as without `stream`); with the guard off, with the reply's first tokens.
    return await started(events())
