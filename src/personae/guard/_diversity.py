"""How different the candidates of one guarded turn are: the guard can only choose among what differs.

Two figures: the mean pairwise cosine similarity of the candidates' sentence embeddings (1.0: all alike), and the
share of candidates that repeat an earlier one word for word or nearly so (a lexical test that needs no model).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from difflib import SequenceMatcher

import numpy as np
from pydantic import BaseModel

from personae.scoring import Embedder

NEAR_DUPLICATE = 0.85
"""Word-sequence similarity (difflib ratio of the normalised words) from which a candidate repeats another."""


class Diversity(BaseModel):
    """How alike the candidates of one guarded generation are."""

    candidates: int
    """How many candidates were compared."""
    mean_similarity: float | None = None
    """Mean pairwise cosine similarity of their sentence embeddings; None with fewer than two or no embedder."""
    duplicate_share: float = 0.0
    """Share of candidates that repeat an earlier one exactly or nearly (see `NEAR_DUPLICATE`); 0 for one."""

    @property
    def distinct(self) -> int:
        """Candidates left once repeats are dropped: how many real choices the guard had."""
        return self.candidates - round(self.duplicate_share * self.candidates)


def _words(text: str) -> list[str]:
    return re.findall(r"\w+(?:'\w+)?", text.casefold())


def near_duplicate(a: str, b: str) -> bool:
    """Whether `b` says what `a` says in (nearly) the same words, ignoring case, spacing and punctuation."""
    wa, wb = _words(a), _words(b)
    if wa == wb:
        return True
    return SequenceMatcher(None, wa, wb, autojunk=False).ratio() >= NEAR_DUPLICATE


def mean_pairwise_similarity(vectors: np.ndarray) -> float | None:
    """Mean cosine similarity over all pairs of rows; None with fewer than two rows."""
    count = len(vectors)
    if count < 2:
        return None
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    unit = vectors / np.maximum(norms, 1e-12)
    sims = unit @ unit.T
    upper = sims[np.triu_indices(count, k=1)]
    return float(np.clip(upper.mean(), -1.0, 1.0))


def measure_diversity(texts: Sequence[str], embedder: Embedder | None = None) -> Diversity:
    """Diversity of `texts` (the candidates of one turn), with embeddings from `embedder` when given."""
    texts = [t.strip() for t in texts]
    repeats = sum(any(near_duplicate(texts[j], texts[i]) for j in range(i)) for i in range(1, len(texts)))
    similarity = None
    if embedder is not None and len(texts) >= 2:
        similarity = mean_pairwise_similarity(np.asarray(embedder.embed(texts), dtype=np.float64))
    return Diversity(
        candidates=len(texts),
        mean_similarity=None if similarity is None else round(similarity, 4),
        duplicate_share=repeats / len(texts) if texts else 0.0,
    )
