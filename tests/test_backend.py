from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path
from typing import ClassVar

import pytest

from personae._util.hashing import content_hash
from personae.backends import (
    Backend,
    BackendAPI,
    BackendError,
    BackendOutput,
    BackendSettings,
    Choice,
    GenerateConfig,
    JsonlEventLog,
    Message,
    MockBackendAPI,
    MockExhaustedError,
    ModelEvent,
    RequestCache,
    RetryableBackendError,
    Usage,
    cache_key,
    get_backend,
)

FAST = BackendSettings(retry_base_delay=0.001, retry_max_delay=0.01)
HELLO = [Message(role="user", content="Hello")]


class Flaky(BackendAPI):
    """Fails with the given errors first, then answers; counts calls and peak concurrency."""

    provider: ClassVar[str] = "flaky"

    def __init__(self, errors: Sequence[Exception] = (), delay: float = 0.0) -> None:
        super().__init__(model="m")
        self.errors = list(errors)
        self.delay = delay
        self.calls = 0
        self.in_flight = 0
        self.peak = 0

    async def generate(self, messages: Sequence[Message], config: GenerateConfig) -> BackendOutput:
        self.calls += 1
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        try:
            if self.delay:
                await asyncio.sleep(self.delay)
            if self.errors:
                raise self.errors.pop(0)
            return BackendOutput(
                model="m",
                choices=[Choice(text=f"reply {self.calls}")],
                usage=Usage(prompt_tokens=3, completion_tokens=2),
            )
        finally:
            self.in_flight -= 1


async def test_transient_errors_are_retried_and_counted() -> None:
    api = Flaky([RetryableBackendError("503", 503), RetryableBackendError("429", 429)])
    backend = Backend(api, settings=FAST, cache=None)
    events: list[ModelEvent] = []
    backend.subscribe(events.append)
    out = await backend.generate(HELLO)
    assert out.text == "reply 3"
    assert api.calls == 3
    assert events[-1].retries == 2
    assert events[-1].error is None


async def test_retries_give_up_after_max_and_record_the_error() -> None:
    api = Flaky([RetryableBackendError("500", 500)] * 10)
    backend = Backend(api, settings=FAST.model_copy(update={"max_retries": 2}), cache=None)
    events: list[ModelEvent] = []
    backend.subscribe(events.append)
    with pytest.raises(RetryableBackendError):
        await backend.generate(HELLO)
    assert api.calls == 3
    assert events[-1].error == "500"


async def test_permanent_errors_are_not_retried() -> None:
    api = Flaky([BackendError("400 bad request")])
    backend = Backend(api, settings=FAST, cache=None)
    with pytest.raises(BackendError, match="400"):
        await backend.generate(HELLO)
    assert api.calls == 1


async def test_concurrency_is_bounded_per_backend() -> None:
    api = Flaky(delay=0.02)
    backend = Backend(api, settings=BackendSettings(max_concurrency=3), cache=None)
    await asyncio.gather(*(backend.generate(HELLO) for _ in range(12)))
    assert api.calls == 12
    assert api.peak == 3


async def test_usage_accumulates() -> None:
    backend = Backend(Flaky(), cache=None)
    await backend.generate(HELLO)
    await backend.generate(HELLO)
    assert backend.usage == Usage(prompt_tokens=6, completion_tokens=4)


async def test_cache_is_on_for_temperature_zero_only_by_default(tmp_path: Path) -> None:
    api = Flaky()
    backend = Backend(api, cache=RequestCache(tmp_path / "c.sqlite"))
    events: list[ModelEvent] = []
    backend.subscribe(events.append)
    greedy = GenerateConfig(temperature=0.0)
    first = await backend.generate(HELLO, greedy)
    second = await backend.generate(HELLO, greedy)
    assert first == second
    assert api.calls == 1
    assert [e.cache for e in events] == ["write", "read"]
    # Sampling is not cached unless asked for.
    await backend.generate(HELLO, GenerateConfig(temperature=0.7))
    await backend.generate(HELLO, GenerateConfig(temperature=0.7))
    assert api.calls == 3
    await backend.generate(HELLO, GenerateConfig(temperature=0.7, cache=True, seed=5))
    await backend.generate(HELLO, GenerateConfig(temperature=0.7, cache=True, seed=5))
    assert api.calls == 4
    # Cache reads cost no tokens.
    assert backend.usage.prompt_tokens == 3 * 4


async def test_errors_are_never_cached(tmp_path: Path) -> None:
    cache = RequestCache(tmp_path / "c.sqlite")
    backend = Backend(Flaky([BackendError("nope")]), cache=cache)
    with pytest.raises(BackendError):
        await backend.generate(HELLO, GenerateConfig(temperature=0))
    assert cache.size() == 0


async def test_a_locked_cache_is_a_miss_and_a_skipped_write_not_a_failed_request(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    import sqlite3

    cache = RequestCache(tmp_path / "c.sqlite", busy_timeout=0.05)
    api = Flaky()
    backend = Backend(api, cache=cache)
    greedy = GenerateConfig(temperature=0.0)
    await backend.generate(HELLO, greedy)  # cached while the file is free
    other = sqlite3.connect(tmp_path / "c.sqlite", isolation_level=None)
    other.execute("PRAGMA locking_mode=EXCLUSIVE")  # holds the file against readers too, even in WAL mode
    other.execute("BEGIN EXCLUSIVE")  # another process holding the file past the busy wait
    try:
        out = await backend.generate(HELLO, greedy)
        fresh = await backend.generate([Message(role="user", content="Other")], greedy)
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert out.texts
    assert fresh.texts
    assert api.calls == 3  # the locked read was a miss: the provider answered
    assert cache.size() == 1  # the locked write was skipped
    warnings = [r.getMessage() for r in caplog.records if r.name == "personae.backends._cache"]
    assert any("read failed" in w for w in warnings)
    assert any("write skipped" in w for w in warnings)


def test_cache_key_covers_the_request_but_not_the_cache_flag() -> None:
    ident = {"provider": "p", "model": "m", "base_url": None}
    base = cache_key(ident, HELLO, GenerateConfig(temperature=0))
    assert base == cache_key(ident, HELLO, GenerateConfig(temperature=0, cache=True))
    assert base != cache_key(ident, HELLO, GenerateConfig(temperature=0, seed=1))
    assert base != cache_key({**ident, "base_url": "http://x"}, HELLO, GenerateConfig(temperature=0))
    assert base != cache_key(ident, [Message(role="user", content="Hello!")], GenerateConfig(temperature=0))
    assert base.startswith("sha256:")


def test_pass_through_fields_are_in_the_cache_key_but_never_in_dumps() -> None:
    ident = {"provider": "p", "model": "m", "base_url": None}
    plain = GenerateConfig(temperature=0)
    tools = GenerateConfig(temperature=0, pass_through={"tools": [{"type": "function"}]})
    config = {"temperature": 0.0, "top_p": None, "max_tokens": 256, "n": 1, "seed": None, "stop": [], "spread": 0.0}
    before = content_hash({"backend": ident, "messages": [{"role": "user", "content": "Hello"}], "config": config})
    assert cache_key(ident, HELLO, plain) == before  # other requests keep their keys: cached entries stay valid
    assert cache_key(ident, HELLO, plain) != cache_key(ident, HELLO, tools)
    called = [*HELLO, Message(role="assistant", content="", fields={"tool_calls": [{"id": "c"}]})]
    bare = [*HELLO, Message(role="assistant", content="")]
    assert cache_key(ident, called, tools) != cache_key(ident, bare, tools)
    assert "pass_through" not in tools.model_dump()  # stored session settings never carry a request's fields
    assert "fields" not in called[-1].model_dump()
    with pytest.raises(ValueError, match="not fields a request may pass through: model"):
        GenerateConfig(pass_through={"model": "gpt-4o", "tools": []})


async def test_only_a_provider_that_passes_through_gets_pass_through_requests() -> None:
    backend = get_backend("mock/echo", cache=None)
    with pytest.raises(BackendError, match="mock/echo cannot pass logprobs through"):
        await backend.generate(HELLO, GenerateConfig(pass_through={"logprobs": True}))
    with pytest.raises(BackendError, match=r"cannot pass messages\[1\] through"):
        await backend.generate([*HELLO, Message(role="tool", content="42", fields={"tool_call_id": "c"})])
    with pytest.raises(BackendError, match="pass through generate only"):
        async for _ in backend.stream(HELLO, GenerateConfig(pass_through={"tools": []})):
            pass
    assert backend.requests == 0


def test_cache_clear_prune_and_expiry(tmp_path: Path) -> None:
    cache = RequestCache(tmp_path / "c.sqlite", ttl_seconds=-1)  # already expired on write
    out = BackendOutput(model="m", choices=[Choice(text="x")])
    cache.put("k", out)
    assert cache.get("k") is None
    assert cache.prune() == 1
    fresh = RequestCache(tmp_path / "c.sqlite", ttl_seconds=60)
    fresh.put("k", out)
    assert fresh.get("k") == out
    assert fresh.clear() == 1
    assert fresh.size() == 0


async def test_mock_scripted_echo_and_exhaustion() -> None:
    scripted = Backend(MockBackendAPI(model="scripted", outputs=["one", "two", "three"]), cache=None)
    out = await scripted.generate(HELLO, GenerateConfig(n=2))
    assert out.texts == ["one", "two"]
    assert (await scripted.generate(HELLO)).text == "three"
    with pytest.raises(MockExhaustedError):
        await scripted.generate(HELLO)
    echo = get_backend("mock/echo", cache=None)
    assert (await echo.generate(HELLO, GenerateConfig(n=2))).texts == [
        "You said: Hello (candidate 1)",
        "You said: Hello (candidate 2)",
    ]
    assert isinstance(echo.api, MockBackendAPI)
    assert echo.api.history[0][0] == HELLO


async def test_streaming_yields_pieces_and_records_one_event(tmp_path: Path) -> None:
    backend = Backend(MockBackendAPI(model="echo"), cache=RequestCache(tmp_path / "c.sqlite"))
    log = JsonlEventLog(tmp_path / "events.jsonl")
    backend.subscribe(log)
    pieces = [p async for p in backend.stream(HELLO, GenerateConfig(temperature=0))]
    assert len(pieces) > 1
    assert "".join(pieces) == "You said: Hello"
    again = [p async for p in backend.stream(HELLO, GenerateConfig(temperature=0))]
    assert again == ["You said: Hello"]
    lines = (tmp_path / "events.jsonl").read_text().splitlines()
    events = [ModelEvent.model_validate_json(line) for line in lines]
    assert [(e.streamed, e.cache) for e in events] == [(True, "write"), (True, "read")]
    assert events[0].outputs == ["You said: Hello"]


async def test_stream_retries_only_before_the_first_chunk() -> None:
    class StreamFlaky(MockBackendAPI):
        fails = 1

        async def stream(self, messages, config):  # type: ignore[no-untyped-def]
            if self.fails:
                self.fails -= 1
                raise RetryableBackendError("502", 502)
            async for chunk in super().stream(messages, config):
                yield chunk

    backend = Backend(StreamFlaky(), settings=FAST, cache=None)
    assert "".join([p async for p in backend.stream(HELLO)]) == "You said: Hello"

    class BreaksMidway(MockBackendAPI):
        async def stream(self, messages, config):  # type: ignore[no-untyped-def]
            async for chunk in super().stream(messages, config):
                yield chunk
                raise RetryableBackendError("reset", None)

    broken = Backend(BreaksMidway(), settings=FAST, cache=None)
    got: list[str] = []

    async def consume() -> None:
        async for piece in broken.stream(HELLO):
            got.append(piece)

    with pytest.raises(RetryableBackendError):
        await consume()
    assert got == ["You"]


async def test_a_wrong_number_of_candidates_is_an_error_and_is_recorded() -> None:
    class Short(Flaky):
        supports_n = True

    backend = Backend(Short(), cache=None)
    events: list[ModelEvent] = []
    backend.subscribe(events.append)
    with pytest.raises(BackendError, match="returned 1 candidates, expected 2"):
        await backend.generate(HELLO, GenerateConfig(n=2))
    assert events[-1].error == "flaky/m returned 1 candidates, expected 2"


def _open_and_write(path: str, worker: int) -> None:
    from personae.backends import BackendOutput, RequestCache

    cache = RequestCache(path)
    cache.put(f"k{worker}", BackendOutput.model_validate({"model": "m", "choices": []}))


@pytest.mark.slow
def test_request_cache_created_by_several_processes_at_once(tmp_path: Path) -> None:
    """Ray workers open one new cache file together; none may fail with 'database is locked'."""
    import multiprocessing

    from personae.backends import RequestCache

    ctx = multiprocessing.get_context("spawn")
    for round_ in range(3):
        path = str(tmp_path / f"cache{round_}.db")
        procs = [ctx.Process(target=_open_and_write, args=(path, w)) for w in range(4)]
        for p in procs:
            p.start()
        for p in procs:
            p.join(60)
        assert [p.exitcode for p in procs] == [0, 0, 0, 0]
        assert RequestCache(path).size() == 4


async def test_stop_strings_cut_every_candidate_even_when_the_provider_ignores_them() -> None:
    scripted = Backend(MockBackendAPI(model="scripted", outputs=["Aye. END more", "No stop here"]), cache=None)
    out = await scripted.generate(HELLO, GenerateConfig(n=2, stop=("END", "zzz")))
    assert out.texts == ["Aye. ", "No stop here"]
    assert [c.finish_reason for c in out.choices] == ["stop", "stop"]
    assert isinstance(scripted.api, MockBackendAPI)
    assert scripted.api.history[0][1].stop == ("END", "zzz")  # passed upstream too


async def test_a_streamed_stop_string_split_across_chunks_is_never_sent() -> None:
    # The mock streams word by word: "You", " said:", " Hello", " there", ...; the stop string spans two chunks.
    echo = Backend(MockBackendAPI(model="echo"), cache=None)
    words = [Message(role="user", content="Hello there my friend")]
    pieces = [p async for p in echo.stream(words, GenerateConfig(stop=("lo the",)))]
    assert "".join(pieces) == "You said: Hel"
    assert all("lo the" not in p for p in pieces)
    plain = [p async for p in echo.stream(words, GenerateConfig())]
    assert len(plain) > 1  # without stop strings nothing is held back
    assert "".join(plain) == "You said: Hello there my friend"


async def test_a_mock_cut_at_max_tokens_reports_length_as_a_model_at_its_token_limit() -> None:
    long = "Step one: 2 + 2 = 4.\nStep two: 4 * 3 = 12.\nAnswer: 12"
    cut = Backend(MockBackendAPI(model="scripted", outputs=[long, long, "Answer: 12"], cut_at_max_tokens=True))
    out = await cut.generate(HELLO, GenerateConfig(max_tokens=5, cache=False))
    assert out.text == "Step one: 2 + 2"
    assert out.choices[0].finish_reason == "length"
    assert out.usage.completion_tokens == 5
    streamed = [c async for c in cut.api.stream(HELLO, GenerateConfig(max_tokens=5))]
    assert "".join(c.text for c in streamed) == "Step one: 2 + 2"
    assert streamed[-1].finish_reason == "length"
    short = await cut.generate(HELLO, GenerateConfig(max_tokens=5, cache=False))
    assert (short.text, short.choices[0].finish_reason) == ("Answer: 12", "stop")
    # Off by default: the whole reply, finish reason stop.
    plain = await Backend(MockBackendAPI(model="scripted", outputs=[long]), cache=None).generate(
        HELLO, GenerateConfig(max_tokens=5)
    )
    assert (plain.text, plain.choices[0].finish_reason) == (long, "stop")
