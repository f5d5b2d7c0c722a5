"""The topic gate's score: does a reply sentence speak of a persona statement's topic at all?

Two scales. `CosineTopic` is the cosine of the (name-masked) embeddings. `LearnedTopic` is a logistic regression over
the same embeddings, trained on the role-play data's decided pairs (the sentence that entails or contradicts a
statement) against its neutral ones: it learns links a cosine misses ("My husband comes home at dusk" is on the topic
of "is a Benedictine nun", cosine 0.46) and reads the user's message too (a toast answering "Do you drink?").
Thresholds are fitted per scale (`Calibration`), so each scale has its own name.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from personae.scoring._onnx import MODELS_DIR, FloatArray, read_numpy_model

SHIPPED_TOPIC_GATE = "topic-gate"
"""Folder name of the shipped learned topic gate under `personae/scoring/models/`."""


@runtime_checkable
class TopicModel(Protocol):
    """Scores statement–sentence pairs for the topic gate from unit-length embeddings."""

    name: str
    """The scale's name: calibrated thresholds apply only to the scale they were fitted on."""

    def scores(self, statements: FloatArray, sentences: FloatArray, query: FloatArray) -> FloatArray:
        """Shape (n_statements, n_sentences); `query` is the user message's embedding, shape (dim,)."""
        ...


class CosineTopic:
    """The cosine of statement and sentence: the embedder's own notion of topic."""

    def __init__(self, embedder_name: str) -> None:
        self.name = embedder_name

    def scores(self, statements: FloatArray, sentences: FloatArray, query: FloatArray) -> FloatArray:
        """Cosines, shape (n_statements, n_sentences); the query is not used."""
        result: FloatArray = (statements @ sentences.T).astype(np.float32)
        return result


def topic_features(statements: FloatArray, sentences: FloatArray, query: FloatArray) -> FloatArray:
    """Features of every pair, shape (n_statements, n_sentences, 3·dim + 2).

    Per pair: the elementwise product of statement and sentence, their absolute difference, the product of statement
    and query, and the two cosines. Training and scoring share this function.
    """
    n, m, dim = statements.shape[0], sentences.shape[0], statements.shape[1]
    s = statements[:, None, :]
    t = sentences[None, :, :]
    sq = np.broadcast_to((statements * query[None, :])[:, None, :], (n, m, dim))
    cos = (statements @ sentences.T)[:, :, None]
    qcos = np.broadcast_to((statements @ query)[:, None, None], (n, m, 1))
    features: FloatArray = np.concatenate([s * t, np.abs(s - t), sq, cos, qcos], axis=2).astype(np.float32)
    return features


class LearnedTopic:
    """P(the sentence speaks of the statement's topic), a logistic regression over `topic_features`."""

    def __init__(self, weights: FloatArray, bias: float, name: str) -> None:
        self.weights = weights.astype(np.float32)
        self.bias = float(bias)
        self.name = name

    @classmethod
    def load(cls, folder: Path | None = None) -> LearnedTopic:
        """Load the shipped gate (or one trained with `personae train-gate` into `folder`)."""
        arrays, config = read_numpy_model(
            folder or MODELS_DIR / SHIPPED_TOPIC_GATE, "gate.npz", "topic gate", "personae train-gate"
        )
        weights, bias = arrays["weights"], arrays["bias"]
        digest = hashlib.sha256(weights.tobytes() + bias.tobytes()).hexdigest()[:12]
        # The weights' digest is in the name: thresholds fitted for one trained gate never apply to another.
        return cls(weights, float(bias), f"topic-gate@{digest}:{config['embedder']}")

    def scores(self, statements: FloatArray, sentences: FloatArray, query: FloatArray) -> FloatArray:
        """Probabilities, shape (n_statements, n_sentences)."""
        if not len(statements) or not len(sentences):
            return np.zeros((len(statements), len(sentences)), dtype=np.float32)
        logits = topic_features(statements, sentences, query) @ self.weights + self.bias
        result: FloatArray = (1.0 / (1.0 + np.exp(-logits))).astype(np.float32)
        return result
