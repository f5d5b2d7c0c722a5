"""Nearest-neighbour search over the embeddings of many stored facts, with usearch's HNSW index.

A character that has been told tens of thousands of facts cannot embed and rank them all for every message: above
`UserMemorySettings.index_above` facts, recall asks this index for the facts nearest the message and ranks only
those. usearch was chosen by measurement over faiss-cpu, hnswlib and sqlite-vec (bench/memory_scale.py
`--libraries`, docs/concepts/memory.md): fast inserts, sub-millisecond queries at 100,000 facts, and removal of
superseded or forgotten facts in place. The index lives in the process and is rebuilt from the database when a
process first needs it; the database stays the record (every id the index returns is read back from it, so a fact
forgotten or superseded elsewhere never comes back).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
from usearch.index import Index


class Neighbour(NamedTuple):
    """A fact id and its cosine similarity to the query."""

    id: int
    similarity: float


class FactIndex:
    """Fact id → unit-length embedding, searchable by inner product (cosine).

    Example:
        index = FactIndex(384)
        index.add([12, 13], vectors)
        index.search(query_vector, 5)   # [Neighbour(id=13, similarity=0.71), ...]
    """

    def __init__(self, dim: int, connectivity: int = 16, expansion_search: int = 64) -> None:
        self.dim = dim
        self._index = Index(
            ndim=dim, metric="ip", dtype="f32", connectivity=connectivity, expansion_search=expansion_search
        )
        self.last_id = 0
        """The highest fact id added: facts after it are new to this index."""

    def __len__(self) -> int:
        return len(self._index)

    def add(self, ids: Sequence[int], vectors: np.ndarray) -> None:
        """Add facts (ids not yet in the index) with their embeddings, shape (len(ids), dim)."""
        if not len(ids):
            return
        keys = np.asarray(ids, dtype=np.uint64)
        fresh = np.array([not self._index.contains(int(k)) for k in keys], dtype=bool)
        if fresh.any():
            self._index.add(keys[fresh], np.ascontiguousarray(vectors[fresh], dtype=np.float32))
        self.last_id = max(self.last_id, int(keys.max()))

    def remove(self, ids: Sequence[int]) -> None:
        """Drop facts (superseded or forgotten); unknown ids are ignored."""
        for fact_id in ids:
            if self._index.contains(int(fact_id)):
                self._index.remove(int(fact_id))

    def vectors(self, ids: Sequence[int]) -> dict[int, np.ndarray]:
        """The stored embeddings of those `ids` the index holds (usearch returns arbitrary rows for unknown keys)."""
        held = [int(i) for i in ids if self._index.contains(int(i))]
        if not held:
            return {}
        rows = np.asarray(self._index.get(np.asarray(held, dtype=np.uint64)), dtype=np.float32)
        return {fact_id: rows[i] for i, fact_id in enumerate(held)}

    def search(self, vector: np.ndarray, k: int) -> list[Neighbour]:
        """The `k` facts nearest `vector`, nearest first."""
        if len(self) == 0 or k <= 0:
            return []
        matches = self._index.search(np.ascontiguousarray(vector, dtype=np.float32), min(k, len(self)))
        return [
            Neighbour(int(key), 1.0 - float(distance))
            for key, distance in zip(matches.keys, matches.distances, strict=True)
        ]
