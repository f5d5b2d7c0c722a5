"""`Backend`: the one wrapper every provider sits behind (retries, concurrency, cache, usage, events)."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, Field

from personae.backends._api import BackendAPI, approx_tokens
from personae.backends._cache import RequestCache, cache_key
from personae.backends._errors import BackendError, RetryableBackendError
from personae.backends._events import ModelEvent
from personae.backends._types import BackendOutput, Choice, GenerateConfig, Message, StreamChunk, Usage

T = TypeVar("T")
EventSubscriber = Callable[[ModelEvent], None]


class BackendSettings(BaseModel):
    """Transport settings: how to call, never what to generate (so never part of a cache key)."""

    max_retries: int = Field(default=4, ge=0)
    """Retries after the first attempt for timeouts, 429 and 5xx."""
    retry_base_delay: float = Field(default=0.5, ge=0.0)
    """First backoff delay in seconds; doubles each retry, with jitter."""
    retry_max_delay: float = Field(default=20.0, ge=0.0)
    """Upper bound on one backoff delay."""
    max_concurrency: int = Field(default=8, ge=1)
    """Requests in flight at once through this backend."""


def cut_at_stop(text: str, stop: Sequence[str]) -> str | None:
    """`text` up to the first of the `stop` strings, or None when none occurs (providers that ignore `stop`)."""
    found = [i for i in (text.find(s) for s in stop if s) if i >= 0]
    return text[: min(found)] if found else None


def _stopped(output: BackendOutput, stop: Sequence[str]) -> BackendOutput:
    """Apply `stop` to every candidate, whether or not the provider honoured it (each cut one ends with `stop`)."""
    if not stop:
        return output
    choices = []
    for choice in output.choices:
        cut = cut_at_stop(choice.text, stop)
        choices.append(choice if cut is None else choice.model_copy(update={"text": cut, "finish_reason": "stop"}))
    return output.model_copy(update={"choices": choices})


def _as_messages(messages: Sequence[Message | dict[str, str]]) -> list[Message]:
    return [m if isinstance(m, Message) else Message.model_validate(m) for m in messages]


def _passed_through(msgs: Sequence[Message], config: GenerateConfig) -> list[str]:
    """What of a request only a provider that `passes_through` can send: its pass-through fields, message fields."""
    return sorted({*config.pass_through, *(f"messages[{i}]" for i, m in enumerate(msgs) if m.fields)})


class Backend:
    """What callers use: `await backend.generate(messages, config)` or `async for text in backend.stream(...)`.

    Providers (`BackendAPI`) only translate formats; everything that must behave the same for every provider
    is written once here.
    """

    def __init__(
        self,
        api: BackendAPI,
        settings: BackendSettings | None = None,
        cache: RequestCache | Literal["default"] | None = "default",
    ) -> None:
        self.api = api
        self.settings = settings or BackendSettings()
        self._cache_arg = cache
        self._cache: RequestCache | None = cache if isinstance(cache, RequestCache) else None
        self._semaphore = asyncio.Semaphore(self.settings.max_concurrency)
        self._subscribers: list[EventSubscriber] = []
        self.usage = Usage()
        """Tokens spent through this backend so far (cache reads cost nothing)."""
        self.requests = 0
        """Provider calls made (retries included; cache reads excluded)."""

    @property
    def address(self) -> str:
        """`provider/model`, as accepted by `get_backend`."""
        return f"{self.api.provider}/{self.api.model}"

    @property
    def supports_prefix(self) -> bool:
        """Whether `generate` takes `config.prefix`: continues a reply already begun (see `BackendAPI`)."""
        return self.api.supports_prefix

    def count_tokens(self, text: str) -> int:
        """Tokens of `text`: the provider's tokenizer when it has one locally, else a conservative estimate."""
        counted = self.api.count_tokens(text)
        return approx_tokens(text) if counted is None else counted

    @property
    def cache(self) -> RequestCache | None:
        """The request cache (opened on first use), or None when caching is off for this backend."""
        if self._cache is None and self._cache_arg == "default":
            self._cache = RequestCache()
        return self._cache

    def subscribe(self, subscriber: EventSubscriber) -> Callable[[], None]:
        """Call `subscriber` with every `ModelEvent`; returns a function that unsubscribes it."""
        self._subscribers.append(subscriber)
        return lambda: self._subscribers.remove(subscriber)

    def _emit(self, event: ModelEvent) -> None:
        for subscriber in list(self._subscribers):
            subscriber(event)

    def _record(self, msgs: list[Message], config: GenerateConfig, started: float, **fields: Any) -> None:
        """Emit the `ModelEvent` of one request: the fields every event shares, plus `fields`."""
        if not self._subscribers:  # building the event costs a validation of every message; nobody would see it
            return
        self._emit(
            ModelEvent(
                address=self.address,
                messages=msgs,
                config=config,
                started_at=started,
                seconds=time.time() - started,
                **fields,
            )
        )

    def _cache_lookup(
        self, msgs: list[Message], config: GenerateConfig, started: float, streamed: bool
    ) -> tuple[str | None, BackendOutput | None]:
        """The request's cache key (None when caching is off for it) and the cached output, if any."""
        if not config.cache_enabled() or self.cache is None:
            return None, None
        key = cache_key(self.api.cache_identity(), msgs, config)
        hit = self.cache.get(key)
        if hit is not None:
            self._record(msgs, config, started, outputs=hit.texts, cache="read", streamed=streamed)
        return key, hit

    def _cache_store(self, key: str | None, output: BackendOutput) -> Literal["write"] | None:
        """Store a successful output under `key` (if caching applies); returns the event's cache marker."""
        if key is None or self.cache is None:
            return None
        self.cache.put(key, output)
        return "write"

    async def _backoff(self, retries: int) -> None:
        """Sleep before retry number `retries + 1`: exponential, capped, with jitter against thundering herds."""
        delay = min(self.settings.retry_max_delay, self.settings.retry_base_delay * 2**retries)
        await asyncio.sleep(delay * (0.5 + random.random() / 2))

    async def _with_retries(self, attempt: Callable[[], Awaitable[T]]) -> tuple[T, int]:
        retries = 0
        while True:
            try:
                self.requests += 1
                return await attempt(), retries
            except RetryableBackendError:
                if retries >= self.settings.max_retries:
                    raise
                await self._backoff(retries)
                retries += 1

    async def _generate_uncached(self, messages: list[Message], config: GenerateConfig) -> BackendOutput:
        if config.n == 1 or self.api.supports_n:
            return await self.api.generate(messages, config)
        # The provider returns one candidate per call: ask n times, each with its own seed (and spread temperature).
        outputs: list[BackendOutput] = []
        for i in range(config.n):
            outputs.append(await self.api.generate(messages, config.for_candidate(i)))
        usage = sum((o.usage for o in outputs), Usage())
        choices: list[Choice] = [c for o in outputs for c in o.choices[:1]]
        return BackendOutput(model=outputs[0].model, choices=choices, usage=usage)

    async def generate(
        self, messages: Sequence[Message | dict[str, str]], config: GenerateConfig | None = None
    ) -> BackendOutput:
        """Generate `config.n` candidates, from the cache when allowed, retrying transient failures.

        A request with pass-through fields (`config.pass_through`, `Message.fields`) goes only to a provider that
        `passes_through`; any other raises `BackendError`, as does a `config.prefix` for one that cannot continue a
        reply (`supports_prefix`).
        """
        msgs = _as_messages(messages)
        config = config or GenerateConfig()
        passed = _passed_through(msgs, config)
        if passed and not self.api.passes_through:
            raise BackendError(
                f"{self.address} cannot pass {', '.join(passed)} through: it is no OpenAI-compatible server"
            )
        if config.prefix is not None and not self.api.supports_prefix:
            raise BackendError(f"{self.address} cannot continue a reply from a prefix")
        started = time.time()
        key, hit = self._cache_lookup(msgs, config, started, streamed=False)
        if hit is not None:
            return hit
        retries = 0
        try:
            async with self._semaphore:
                output, retries = await self._with_retries(lambda: self._generate_uncached(msgs, config))
            if len(output.choices) != config.n:
                raise BackendError(f"{self.address} returned {len(output.choices)} candidates, expected {config.n}")
        except BackendError as exc:
            self._record(msgs, config, started, error=str(exc), retries=retries)
            raise
        output = _stopped(output, config.stop)
        self.usage = self.usage + output.usage
        written = self._cache_store(key, output)
        self._record(
            msgs,
            config,
            started,
            outputs=output.texts,
            cache=written,
            retries=retries,
            usage=output.usage,
            call=output.call,
        )
        return output

    async def stream(
        self, messages: Sequence[Message | dict[str, str]], config: GenerateConfig | None = None
    ) -> AsyncIterator[str]:
        """Yield the reply's text as it arrives (one candidate).

        A transient failure is retried only before the first chunk; after that it is raised, since
        the caller has already shown part of the reply.
        """
        msgs = _as_messages(messages)
        config = (config or GenerateConfig()).model_copy(update={"n": 1})
        passed = _passed_through(msgs, config)
        if passed:  # the stream yields text: tool calls and log-probabilities would be lost
            raise BackendError(f"{self.address}: {', '.join(passed)} pass through generate only, not stream")
        if config.prefix is not None:
            raise BackendError(f"{self.address}: a reply prefix is taken by generate only, not stream")
        started = time.time()
        key, hit = self._cache_lookup(msgs, config, started, streamed=True)
        if hit is not None:
            yield hit.text
            return
        parts: list[str] = []
        usage = Usage()
        finish: str | None = None
        retries = 0
        try:
            async with self._semaphore:
                while True:
                    try:
                        self.requests += 1
                        held = ""  # text that may be the start of a stop string: sent once it is not
                        hold = max((len(s) for s in config.stop), default=1) - 1
                        async for chunk in self.api.stream(msgs, config):
                            usage, finish = self._absorb(chunk, usage, finish)
                            if not chunk.text:
                                continue
                            held += chunk.text
                            cut = cut_at_stop(held, config.stop)
                            if cut is not None:
                                held, finish = cut, "stop"
                                break
                            if len(held) > hold:
                                ready, held = held[: len(held) - hold], held[len(held) - hold :]
                                parts.append(ready)
                                yield ready
                        if held:
                            parts.append(held)
                            yield held
                        break
                    except RetryableBackendError:
                        if parts or retries >= self.settings.max_retries:
                            raise
                        await self._backoff(retries)
                        retries += 1
        except BackendError as exc:
            self._record(
                msgs,
                config,
                started,
                outputs=["".join(parts)] if parts else [],
                error=str(exc),
                retries=retries,
                streamed=True,
            )
            raise
        text = "".join(parts)
        self.usage = self.usage + usage
        written = self._cache_store(
            key, BackendOutput(model=self.api.model, choices=[Choice(text=text, finish_reason=finish)], usage=usage)
        )
        self._record(msgs, config, started, outputs=[text], cache=written, retries=retries, usage=usage, streamed=True)

    @staticmethod
    def _absorb(chunk: StreamChunk, usage: Usage, finish: str | None) -> tuple[Usage, str | None]:
        return (chunk.usage if chunk.usage is not None else usage), (chunk.finish_reason or finish)

    def generate_sync(
        self, messages: Sequence[Message | dict[str, str]], config: GenerateConfig | None = None
    ) -> BackendOutput:
        """Blocking `generate`, for scripts and notebooks without an event loop."""
        return asyncio.run(self.generate(messages, config))

    async def aclose(self) -> None:
        """Release the provider's resources."""
        await self.api.aclose()
