"""Third-party OpenAI clients against a real server (uvicorn on loopback, mock upstream): the official `openai` SDK
(sync, async, streaming with usage, error classes), litellm and langchain-openai."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from helpers.server import Live, mock_config, running
from personae.backends import BackendError, StreamChunk
from personae.server import create_app
from personae.store import AccessStore

MODEL = "ada-quint"
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # litellm would fetch its price list at import


@pytest.fixture
def live(tmp_path: Path) -> Iterator[Live]:
    app = create_app(mock_config(tmp_path))
    key = AccessStore(app.state.service.store).create_key("clients").secret
    with running(app) as url:
        yield Live(url, app, key)


def test_sdk_errors_carry_openai_type_param_code_and_message(live: Live) -> None:
    client = live.client()
    with pytest.raises(openai.AuthenticationError) as auth:
        openai.OpenAI(base_url=live.base, api_key="wrong", max_retries=0).models.list()
    assert auth.value.status_code == 401
    assert auth.value.code == "invalid_api_key"
    assert auth.value.type == "authentication_error"
    assert "personae keys create" in auth.value.message

    with pytest.raises(openai.NotFoundError) as missing:
        client.chat.completions.create(model="nobody", messages=[{"role": "user", "content": "Hi"}])
    assert (missing.value.code, missing.value.param) == ("model_not_found", "model")
    assert "GET /v1/models" in missing.value.message

    with pytest.raises(openai.BadRequestError) as invalid:  # pydantic validation: 400 as OpenAI answers, not 422
        client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "Hi"}], temperature=5)
    assert invalid.value.status_code == 400
    assert invalid.value.param == "temperature"
    assert "temperature" in invalid.value.message

    with pytest.raises(openai.BadRequestError) as bad_role:
        client.chat.completions.create(model=MODEL, messages=[{"role": "wizard", "content": "Hi"}])  # type: ignore[misc,list-item]
    assert bad_role.value.param == "messages[0].role"

    with pytest.raises(openai.BadRequestError) as system_only:
        client.chat.completions.create(model=MODEL, messages=[{"role": "system", "content": "Be nice."}])
    assert system_only.value.param == "messages"


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"tools": [{"type": "function", "function": {"name": "f", "parameters": {}}}]}, "tools"),
        ({"response_format": {"type": "json_object"}}, "response_format"),
        ({"logprobs": True}, "logprobs"),
        ({"extra_body": {"functions": [{"name": "f", "parameters": {}}]}}, "functions"),
    ],
)
def test_what_a_persona_cannot_do_is_a_400_naming_the_field(live: Live, extra: dict[str, Any], field: str) -> None:
    with pytest.raises(openai.BadRequestError) as refused:
        live.client().chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "Hi"}], **extra)
    assert refused.value.param == field
    assert refused.value.code == "unsupported_parameter"
    assert f"400 - {field}: not supported" in refused.value.message


def test_models_have_stable_created_and_can_be_retrieved_one_by_one(live: Live) -> None:
    client = live.client()
    first = {m.id: m.created for m in client.models.list()}
    second = {m.id: m.created for m in client.models.list()}
    assert first == second
    assert MODEL in first
    one = client.models.retrieve(MODEL)
    assert (one.id, one.created, one.owned_by) == (MODEL, first[MODEL], "personae")
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("nobody")


def test_usage_is_what_the_upstream_reported_and_ids_are_unique(live: Live) -> None:
    client = live.client()
    before = live.service.backend.usage
    reply = client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "Hello there"}])
    spent = live.service.backend.usage
    assert reply.usage is not None
    assert reply.usage.prompt_tokens == spent.prompt_tokens - before.prompt_tokens > 0
    assert reply.usage.completion_tokens == spent.completion_tokens - before.completion_tokens > 0
    assert reply.usage.total_tokens == reply.usage.prompt_tokens + reply.usage.completion_tokens
    again = client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "Hello there"}])
    assert again.id != reply.id  # a swipe of the same turn is another completion


def test_streaming_sends_a_final_usage_chunk_when_asked(live: Live) -> None:
    stream = live.client().chat.completions.create(
        model=MODEL,
        messages=[{"role": "user", "content": "Tell me about the ferry"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text.startswith("You said: Tell me about the ferry")
    last = chunks[-1]
    assert last.choices == []
    assert last.usage is not None
    assert last.usage.prompt_tokens > 0
    assert last.usage.completion_tokens > 0
    assert all(c.usage is None for c in chunks[:-1])
    assert len({c.id for c in chunks}) == 1

    plain = live.client().chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "Tell me more"}], stream=True
    )
    assert all(c.usage is None for c in plain)


async def test_async_client_parallel_streams_get_their_own_ids(live: Live) -> None:
    client = openai.AsyncOpenAI(base_url=live.base, api_key=live.key, max_retries=0)

    async def one(text: str) -> tuple[set[str], str]:
        stream = await client.chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": text}], stream=True
        )
        ids: set[str] = set()
        parts: list[str] = []
        async for chunk in stream:
            ids.add(chunk.id)
            parts.extend(c.delta.content or "" for c in chunk.choices)
        return ids, "".join(parts)

    (ids_a, text_a), (ids_b, text_b) = await asyncio.gather(one("First thread"), one("Second thread"))
    assert len(ids_a) == len(ids_b) == 1
    assert ids_a != ids_b
    assert "First thread" in text_a
    assert "Second thread" in text_b
    reply = await client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "Async hello"}])
    assert reply.choices[0].message.content is not None
    assert "Async hello" in reply.choices[0].message.content
    await client.close()


def test_n_returns_the_top_guarded_candidates_as_choices(live: Live) -> None:
    client = live.client()
    reply = client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "Two, please"}], n=2)
    texts = [c.message.content for c in reply.choices]
    assert [c.index for c in reply.choices] == [0, 1]
    assert len(set(texts)) == 2
    extension = (reply.model_extra or {})["personae"]
    session = live.session(extension["session_id"])
    stored = {c["text"] for c in session["turns"][0]["candidates"]}
    assert set(texts) <= stored  # the choices are the guard's candidates, shown reply first
    shown = session["turns"][0]["candidates"][session["turns"][0]["position"] - 1]["text"]
    assert texts[0] == shown

    more = client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "Four"}], n=4)
    assert len(more.choices) == 4  # the guard sampled four for this turn, though the server default is two
    streamed = client.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "Streamed two"}], n=2, stream=True
    )
    by_index: dict[int, str] = {}
    for chunk in streamed:
        for choice in chunk.choices:
            by_index[choice.index] = by_index.get(choice.index, "") + (choice.delta.content or "")
    assert sorted(by_index) == [0, 1]
    assert by_index[0] != by_index[1]


def test_stop_cuts_the_reply_and_the_cut_reply_continues_the_session(live: Live) -> None:
    client = live.client()
    first = client.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "Hello there, captain"}], stop=[","]
    )
    text = first.choices[0].message.content
    assert text == "You said: Hello there"
    assert first.choices[0].finish_reason == "stop"
    session_id = (first.model_extra or {})["personae"]["session_id"]
    assert live.service.backend.api.history[-1][1].stop == (",",)  # type: ignore[attr-defined]
    follow = client.chat.completions.create(
        model=MODEL,
        messages=[
            {"role": "user", "content": "Hello there, captain"},
            {"role": "assistant", "content": text},
            {"role": "user", "content": "And now"},
        ],
        stop="now",
    )
    assert follow.choices[0].message.content == "You said: And"
    assert (follow.model_extra or {})["personae"]["session_id"] == session_id
    assert [t["user_text"] for t in live.session(session_id)["turns"]] == ["Hello there, captain", "And now"]

    streamed = client.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "Stream to the stop word here"}], stop=["stop"], stream=True
    )
    assert "".join(c.choices[0].delta.content or "" for c in streamed if c.choices) == "You said: Stream to the"


def test_litellm_completion_and_stream(live: Live) -> None:
    litellm = pytest.importorskip("litellm")
    response = litellm.completion(
        model=f"openai/{MODEL}",
        api_base=live.base,
        api_key=live.key,
        messages=[{"role": "user", "content": "Hello from litellm"}],
    )
    assert response.choices[0].message.content.startswith("You said: Hello from litellm")
    assert response.usage.prompt_tokens > 0
    assert response.usage.completion_tokens > 0
    stream = litellm.completion(
        model=f"openai/{MODEL}",
        api_base=live.base,
        api_key=live.key,
        messages=[{"role": "user", "content": "Stream from litellm"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices).startswith("You said: Stream")
    with pytest.raises(litellm.BadRequestError) as refused:
        litellm.completion(
            model=f"openai/{MODEL}",
            api_base=live.base,
            api_key=live.key,
            messages=[{"role": "user", "content": "JSON please"}],
            response_format={"type": "json_object"},
        )
    assert "response_format: not supported" in str(refused.value)


def test_langchain_chat_model_usage_and_structured_output_refusal(live: Live) -> None:
    langchain_openai = pytest.importorskip("langchain_openai")
    pydantic = pytest.importorskip("pydantic")
    chat = langchain_openai.ChatOpenAI(model=MODEL, base_url=live.base, api_key=live.key, max_retries=0)
    message = chat.invoke("Hello from langchain")
    assert str(message.content).startswith("You said: Hello from langchain")
    assert message.usage_metadata is not None
    assert message.usage_metadata["input_tokens"] > 0
    assert message.usage_metadata["output_tokens"] > 0
    streamed = chat.stream("Streaming from langchain", stream_usage=True)
    pieces = list(streamed)
    assert "".join(str(p.content) for p in pieces).startswith("You said: Streaming from langchain")
    assert any(p.usage_metadata and p.usage_metadata["output_tokens"] > 0 for p in pieces)

    class Answer(pydantic.BaseModel):  # type: ignore[name-defined,misc]
        text: str

    with pytest.raises(openai.BadRequestError) as refused:
        chat.with_structured_output(Answer).invoke("Answer in JSON")
    assert refused.value.param in ("response_format", "tools", "tool_choice")
    assert "not supported" in refused.value.message


def test_an_upstream_failure_is_a_502_in_openai_shape(tmp_path: Path) -> None:
    app = create_app(mock_config(tmp_path, backend="mock/scripted", backend_options={"outputs": []}))
    key = AccessStore(app.state.service.store).create_key("clients").secret
    with running(app) as url:
        client = openai.OpenAI(base_url=f"{url}/v1", api_key=key, max_retries=0)
        with pytest.raises(openai.InternalServerError) as failed:
            client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "Hi"}])
        assert failed.value.status_code == 502
        assert failed.value.code == "upstream_error"
        assert "scripted outputs ran out" in failed.value.message
        with pytest.raises(openai.InternalServerError) as streamed:  # guarded: the stream starts with the reply
            client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "Hi"}], stream=True)
        assert (streamed.value.status_code, streamed.value.code) == (502, "upstream_error")
        assert "scripted outputs ran out" in streamed.value.message


def _failing_stream(live: Live, pieces: list[str]) -> None:
    """Make the upstream stream `pieces`, then fail."""
    api = live.service.backend.api

    async def stream(*_args: Any, **_kwargs: Any) -> AsyncIterator[StreamChunk]:
        for piece in pieces:
            yield StreamChunk(text=piece)
        raise BackendError("openai: APIConnectionError: connection reset by peer")

    api.stream = stream  # type: ignore[method-assign]


def test_a_failure_after_the_first_tokens_of_an_unguarded_stream_is_an_openai_error_event(tmp_path: Path) -> None:
    app = create_app(mock_config(tmp_path, guard="off"))
    key = AccessStore(app.state.service.store).create_key("clients").secret
    with running(app) as url:
        live = Live(url, app, key)
        _failing_stream(live, [])  # before any token: nothing is sent yet, so the error has its status
        with pytest.raises(openai.InternalServerError) as failed:
            live.client().chat.completions.create(
                model=MODEL, messages=[{"role": "user", "content": "Hi"}], stream=True
            )
        assert (failed.value.status_code, failed.value.code) == (502, "upstream_error")

        _failing_stream(live, ["Well, ", "I"])  # after tokens went out: the last event is OpenAI's error object
        headers = {"Authorization": f"Bearer {key}"}
        body = {"model": MODEL, "messages": [{"role": "user", "content": "Hello"}], "stream": True}
        response = httpx.post(f"{url}/v1/chat/completions", json=body, headers=headers, timeout=30)
        assert response.status_code == 200
        events = [e.removeprefix("data: ") for e in response.text.split("\n\n") if e]
        assert events[-1] == "[DONE]"
        error = {
            "message": "upstream model: openai: APIConnectionError: connection reset by peer",
            "type": "server_error",
            "param": None,
            "code": "upstream_error",
        }
        assert json.loads(events[-2]) == {"error": error}
        texts = [c["choices"][0]["delta"].get("content") for c in map(json.loads, events[:-2])]
        assert texts == [None, "Well, ", "I"]  # the role chunk, then the pieces as they came

        stream = live.client().chat.completions.create(  # as the SDK sees it
            model=MODEL, messages=[{"role": "user", "content": "Hello again"}], stream=True
        )
        with pytest.raises(openai.APIError) as streamed:
            list(stream)
        assert (streamed.value.code, streamed.value.type, streamed.value.message) == (
            "upstream_error",
            "server_error",
            error["message"],
        )


def test_an_unexpected_error_is_a_500_in_openai_shape_without_internals(
    live: Live, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_args: object) -> None:
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(live.service, "persona_infos", broken)
    with pytest.raises(openai.InternalServerError) as failed:
        live.client().models.list()
    assert failed.value.status_code == 500
    assert failed.value.code == "internal_error"
    assert failed.value.type == "server_error"
    assert "RuntimeError" in failed.value.message
    assert "secret internal detail" not in failed.value.message

    monkeypatch.setattr(live.service, "match_conversation", broken)  # before a stream starts: the same error
    with pytest.raises(openai.InternalServerError) as streamed:
        live.client().chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "Hi"}], stream=True)
    assert (streamed.value.status_code, streamed.value.code, streamed.value.type) == (
        500,
        "internal_error",
        "server_error",
    )
    assert isinstance(streamed.value.body, dict)
    assert streamed.value.body["message"] == "internal error: RuntimeError"
