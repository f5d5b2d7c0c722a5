"""The APC faithfulness score (Active-Passive Constraint), batched and explained per statement.

apc(s) = P_rel(s, q) · P_entail(s ⇒ r) + (1 − P_rel(s, q)) · (1 − P_contra(s, r)), summed over statements:
relevant statements must be supported by the reply, irrelevant ones merely not contradicted. A reply is
judged sentence by sentence: entailment and contradiction of a statement are maxima over its sentences.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import NamedTuple

import numpy as np

from personae.persona import Persona
from personae.scoring._nli import NLIModel, OnnxNLI, get_nli
from personae.scoring._onnx import FloatArray
from personae.scoring._relevance import RelevanceModel, mask_names
from personae.scoring._sentences import split_sentences
from personae.scoring._types import APCResult, StatementScore

ENT, NEU, CON = 0, 1, 2


class _Reduced(NamedTuple):
    """Per-statement maxima over a reply's sentences."""

    entailment: FloatArray
    neutral: FloatArray
    contradiction: FloatArray
    evidence: list[str]


def _reduce(probs: FloatArray, sentences: Sequence[str], n_statements: int) -> _Reduced:
    """Reduce `probs`, shape (n_statements * n_sentences, 3), statement-major."""
    grid = probs.reshape(n_statements, len(sentences), 3)
    ent_idx = grid[:, :, ENT].argmax(axis=1)
    con_idx = grid[:, :, CON].argmax(axis=1)
    rows = np.arange(n_statements)
    entail = grid[rows, ent_idx, ENT]
    contra = grid[rows, con_idx, CON]
    neutral = grid[rows, ent_idx, NEU]
    evidence = [
        sentences[int(con_idx[i])] if contra[i] > entail[i] else sentences[int(ent_idx[i])] for i in range(n_statements)
    ]
    return _Reduced(entail, neutral, contra, evidence)


def _persona_names(persona: Persona | Sequence[str]) -> tuple[str, ...]:
    return (persona.name,) if isinstance(persona, Persona) else ()


class APCScorer:
    """Scores replies against one persona's statements.

    Example:
        scorer = APCScorer(persona)
        result = scorer.score("What do you eat?", "I had a lovely steak.")
        [v.statement for v in result.violations]
    """

    def __init__(
        self,
        persona: Persona | Sequence[str],
        nli: NLIModel | str | None = None,
        relevance: RelevanceModel | None = None,
        threshold: float = 0.5,
        names: Sequence[str] | None = None,
    ) -> None:
        self.statements: list[str] = list(persona.statements if isinstance(persona, Persona) else persona)
        self.names: tuple[str, ...] = tuple(names if names is not None else _persona_names(persona))
        """The character's names, masked out of statements and queries for relevance."""
        if not self.statements:
            raise ValueError("APC needs at least one persona statement")
        self.nli: NLIModel = get_nli(nli) if isinstance(nli, str) else (nli or get_nli())
        self.relevance = relevance or RelevanceModel()
        self.threshold = threshold

    def _result(self, query: str, response: str, relevance: FloatArray, reduced: _Reduced | None) -> APCResult:
        n = len(self.statements)
        if reduced is None:  # an empty reply supports nothing and contradicts nothing
            reduced = _Reduced(np.zeros(n, np.float32), np.ones(n, np.float32), np.zeros(n, np.float32), [""] * n)
        scores = []
        for i, statement in enumerate(self.statements):
            rel = float(relevance[i])
            ent, con = float(reduced.entailment[i]), float(reduced.contradiction[i])
            apc = rel * ent + (1.0 - rel) * (1.0 - con)
            scores.append(
                StatementScore(
                    statement=statement,
                    relevance=rel,
                    entailment=ent,
                    neutral=float(reduced.neutral[i]),
                    contradiction=con,
                    apc=min(1.0, max(0.0, apc)),
                    violation=con > self.threshold,
                    evidence=reduced.evidence[i] or None,
                )
            )
        total = float(sum(s.apc for s in scores))
        return APCResult(
            query=query, response=response, apc=total, apc_normalized=min(1.0, total / n), statements=scores
        )

    def score(self, query: str, response: str) -> APCResult:
        """Score one reply to one query."""
        return self.score_batch([(query, response)])[0]

    def score_batch(
        self, items: Sequence[tuple[str, str]], progress: Callable[[int], None] | None = None
    ) -> list[APCResult]:
        """Score many (query, response) pairs with one batched NLI call and cached statement embeddings.

        `progress`, if given, is called with the number of items finished after each chunk.
        """
        results: list[APCResult] = []
        chunk_size = 64
        for start in range(0, len(items), chunk_size):
            chunk = items[start : start + chunk_size]
            relevance = self.relevance.probability(self.statements, [q for q, _ in chunk], self.names)
            sentence_lists = [split_sentences(r) for _, r in chunk]
            pairs = [(s, sent) for sents in sentence_lists for s in self.statements for sent in sents]
            probs = self.nli.predict(pairs)
            offset = 0
            for (query, response), sents, rel in zip(chunk, sentence_lists, relevance, strict=True):
                count = len(self.statements) * len(sents)
                reduced = _reduce(probs[offset : offset + count], sents, len(self.statements)) if sents else None
                offset += count
                results.append(self._result(query, response, rel, reduced))
            if progress is not None:
                progress(len(chunk))
        return results

    def score_naive(self, query: str, response: str) -> APCResult:
        """Reference implementation: one unbatched NLI forward per statement–sentence pair, nothing cached.

        Used by the throughput benchmark to check the batched path gives the same numbers.
        """
        if not isinstance(self.nli, OnnxNLI):
            raise TypeError("score_naive compares the ONNX model against itself; bind the shipped or an onnx: NLI")
        sents = split_sentences(response)
        embedder = self.relevance.embedder
        embed = getattr(embedder, "embed_uncached", embedder.embed)
        masked_query = mask_names(query, self.names)
        sims = np.asarray(
            [float(embed([masked_query])[0] @ embed([mask_names(s, self.names)])[0]) for s in self.statements],
            dtype=np.float32,
        )
        rel = self.relevance.calibrate(sims)
        if not sents:
            return self._result(query, response, rel, None)
        probs = self.nli.predict_unbatched([(s, sent) for s in self.statements for sent in sents])
        return self._result(query, response, rel, _reduce(probs, sents, len(self.statements)))
