"""Candidates worth choosing from: per-candidate seeds and temperatures, and the diversity figure of a turn."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, ClassVar

import pytest
from rich.console import Console

from helpers.runtime import fake_models, sailor
from personae.backends import Backend, GenerateConfig, Message, get_backend
from personae.backends._providers.embedded import EmbeddedBackendAPI
from personae.backends._providers.mock import MockBackendAPI
from personae.cli._render import render_candidates
from personae.guard import DEFAULT_SPREAD, Diversity, measure_diversity, near_duplicate
from personae.scoring import FakeEmbedder
from personae.session import ChatSession, SessionSettings
from personae.store import SessionStore

HELLO = [Message(role="user", content="Hello")]
SAME = "Aye, I captained the ferry between Uig and Tarbert for thirty years."
OTHER = "Skerry, my border collie, sleeps by the stove most evenings now."


def test_each_candidate_has_its_own_seed_and_a_rising_temperature() -> None:
    config = GenerateConfig(temperature=0.8, n=4, seed=10, spread=0.3)
    drawn = [config.for_candidate(i) for i in range(4)]
    assert [c.seed for c in drawn] == [10, 11, 12, 13]
    assert [c.temperature for c in drawn] == pytest.approx([0.8, 0.9, 1.0, 1.1])
    assert {c.n for c in drawn} == {1}
    plain = GenerateConfig(temperature=0.8, n=4)
    assert [plain.for_candidate(i).temperature for i in range(4)] == [0.8] * 4
    # Greedy stays greedy, a single candidate keeps its settings, and the cap holds.
    assert GenerateConfig(temperature=0.0, n=4, spread=1.0).for_candidate(3).temperature == 0.0
    assert GenerateConfig(temperature=0.8, n=1, spread=1.0).for_candidate(0).temperature == 0.8
    assert GenerateConfig(temperature=1.5, n=2, spread=1.0).for_candidate(1).temperature == 2.0
    with pytest.raises(ValueError, match="outside"):
        config.for_candidate(4)


class FakeLlama:
    """Stands in for llama_cpp.Llama: records each create_chat_completion call and answers with its seed."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def create_chat_completion(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(kwargs)
        text = f"seed {kwargs['seed']} at {kwargs['temperature']}"
        return {
            "choices": [{"message": {"content": text}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 5, "completion_tokens": 4},
        }


async def test_the_embedded_backend_draws_each_candidate_with_its_own_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    llama = FakeLlama()
    monkeypatch.setattr(EmbeddedBackendAPI, "_llm", lambda self: (llama, threading.Lock()))
    backend = Backend(EmbeddedBackendAPI(), cache=None)
    output = await backend.generate(HELLO, GenerateConfig(temperature=0.8, n=3, seed=7, spread=0.4))
    assert [c["seed"] for c in llama.calls] == [7, 8, 9]
    assert [c["temperature"] for c in llama.calls] == pytest.approx([0.8, 1.0, 1.2])
    assert len(set(output.texts)) == 3
    # Unseeded, every candidate still gets a seed of its own.
    llama.calls.clear()
    await backend.generate(HELLO, GenerateConfig(temperature=0.8, n=4))
    assert len({c["seed"] for c in llama.calls}) == 4


class OneAtATime(MockBackendAPI):
    """A provider without native n: the wrapper asks it candidate by candidate."""

    supports_n: ClassVar[bool] = False


async def test_the_wrapper_gives_one_at_a_time_providers_the_same_per_candidate_settings() -> None:
    api = OneAtATime()
    await Backend(api, cache=None).generate(HELLO, GenerateConfig(temperature=0.6, n=3, seed=1, spread=0.2))
    assert [(c.seed, c.temperature, c.n) for _, c in api.history] == [(1, 0.6, 1), (2, 0.7, 1), (3, 0.8, 1)]


def test_identical_candidates_are_one_choice_and_different_ones_are_not() -> None:
    embedder = FakeEmbedder()
    same = measure_diversity([SAME] * 4, embedder)
    assert same.mean_similarity == pytest.approx(1.0)
    assert same.duplicate_share == 0.75
    assert same.distinct == 1
    different = measure_diversity([SAME, OTHER, "The pier is cold at dawn."], embedder)
    assert different.mean_similarity is not None
    assert different.mean_similarity < 0.5
    assert different.duplicate_share == 0.0
    assert different.distinct == 3
    one = measure_diversity([SAME], embedder)
    assert (one.mean_similarity, one.duplicate_share, one.distinct) == (None, 0.0, 1)
    unembedded = measure_diversity([SAME, SAME.upper()], None)
    assert (unembedded.mean_similarity, unembedded.duplicate_share) == (None, 0.5)


def test_near_duplicates_differ_by_a_word_or_punctuation_only() -> None:
    assert near_duplicate("Hello! How can I assist you today?", "Hello, User! How can I assist you today?")
    assert near_duplicate("Oh, hello. How can I assist you today?", "Hello, User! How can I assist you today?")
    assert near_duplicate("I'm Ada.", "i'm ada")
    assert not near_duplicate("I'm Ada Quint, a retired ferry captain.", "I'm Ada Quint, and I cannot swim.")
    assert not near_duplicate(SAME, OTHER)


def chat_with(replies: list[str], tmp_path: Path, **settings: Any) -> tuple[ChatSession, MockBackendAPI]:
    backend = get_backend("mock/scripted", outputs=replies, cache=None)
    assert isinstance(backend.api, MockBackendAPI)
    session = SessionSettings.model_validate({"guard": "best-of-n", "n": len(replies), **settings})
    store = SessionStore(f"sqlite:///{tmp_path / 'sessions.db'}")
    return ChatSession.start(sailor(), backend, store, settings=session, models=fake_models()), backend.api


def diversity_of(chat: ChatSession) -> Diversity:
    assert chat.last_judgement is not None
    assert chat.last_judgement.diversity is not None
    return chat.last_judgement.diversity


async def test_a_guarded_turn_reports_how_alike_its_candidates_were(tmp_path: Path) -> None:
    chat, api = chat_with([SAME, SAME, SAME], tmp_path)
    await chat.send("What did you do for a living?")
    assert diversity_of(chat).mean_similarity == pytest.approx(1.0)
    assert diversity_of(chat).distinct == 1
    # The guard asks for spread candidates by default; the settings can turn that off.
    assert api.history[-1][1].spread == DEFAULT_SPREAD > 0
    varied, api = chat_with([SAME, OTHER], tmp_path, spread=0.0)
    await varied.send("What did you do for a living?")
    assert (diversity_of(varied).mean_similarity or 1.0) < 0.5
    assert diversity_of(varied).distinct == 2
    assert api.history[-1][1].spread == 0.0


async def test_the_candidates_view_says_how_many_really_differed(tmp_path: Path) -> None:
    chat, _ = chat_with([SAME, SAME, OTHER], tmp_path)
    turn = await chat.send("What did you do for a living?")
    console = Console(record=True, width=200)
    render_candidates(turn, console, diversity_of(chat))
    assert "last sampling: 2 distinct of 3, similarity" in console.export_text()
