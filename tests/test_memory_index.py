"""User memory with many facts: the usearch index behind recall and supersession (above `index_above` facts) finds
the relevant facts, never returns a fact forgotten or superseded (even by another writer), keeps users apart, and
picks up facts stored since it was built."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from helpers.runtime import CountingEmbedder
from personae.memory import FactIndex, MemoryScope, UserFact, UserMemory, UserMemorySettings
from personae.memory._user import _DOCUMENTS
from personae.scoring import FakeEmbedder, FakeNLI, ScoringModels
from personae.store import SessionStore, UserMemoryStore

WHEN = datetime(2024, 5, 8, tzinfo=UTC)
THINGS = ("bicycle", "violin", "kite", "lantern", "teapot", "compass", "umbrella", "harp", "anchor", "drum")


def test_fact_index_finds_the_nearest_and_forgets_removed_ids() -> None:
    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((50, 16)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    index = FactIndex(16)
    index.add(list(range(100, 150)), vectors)
    index.add([100], vectors[:1])  # an id already there is not added twice
    assert len(index) == 50
    assert index.last_id == 149
    best = index.search(vectors[7], 3)
    assert best[0].id == 107
    assert abs(best[0].similarity - 1.0) < 1e-4
    index.remove([107, 999])
    assert 107 not in [n.id for n in index.search(vectors[7], 10)]
    assert len(index) == 49
    held = index.vectors([101, 107, 999])  # removed and unknown ids have no vector
    assert list(held) == [101]
    assert np.allclose(held[101], vectors[1])


def memory_of(store: SessionStore, user: str) -> UserMemory:
    models = ScoringModels(nli=FakeNLI(), embedder=FakeEmbedder(), ooc_classifier=False)
    settings = UserMemorySettings(index_above=10, index_candidates=8)
    return UserMemory(UserMemoryStore(store), MemoryScope(None, user, "ada"), "Ada", models, settings)


async def test_a_large_memory_recalls_through_the_index(tmp_path: Path) -> None:
    store = SessionStore(f"sqlite:///{tmp_path / 'm.db'}")
    sam, kim = memory_of(store, "Sam"), memory_of(store, "Kim")
    await sam.observe("I live in Leeds.", "s1", 0, WHEN)
    for i, thing in enumerate(THINGS * 3):
        await sam.observe(f"I repaired an old {thing} number {i}.", "s1", i + 1, WHEN)
        await kim.observe(f"I sold a {thing} number {i}.", "s2", i, WHEN)
    recalled = sam.recall("Tell me about the harp I repaired.")
    assert "harp" in recalled.facts[0][0].text
    assert all(f.text.startswith("Sam") for f, _ in recalled.facts)  # Kim's index and facts stay Kim's
    # Supersession through the index: the new home replaces the old one.
    await sam.observe("I moved to York last week.", "s3", 0, WHEN)
    homes = [f.text for f in sam.repository.facts(sam.scope) if "Leeds" in f.text or "York" in f.text]
    assert homes == ["Sam moved to York (April 2024)."] or homes == ["Sam moved to York (May 2024)."]
    # Forgotten by another writer (the REST route's store): never recalled again.
    harp = [f for f, _ in recalled.facts if "harp" in f.text]
    UserMemoryStore(store).forget(sam.scope, [h.id for h in harp if h.id is not None])
    again = sam.recall("Tell me about the harp I repaired.")
    assert not [f for f, _ in again.facts if f.id in {h.id for h in harp}]
    # Stored by another writer after the index was built: found.
    UserMemoryStore(store).add_fact(sam.scope, UserFact(text="Sam keeps a lighthouse logbook.", said_at=WHEN))
    found = sam.recall("Do I keep a logbook?")
    assert "logbook" in found.facts[0][0].text
    store.close()


async def test_recall_through_the_index_ranks_with_the_indexed_embeddings(tmp_path: Path) -> None:
    """The index holds the candidates' embeddings: a recall embeds the message, not its candidates again."""
    store = SessionStore(f"sqlite:///{tmp_path / 'm.db'}")
    embedder = CountingEmbedder()
    models = ScoringModels(nli=FakeNLI(), embedder=embedder, ooc_classifier=False)
    settings = UserMemorySettings(index_above=10, index_candidates=8)
    sam = UserMemory(UserMemoryStore(store), MemoryScope(None, "Sam", "ada"), "Ada", models, settings)
    for i, thing in enumerate(THINGS * 3):
        await sam.observe(f"I repaired an old {thing} number {i}.", "s1", i, WHEN)
    sam.recall("Tell me about the kite.")  # builds or refreshes the index
    _DOCUMENTS.clear()  # as for a memory larger than the ranking's cache: the candidates' embeddings are not kept
    embedder.seen.clear()
    recalled = sam.recall("Tell me about the harp I repaired.")
    assert "harp" in recalled.facts[0][0].text
    assert set(embedder.seen) == {"Tell me about the harp I repaired."}  # the message only, no fact
    store.close()
