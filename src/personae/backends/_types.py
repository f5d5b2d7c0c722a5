"""Value types exchanged with every backend: messages, generation settings, outputs, usage."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

PASS_THROUGH_FIELDS = frozenset(
    {
        "tools",
        "functions",
        "tool_choice",
        "function_call",
        "parallel_tool_calls",
        "response_format",
        "logprobs",
        "top_logprobs",
    }
)
"""OpenAI request fields a pass-through request may carry (`GenerateConfig.pass_through`): never the model, the
messages or anything else personae sets itself."""


class Message(BaseModel):
    """One chat message."""

    model_config = ConfigDict(frozen=True)

    role: Literal["system", "user", "assistant", "tool", "function"]
    """Who wrote it; `tool` and `function` (results of tool calls) only in pass-through requests."""
    content: str
    """The text."""
    fields: dict[str, Any] | None = Field(default=None, exclude=True)
    """More OpenAI message fields, sent as given and over `content` (`tool_calls`, `tool_call_id`, `name`,
    `content: null` beside tool calls): the tool exchange of a pass-through request. Only providers that
    `passes_through` take them; left out of dumps (the cache key adds them)."""


class GenerateConfig(BaseModel):
    """What to generate. Every field except `cache` is part of the cache key."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    temperature: float = Field(default=0.7, ge=0.0, le=2.0)
    """Sampling temperature; 0 is greedy (and cached by default)."""
    top_p: float | None = Field(default=None, gt=0.0, le=1.0)
    """Nucleus sampling mass (None: the backend default)."""
    max_tokens: int | None = Field(default=256, ge=1)
    """Upper bound on generated tokens per candidate."""
    n: int = Field(default=1, ge=1, le=64)
    """Number of candidate replies to return."""
    seed: int | None = None
    """Random seed, for reproducible sampling where the backend honours it."""
    stop: tuple[str, ...] = ()
    """Strings that end generation."""
    spread: float = Field(default=0.0, ge=0.0, le=1.0)
    """How much further later candidates of one request explore: candidate i of n samples at `temperature` raised
    by `spread * i / (n - 1)`, so the first keeps the plain settings and the last runs hottest (see
    `for_candidate`). 0: all alike; no effect at temperature 0 or n = 1. Honoured by backends that draw candidates
    one by one (embedded, mock, and any without native n); OpenAI-compatible servers sample all n alike."""
    cache: bool | None = None
    """Use the request cache: None means on for temperature 0 only. Not part of the cache key."""
    pass_through: dict[str, Any] = Field(default_factory=dict, exclude=True)
    """OpenAI request fields sent upstream as given (`tools`, `response_format`, `logprobs`, ... of
    `PASS_THROUGH_FIELDS`), for a client whose request the server passes through. Only providers that
    `passes_through` take them, and only in `Backend.generate`; left out of dumps, so stored session settings
    never carry them (the cache key adds them)."""
    prefix: str | None = Field(default=None, exclude=True)
    """The reply's opening, already written (a prefill): the backend continues it and returns only what follows.
    Only providers that `supports_prefix` take it, and only in `Backend.generate`; left out of dumps like
    `pass_through` (the cache key adds it)."""

    @field_validator("pass_through")
    @classmethod
    def _known_fields(cls, value: dict[str, Any]) -> dict[str, Any]:
        """Only the fields of `PASS_THROUGH_FIELDS`: a pass-through never overrides what personae sends."""
        unknown = sorted(set(value) - PASS_THROUGH_FIELDS)
        if unknown:
            raise ValueError(f"not fields a request may pass through: {', '.join(unknown)}")
        return value

    def cache_enabled(self) -> bool:
        """Whether this request may be read from or written to the cache."""
        return self.cache if self.cache is not None else self.temperature == 0.0

    def for_candidate(self, index: int) -> GenerateConfig:
        """The settings of candidate `index` of this request drawn alone (n = 1).

        Its seed is `seed + index`, so candidates differ while a seeded run repeats exactly; with `spread`, its
        temperature rises linearly from `temperature` (the first) to `temperature + spread` (the last), capped at 2.
        """
        if not 0 <= index < self.n:
            raise ValueError(f"candidate index {index} is outside 0..{self.n - 1}")
        update: dict[str, Any] = {"n": 1}
        if self.seed is not None:
            update["seed"] = self.seed + index
        if self.spread and self.temperature > 0.0 and self.n > 1:
            update["temperature"] = min(2.0, round(self.temperature + self.spread * index / (self.n - 1), 4))
        return self.model_copy(update=update)


class Usage(BaseModel):
    """Token counts of one request, or a running total."""

    prompt_tokens: int = 0
    """Tokens in the input."""
    completion_tokens: int = 0
    """Tokens generated (all candidates)."""

    @property
    def total_tokens(self) -> int:
        """Input plus output tokens."""
        return self.prompt_tokens + self.completion_tokens

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            prompt_tokens=self.prompt_tokens + other.prompt_tokens,
            completion_tokens=self.completion_tokens + other.completion_tokens,
        )


class Choice(BaseModel):
    """One candidate reply."""

    text: str
    """The generated text."""
    finish_reason: str | None = None
    """Why generation stopped (`stop`, `length`, `tool_calls`, ...), as the backend reports it."""
    fields: dict[str, Any] = Field(default_factory=dict)
    """The upstream message's other fields as it gave them (`tool_calls`, `function_call`, `refusal`, ...; a
    `content` of null beside tool calls): filled for pass-through requests only."""
    logprobs: dict[str, Any] | None = None
    """The choice's token log-probabilities as the upstream gave them, for pass-through requests asking for them."""


class ModelCall(BaseModel):
    """The raw request and response of a provider call, for the event log."""

    request: dict[str, Any]
    """What was sent, in the provider's own format (no secrets)."""
    response: dict[str, Any] | None = None
    """What came back, in the provider's own format."""


class BackendOutput(BaseModel):
    """The result of one generate request: one or more candidates plus accounting."""

    model: str
    """The model that answered, as the provider names it."""
    choices: list[Choice]
    """Candidates, `config.n` of them."""
    usage: Usage = Field(default_factory=Usage)
    """Tokens spent on this request."""
    call: ModelCall | None = None
    """Raw provider exchange, when the provider records it."""

    @property
    def text(self) -> str:
        """The first candidate's text."""
        return self.choices[0].text if self.choices else ""

    @property
    def texts(self) -> list[str]:
        """All candidate texts."""
        return [c.text for c in self.choices]


class StreamChunk(BaseModel):
    """A piece of a streamed reply; the last chunk may carry usage and a finish reason."""

    text: str = ""
    """New text since the previous chunk."""
    finish_reason: str | None = None
    """Set on the final chunk."""
    usage: Usage | None = None
    """Set when the provider reports usage (usually on the final chunk)."""
