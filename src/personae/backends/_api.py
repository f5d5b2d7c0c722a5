"""The provider interface: a provider only translates between personae's types and its own format."""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Sequence
from typing import Any, ClassVar

from personae.backends._types import BackendOutput, GenerateConfig, Message, StreamChunk


def approx_tokens(text: str) -> int:
    """A conservative token estimate (about 3.5 characters per token) for providers that cannot count."""
    return math.ceil(len(text) / 3.5) if text else 0


class BackendAPI(ABC):
    """One LLM provider. Retries, concurrency, caching, usage and events live in `Backend`, not here.

    Example:
        class MyAPI(BackendAPI):
            provider = "mine"

            async def generate(self, messages, config):
                return BackendOutput(model=self.model, choices=[Choice(text="hi")])
    """

    provider: ClassVar[str]
    """Registered provider name, the part of the address before the first `/`."""
    can_stream: ClassVar[bool] = False
    """Whether `stream` yields text incrementally (otherwise it yields the whole reply at once)."""
    supports_n: ClassVar[bool] = False
    """Whether one `generate` call returns `config.n` candidates (otherwise the wrapper calls it n times)."""
    default_model: ClassVar[str] = "default"
    """Model used when the address names only the provider."""

    def __init__(self, model: str | None = None, base_url: str | None = None, **options: Any) -> None:
        self.model = model or self.default_model
        self.base_url = base_url
        self.options = options

    @abstractmethod
    async def generate(self, messages: Sequence[Message], config: GenerateConfig) -> BackendOutput:
        """Return `config.n` candidates (or one, if `supports_n` is false)."""

    async def stream(self, messages: Sequence[Message], config: GenerateConfig) -> AsyncIterator[StreamChunk]:
        """Yield the reply in chunks; the default yields the whole reply of `generate` as one chunk."""
        output = await self.generate(messages, config)
        choice = output.choices[0]
        yield StreamChunk(text=choice.text, finish_reason=choice.finish_reason, usage=output.usage)

    def count_tokens(self, text: str) -> int | None:
        """Tokens of `text` in this model's tokenizer, or None when the provider cannot count locally."""
        return None

    def cache_identity(self) -> dict[str, Any]:
        """What identifies this backend in a cache key (never secrets or transport settings)."""
        return {"provider": self.provider, "model": self.model, "base_url": self.base_url}

    async def aclose(self) -> None:  # noqa: B027 - optional hook, most providers hold nothing to close
        """Release connections or models held by the provider."""
