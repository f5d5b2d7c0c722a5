"""A deterministic fake LLM shipped in the library, for tests and offline demos.

`mock/echo` answers from the last user message; `mock/scripted` returns the given outputs in order
and raises `MockExhaustedError` when they run out; any model name accepts `fn=` for computed replies.
"""

from __future__ import annotations

import asyncio
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
    default_model: ClassVar[str] = "echo"

    class Options(ProviderOptions):
        """What `get_backend("mock/...", ...)` accepts."""

        outputs: list[str] | None = None
        """Replies returned in order, one per candidate (`mock/scripted` needs these or `fn`)."""
        fn: MockFn | None = None
        """Computes each reply as `fn(messages, config, index)`; wins over `outputs`."""
        delay: float = Field(default=0.0, ge=0)
        """Seconds each request takes, to exercise concurrency."""

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
        **options: Any,
    ) -> None:
        super().__init__(model=model, base_url=base_url, **options)
        if self.model == "scripted" and outputs is None and fn is None:
            raise BackendError("mock/scripted needs outputs=[...] (or fn=...)")
        self._outputs: Iterator[str] | None = iter(outputs) if outputs is not None else None
        self._fn = fn
        self.delay = delay
        """Seconds each request takes, to exercise concurrency."""
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

    async def generate(self, messages: Sequence[Message], config: GenerateConfig) -> BackendOutput:
        """Return `config.n` deterministic candidates."""
        self.history.append((list(messages), config))
        if self.delay:
            await asyncio.sleep(self.delay)
        texts = [self._reply(messages, config, i) for i in range(config.n)]
        prompt_tokens = sum(_words(m.content) for m in messages)
        usage = Usage(prompt_tokens=prompt_tokens, completion_tokens=sum(_words(t) for t in texts))
        return BackendOutput(
            model=f"mock/{self.model}", choices=[Choice(text=t, finish_reason="stop") for t in texts], usage=usage
        )

    async def stream(self, messages: Sequence[Message], config: GenerateConfig) -> AsyncIterator[StreamChunk]:
        """Yield the first candidate word by word, then a final chunk with usage."""
        output = await self.generate(messages, config.model_copy(update={"n": 1}))
        words = output.text.split(" ")
        for i, word in enumerate(words):
            yield StreamChunk(text=word if i == 0 else " " + word)
        yield StreamChunk(finish_reason="stop", usage=output.usage)
