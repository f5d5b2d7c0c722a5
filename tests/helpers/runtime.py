"""Builders for runtime tests: a persona whose contradictions the fake NLI can see, and offline scoring models."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from personae.persona import Lorebook, LorebookEntry, Persona
from personae.scoring import FakeEmbedder, FakeNLI, ScoringModels


class CountingEmbedder(FakeEmbedder):
    """FakeEmbedder that records every text it is asked to embed."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[str] = []

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.seen.extend(texts)
        return super().embed(texts)


def fake_models() -> ScoringModels:
    """Rule-based NLI, hashed bag-of-words embeddings, OOC patterns only: deterministic and instant."""
    return ScoringModels(nli=FakeNLI(), embedder=FakeEmbedder(), ooc_classifier=False)


def sailor(entries: list[LorebookEntry] | None = None, budget: int | None = None) -> Persona:
    """A small persona; the fake NLI reads "not a vegetarian" as contradicting "is a vegetarian"."""
    return Persona(
        name="Ada",
        summary="A retired ferry captain.",
        statements=[
            "Ada is a vegetarian.",
            "Ada captained the ferry between Uig and Tarbert.",
            "Ada has a border collie named Skerry.",
            "Ada cannot swim.",
        ],
        greetings=["Come in, {{user}}."],
        lorebook=Lorebook(entries=entries or [], token_budget=budget) if entries is not None else None,
    )


class GridNLI:
    """Probabilities looked up by (premise, hypothesis); every pair asked is recorded, unknown pairs are neutral."""

    name = "grid"

    def __init__(self, table: dict[tuple[str, str], tuple[float, float, float]]) -> None:
        self.table = table
        self.asked: list[tuple[str, str]] = []

    def predict(self, pairs: list[tuple[str, str]]) -> np.ndarray:
        self.asked.extend(pairs)
        return np.asarray([self.table.get(p, (0.05, 0.9, 0.05)) for p in pairs], dtype=np.float32).reshape(-1, 3)
