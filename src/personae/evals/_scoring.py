"""Model-free scoring of eval samples: APC, out-of-character and self-contradiction, with no LLM call.

A task's `run` talks to the backends and records the conversation; its `score` reads the recorded conversation
and scores it with the NLI model, the embedder and the OOC detector of a `ScoringContext`. Scoring apart from
running is what lets `rescore` recompute a finished run's scores after a scoring model changes.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from personae.evals._errors import UnscorableSample
from personae.evals._log import EvalSample, ModelInfo, ScoringInfo
from personae.evals._spec import EvalSpec
from personae.persona import Persona
from personae.scoring import (
    APCResult,
    APCScorer,
    Contradiction,
    FakeEmbedder,
    HistoryChecker,
    OOCClassifier,
    OOCDetector,
    OOCResult,
    ScoringModels,
    get_nli,
)

USER_NAME = "User"
"""The user's name in eval sessions (`ChatSession.start`'s default); the OOC detector's cues depend on it."""


class ReplyScores(NamedTuple):
    """The model-free verdicts on one shown reply."""

    result: APCResult | None
    """APC against the persona's statements; None when the persona has none."""
    ooc: OOCResult
    """The out-of-character detector's verdict."""
    contradictions: list[Contradiction]
    """Sentences contradicting the character's earlier replies in the same conversation."""


def scoring_models(spec: EvalSpec) -> ScoringModels:
    """The NLI model and embedder bound by the spec's roles."""
    if spec.roles.embedder == "fake":  # the OOC classifier needs the real embedder; patterns alone then
        return ScoringModels(nli=get_nli(spec.roles.nli), embedder=FakeEmbedder(), ooc_classifier=False)
    return ScoringModels(nli=get_nli(spec.roles.nli))


def exchanges(sample: EvalSample) -> list[tuple[str, str]]:
    """The (user message, shown reply) pairs of a sample's transcript, in conversation order.

    The contract between a task's `run` and its `score`: each `assistant` message is a reply shown by the agent
    under test to the `user` message before it, and the replies before it are its conversation's earlier replies.
    """
    pairs: list[tuple[str, str]] = []
    query: str | None = None
    for number, message in enumerate(sample.transcript):
        role, content = message.get("role"), message.get("content")
        if not isinstance(content, str):
            raise UnscorableSample(f"transcript[{number}] has no text content")
        if role == "user":
            query = content
        elif role == "assistant":
            if query is None:
                raise UnscorableSample(f"transcript[{number}] is a reply with no user message before it")
            pairs.append((query, content))
            query = None
    if not pairs:
        raise UnscorableSample("the transcript holds no user message answered by the agent")
    return pairs


_Known = dict[tuple[str, str, tuple[str, ...]], ReplyScores]
"""(user message, reply, earlier replies) → the verdicts already computed on that reply."""


class ScoringContext:
    """The scoring models of a run bound to its personas: what `Task.score` may use (no backend)."""

    def __init__(self, personas: Mapping[str, Persona], models: ScoringModels) -> None:
        self.personas = dict(personas)
        self.models = models
        self._scorers: dict[str, APCScorer | None] = {}
        self._detectors: dict[str, OOCDetector] = {}
        self._history: HistoryChecker | None = None
        self._known: dict[str, _Known] = {}

    def persona(self, persona_id: str) -> Persona:
        """The persona a sample was run with."""
        try:
            return self.personas[persona_id]
        except KeyError:
            raise UnscorableSample(f"persona '{persona_id}' is not among the run's personas") from None

    def scorer(self, persona_id: str) -> APCScorer | None:
        """The APC scorer of a persona (None when it has no statements)."""
        if persona_id not in self._scorers:
            self._scorers[persona_id] = self.models.scorer(self.persona(persona_id))
        return self._scorers[persona_id]

    def history(self) -> HistoryChecker:
        """The self-contradiction checker."""
        if self._history is None:
            self._history = self.models.history()
        return self._history

    def detector(self, persona_id: str) -> OOCDetector:
        """The out-of-character detector of a persona talking to the eval's user."""
        if persona_id not in self._detectors:
            self._detectors[persona_id] = self.models.ooc(self.persona(persona_id), USER_NAME)
        return self._detectors[persona_id]

    def remember(self, item_id: str, query: str, reply: str, earlier: Sequence[str], scores: ReplyScores) -> None:
        """Keep verdicts computed while the item ran (by the session's guard, with these same models) for `score`.

        Scoring the shown reply again would give the same numbers at the cost of a second NLI pass.
        """
        self._known.setdefault(item_id, {})[(query, reply, tuple(earlier))] = scores

    def forget(self, item_id: str) -> None:
        """Drop what `remember` kept for an item (once it is scored, or failed)."""
        self._known.pop(item_id, None)

    def ooc(self, sample: EvalSample) -> list[OOCResult]:
        """The out-of-character verdict on each reply of the sample's conversation."""
        pairs = exchanges(sample)
        known = self._lookup(sample, pairs)
        missing = [i for i, scores in enumerate(known) if scores is None]
        fresh = iter(self.detector(sample.persona).detect_batch([pairs[i] for i in missing]) if missing else [])
        return [scores.ooc if scores is not None else next(fresh) for scores in known]

    def score_conversation(self, sample: EvalSample) -> list[ReplyScores]:
        """Score each reply of the sample's conversation: APC, OOC and self-contradiction, as the session's guard did.

        APC and OOC judge a reply against its user message; self-contradiction, against the replies before it.
        """
        pairs = exchanges(sample)
        known = self._lookup(sample, pairs)
        missing = [i for i, scores in enumerate(known) if scores is None]
        if missing:
            todo = [pairs[i] for i in missing]
            scorer, history = self.scorer(sample.persona), self.history()
            results = scorer.score_batch(todo) if scorer else [None] * len(todo)
            verdicts = self.detector(sample.persona).detect_batch(todo)
            replies = [reply for _, reply in pairs]
            found = [history.check_batch(replies[:i], [replies[i]])[0] if i else [] for i in missing]
            for i, scores in zip(missing, zip(results, verdicts, found, strict=True), strict=True):
                known[i] = ReplyScores(*scores)
        return [scores for scores in known if scores is not None]

    def _lookup(self, sample: EvalSample, pairs: Sequence[tuple[str, str]]) -> list[ReplyScores | None]:
        self.persona(sample.persona)  # scores kept from the run or not, a sample of an unknown persona is unscorable
        known = self._known.get(sample.id, {})
        replies = tuple(reply for _, reply in pairs)
        return [known.get((query, reply, replies[:i])) for i, (query, reply) in enumerate(pairs)]


def ooc_scores(verdicts: Sequence[OOCResult | None]) -> dict[str, float]:
    """`ooc`: the share of the agent's shown replies that the OOC detector judged out of character (if it ran)."""
    judged = [v.ooc for v in verdicts if v is not None]
    return {"ooc": sum(judged) / len(judged)} if judged else {}


_DIGESTS: dict[tuple[str, int, int], str] = {}


def _file_digest(path: Path) -> str:
    stat = path.stat()
    key = (str(path), stat.st_size, stat.st_mtime_ns)
    if key not in _DIGESTS:  # the weights are tens of MB: hash them once per process and version
        with path.open("rb") as f:
            _DIGESTS[key] = hashlib.file_digest(f, "sha256").hexdigest()
    return _DIGESTS[key]


def folder_digest(folder: Path) -> str:
    """sha256 over the names and sha256 digests of a model folder's files (the human-readable card excluded)."""
    outer = hashlib.sha256()
    for path in sorted(p for p in folder.iterdir() if p.is_file() and p.name != "MODEL_CARD.md"):
        outer.update(f"{path.name}\0{_file_digest(path)}\n".encode())
    return outer.hexdigest()


def _model_info(model: Any) -> ModelInfo:
    name = str(getattr(model, "name", type(model).__name__))
    encoder = getattr(model, "encoder", None)
    folder = getattr(encoder, "folder", None)
    if isinstance(folder, Path) and folder.is_dir():
        return ModelInfo(name=name, path=os.fspath(folder), sha256=folder_digest(folder))
    return ModelInfo(name=name)


def _classifier_info(classifier: OOCClassifier) -> ModelInfo:
    digest = hashlib.sha256(classifier.weights.tobytes() + classifier.bias.tobytes())
    digest.update("\0".join(classifier.labels).encode())
    return ModelInfo(name="ooc-classifier", sha256=digest.hexdigest())


def describe_models(models: ScoringModels) -> ScoringInfo:
    """Name and digest of each scoring model (hashing the shipped weights takes ~0.1 s, once per process)."""
    return ScoringInfo(
        nli=_model_info(models.nli),
        embedder=_model_info(models.embedder),
        ooc_classifier=_classifier_info(models.ooc_classifier) if models.ooc_classifier else None,
    )
