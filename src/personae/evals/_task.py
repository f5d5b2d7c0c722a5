"""Tasks: a dataset of items per persona, how to run one item, how to score it, and how to aggregate the scores."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, ConfigDict, ValidationError

from personae.evals._errors import EvalSpecError
from personae.evals._log import EvalSample, TaskResult
from personae.evals._stats import Stat, bootstrap_mean
from personae.persona import Persona
from personae.plugins import Registry

if TYPE_CHECKING:
    from personae.evals._context import EvalContext
    from personae.evals._scoring import ScoringContext


@dataclass(frozen=True)
class Item:
    """One unit of work: finished items are written to samples.jsonl and skipped on resume."""

    id: str
    """Unique within a run and stable across runs of the same spec."""
    task: str
    """Task name."""
    persona: str
    """Persona id."""
    data: dict[str, Any] = field(default_factory=dict)
    """What the task needs to run the item (question, sub-task, ...)."""


class TaskParams(BaseModel):
    """Base of each task's parameters; unknown keys are errors."""

    model_config = ConfigDict(extra="forbid")


class Task(ABC):
    """A registered evaluation task. Subclasses set `name`, `Params`, and implement `plan`, `run` and maybe `score`.

    An item is run, then scored: `run` makes every backend call (agent, simulated user, judges) and records the
    conversation and the judges' scores; `score` adds the model-free scores (`scored`) from that record alone, so a
    finished run can be scored again with newer scoring models (`rescore`) without calling any LLM.
    """

    name: ClassVar[str]
    """Registered name, as used in eval specs."""
    Params: ClassVar[type[TaskParams]] = TaskParams
    """Parameter model of the task."""
    metrics: ClassVar[tuple[str, ...]] = ()
    """Per-item scores averaged (with intervals) overall and per persona."""
    scored: ClassVar[tuple[str, ...]] = ()
    """The per-item scores `score` sets (model-free: NLI, embedder, OOC detector); the others come from `run`."""
    scored_data: ClassVar[tuple[str, ...]] = ()
    """Keys of a sample's `data` that `score` sets (the details behind its scores)."""
    primary: ClassVar[str | None] = None
    """Metric shown in summary charts."""
    higher_is_better: ClassVar[bool] = True
    """Direction of the primary metric."""

    def __init__(self, params: TaskParams, base_dir: str, seed: int) -> None:
        self.params = params
        self.base_dir = base_dir
        self.seed = seed

    def own_personas(self) -> dict[str, Persona]:
        """Personas this task brings to the run (e.g. `persona-bias`'s audit set), keyed by id; planned by it alone.

        They join the run's personas (snapshot, names, sessions, scoring) but no other task plans items for them.
        """
        return {}

    @abstractmethod
    def plan(self, personas: Mapping[str, Persona]) -> list[Item]:
        """Every item of this task, in a deterministic order."""

    @abstractmethod
    async def run(self, item: Item, ctx: EvalContext) -> EvalSample:
        """Run one item: every backend call it needs; raise `BackendError` or `JudgeParseError` to fail it.

        The sample must record what `score` reads (for the built-in tasks, the conversation in `transcript`).
        """

    def score(self, sample: EvalSample, scoring: ScoringContext) -> None:
        """Set the sample's `scored` scores (and their details in `data`) from what `run` recorded; no backend.

        Called on samples whose status is `ok`; raises `UnscorableSample` when the record lacks what it needs.
        The default suits tasks scored by judges alone, in `run`.
        """
        if self.scored:
            raise NotImplementedError(f"task '{self.name}' declares scores {self.scored} but does not score them")

    def metric_names(self, samples: Sequence[EvalSample]) -> list[str]:
        """Metrics to aggregate: the declared ones (plus the OOC rate where the detector ran), else every score key."""
        if self.metrics:
            ooc = ["ooc"] if "ooc" not in self.metrics and any("ooc" in s.scores for s in samples) else []
            return [*self.metrics, *ooc]
        return sorted({k for s in samples for k in s.scores})

    def summarize(self, samples: Sequence[EvalSample], personas: Mapping[str, Persona]) -> TaskResult:
        """Means with bootstrap intervals of every metric, overall and per persona; failures excluded and counted."""
        ok = [s for s in samples if s.status == "ok"]
        names = self.metric_names(ok)
        result = TaskResult(primary=self.primary, higher_is_better=self.higher_is_better, items=len(samples))
        result.metrics = _aggregate(ok, names, self.seed)
        for pid in dict.fromkeys([*personas, *(s.persona for s in ok)]):
            mine = [s for s in ok if s.persona == pid]
            if mine:
                result.personas[pid] = _aggregate(mine, names, self.seed)
        result.failed = len(samples) - len(ok)
        reasons: Counter[str] = Counter(_reason(s.failure) for s in samples if s.failure)
        for sample in samples:
            for record in sample.judgements:
                if record.error:
                    result.judge_failures += 1
                    if sample.status == "ok":
                        reasons[f"judge: {_reason(record.error)}"] += 1
        result.failure_reasons = dict(reasons)
        result.extra = self.extra(ok, personas)
        return result

    def extra(self, samples: Sequence[EvalSample], personas: Mapping[str, Persona]) -> dict[str, Any]:
        """Task-specific results beyond metric means."""
        return {}


def _reason(text: str) -> str:
    return text.split("\n", 1)[0][:120]


def _aggregate(samples: Sequence[EvalSample], names: Sequence[str], seed: int) -> dict[str, Stat]:
    out: dict[str, Stat] = {}
    for name in names:
        stat = bootstrap_mean([s.scores[name] for s in samples if name in s.scores], seed=seed)
        if stat is not None:
            out[name] = stat
    return out


def register_task(cls: type[Task]) -> type[Task]:
    """Class decorator: make a task available to eval specs under `cls.name` (also a plugin's `register`)."""
    if not (isinstance(cls, type) and issubclass(cls, Task)):
        raise TypeError(f"register_task takes a Task subclass, not {cls!r}")
    _TASKS.add(cls.name, cls)
    return cls


def _register_builtin(register: Callable[[type[Task]], object]) -> None:
    from personae.evals._tasks import register_builtin

    register_builtin(register)


_TASKS: Registry[type[Task]] = Registry("task", "register_tasks", builtins=_register_builtin, callback=register_task)


def list_tasks() -> list[str]:
    """Registered task names: the built-ins, plugins' and those registered with `register_task`."""
    return _TASKS.names()


def build_task(name: str, params: dict[str, Any], base_dir: str, seed: int, source: str | None = None) -> Task:
    """Instantiate task `name` with validated `params`; errors name the spec field."""
    cls = _TASKS.get(name)
    if cls is None:
        raise EvalSpecError(source, f"unknown task '{name}' (known: {', '.join(_TASKS.names())})", field="tasks")
    try:
        validated = cls.Params.model_validate(params)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        raise EvalSpecError(source, err["msg"], field=f"tasks.{name}.{where}" if where else f"tasks.{name}") from None
    return cls(validated, base_dir, seed)
