"""The openai provider against a real HTTP server on 127.0.0.1 (no network beyond loopback)."""

from __future__ import annotations

import pytest

from helpers.stub_openai import StubState, stub_openai_server
from personae.backends import BackendError, BackendSettings, GenerateConfig, Message, ModelEvent, get_backend

FAST = BackendSettings(retry_base_delay=0.01, retry_max_delay=0.05)
HELLO = [Message(role="system", content="You are Ada."), Message(role="user", content="Hello")]


async def test_generate_with_n_candidates_and_usage() -> None:
    with stub_openai_server() as (url, state):
        backend = get_backend("openai/stub-model", base_url=url, settings=FAST, cache=None)
        out = await backend.generate(HELLO, GenerateConfig(n=3, seed=4, max_tokens=20, stop=("\n",)))
        assert out.texts == [f"stub reply {i} to: Hello" for i in range(3)]
        assert out.usage.prompt_tokens == 11
        assert out.usage.completion_tokens == 21
        body = state.requests[0]
        assert body["model"] == "stub-model"
        assert body["n"] == 3
        assert body["seed"] == 4
        assert body["stop"] == ["\n"]
        assert body["max_tokens"] == 20
        assert body["messages"][0] == {"role": "system", "content": "You are Ada."}
        await backend.aclose()


async def test_a_500_is_retried_and_the_retry_succeeds() -> None:
    with stub_openai_server(StubState(fail_statuses=[500])) as (url, state):
        backend = get_backend("openai/stub-model", base_url=url, settings=FAST, cache=None)
        events: list[ModelEvent] = []
        backend.subscribe(events.append)
        out = await backend.generate(HELLO)
        assert out.text == "stub reply 0 to: Hello"
        assert len(state.requests) == 2
        assert events[-1].retries == 1
        await backend.aclose()


async def test_429_then_503_then_success_and_a_400_is_final() -> None:
    with stub_openai_server(StubState(fail_statuses=[429, 503])) as (url, state):
        backend = get_backend("openai/stub-model", base_url=url, settings=FAST, cache=None)
        assert (await backend.generate(HELLO)).text.startswith("stub reply")
        assert len(state.requests) == 3
        state.fail_statuses.append(400)
        with pytest.raises(BackendError, match="HTTP 400"):
            await backend.generate(HELLO)
        assert len(state.requests) == 4
        await backend.aclose()


async def test_streaming_over_sse() -> None:
    with stub_openai_server(StubState(fail_statuses=[502])) as (url, state):
        backend = get_backend("openai/stub-model", base_url=url, settings=FAST, cache=None)
        pieces = [p async for p in backend.stream(HELLO)]
        assert "".join(pieces) == "stub reply 0 to: Hello"
        assert len(pieces) == 5
        assert state.requests[-1]["stream"] is True
        assert backend.usage.completion_tokens == 5
        await backend.aclose()


async def test_key_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-123")
    with stub_openai_server() as (url, state):
        backend = get_backend("openai/stub-model", base_url=url, cache=None)
        await backend.generate(HELLO)
        assert state.headers[0]["authorization"] == "Bearer sk-test-123"
        await backend.aclose()


async def test_unreachable_server_is_retried_then_reported() -> None:
    backend = get_backend(
        "openai/x", base_url="http://127.0.0.1:9/v1", settings=FAST.model_copy(update={"max_retries": 1}), cache=None
    )
    with pytest.raises(BackendError, match="APIConnectionError"):
        await backend.generate(HELLO)
    assert backend.requests == 2
    await backend.aclose()
