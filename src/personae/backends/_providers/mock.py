"""A deterministic fake LLM shipped in the library, for tests and offline demos.

`mock/echo` answers from the last user message; `mock/scripted` returns the given outputs in order
and raises `MockExhaustedError` when they run out; any model name accepts `fn=` for computed replies.
With `cut_at_max_tokens=True` a reply longer than `max_tokens` words stops there with finish reason `length`, as a
real model's does at its token limit.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, ClassVar

from pydantic import Field

from personae.backends._api import BackendAPI, ProviderOptions
from personae.backends._errors import BackendError, BackendNotFoundError
from personae.backends._types import BackendOutput, Choice, GenerateConfig, Message, StreamChunk, Usage

MockFn = Callable[[Sequence[Message], GenerateConfig, int], str]
"""`fn(messages, config, index)` returns candidate number `index` of a request."""

BUILTIN_MODELS = ("echo", "scripted")
"""Mock models that need no `fn` or `outputs`."""


class MockExhaustedError(BackendError):
    """A scripted mock backend was asked for more replies than it was given."""


def _words(text: str) -> int:
    return max(1, len(text.split()))


_WORD = re.compile(r"\S+")


def cut_at_words(text: str, limit: int | None) -> str | None:
    """`text` up to the end of its `limit`-th word (the mock's tokens), None when it has no more words than that."""
    if limit is None:
        return None
    for count, word in enumerate(_WORD.finditer(text), start=1):
        if count == limit:
            rest = text[word.end() :]
            return text[: word.end()] if rest.strip() else None
    return None


def echo_reply(messages: Sequence[Message], config: GenerateConfig, index: int) -> str:
    """The `mock/echo` reply: repeats the last user message, marking which candidate it is when n > 1."""
    last = next((m.content for m in reversed(messages) if m.role == "user"), "")
    suffix = f" (candidate {index + 1})" if config.n > 1 else ""
    return f"You said: {last}{suffix}"


class MockBackendAPI(BackendAPI):
    """Fake provider: scripted outputs, a reply function, or echo. Keeps a `history` of requests."""

    __test__ = False
    provider: ClassVar[str] = "mock"
    can_stream: ClassVar[bool] = True
    supports_n: ClassVar[bool] = True
    supports_prefix: ClassVar[bool] = True
    default_model: ClassVar[str] = "echo"

    class Options(ProviderOptions):
        """What `get_backend("mock/...", ...)` accepts."""

        outputs: list[str] | None = None
        """Replies returned in order, one per candidate (`mock/scripted` needs these or `fn`)."""
        fn: MockFn | None = None
        """Computes each reply as `fn(messages, config, index)`; wins over `outputs`."""
        delay: float = Field(default=0.0, ge=0)
        """Seconds each request takes, to exercise concurrency."""
        cut_at_max_tokens: bool = False
        """Stop a reply after `max_tokens` words with finish reason `length`, as a model stops at its token limit."""

    @classmethod
    def validate_options(cls, address: str, options: Mapping[str, Any]) -> dict[str, Any]:
        """The options checked, and the model: a name other than `echo` or `scripted` needs `fn` or `outputs`.

        So `mock/nosuch` is refused instead of silently echoing.
        """
        checked = super().validate_options(address, options)
        model = address.partition("/")[2] or cls.default_model
        if model not in BUILTIN_MODELS and "fn" not in options and "outputs" not in options:
            raise BackendNotFoundError(
                f"unknown mock model '{model}' (known: {', '.join(BUILTIN_MODELS)}; other names need fn= or outputs=)"
            )
        return checked

    def __init__(
        self,
        model: str | None = None,
        base_url: str | None = None,
        outputs: Iterable[str] | None = None,
        fn: MockFn | None = None,
        delay: float = 0.0,
        cut_at_max_tokens: bool = False,
        **options: Any,
    ) -> None:
        super().__init__(model=model, base_url=base_url, **options)
        if self.model == "scripted" and outputs is None and fn is None:
            raise BackendError("mock/scripted needs outputs=[...] (or fn=...)")
        self._outputs: Iterator[str] | None = iter(outputs) if outputs is not None else None
        self._fn = fn
        self.delay = delay
        """Seconds each request takes, to exercise concurrency."""
        self.cut_at_max_tokens = cut_at_max_tokens
        """Whether replies stop after `config.max_tokens` words (finish reason `length`)."""
        self.history: list[tuple[list[Message], GenerateConfig]] = []
        """Every request received, in order."""

    def _reply(self, messages: Sequence[Message], config: GenerateConfig, index: int) -> str:
        if self._fn is not None:
            return self._fn(messages, config, index)
        if self._outputs is not None:
            try:
                return next(self._outputs)
            except StopIteration:
                raise MockExhaustedError("the mock backend's scripted outputs ran out") from None
        return echo_reply(messages, config, index)

    def _choice(self, text: str, config: GenerateConfig) -> Choice:
        cut = cut_at_words(text, config.max_tokens) if self.cut_at_max_tokens else None
        return Choice(text=text, finish_reason="stop") if cut is None else Choice(text=cut, finish_reason="length")

    async def generate(self, messages: Sequence[Message], config: GenerateConfig) -> BackendOutput:
        """Return `config.n` deterministic candidates."""
        self.history.append((list(messages), config))
        if self.delay:
            await asyncio.sleep(self.delay)
        choices = [self._choice(self._reply(messages, config, i), config) for i in range(config.n)]
        prompt_tokens = sum(_words(m.content) for m in messages)
        usage = Usage(prompt_tokens=prompt_tokens, completion_tokens=sum(_words(c.text) for c in choices))
        return BackendOutput(model=f"mock/{self.model}", choices=choices, usage=usage)

    def cache_identity(self) -> dict[str, Any]:
        """The base identity, plus the cut when it is on (it changes the replies)."""
        identity = super().cache_identity()
        return {**identity, "cut_at_max_tokens": True} if self.cut_at_max_tokens else identity

    async def stream(self, messages: Sequence[Message], config: GenerateConfig) -> AsyncIterator[StreamChunk]:
        """Yield the first candidate word by word, then a final chunk with its finish reason and usage."""
        output = await self.generate(messages, config.model_copy(update={"n": 1}))
        words = output.text.split(" ")
        for i, word in enumerate(words):
            yield StreamChunk(text=word if i == 0 else " " + word)
        yield StreamChunk(finish_reason=output.choices[0].finish_reason, usage=output.usage)
