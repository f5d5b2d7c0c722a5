"""Fitting a scorer's decision thresholds (topic gate, violation, support) on the calibration set.

The calibration set (data/calibration/: personas, hand-labelled triples and reply-level cases) is not a measuring
set: it exists so that thresholds are never tuned on the data that reports quality. The search keeps the false-
violation rate (faithful or off-topic replies flagged, neutral or supporting triples read as contradictions) under a
target and, among those settings, takes the one with the best triple accuracy plus violation recall. The topic gate
must also keep enough pairs from the NLI model for the speed goal (`MIN_GATE_SKIPPED`).
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import yaml

from personae.persona import Persona, persona_from_data
from personae.scoring._apc import APCScorer, Calibration, _reduce, named_whole
from personae.scoring._nli import NLIModel
from personae.scoring._onnx import FloatArray
from personae.scoring._relevance import RelevanceModel
from personae.scoring._specifics import uncovered
from personae.scoring._topic import LearnedTopic

GATES: tuple[float | None, ...] = (0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4)
"""Always a topic gate (issue 17): without one every statement meets the NLI model for every sentence, ten times
the pairs of a gated turn, and stage 4 calibrated with `None` allowed chose it."""
# Up to 0.99: a model trained on many contradictions is sure of some false ones (stage 4 met no false-violation
# target with 0.95, the top of the earlier grid).
VIOLATION = (*(float(x) for x in np.round(np.arange(0.5, 0.99, 0.05), 2)), 0.97, 0.98, 0.99)
SUPPORT = (0.5, 0.6, 0.7, 0.8, 0.9)
SUPPORT_GATES: tuple[float | None, ...] = (None, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7)
LEARNED_GATES: tuple[float | None, ...] = tuple(float(x) for x in np.round(np.arange(0.05, 0.96, 0.05), 2))
"""Topic and support gates on the learned gate's scale (a probability) instead of a cosine."""
QUERY_GATES: tuple[float | None, ...] = (None, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55)
TOP_K = (0, 1, 2, 3)
PARTICULARS = (False, True)
"""Whether a support needs the statement's particulars in the reply (`Calibration.particulars`), searched with the
support threshold and gate."""
TOPIC_DECIDES: tuple[float | None, ...] = (None, 0.9, 0.95)
"""Levels searched for `Calibration.topic_decides` (from 0.9: below it an entailment is too often partial)."""
CONSISTENT: tuple[float | None, ...] = (None, 0.95, 0.98, 0.99)
"""Anchors searched for `Calibration.consistent` (an entailment below 0.95 is too often a partial support to vouch
for the sentence)."""


@dataclass
class CalibrationData:
    """The calibration set, read from its folder."""

    personas: dict[str, Persona]
    triples: list[dict[str, Any]]
    replies: list[dict[str, Any]]

    @classmethod
    def read(cls, folder: Path) -> CalibrationData:
        """Read personas.yaml, triples.jsonl and replies.jsonl from `folder`."""
        raw = yaml.safe_load((folder / "personas.yaml").read_text(encoding="utf-8"))
        personas = {p["id"]: persona_from_data({"name": p["name"], "statements": p["statements"]}) for p in raw}

        def lines(name: str) -> list[dict[str, Any]]:
            path = folder / name
            if not path.exists():
                return []
            return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]

        return cls(personas, lines("triples.jsonl"), lines("replies.jsonl"))

    def items(self) -> list[tuple[str, str, str]]:
        """Every distinct (persona, query, reply) to score."""
        out = [(t["persona"], t["query"], t["reply"]) for t in self.triples]
        out += [
            (c["persona"], c["query"], c[k]) for c in self.replies for k in ("faithful", "contradicting", "off_topic")
        ]
        return list(dict.fromkeys(out))


_Reduction = tuple[FloatArray, FloatArray, FloatArray, float, FloatArray, int, FloatArray]
"""Per statement: entailment, neutral, contradiction; the normalised APC; the entailing sentence's topic; the number
of pairs the gates closed; and the contradiction of the claim the reply's opening makes (0 without one)."""

MIN_GATE_SKIPPED = 0.9
"""Share of statement–sentence pairs the gates must keep from the NLI model on the calibration set. A guarded turn
for a persona of 100 statements took 1.19 s with 92.7 % skipped (goal 2 s, bench/results/apc_throughput.jsonl); the
NLI model's time grows with the pairs it reads, so a gate that lets through twice as many misses the goal. Stage 4,
calibrated without this floor, chose a topic gate of 0.05 (or none)."""

REFERENCE_STATEMENTS = 100
"""The persona size the floor is judged at: the speed goal's (a guarded turn for 100 statements). A gate threshold
skips about the same share of pairs at any size, but `gate_top_k` opens k pairs per sentence whatever the size:
with k = 3, a third of the pairs of the calibration set's 7–9-statement personas, 3 % of a 100-statement one's. Judging
top-k at the calibration set's size kept it at 0 and left a fifth of the calibration set's contradictions gated
out (a van driven "to every market myself" against "has never learned to drive": learned topic 0.07)."""


class _Scored:
    """Every statement–sentence pair of one reply, scored once; any gate is then a mask over the same numbers."""

    def __init__(
        self,
        grid: FloatArray,
        topic: FloatArray,
        query_topic: FloatArray,
        relevance: FloatArray,
        statements: list[str],
        claim: bool = False,
        partial: Sequence[bool] = (),
        whole: npt.NDArray[np.bool_] | None = None,
    ) -> None:
        self.grid, self.topic, self.query_topic, self.claim = grid, topic, query_topic, claim
        self.relevance, self.statements = relevance, statements
        self.partial = list(partial) or [False] * len(statements)
        """Per statement: whether the reply leaves some of its particulars unmentioned (`Calibration.particulars`)."""
        self.whole = whole if whole is not None else np.ones(grid.shape[:2], dtype=bool)
        """Per statement and sentence: whether the sentence names all of the statement's particulars (`settle`)."""
        self._reduced: dict[
            tuple[float | None, float | None, int, int, float | None, bool, float | None], _Reduction
        ] = {}

    def reduce(self, cal: Calibration) -> _Reduction:
        """Per statement: entailment, neutral, contradiction, the normalised APC, the entailing sentence's topic.

        The same reduction as the scorer's (`_reduce`), with the gates of `cal` applied as a mask (kept per gate pair:
        the threshold search asks for the same gates many times).
        """
        key = (
            cal.topic_gate,
            cal.query_gate,
            cal.gate_top_k,
            cal.claim_top_k,
            cal.consistent,
            cal.particulars,
            cal.topic_decides,
        )
        if key not in self._reduced:
            self._reduced[key] = self._reduce(cal)
        return self._reduced[key]

    def _reduce(self, cal: Calibration) -> _Reduction:
        n_statements, n_sentences = self.grid.shape[:2]
        if n_sentences == 0:
            zeros = np.zeros(n_statements, np.float32)
            ones = np.ones(n_statements, np.float32)
            return zeros, ones, zeros, float(np.mean(1.0 - self.relevance)), zeros, 0, zeros
        grid = self.grid.copy()
        open_ = cal.open_pairs(self.topic, self.query_topic, self.claim)
        grid[~open_] = (0.0, 1.0, 0.0)
        r = _reduce(
            grid,
            [""] * n_sentences,
            self.topic,
            open_,
            cal.consistent,
            self.whole if cal.particulars else None,
            self.claim,
            cal.topic_decides,
        )
        assert r.entail_topic is not None
        apc = self.relevance * r.entailment + (1 - self.relevance) * (1 - r.contradiction)
        skipped = int((~open_).sum())
        claim = r.claim if r.claim is not None else np.zeros(n_statements, np.float32)
        mean_apc = float(np.clip(apc, 0, 1).mean())
        return r.entailment, r.neutral, r.contradiction, mean_apc, r.entail_topic, skipped, claim


def score_all(data: CalibrationData, nli: NLIModel, relevance: RelevanceModel) -> dict[tuple[str, str, str], _Scored]:
    """All pairs of all replies through the NLI model once (no gate), with their topic similarities."""
    out: dict[tuple[str, str, str], _Scored] = {}
    by_persona: dict[str, list[tuple[str, str]]] = {}
    for pid, query, reply in data.items():
        by_persona.setdefault(pid, []).append((query, reply))
    for pid, pairs in by_persona.items():
        persona = data.personas[pid]
        scorer = APCScorer(persona, nli=nli, relevance=relevance, calibration=Calibration(topic_gate=-2.0))
        read = scorer.read_replies(pairs)
        sentence_lists = [r.judged for r in read]
        query_topics = relevance.similarity(scorer.statements, [q for q, _ in pairs], scorer.names)
        rel = relevance.calibrate(query_topics)
        grids = scorer.grids(sentence_lists, queries=[q for q, _ in pairs])
        for (query, reply), (grid, topic, _), qt, r, sents in zip(pairs, grids, query_topics, rel, read, strict=True):
            if topic is None:
                topic = np.zeros(grid.shape[:2], dtype=np.float32)
            said = " ".join(sents.shown)
            partial = [bool(uncovered(statement, said, scorer.names)) for statement in scorer.statements]
            whole = named_whole(scorer.statements, sents.shown, scorer.names)
            claim = sents.claim is not None
            out[(pid, query, reply)] = _Scored(grid, topic, qt, r, scorer.statements, claim, partial, whole)
    return out


LABEL = {"violated": "contradiction", "supported": "entailment", None: "neutral"}
"""The triple label each verdict of `Calibration.verdict` stands for."""


def evaluate(data: CalibrationData, scored: dict[tuple[str, str, str], _Scored], cal: Calibration) -> dict[str, float]:
    """Triple accuracy, violation recall, preference and false-violation rates of thresholds `cal`."""
    reduced = {key: s.reduce(cal) for key, s in scored.items()}
    correct = false_triples = not_contra = supported = supported_right = entailed = 0
    for t in data.triples:
        key = (t["persona"], t["query"], t["reply"])
        e, n, c, _, topic, _, claim = reduced[key]
        i = scored[key].statements.index(t["statement"])
        partial = scored[key].partial[i]
        verdict = cal.verdict(float(e[i]), float(n[i]), float(c[i]), float(topic[i]), partial, float(claim[i]))
        predicted = LABEL[verdict]
        correct += int(predicted == t["label"])
        entailed += int(t["label"] == "entailment")
        if predicted == "entailment":
            supported += 1
            supported_right += int(t["label"] == "entailment")
        if t["label"] != "contradiction":
            not_contra += 1
            false_triples += int(predicted == "contradiction")

    def violated(key: tuple[str, str, str]) -> bool:
        e, n, c, _, topic, _, claim = reduced[key]
        return any(
            cal.verdict(float(e[i]), float(n[i]), float(c[i]), float(topic[i]), claim=float(claim[i])) == "violated"
            for i in range(len(e))
        )

    caught = flagged = wins = 0
    for case in data.replies:
        f, k, o = ((case["persona"], case["query"], case[x]) for x in ("faithful", "contradicting", "off_topic"))
        caught += int(violated(k))
        flagged += int(violated(f)) + int(violated(o))
        wins += int(reduced[f][3] > reduced[k][3])
    n_cases = max(1, len(data.replies))
    pairs = sum(s.grid.shape[0] * s.grid.shape[1] for s in scored.values())
    return {
        "triple_accuracy": correct / max(1, len(data.triples)),
        "triple_false_violations": false_triples / max(1, not_contra),
        "violation_recall": caught / n_cases,
        "false_violation_rate": flagged / (2 * n_cases),
        "preference": wins / n_cases,
        "support_precision": supported_right / max(1, supported),
        "support_recall": supported_right / max(1, entailed),
        "gate_skipped": sum(r[5] for r in reduced.values()) / max(1, pairs),
    }


def calibrate(
    data: CalibrationData,
    nli: NLIModel,
    relevance: RelevanceModel,
    target_false_violations: float = 0.10,
    target_support_precision: float = 0.95,
    gates: Sequence[float | None] | None = None,
    query_gates: Sequence[float | None] = QUERY_GATES,
    top_k: Sequence[int] = TOP_K,
    min_gate_skipped: float = MIN_GATE_SKIPPED,
    consistent: Sequence[float | None] = CONSISTENT,
    topic_decides: Sequence[float | None] = TOPIC_DECIDES,
) -> tuple[Calibration, dict[str, float]]:
    """The thresholds with the best triple accuracy + violation recall whose false-violation rates stay under target.

    Searched: the topic gate, query gate and top-k, the consistency anchor, whether the sentence nearer the topic
    decides a conflict (`Calibration.topic_decides`), the violation threshold and whether a contradiction wins over
    an entailment. Only settings whose gates keep at least `min_gate_skipped` of the pairs
    from the NLI model are considered (all of them if none does). If no setting meets the target, the one with the
    fewest false violations is returned (and its figures say so).
    Then the support threshold and gate and whether supports need the statement's particulars (`refit_support`).
    """
    learned = isinstance(relevance.topic_model, LearnedTopic)
    gates = gates if gates is not None else (LEARNED_GATES if learned else GATES)
    best: tuple[float, Calibration, dict[str, float]] | None = None
    fallback: tuple[float, Calibration, dict[str, float]] | None = None
    scored = score_all(data, nli, relevance)
    settings = [
        (gate, query_gate, k)
        for gate, query_gate, k in itertools.product(gates, query_gates, top_k)
        if gate is not None or (query_gate is None and not k)  # without a topic gate every pair is open already
    ]
    fast = [s for s in settings if skipped_at_reference(data, scored, *s) >= min_gate_skipped]
    for (gate, query_gate, k), anchor, decides in itertools.product(fast or settings, consistent, topic_decides):
        for violation, support, wins in itertools.product(VIOLATION, SUPPORT, (False, True)):
            cal = Calibration(
                violation,
                support,
                topic_gate=gate,
                query_gate=query_gate,
                gate_top_k=k,
                contradiction_wins=wins,
                consistent=anchor,
                topic_decides=decides,
            )
            figures = evaluate(data, scored, cal)
            worst = max(figures["false_violation_rate"], figures["triple_false_violations"])
            gain = figures["triple_accuracy"] + figures["violation_recall"]
            if worst <= target_false_violations and (best is None or gain > best[0]):
                best = (gain, cal, figures)
            if fallback is None or (worst, -gain) < (fallback[0], -fallback[2]["triple_accuracy"]):
                fallback = (worst, cal, figures)
    chosen = best or fallback
    assert chosen is not None
    return refit_support(data, chosen[1], scored, relevance, target_support_precision)


def refit_support(
    data: CalibrationData,
    cal: Calibration,
    scored: dict[tuple[str, str, str], _Scored],
    relevance: RelevanceModel,
    target_support_precision: float = 0.95,
) -> tuple[Calibration, dict[str, float]]:
    """`cal` with the support threshold, support gate and particulars rule refitted; its violation settings kept.

    Support is tuned apart: the threshold and gate do not move violations. The particulars rule does, a little (it
    also narrows the consistency anchor, `settle`), and the figures returned are measured with it. Chosen: the most
    support recall whose precision reaches its target, or, when none does, the best F0.5 (`choose_support`).
    `scored` comes from `score_all`.
    """
    learned = isinstance(relevance.topic_model, LearnedTopic)
    support_gates = (None, *LEARNED_GATES) if learned else SUPPORT_GATES
    settings = itertools.product(SUPPORT, support_gates, PARTICULARS)
    candidates = [
        (c, evaluate(data, scored, c))
        for c in (cal._replace(support=s, support_gate=g, particulars=p) for s, g, p in settings)
    ]
    return choose_support(candidates, target_support_precision)


def skipped_at_reference(
    data: CalibrationData,
    scored: dict[tuple[str, str, str], _Scored],
    gate: float | None,
    query_gate: float | None,
    top_k: int,
) -> float:
    """Share of pairs the gates would keep from the NLI model for a persona of `REFERENCE_STATEMENTS` statements.

    The thresholds' share is measured on the calibration set; the k nearest statements each sentence always reaches
    are counted as k of the reference persona's statements (at most: some are open by threshold already).
    """
    by_threshold = evaluate(data, scored, Calibration(topic_gate=gate, query_gate=query_gate))["gate_skipped"]
    return max(0.0, by_threshold - top_k / REFERENCE_STATEMENTS)


def choose_support(
    candidates: Sequence[tuple[Calibration, dict[str, float]]], target_precision: float
) -> tuple[Calibration, dict[str, float]]:
    """The most support recall at a precision over target, else the best F0.5 (precision counted twice as recall).

    The earlier fallback, the most precision alone, bought 2.6 points of precision with 18 of recall on the
    calibration set (0.878 / 0.474 against 0.852 / 0.658), so a plain "I've not touched meat in thirty years" listed
    no support for "is a vegetarian".
    """

    def key(figures: dict[str, float]) -> tuple[int, float]:
        precision, recall = figures["support_precision"], figures["support_recall"]
        return (1, recall) if precision >= target_precision else (0, f_beta(precision, recall, 0.5))

    return max(candidates, key=lambda c: key(c[1]))


def f_beta(precision: float, recall: float, beta: float) -> float:
    """F-beta of a precision and a recall (beta < 1 weighs precision more); 0 when both are 0."""
    b2 = beta * beta
    denominator = b2 * precision + recall
    return (1 + b2) * precision * recall / denominator if denominator else 0.0
