"""Self-contradiction across a session: does a new reply contradict what the character said before?"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from personae.scoring._apc import default_calibration
from personae.scoring._nli import NLIModel, get_nli
from personae.scoring._relevance import Embedder, OnnxEmbedder
from personae.scoring._sentences import split_sentences
from personae.scoring._subject import without_others
from personae.scoring._types import CON, Contradiction

COSINE_GATE = 0.3
"""Cosine of two sentences below which they are on different topics, when the NLI model's calibration has no cosine
gate (its gate is on a learned scale made for statement–sentence pairs): the cosine topic gate calibrated for the
stage-3 model on data/calibration (2026-12-01)."""


class HistoryChecker:
    """Compares each sentence of a new reply with the k most similar sentences of the character's earlier replies.

    Only pairs on one topic are compared, and a contradiction must be as sure as a persona violation: both from the
    NLI model's calibration (its topic gate and violation threshold), so that "I cannot swim." is never read as
    contradicting "I have a daughter in Oban." (SNLI's "another scene is a contradiction").
    """

    def __init__(
        self,
        nli: NLIModel | None = None,
        embedder: Embedder | None = None,
        k: int = 5,
        threshold: float | None = None,
        gate: float | None = None,
    ) -> None:
        self.nli = nli or get_nli()
        self.embedder = embedder or OnnxEmbedder()
        self.k = k
        calibration = default_calibration(self.nli, self.embedder.name)
        self.threshold = calibration.violation if threshold is None else threshold
        """P(contradiction) above which an earlier sentence counts as contradicted."""
        gated_elsewhere = (getattr(self.nli, "calibration", None) or {}).get("topic_gate") is not None
        cosine_gate = calibration.topic_gate
        if cosine_gate is None and gated_elsewhere:  # the model's gate is on another scale than this cosine
            cosine_gate = COSINE_GATE
        self.gate = cosine_gate if gate is None else gate
        """Cosine below which two sentences are on different topics and never compared (None: all k are)."""

    def check(self, earlier_replies: Sequence[str], reply: str) -> list[Contradiction]:
        """Contradictions between `reply` and `earlier_replies`, strongest first."""
        return self.check_batch(earlier_replies, [reply])[0]

    def check_batch(self, earlier_replies: Sequence[str], replies: Sequence[str]) -> list[list[Contradiction]]:
        """`check` for several candidate replies: one embedding call for each side, one NLI call."""
        earlier = list(dict.fromkeys(s for r in earlier_replies for s in split_sentences(r)))
        news = [split_sentences(reply) for reply in replies]
        if not earlier or not any(news):
            return [[] for _ in replies]
        sentences = [(number, sentence) for number, new in enumerate(news) for sentence in new]
        sims = self.embedder.embed([sentence for _, sentence in sentences]) @ self.embedder.embed(earlier).T
        k = min(self.k, len(earlier))
        pairs: list[tuple[str, str]] = []
        owner: list[int] = []
        for row, (number, sentence) in enumerate(sentences):
            nearest = [int(j) for j in np.argsort(-sims[row])[:k] if self.gate is None or sims[row, j] >= self.gate]
            pairs.extend((earlier[j], sentence) for j in nearest)
            owner.extend([number] * len(nearest))
        if not pairs:
            return [[] for _ in replies]
        probs = self.nli.predict(pairs)
        # as the persona scorer reads a sentence (`without_others`): what a relative clause says of another person
        # ("my brother-in-law, who is a monk") is not the speaker's, so a contradiction is read again without it
        again = [
            (i, without_others(p, h) or p, without_others(h, p) or h)
            for i, (p, h) in enumerate(pairs)
            if probs[i, CON] > self.threshold
        ]
        again = [(i, p, h) for i, p, h in again if (p, h) != pairs[i]]
        if again:
            probs[[i for i, _, _ in again]] = self.nli.predict([(p, h) for _, p, h in again])
        found: list[list[Contradiction]] = [[] for _ in replies]
        for i, (p, h) in enumerate(pairs):
            if probs[i, CON] > self.threshold:
                found[owner[i]].append(Contradiction(earlier=p, new=h, contradiction=float(probs[i, CON])))
        return [sorted(f, key=lambda c: -c.contradiction) for f in found]
