"""Server settings: where the upstream model and the database are, how replies are guarded, and request limits."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal, NamedTuple

from pydantic import BaseModel, ConfigDict, Field

from personae.guard import GuardPolicy
from personae.server._avatars import MAX_AVATAR_BYTES


class Markers(NamedTuple):
    """Instruction messages a role-play client adds, found by their start (case-insensitive, whitespace-normalised).

    The defaults are SillyTavern's default prompts; they are dropped from the conversation, and the trailing ones
    say which flow the request is.
    """

    new_chat: tuple[str, ...] = ("[Start a new Chat]", "[Start a new group chat", "[Example Chat]")
    """Chat-start separators: never part of the conversation."""
    continue_: tuple[str, ...] = ("[Continue your last message", "[Continue the following message")
    """A last message starting so asks to extend the character's last reply (Continue)."""
    impersonate: tuple[str, ...] = ("[Write your next reply from the point of view of",)
    """A last message starting so asks for the user's next line (Impersonate)."""


ScoringChoice = Literal["onnx", "fake", "off"]
"""onnx: the shipped NLI and embedder; fake: rule-based (tests, load benchmarks); off: no scores, guard off."""

PassThroughField = Literal["tools", "response_format", "logprobs"]
"""Chat-completion fields the server may pass through to its upstream: `tools` (with `functions`, `tool_choice`,
`function_call`, `parallel_tool_calls`), `response_format`, `logprobs` (with `top_logprobs`)."""


class Upstream(BaseModel):
    """An upstream model the operator lets eval specs use by name; its URL and key never come from the spec."""

    model_config = ConfigDict(extra="forbid")

    backend: str
    """Backend address, e.g. `openai/gpt-4o-mini`."""
    base_url: str | None = None
    """Its server URL (None: the provider's default, e.g. `OPENAI_BASE_URL` or OpenAI's)."""
    options: dict[str, Any] = Field(default_factory=dict)
    """Provider options (never a key: keys come from the server's environment)."""


class ServerConfig(BaseModel):
    """Everything `personae serve` decides once per process."""

    backend: str = "embedded"
    """Upstream model address, as `get_backend` accepts it."""
    base_url: str | None = None
    """Upstream server URL for OpenAI-compatible backends (vLLM, Ollama, ...)."""
    backend_options: dict[str, Any] = Field(default_factory=dict)
    """Provider options passed to `get_backend` (e.g. the mock's `delay` in seconds)."""
    backend_concurrency: int = Field(default=8, ge=1, le=1024)
    """Upstream requests in flight at once; further ones wait (and count as backend time)."""
    database_url: str | None = None
    """SQLAlchemy URL of the session database (None: PERSONAE_DATABASE_URL or the SQLite default)."""
    personas_dir: Path | None = None
    """Directory of persona files (YAML/JSON) and cards served to every key."""
    guard: GuardPolicy = "best-of-n"
    """Guard policy of new sessions."""
    n: int = Field(default=4, ge=1, le=16)
    """Candidates per turn under best-of-n and threshold."""
    max_tokens: int = Field(default=200, ge=1)
    """Default cap on tokens per reply (a request's `max_tokens` may lower or raise it)."""
    pass_through: list[PassThroughField] = Field(default_factory=list)
    """Chat-completion fields forwarded as given to the upstream instead of refused with a 400 (off by default):
    `tools` (tool calls), `response_format` (JSON output), `logprobs`. A request using one is answered with the
    upstream's own choices to the persona's prompt, unguarded; only an OpenAI-compatible upstream takes them (with
    the embedded model or a mock such a request is still a 400). See docs/guides/serving.md."""
    scoring: ScoringChoice = "onnx"
    """Which scoring models the process shares."""
    cors_origins: list[str] = Field(default_factory=list)
    """Origins allowed by CORS; empty: CORS off."""
    max_request_bytes: int = Field(default=1024 * 1024, ge=1024)
    """Largest request body outside persona uploads."""
    max_upload_bytes: int = Field(default=16 * 1024 * 1024, ge=1024)
    """Largest persona or card upload."""
    max_avatar_bytes: int = Field(default=MAX_AVATAR_BYTES, ge=1024)
    """Largest persona picture kept (a card's image, a CHARX icon, or one sent to `PUT /v1/personas/{id}/avatar`)."""
    workers: int = Field(default=1, ge=1, le=64)
    """Server processes sharing the database. With more than one, each request checks what it holds in memory
    against the database (another process may have changed it); with one, the process trusts its own copies."""
    max_cached_sessions: int = Field(default=1024, ge=1)
    """Sessions kept in memory between requests (others are resumed from the database)."""
    new_chat_markers: list[str] = Field(default_factory=lambda: list(Markers().new_chat))
    """Chat-start separators role-play clients put in the history (SillyTavern's `[Start a new Chat]`): dropped."""
    continue_markers: list[str] = Field(default_factory=lambda: list(Markers().continue_))
    """Starts of a last message asking to extend the character's reply (SillyTavern's Continue nudge)."""
    impersonate_markers: list[str] = Field(default_factory=lambda: list(Markers().impersonate))
    """Starts of a last message asking for the user's next line (SillyTavern's Impersonate prompt)."""
    evals_dir: Path | None = None
    """Folder eval runs started through the API are written to (None: `server-evals` in the personae home)."""
    eval_base_dir: Path | None = None
    """Folder that paths in posted eval specs resolve against and must stay inside (None: the working directory)."""
    eval_upstreams: dict[str, Upstream] = Field(default_factory=dict)
    """Upstreams eval specs may name as a role's backend (besides `mock/...` and the server's own backend)."""
    allow_any_eval_backend: bool = False
    """Let eval specs name any backend and URL; such a role must bring its own `api_key` in its options."""
    max_eval_items: int = Field(default=2000, ge=1)
    """Most items one eval posted to the server may plan."""
    max_eval_personas: int = Field(default=50, ge=1)
    """Most personas one eval posted to the server may load."""
    max_eval_concurrency: int = Field(default=32, ge=1)
    """Most items (and requests per role) one posted eval may have in flight."""
    max_evals_per_key: int = Field(default=2, ge=1)
    """Evals one key may have running at once (more: 429)."""
    scenes_dir: Path | None = None
    """Folder scenes run through the API are written to, one folder per key (None: `server-scenes` in the personae
    home)."""
    max_scene_turns: int = Field(default=60, ge=1, le=500)
    """Most speaking turns (the user's included) one scene posted to the server may run."""
    max_scene_characters: int = Field(default=8, ge=2, le=8)
    """Most characters one scene posted to the server may have."""
    max_scenes_per_key: int = Field(default=2, ge=1)
    """Scenes one key may have generating at once (more: 429)."""
    max_persona_statements: int = Field(default=1000, ge=1)
    """Most statements a persona uploaded or run through the server's evals may hold."""
    max_score_pairs: int = Field(default=20_000, ge=1)
    """Most reply sentences × persona statements one `/v1/score` request may ask the NLI model for."""
    key_cache_seconds: float = Field(default=1.0, ge=0.0, le=30.0)
    """How long a process trusts a key it looked up; a revoked key stops working everywhere within this time."""
