"""Server settings: where the upstream model and the database are, how replies are guarded, and request limits."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal, NamedTuple

from pydantic import BaseModel, Field

from personae.guard import GuardPolicy


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
    scoring: ScoringChoice = "onnx"
    """Which scoring models the process shares."""
    cors_origins: list[str] = Field(default_factory=list)
    """Origins allowed by CORS; empty: CORS off."""
    max_request_bytes: int = Field(default=1024 * 1024, ge=1024)
    """Largest request body outside persona uploads."""
    max_upload_bytes: int = Field(default=16 * 1024 * 1024, ge=1024)
    """Largest persona or card upload."""
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
