"""Out-of-character (OOC) detection: does a reply leave the character, and why.

Reasons: AI disclaimers, assistant voice, third-person self-reference, role confusion, meta talk, transcript leaks
and era breaks.

Pattern signals (`_ooc_rules`) decide by default. A small shipped classifier over reply embeddings (names replaced
by placeholders, so nothing is persona-specific) reports its probability alongside; it takes part in the decision
only with `classifier_decides=True`, because on generated dev data its positives beyond the patterns were mostly
false (see the model card), and on real replies of the embedded model it calls half of the in-character ones out
of character (`bench/ooc_quality.py`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from pydantic import BaseModel, Field

from personae.persona import Persona
from personae.scoring._onnx import MODELS_DIR, FloatArray, read_numpy_model
from personae.scoring._ooc_rules import OOC_REASONS, Cues, rule_signals
from personae.scoring._relevance import Embedder, OnnxEmbedder

SHIPPED_OOC = "ooc-classifier"
"""Folder of the shipped OOC classifier under `personae/scoring/models/`."""
IN_CHARACTER = "in_character"
RULE_PROBABILITY = 0.95
"""Confidence given to a pattern signal (patterns are written to be precise)."""


class OOCSignal(BaseModel):
    """One piece of evidence that a reply left the character."""

    reason: str
    """One of `OOC_REASONS`."""
    source: str
    """`rule`, `classifier` or `judge`."""
    probability: float = Field(ge=0.0, le=1.0)
    """How sure this source is."""
    evidence: str
    """The matching text, or what the classifier saw."""


class OOCResult(BaseModel):
    """Whether a reply is out of character, how likely, and why."""

    ooc: bool
    """`ooc_probability` above the detector's threshold."""
    ooc_probability: float = Field(ge=0.0, le=1.0)
    """The strongest signal's probability (0 when nothing fired)."""
    reasons: list[str] = Field(default_factory=list)
    """Reasons from `OOC_REASONS`, strongest first, each once."""
    signals: list[OOCSignal] = Field(default_factory=list)
    """All evidence."""
    classifier_probability: float | None = None
    """The learned classifier's P(out of character), reported even when it does not decide."""


def normalise(reply: str, cues: Cues) -> str:
    """Replace the character's and the user's names by fixed placeholders, so the classifier learns roles, not names."""
    text = reply
    for name in sorted(cues.names, key=len, reverse=True):
        text = re.sub(rf"\b{re.escape(name)}\b", "Chara", text, flags=re.IGNORECASE)
    if cues.user and cues.user.lower() != "user":
        text = re.sub(rf"\b{re.escape(cues.user)}\b", "Usero", text, flags=re.IGNORECASE)
    return text


class OOCClassifier:
    """Multinomial logistic regression over normalised-reply embeddings: P(in character) and P(each reason)."""

    def __init__(self, weights: FloatArray, bias: FloatArray, labels: Sequence[str], embedder: Embedder) -> None:
        self.weights = weights
        self.bias = bias
        self.labels = list(labels)
        self.embedder = embedder

    @classmethod
    def load(cls, folder: Path | None = None, embedder: Embedder | None = None) -> OOCClassifier:
        """Load the shipped classifier (or one from `folder`)."""
        arrays, config = read_numpy_model(
            folder or MODELS_DIR / SHIPPED_OOC, "classifier.npz", "OOC classifier", "personae train-ooc"
        )
        return cls(arrays["weights"], arrays["bias"], config["labels"], embedder or OnnxEmbedder())

    def predict(self, texts: Sequence[str]) -> FloatArray:
        """Class probabilities, shape (len(texts), len(labels))."""
        if not texts:
            return np.zeros((0, len(self.labels)), dtype=np.float32)
        logits = self.embedder.embed(texts) @ self.weights + self.bias
        logits = logits - logits.max(axis=1, keepdims=True)
        exp = np.exp(logits)
        probs: FloatArray = (exp / exp.sum(axis=1, keepdims=True)).astype(np.float32)
        return probs


class OOCDetector:
    """Detects replies that leave the character, for one persona.

    Example:
        detector = OOCDetector(persona)
        result = detector.detect("Do you have a family?", "As an AI, I don't have a family.")
        result.ooc, result.reasons      # True, ["ai_disclaimer"]
    """

    def __init__(
        self,
        persona: Persona,
        user_name: str = "User",
        classifier: OOCClassifier | bool | None = True,
        threshold: float = 0.5,
        classifier_decides: bool = False,
    ) -> None:
        self.cues = Cues.of(persona, user_name)
        self.threshold = threshold
        self.classifier_decides = classifier_decides
        if classifier is True:
            classifier = OOCClassifier.load()
        self.classifier: OOCClassifier | None = classifier or None

    def detect(self, query: str, reply: str) -> OOCResult:
        """Judge one reply to one user message."""
        return self.detect_batch([(query, reply)])[0]

    def detect_batch(self, items: Sequence[tuple[str, str]]) -> list[OOCResult]:
        """Judge many (query, reply) pairs; the classifier runs once over all of them."""
        probs = None
        if self.classifier is not None:
            probs = self.classifier.predict([normalise(reply, self.cues) for _, reply in items])
        results = []
        for row, (query, reply) in enumerate(items):
            signals = [
                OOCSignal(reason=reason, source="rule", probability=RULE_PROBABILITY, evidence=evidence)
                for reason, evidence in rule_signals(reply, query, self.cues)
            ]
            p_ooc: float | None = None
            if probs is not None and self.classifier is not None:
                labels = self.classifier.labels
                p_ooc = 1.0 - float(probs[row, labels.index(IN_CHARACTER)])
                best = max((i for i, label in enumerate(labels) if label != IN_CHARACTER), key=lambda i: probs[row, i])
                if self.classifier_decides and p_ooc > self.threshold:
                    signals.append(
                        OOCSignal(reason=labels[best], source="classifier", probability=p_ooc, evidence=reply[:120])
                    )
            signals.sort(key=lambda s: -s.probability)
            probability = max((s.probability for s in signals), default=0.0)
            if self.classifier_decides and p_ooc is not None:
                probability = max(probability, p_ooc)
            results.append(
                OOCResult(
                    ooc=probability > self.threshold,
                    ooc_probability=probability,
                    reasons=list(dict.fromkeys(s.reason for s in signals)),
                    signals=signals,
                    classifier_probability=p_ooc,
                )
            )
        return results


__all__ = ["OOC_REASONS", "OOCClassifier", "OOCDetector", "OOCResult", "OOCSignal", "normalise"]
