"""Group figures of a finished (or partial) scene: per-character faithfulness, dominance and convergence."""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence

import numpy as np

from personae.scene._log import CharacterFigures, Convergence, SceneFigures, SceneRecord
from personae.scoring import Embedder

_FUNCTION_WORDS = [
    "i",
    "me",
    "my",
    "we",
    "us",
    "our",
    "you",
    "your",
    "he",
    "she",
    "it",
    "they",
    "them",
    "the",
    "a",
    "an",
    "and",
    "but",
    "or",
    "so",
    "because",
    "if",
    "then",
    "not",
    "no",
    "yes",
    "very",
    "just",
    "really",
    "well",
    "oh",
    "of",
    "to",
    "in",
    "on",
    "at",
    "for",
    "with",
    "about",
    "from",
    "by",
    "as",
    "is",
    "are",
    "was",
    "were",
    "be",
    "been",
    "do",
    "did",
    "have",
    "has",
    "had",
    "will",
    "would",
    "can",
    "could",
    "must",
    "should",
    "shall",
    "may",
    "might",
    "what",
    "who",
    "why",
    "how",
    "this",
    "that",
    "these",
    "those",
    "there",
    "here",
]
_WORD = re.compile(r"[a-z']+")


def style_profile(texts: Sequence[str]) -> np.ndarray:
    """A style vector of some lines: function-word frequencies, punctuation rates, mean sentence length."""
    words = [w for t in texts for w in _WORD.findall(t.lower())]
    total = max(1, len(words))
    counts = np.array([words.count(w) / total for w in _FUNCTION_WORDS], dtype=np.float64)
    chars = max(1, sum(len(t) for t in texts))
    punct = np.array([sum(t.count(p) for t in texts) / chars * 20 for p in '!?,.*"—…'], dtype=np.float64)
    sentences = max(1, sum(len(re.findall(r"[.!?]+", t)) or 1 for t in texts))
    length = np.array([min(1.0, total / sentences / 40)], dtype=np.float64)
    return np.concatenate([counts, punct, length])


def _cos(a: np.ndarray, b: np.ndarray) -> float:
    na, nb = float(np.linalg.norm(a)), float(np.linalg.norm(b))
    return float(a @ b / (na * nb)) if na and nb else 0.0


def _mean_pairwise(vectors: Sequence[np.ndarray]) -> float | None:
    pairs = list(itertools.combinations(vectors, 2))
    return float(np.mean([_cos(a, b) for a, b in pairs])) if pairs else None


def convergence(lines: dict[str, list[str]], embedder: Embedder | None) -> Convergence:
    """First half vs second half of each character's lines (characters with at least two lines)."""
    halves = {n: (ls[: len(ls) // 2], ls[len(ls) // 2 :]) for n, ls in lines.items() if len(ls) >= 2}
    if len(halves) < 2:
        return Convergence()
    style = [(style_profile(a), style_profile(b)) for a, b in halves.values()]
    out = Convergence(
        style_start=_mean_pairwise([s for s, _ in style]), style_end=_mean_pairwise([e for _, e in style])
    )
    if embedder is not None:
        means = [(embedder.embed(a).mean(axis=0), embedder.embed(b).mean(axis=0)) for a, b in halves.values()]
        out.semantic_start = _mean_pairwise([s for s, _ in means])
        out.semantic_end = _mean_pairwise([e for _, e in means])
    return out


def dominance(word_shares: Sequence[float]) -> float:
    """(max share − 1/k) / (1 − 1/k): 0 when k characters speak equally, 1 when one speaks alone."""
    k = len(word_shares)
    if k < 2:
        return 0.0
    return max(0.0, (max(word_shares) - 1 / k) / (1 - 1 / k))


OOC_ROLE_CONFUSION = "role_confusion"
"""The OOC detector's own role-confusion reason (the listener called by the speaker's name, the listener's lines
written): in a scene it is role confusion, counted there and not again as out of character."""


def line_confusion_kinds(record: SceneRecord) -> list[str]:
    """The kinds of role confusion of a line's shown reply (none: not confused).

    The scene detector's kinds, then `ooc_role_confusion` when the OOC detector judged the reply out of character
    for its own role-confusion reason.
    """
    verdict, shown = record.shown_confusion, record.shown
    kinds: list[str] = list(verdict.kinds) if verdict else []
    if shown is not None and shown.out_of_character and shown.ooc and OOC_ROLE_CONFUSION in shown.ooc.reasons:
        kinds.append(f"ooc_{OOC_ROLE_CONFUSION}")
    return kinds


def line_confused(record: SceneRecord) -> bool:
    """Whether a line's shown reply has role confusion, found by the scene's detector or by the OOC detector."""
    return bool(line_confusion_kinds(record))


def line_ooc(record: SceneRecord) -> bool:
    """Whether a line's shown reply is out of character for a reason other than role confusion.

    A reply the OOC detector flags only for role confusion is counted by `line_confused`: each reply's role
    confusion counts once, in the role-confusion rate, never in both rates.
    """
    shown = record.shown
    if shown is None or not shown.out_of_character or shown.ooc is None:
        return False
    return any(reason != OOC_ROLE_CONFUSION for reason in shown.ooc.reasons)


def figures(
    records: Sequence[SceneRecord], characters: Sequence[str], embedder: Embedder | None
) -> tuple[dict[str, CharacterFigures], SceneFigures]:
    """Per-character and scene figures from the records of character lines (see `line_confused`, `line_ooc`)."""
    lines = [r for r in records if r.kind == "line" and r.shown is not None]
    per: dict[str, CharacterFigures] = {name: CharacterFigures() for name in characters}
    texts: dict[str, list[str]] = {name: [] for name in characters}
    rejected = 0
    for record in lines:
        shown, verdict = record.shown, record.shown_confusion
        assert shown is not None
        fig = per.setdefault(record.speaker or "?", CharacterFigures())
        texts.setdefault(record.speaker or "?", []).append(shown.text)
        fig.turns += 1
        fig.words += len(shown.text.split())
        fig.apc_curve.append(shown.apc_normalized)
        fig.ooc_rate += line_ooc(record)
        fig.contradiction_rate += bool(shown.contradictions)
        fig.violation_rate += bool(shown.violations)
        kinds = line_confusion_kinds(record)
        confused = bool(kinds)
        fig.role_confusion_rate += confused
        fig.confusion_curve.append(1.0 if confused else 0.0)
        for kind in kinds:
            fig.role_confusion[kind] = fig.role_confusion.get(kind, 0) + 1
        ranked_first = min(range(len(record.candidates)), key=lambda i: record.candidates[i].rank_key())
        passed_over = record.confusion[ranked_first].confused and not (verdict and verdict.confused)
        if len(record.confusion) == len(record.candidates) and passed_over:
            rejected += 1
    total_turns = sum(f.turns for f in per.values()) or 1
    total_words = sum(f.words for f in per.values()) or 1
    for fig in per.values():
        n = max(1, fig.turns)
        scored = [v for v in fig.apc_curve if v is not None]
        fig.apc_normalized = float(np.mean(scored)) if scored else None
        fig.ooc_rate /= n
        fig.contradiction_rate /= n
        fig.violation_rate /= n
        fig.role_confusion_rate /= n
        fig.turn_share = fig.turns / total_turns
        fig.word_share = fig.words / total_words
    n_lines = max(1, len(lines))

    def rate(test: str) -> float:
        return float(sum(getattr(f, test) * f.turns for f in per.values())) / n_lines

    scene = SceneFigures(
        lines=len(lines),
        role_confusion_rate=rate("role_confusion_rate"),
        ooc_rate=rate("ooc_rate"),
        contradiction_rate=rate("contradiction_rate"),
        violation_rate=rate("violation_rate"),
        dominance=dominance([f.word_share for f in per.values()]) if lines else 0.0,
        convergence=convergence(texts, embedder),
        candidates_rejected_for_confusion=rejected,
        # Character lines only: a narration is generated but never scored, and a user line's time is the user's.
        seconds_generating=sum(r.seconds_generating for r in lines),
        seconds_narrating=sum(r.seconds_generating for r in records if r.kind == "narration"),
        seconds_scoring=sum(r.seconds_scoring for r in lines),
    )
    scene.scoring_share = scene.seconds_scoring / scene.seconds_generating if scene.seconds_generating else None
    return per, scene
