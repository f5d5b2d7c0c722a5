"""Sentence embeddings and the relevance model: P(a persona statement is relevant to a user's message).

Relevance is the cosine similarity of all-MiniLM-L6-v2 embeddings mapped to a probability by a logistic
calibration fitted on personae's own generated data (never on the Alice test set); see the model card.
The character's name is masked out of statements and messages first: every statement names the character
and users address it by name, so the name raises all similarities alike and says nothing about the topic.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections import OrderedDict
from collections.abc import Sequence
from functools import lru_cache
from typing import Protocol, runtime_checkable

import numpy as np

from personae.scoring._onnx import FloatArray, shipped_encoder
from personae.scoring._topic import CosineTopic, LearnedTopic, TopicModel

SHIPPED_EMBEDDER = "minilm-embedder"
"""Folder name of the shipped sentence-embedding model under `personae/scoring/models/`."""


@runtime_checkable
class Embedder(Protocol):
    """Maps texts to L2-normalised vectors."""

    name: str

    def embed(self, texts: Sequence[str]) -> FloatArray:
        """Shape (len(texts), dim), each row of unit length."""
        ...


class OnnxEmbedder:
    """all-MiniLM-L6-v2 (mean pooling, normalised) exported to ONNX; caches every text it has embedded."""

    def __init__(self, max_cache: int = 50_000) -> None:
        self.encoder = shipped_encoder(SHIPPED_EMBEDDER)
        self.name = f"onnx:{SHIPPED_EMBEDDER}"
        self._cache: dict[str, FloatArray] = {}
        self._max_cache = max_cache
        calibration = self.encoder.config.get("relevance_calibration", {})
        self.calibration = (float(calibration.get("a", 10.0)), float(calibration.get("b", -4.4)))

    def _compute(self, texts: Sequence[str]) -> FloatArray:
        outputs = self.encoder.run(list(texts))
        rows = []
        for hidden, mask in outputs:
            weights = mask[: hidden.shape[0], None].astype(np.float32)
            pooled = (hidden * weights).sum(axis=0) / max(1.0, float(weights.sum()))
            rows.append(pooled / max(1e-12, float(np.linalg.norm(pooled))))
        return np.stack(rows).astype(np.float32)

    def embed_uncached(self, texts: Sequence[str]) -> FloatArray:
        """Embed `texts` afresh, bypassing the cache (the naive reference path of the throughput bench)."""
        return self._compute(texts)

    def embed(self, texts: Sequence[str]) -> FloatArray:
        """Embed `texts`, computing only those not seen before.

        Worker threads embed at once (the guard's scoring, sessions' memory work): what this call returns is what it
        found or computed, never re-read from the cache another thread may have just cleared.
        """
        found = {t: v for t in dict.fromkeys(texts) if (v := self._cache.get(t)) is not None}
        missing = [t for t in dict.fromkeys(texts) if t not in found]
        if missing:
            if len(self._cache) + len(missing) > self._max_cache:
                self._cache.clear()
            for text, vector in zip(missing, self._compute(missing), strict=True):
                self._cache[text] = found[text] = vector
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        return np.stack([found[t] for t in texts])


class FakeEmbedder:
    """Deterministic hashed bag-of-words vectors, for tests that must not load a model."""

    __test__ = False
    name = "fake"
    calibration = (8.0, -2.0)
    light = True
    """Pure Python in microseconds: callers may run it where they are instead of in a worker thread."""

    def __init__(self, dim: int = 256) -> None:
        self.dim = dim

    def embed(self, texts: Sequence[str]) -> FloatArray:
        """One unit vector per text from hashed lowercase words."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"[a-z0-9']+", text.lower()):
                bucket = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=4).digest(), "little")
                out[row, bucket % self.dim] += 1.0
            norm = np.linalg.norm(out[row])
            if norm:
                out[row] /= norm
        return out


@lru_cache(maxsize=256)
def _name_pattern(names: tuple[str, ...]) -> re.Pattern[str] | None:
    words = sorted({w for name in names for w in re.findall(r"[^\W\d_][\w'’-]*", name) if len(w) > 1}, key=len)
    if not words:
        return None
    alternatives = "|".join(re.escape(w) for w in reversed(words))
    return re.compile(rf"\b(?:{alternatives})(?:'s|’s)?\b")


def mask_names(text: str, names: Sequence[str]) -> str:
    """`text` without the words of `names` (and their possessives), so that similarity reflects the topic only."""
    pattern = _name_pattern(tuple(names))
    if pattern is None:
        return text
    spaced = re.sub(r"\s+", " ", pattern.sub(" ", text))
    return re.sub(r" ([,.!?;:])", r"\1", spaced).strip(" ,")


class RelevanceModel:
    """P(relevant) = sigmoid(a · cos(statement, query) + b), names of the character masked out.

    The masked embeddings of a statement list are kept per (statements, names): a persona's statements are
    compared with every message of every session, so masking and embedding them once per process is enough.
    """

    max_cached_statement_sets = 256
    """Statement lists (with their names) whose embeddings are kept; the oldest goes first."""

    def __init__(
        self,
        embedder: Embedder | None = None,
        a: float | None = None,
        b: float | None = None,
        topic: TopicModel | None = None,
    ) -> None:
        self.embedder: Embedder = embedder or OnnxEmbedder()
        self.topic_model: TopicModel = topic or _default_topic(self.embedder)
        """The topic gate's scale: the shipped learned gate with the shipped embedder, the cosine otherwise."""
        default_a, default_b = getattr(self.embedder, "calibration", (10.0, -4.4))
        self.a = default_a if a is None else a
        self.b = default_b if b is None else b
        self._statement_vectors: OrderedDict[tuple[tuple[str, ...], tuple[str, ...]], FloatArray] = OrderedDict()

    def statement_vectors(self, statements: Sequence[str], names: Sequence[str] = ()) -> FloatArray:
        """Embeddings of `statements` with `names` masked, shape (len(statements), dim); cached, read-only."""
        key = (tuple(statements), tuple(names))
        vectors = self._statement_vectors.get(key)
        if vectors is None:
            vectors = np.array(self.embedder.embed([mask_names(t, names) for t in statements]), dtype=np.float32)
            vectors.setflags(write=False)  # shared by every later caller
            self._statement_vectors[key] = vectors
            while len(self._statement_vectors) > self.max_cached_statement_sets:
                self._statement_vectors.popitem(last=False)
        return vectors

    def similarity(self, statements: Sequence[str], queries: Sequence[str], names: Sequence[str] = ()) -> FloatArray:
        """Cosine similarities, shape (len(queries), len(statements)); `names` (the character's) are masked.

        A query repeated in `queries` (the same message scored with each of n candidates) is embedded once.
        """
        s = self.statement_vectors(statements, names)
        unique = {query: row for row, query in enumerate(dict.fromkeys(queries))}
        q = self.embedder.embed([mask_names(t, names) for t in unique])
        if len(unique) < len(queries):
            q = q[[unique[query] for query in queries]]
        return (q @ s.T).astype(np.float32)

    def topic(
        self, statements: Sequence[str], sentences: Sequence[str], query: str, names: Sequence[str] = ()
    ) -> FloatArray:
        """The topic gate's scores of each statement with each reply sentence, shape (n_statements, n_sentences).

        `query` is the user message the reply answers; `names` (the character's) are masked from every text.
        """
        return self.topics(statements, [sentences], [query], names)[0]

    def topics(
        self,
        statements: Sequence[str],
        sentence_lists: Sequence[Sequence[str]],
        queries: Sequence[str],
        names: Sequence[str] = (),
    ) -> list[FloatArray]:
        """`topic` for several replies (their sentences and user messages) with one embedding call for all."""
        s = self.statement_vectors(statements, names)
        flat = [t for sentences in sentence_lists for t in sentences]
        vectors = self.embedder.embed([mask_names(t, names) for t in [*flat, *queries]]) if flat else None
        out, offset = [], 0
        for k, sentences in enumerate(sentence_lists):
            if vectors is None or not sentences:
                out.append(np.zeros((len(statements), len(sentences)), dtype=np.float32))
                continue
            block = vectors[offset : offset + len(sentences)]
            out.append(self.topic_model.scores(s, block, vectors[len(flat) + k]))
            offset += len(sentences)
        return out

    def probability(self, statements: Sequence[str], queries: Sequence[str], names: Sequence[str] = ()) -> FloatArray:
        """Relevance probabilities, shape (len(queries), len(statements)); `names` (the character's) are masked."""
        return self.calibrate(self.similarity(statements, queries, names))

    def calibrate(self, sims: FloatArray) -> FloatArray:
        """Map cosine similarities to probabilities."""
        result: FloatArray = (1.0 / (1.0 + np.exp(-(self.a * sims + self.b)))).astype(np.float32)
        return result


def _default_topic(embedder: Embedder) -> TopicModel:
    """The learned gate when `embedder` is the one it was trained on, else the embedder's cosine."""
    if embedder.name == f"onnx:{SHIPPED_EMBEDDER}":
        return LearnedTopic.load()
    return CosineTopic(embedder.name)


def fit_logistic(x: Sequence[float], y: Sequence[int], steps: int = 3000, lr: float = 0.5) -> tuple[float, float]:
    """Fit sigmoid(a·x + b) to binary labels by gradient descent on log loss (one feature, no dependency)."""
    xs = np.asarray(x, dtype=np.float64)
    ys = np.asarray(y, dtype=np.float64)
    a, b = 1.0, 0.0
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-(a * xs + b)))
        grad_a = float(np.mean((p - ys) * xs))
        grad_b = float(np.mean(p - ys))
        a -= lr * grad_a * 10
        b -= lr * grad_b
    if not (math.isfinite(a) and math.isfinite(b)):
        raise ValueError("logistic fit diverged")
    return a, b
