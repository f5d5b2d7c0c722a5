"""The eval log: one `EvalSample` per finished item in samples.jsonl (append-only, fsynced), and results.json."""

from __future__ import annotations

import asyncio
import fcntl
import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal, TextIO

from pydantic import BaseModel, Field, ValidationError

from personae.evals._errors import EvalError
from personae.evals._stats import Stat

SAMPLES_FILE = "samples.jsonl"
"""A run's per-item samples (JSONL), inside its output folder: the durable record resume reads."""
RESULTS_FILE = "results.json"
"""A run's aggregate results, inside its output folder."""
REPORT_FILE = "report.html"
"""A run's HTML report, inside its output folder."""
RUN_FILE = "run.json"
"""What a run was started with, inside its output folder (checked on resume)."""
PERSONAS_FILE = "personas.json"
"""The personas a run's replies were written for, inside its output folder (what a rescore scores against)."""

LOG_VERSION = 1
"""Format version of samples.jsonl lines and results.json."""


class JudgeRecord(BaseModel):
    """What one judge said about one item: its score and rationale, or why its output could not be read."""

    judge: str
    """The judge's backend address (with its index when two judges share one)."""
    score: float | None = None
    """The parsed score; None when parsing failed."""
    rationale: str = ""
    """The judge's reason for the score."""
    method: str | None = None
    """How the output was read: json, repair or pattern."""
    error: str | None = None
    """Why the output was not usable, when it was not."""
    raw: str = ""
    """The judge's raw output."""


class EvalSample(BaseModel):
    """One finished item: what was asked, what the agent said, how it scored (or why it failed)."""

    version: int = LOG_VERSION
    """Log format version."""
    id: str
    """Item id, unique within a run: `task/persona/...`."""
    task: str
    """Task name."""
    persona: str
    """Persona id."""
    status: Literal["ok", "failed"]
    """`failed` items carry `failure` and never count as scores."""
    scores: dict[str, float] = Field(default_factory=dict)
    """Metric name → value for this item."""
    judgements: list[JudgeRecord] = Field(default_factory=list)
    """Every judge output read for this item, failures included."""
    transcript: list[dict[str, str]] = Field(default_factory=list)
    """The conversation: role and content of each message."""
    data: dict[str, Any] = Field(default_factory=dict)
    """Task-specific details (question, sub-task, per-turn scores, probabilities, ...)."""
    failure: str | None = None
    """Why the item failed."""
    seconds: float = 0.0
    """Wall time spent on the item."""
    worker: str | None = None
    """Where the item ran when not in the driver's process (e.g. `ray:<host>:<pid>`)."""
    not_rescored: str | None = None
    """Why the last rescoring could not score this sample; its model-free scores are then left out (judged ones
    stand), so that every model-free score of a run comes from the models its results name."""


def resumed_start(
    marker: Path,
    log: Path,
    identity: dict[str, Any],
    resume: bool,
    error: Callable[[str], Exception],
    what: str,
    mismatch: str,
) -> float | None:
    """The start time of the run already in the marker's folder, checked to be resumable; None if there is none.

    A run exists when its marker file (the spec and start time) or its log does. Without `resume` that is an
    error; with it, the `spec` the marker recorded must equal `identity`. `error` builds the exception, `what` names
    the run ("an eval"), `mismatch` is the message for a different spec.
    """
    if not (marker.exists() or log.exists()):
        return None
    if not resume:
        raise error(f"{marker.parent} already holds {what}; pass --resume to continue it or use a new folder")
    try:
        previous = json.loads(marker.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        previous = {}
    if previous.get("spec") not in (None, identity):
        raise error(mismatch)
    return float(previous.get("started_at", time.time()))


def open_locked(path: Path, mode: Literal["a", "r"]) -> TextIO:
    """Open samples.jsonl holding its lock: one process at a time may run (or rescore) an eval.

    Two writers on one log would run items twice; the lock dies with its process, even on SIGKILL.
    """
    file = path.open(mode, encoding="utf-8")
    try:
        fcntl.flock(file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        file.close()
        raise EvalError(f"{path}: another process is running this eval") from None
    return file


class SampleWriter:
    """Appends samples to samples.jsonl, one line each, flushed and fsynced at once so a crash loses at most one.

    Any pydantic record can be written this way (scenes log their steps with it too).
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file = open_locked(path, "a")
        _drop_partial_line(path)
        self._appended = 0
        """Lines appended through `write_async`."""
        self._synced = 0
        """Of those, how many an fsync has finished covering."""
        self._syncing: asyncio.Future[None] | None = None

    def write(self, sample: BaseModel) -> None:
        """Append one sample durably."""
        self.append(sample)
        os.fsync(self._file.fileno())

    def append(self, sample: BaseModel) -> None:
        """Append one sample and hand it to the OS (it survives a killed process); `sync` makes it durable."""
        self._file.write(sample.model_dump_json() + "\n")
        self._file.flush()

    async def write_async(self, sample: BaseModel) -> None:
        """`write` for the event loop: the line is appended at once; returns once an fsync begun after it ended.

        Writers that finish while an fsync is running share the next one (group commit): one worker-thread
        fsync per burst of finished items instead of one each, with the same guarantee for every line.
        """
        self.append(sample)
        self._appended += 1
        mine = self._appended
        while self._synced < mine:
            if self._syncing is None:
                self._syncing = asyncio.ensure_future(self._sync(self._appended))
            await asyncio.shield(self._syncing)

    async def _sync(self, covered: int) -> None:
        try:
            await asyncio.to_thread(os.fsync, self._file.fileno())
            self._synced = max(self._synced, covered)
        finally:
            self._syncing = None

    def close(self) -> None:
        """Close the file."""
        self._file.close()


def _drop_partial_line(path: Path) -> None:
    """Cut a line left half-written by a crash, so the next append starts on a line of its own."""
    if not path.exists():
        return
    data = path.read_bytes()
    if data and not data.endswith(b"\n"):
        with path.open("r+b") as f:
            f.truncate(data.rfind(b"\n") + 1)


def read_samples(path: Path) -> list[EvalSample]:
    """Samples of samples.jsonl in file order, first occurrence of an id only; unreadable lines are skipped."""
    if not path.exists():
        return []
    seen: set[str] = set()
    out: list[EvalSample] = []
    for raw in path.read_bytes().splitlines():
        if not raw.strip():
            continue
        try:  # a line that is not UTF-8 JSON of a sample (a torn write, appended garbage) is skipped, then rerun
            sample = EvalSample.model_validate(json.loads(raw.decode("utf-8")))
        except (UnicodeDecodeError, json.JSONDecodeError, ValidationError, RecursionError):
            continue
        if sample.id not in seen:
            seen.add(sample.id)
            out.append(sample)
    return out


class ModelInfo(BaseModel):
    """Which scoring model produced a run's scores: enough to tell two versions of one model apart."""

    name: str
    """The model's name, e.g. `onnx:persona-nli`, `fake`, `hf:<model id>`."""
    path: str | None = None
    """The model's folder, when it was loaded from one."""
    sha256: str | None = None
    """Digest of the folder's files (weights, tokenizer, config, model card) or of the weights in memory."""


class ScoringInfo(BaseModel):
    """The scoring models behind a run's model-free scores (APC, OOC, self-contradiction)."""

    nli: ModelInfo
    """The NLI cross-encoder of APC and the self-contradiction check."""
    embedder: ModelInfo
    """The sentence embedder of relevance and the OOC classifier."""
    ooc_classifier: ModelInfo | None = None
    """The learned part of the OOC detector; None: patterns only."""


class Rescoring(BaseModel):
    """One rescoring of a finished run: when, with which models, and what it could not rescore."""

    at: float
    """Unix time of the rescoring."""
    scoring: ScoringInfo
    """The scoring models it used."""
    previous: str
    """Folder (relative to the run's) holding the samples, results and report it replaced."""
    personas: Literal["snapshot", "reloaded"]
    """Scored against the run's own persona snapshot, or personas reloaded from the spec's files (older runs)."""
    metrics: dict[str, list[str]] = Field(default_factory=dict)
    """Task → the per-item scores recomputed; every other score (the judges') was kept as it was."""
    rescored: int = 0
    """Samples rescored."""
    failed: int = 0
    """Failed samples, left as they were (they hold no scores)."""
    not_rescored: dict[str, str] = Field(default_factory=dict)
    """Sample id → why it could not be rescored (its model-free scores are left out)."""
    versions: dict[str, str] = Field(default_factory=dict)
    """personae, Python and key package versions at the rescoring."""
    git_revision: str | None = None
    """Commit of the personae checkout that rescored, when run from one."""


class TaskResult(BaseModel):
    """Aggregates of one task: metric means with intervals, overall and per persona, plus task-specific extras."""

    metrics: dict[str, Stat] = Field(default_factory=dict)
    """Metric → mean and 95 % interval over all personas."""
    personas: dict[str, dict[str, Stat]] = Field(default_factory=dict)
    """Persona id → metric → mean and interval."""
    extra: dict[str, Any] = Field(default_factory=dict)
    """Task-specific results (trait profiles, drift curves, calibration)."""
    primary: str | None = None
    """The metric shown in summary charts."""
    higher_is_better: bool = True
    """Direction of the primary metric."""
    items: int = 0
    """Items finished."""
    failed: int = 0
    """Items recorded as failed (excluded from every mean)."""
    judge_failures: int = 0
    """Judge outputs that could not be read (an item with two judges may survive one)."""
    failure_reasons: dict[str, int] = Field(default_factory=dict)
    """Failure reason → count."""


class RoleUsage(BaseModel):
    """Token and request accounting of one role's backend in this run (cache reads cost nothing)."""

    address: str
    """Backend address."""
    requests: int = 0
    """Provider calls made, retries included."""
    prompt_tokens: int = 0
    """Input tokens."""
    completion_tokens: int = 0
    """Generated tokens."""


class EvalResults(BaseModel):
    """results.json: the spec, the environment, and every aggregate of a run."""

    version: int = LOG_VERSION
    """Log format version."""
    name: str
    """The spec's name."""
    spec: dict[str, Any]
    """The spec as run."""
    versions: dict[str, str]
    """personae, Python and key package versions."""
    git_revision: str | None = None
    """Commit of the personae checkout, when run from one."""
    started_at: float
    """Unix time the first run of this eval began."""
    finished_at: float
    """Unix time results were written."""
    seconds: float
    """Wall time of the last invocation."""
    items: int
    """Items planned."""
    finished: int
    """Items in samples.jsonl."""
    failed: int
    """Items recorded as failed."""
    tasks: dict[str, TaskResult]
    """Task name → aggregates."""
    persona_scores: dict[str, float | None] = Field(default_factory=dict)
    """Persona id → PersonaScore (mean of PersonaGym task means), when persona-gym ran."""
    persona_names: dict[str, str] = Field(default_factory=dict)
    """Persona id → display name."""
    usage: dict[str, RoleUsage] = Field(default_factory=dict)
    """Role → tokens and requests of the last invocation."""
    scoring: ScoringInfo | None = None
    """The scoring models behind the model-free scores (None: a run made before personae recorded them)."""
    rescorings: list[Rescoring] = Field(default_factory=list)
    """Every rescoring of this run, oldest first (empty: the scores are as the run made them)."""
