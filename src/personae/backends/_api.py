"""The provider interface: a provider only translates between personae's types and its own format."""

from __future__ import annotations

import difflib
import math
import re
import urllib.parse
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, ValidationError

from personae.backends._errors import BackendOptionError
from personae.backends._types import BackendOutput, GenerateConfig, Message, StreamChunk


def approx_tokens(text: str) -> int:
    """A conservative token estimate (about 3.5 characters per token) for providers that cannot count."""
    return math.ceil(len(text) / 3.5) if text else 0


class ProviderOptions(BaseModel):
    """Base of a provider's options: an unknown name is an error, so a misspelt option never passes silently.

    Example:
        class MyAPI(BackendAPI):
            class Options(ProviderOptions):
                timeout: float = Field(default=60.0, gt=0)

            def __init__(self, model=None, base_url=None, timeout=60.0, **options): ...
    """

    model_config = ConfigDict(extra="forbid", frozen=True)


def _unknown_option(address: str, option: str, known: Sequence[str]) -> BackendOptionError:
    close = difflib.get_close_matches(option, known, n=1)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    listed = ", ".join(known) or "none"
    return BackendOptionError(
        f"{address} has no option '{option}'{hint}; known options: {listed}", address, option, list(known)
    )


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
    supports_prefix: ClassVar[bool] = False
    """Whether `generate` continues a reply from `config.prefix` (a prefill) and returns only the continuation."""
    passes_through: ClassVar[bool] = False
    """Whether `generate` sends `config.pass_through` and the messages' `fields` upstream as given and returns each
    choice's own `fields` and `logprobs` (an OpenAI-compatible server); otherwise `Backend` refuses such requests."""
    default_model: ClassVar[str] = "default"
    """Model used when the address names only the provider."""
    Options: ClassVar[type[ProviderOptions]] = ProviderOptions
    """What `get_backend(address, **options)` accepts besides `model` and `base_url`; none unless declared."""

    def __init__(self, model: str | None = None, base_url: str | None = None, **options: Any) -> None:
        self.model = model or self.default_model
        self.base_url = base_url
        known = sorted(self.Options.model_fields)
        for name in options:
            if name not in known:
                provider = getattr(self, "provider", type(self).__name__)
                raise _unknown_option(f"{provider}/{self.model}", name, known)
        self.options = options

    @classmethod
    def validate_options(cls, address: str, options: Mapping[str, Any]) -> dict[str, Any]:
        """`options` checked against `Options`: the given ones, converted; raises `BackendOptionError`."""
        known = sorted(cls.Options.model_fields)
        for name in options:
            if name not in known:
                raise _unknown_option(address, name, known)
        try:
            validated = cls.Options.model_validate(dict(options))
        except ValidationError as exc:
            err = exc.errors()[0]
            name = str(err["loc"][0]) if err["loc"] else "?"
            given = options.get(name, err.get("input"))
            raise BackendOptionError(
                f"{address} option '{name}' is invalid: {err['msg']} (got {given!r:.80})", address, name, known
            ) from None
        return {name: getattr(validated, name) for name in options}

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

    def redact(self, text: str) -> str:
        """`text` with where this backend's server is (`base_url`, its host, credentials in it) hidden.

        For messages shown to someone other than the backend's owner, such as a client of `personae serve`.
        """
        if not self.base_url:
            return text
        parts = urllib.parse.urlsplit(self.base_url)
        if parts.netloc:  # the server's URL with whatever path follows it, then its address alone
            text = re.sub(re.escape(f"{parts.scheme}://{parts.netloc}") + r"[^\s,;'\"()<>\[\]]*", "<upstream>", text)
        try:
            address = f"{parts.hostname}:{parts.port}" if parts.hostname and parts.port else None
        except ValueError:  # a port that is no number: the netloc still hides it
            address = None
        for secret in [s for s in (parts.password, parts.netloc, address, parts.hostname) if s]:
            text = re.sub(rf"(?<![\w.-]){re.escape(secret)}(?!\.?[\w-])", "<upstream>", text)
        return text

    async def aclose(self) -> None:  # noqa: B027 - optional hook, most providers hold nothing to close
        """Release connections or models held by the provider."""
