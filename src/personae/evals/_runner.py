"""Running an eval: plan items, run the unfinished ones concurrently, log each at once, aggregate, report."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import logging
import platform
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, NamedTuple

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from personae import __version__
from personae.backends import Backend, BackendError
from personae.evals._context import EvalContext
from personae.evals._errors import EvalError, EvalLimitError, EvalSpecError
from personae.evals._log import (
    PERSONAS_FILE,
    RESULTS_FILE,
    RUN_FILE,
    SAMPLES_FILE,
    EvalResults,
    EvalSample,
    RoleUsage,
    SampleWriter,
    TaskResult,
    read_samples,
    resumed_start,
)
from personae.evals._scoring import ScoringContext, describe_models
from personae.evals._spec import EvalSpec
from personae.evals._task import Item, Task, build_task
from personae.interop import read_file
from personae.persona import Persona, load_persona
from personae.scoring import ScoringModels

log = logging.getLogger(__name__)

HOW_RUN = frozenset({"executor", "ray_address", "concurrency"})
"""Spec fields about how items run, not what they are: they may change between a run and its resume."""
_PERSONA_SUFFIXES = (".yaml", ".yml", ".json")


def load_personas(spec: EvalSpec, limit: int | None = None) -> dict[str, Persona]:
    """Personas named by the spec (files, folders, benchmark JSONL), keyed by a unique id.

    `limit`: refuse (`EvalLimitError`) a spec naming more personas than that, before reading the extra ones.
    """
    found: list[Persona] = []
    for i, entry in enumerate(spec.personas):
        if limit is not None and len(found) > limit:
            break
        path = spec.resolve(entry)
        if path.is_dir():
            files = sorted(p for p in path.iterdir() if p.suffix.lower() in _PERSONA_SUFFIXES)
            if not files:
                raise EvalSpecError(path, "folder holds no persona files (.yaml, .yml, .json)", field=f"personas[{i}]")
            found += [load_persona(p) for p in files]
        elif path.suffix.lower() == ".jsonl":
            found += read_file(path).personas[: spec.persona_limit]
        elif path.exists():
            found.append(load_persona(path))
        else:
            raise EvalSpecError(path, "no such file or folder", field=f"personas[{i}]")
    if limit is not None and len(found) > limit:
        raise EvalLimitError(f"the spec names more than {limit} personas (the limit here)")
    personas: dict[str, Persona] = {}
    for persona in found:
        pid, n = persona.slug, 2
        while pid in personas:
            pid, n = f"{persona.slug}-{n}", n + 1
        personas[pid] = persona
    return personas


def run_personas(spec: EvalSpec, tasks: Sequence[Task], limit: int | None = None) -> dict[str, Persona]:
    """The spec's personas (at most `limit`) plus those the tasks bring (`Task.own_personas`); a clash is an error."""
    personas = load_personas(spec, limit)
    for task in tasks:
        for pid, persona in task.own_personas().items():
            if pid in personas:
                raise EvalSpecError(
                    None, f"persona id '{pid}' of task '{task.name}' is taken by another persona", field="personas"
                )
            personas[pid] = persona
    return personas


def task_personas(task: Task, tasks: Sequence[Task], personas: Mapping[str, Persona]) -> dict[str, Persona]:
    """The personas `task` works on: the run's, less those other tasks brought."""
    foreign = {pid for other in tasks if other is not task for pid in other.own_personas()}
    return {pid: p for pid, p in personas.items() if pid not in foreign}


def plan_items(tasks: Sequence[Task], personas: Mapping[str, Persona], limit: int | None = None) -> list[Item]:
    """Every item of every task (each on `task_personas`), ids checked for uniqueness.

    More than `limit` items raise `EvalLimitError`.
    """
    items: list[Item] = []
    for task in tasks:
        items += task.plan(task_personas(task, tasks, personas))
        if limit is not None and len(items) > limit:
            raise EvalLimitError(f"the spec plans more than {limit} items (the limit here; task '{task.name}')")
    ids = [i.id for i in items]
    if len(set(ids)) != len(ids):
        raise EvalError("two items share an id; task plans must give unique ids")
    return items


def summarize(
    tasks: Sequence[Task], samples: Sequence[EvalSample], personas: Mapping[str, Persona]
) -> tuple[dict[str, TaskResult], dict[str, float | None]]:
    """Each task's aggregates over its samples, and the PersonaScores when persona-gym ran."""
    results = {
        t.name: t.summarize([s for s in samples if s.task == t.name], task_personas(t, tasks, personas)) for t in tasks
    }
    pg = results.get("persona-gym")
    return results, dict(pg.extra.get("persona_scores", {})) if pg else {}


def write_personas(out_dir: Path, personas: Mapping[str, Persona]) -> None:
    """Keep the personas a run is made with beside its samples: rescoring scores against them, not today's files."""
    data = {pid: p.model_dump(mode="json") for pid, p in personas.items()}
    (out_dir / PERSONAS_FILE).write_text(json.dumps(data, indent=1, ensure_ascii=False), encoding="utf-8")


def _git_revision() -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=Path(__file__).resolve().parent,
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def _versions() -> dict[str, str]:
    out = {"personae": __version__, "python": platform.python_version()}
    for pkg in ("pydantic", "numpy", "onnxruntime", "openai", "llama-cpp-python"):
        with contextlib.suppress(PackageNotFoundError):
            out[pkg] = version(pkg)
    return out


class Environment(NamedTuple):
    """What results.json records about where a run ran."""

    versions: dict[str, str]
    git_revision: str | None


def capture_environment() -> Environment:
    """Package versions and the checkout's git revision (a subprocess and metadata reads: tens of ms)."""
    return Environment(_versions(), _git_revision())


def _failed(item: Item, reason: str, started: float) -> EvalSample:
    return EvalSample(
        id=item.id,
        task=item.task,
        persona=item.persona,
        status="failed",
        failure=reason,
        data=item.data,
        seconds=time.perf_counter() - started,
    )


async def score_sample(task: Task, sample: EvalSample, scoring: ScoringContext) -> None:
    """`task.score` on an ok sample, in a worker thread unless every scoring model is light (pure Python)."""
    if sample.status != "ok":
        return
    if scoring.models.light:
        task.score(sample, scoring)
    else:  # the ONNX models release the GIL: other items' requests go on meanwhile
        await asyncio.to_thread(task.score, sample, scoring)


async def _run_item(task: Task, item: Item, ctx: EvalContext) -> EvalSample:
    """Run and score one item; any error becomes a failed sample with its reason, never an aborted run."""
    started = time.perf_counter()
    try:
        sample = await task.run(item, ctx)
        await score_sample(task, sample, ctx)
    except BackendError as exc:
        return _failed(item, f"backend: {exc}", started)
    except Exception as exc:
        log.warning(
            "item %s failed: %s: %s", item.id, type(exc).__name__, exc, exc_info=log.isEnabledFor(logging.DEBUG)
        )
        return _failed(item, f"error: {type(exc).__name__}: {exc}", started)
    finally:
        ctx.forget(item.id)
    sample.seconds = time.perf_counter() - started
    return sample


def usage_by_backend(ctx: EvalContext) -> dict[str, RoleUsage]:
    """Tokens and requests per backend, keyed by the roles sharing it (e.g. `generator+user+judge0`)."""
    shared: dict[int, list[str]] = {}
    backends: dict[int, Backend] = {}
    for role, backend in ctx.roles().items():
        shared.setdefault(id(backend), []).append(role)
        backends[id(backend)] = backend
    return {
        "+".join(roles): RoleUsage(
            address=backends[key].address,
            requests=backends[key].requests,
            prompt_tokens=backends[key].usage.prompt_tokens,
            completion_tokens=backends[key].usage.completion_tokens,
        )
        for key, roles in shared.items()
    }


class EvalRun:
    """One eval in one output folder: `await EvalRun(spec, out).run()` (or `resume=True` to continue)."""

    def __init__(
        self,
        spec: EvalSpec,
        out_dir: Path | str,
        resume: bool = False,
        backends: Mapping[str, Backend] | None = None,
        models: ScoringModels | None = None,
        progress: bool = True,
        report: bool = True,
        max_items: int | None = None,
        max_personas: int | None = None,
    ) -> None:
        """`max_items`, `max_personas`: refuse (`EvalLimitError`) a larger eval before anything runs."""
        self.spec = spec
        self.out = Path(out_dir)
        self.resume = resume
        self.backends = backends
        self.models = models
        self.progress = progress
        self.write_report = report
        self.tasks = [build_task(n, p, spec.base_dir, spec.seed) for n, p in spec.tasks.items()]
        self.personas = run_personas(spec, self.tasks, max_personas)
        self.items = plan_items(self.tasks, self.personas, max_items)
        self._remote_usage: dict[str, RoleUsage] = {}
        self._stopping = threading.Event()
        if spec.executor == "ray" and backends:
            raise EvalError("ready-made backends cannot be sent to Ray workers; use executor 'asyncio'")

    def _prepare(self) -> float:
        """Create or check the folder; returns when the eval first started."""
        self.out.mkdir(parents=True, exist_ok=True)
        run_file, samples = self.out / RUN_FILE, self.out / SAMPLES_FILE
        identity = self.spec.model_dump(mode="json", exclude=set(HOW_RUN))
        mismatch = f"{self.out} holds an eval of a different spec; resume it with the same spec"
        resumed = resumed_start(run_file, samples, identity, self.resume, EvalError, "an eval", mismatch)
        if resumed is not None:
            if not (self.out / PERSONAS_FILE).exists():  # begun by a personae that kept no persona snapshot
                write_personas(self.out, self.personas)
            return resumed
        started = time.time()
        write_personas(self.out, self.personas)
        run_file.write_text(json.dumps({"spec": identity, "started_at": started}, indent=2), encoding="utf-8")
        return started

    async def run(self) -> EvalResults:
        """Run unfinished items, then write results.json and report.html."""
        started_at = self._prepare()
        t0 = time.perf_counter()
        # Captured in a worker thread while the first requests are in flight, not after the last one.
        environment = asyncio.ensure_future(asyncio.to_thread(capture_environment))
        done = {s.id for s in read_samples(self.out / SAMPLES_FILE)}
        pending = [i for i in self.items if i.id not in done]
        ctx = EvalContext(self.spec, self.personas, self.out, backends=self.backends, models=self.models)
        by_name = {t.name: t for t in self.tasks}
        writer = SampleWriter(self.out / SAMPLES_FILE)
        gate = asyncio.Semaphore(self.spec.concurrency)
        progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            disable=not self.progress,
        )
        bars = {
            t.name: progress.add_task(
                t.name,
                total=sum(1 for i in self.items if i.task == t.name),
                completed=sum(1 for i in self.items if i.task == t.name and i.id in done),
            )
            for t in self.tasks
        }

        executor = None
        if self.spec.executor == "ray":
            from personae.evals._ray import RayExecutor

            executor = RayExecutor(self.spec)

        async def one(item: Item) -> None:
            async with gate:
                if self._stopping.is_set():
                    return
                if executor is None:
                    sample = await _run_item(by_name[item.task], item, ctx)
                else:
                    sample, usage = await executor.run(item)
                    self._add_remote_usage(usage)
            await writer.write_async(sample)
            progress.advance(bars[item.task])
            await asyncio.sleep(0)  # mock and cached backends never yield: let the loop see other callbacks

        # Everything allocated before the items run (imports, personas, models) lives as long as the run. Frozen,
        # it is skipped by full garbage collections, which otherwise walk it all and stall every request in
        # flight (100-140 ms here: a whole wave of C requests), or the aggregation after the last item.
        # Process-wide, so undone once results.json is written; left alone in a process that froze its own heap
        # (a server running the eval in a thread), whose freeze an unfreeze here would undo.
        freeze = gc.get_freeze_count() == 0
        if freeze:
            gc.freeze()
        try:
            try:
                with progress:
                    await asyncio.gather(*(one(i) for i in pending))
            finally:
                writer.close()
                await ctx.aclose()
            if self._stopping.is_set():
                raise asyncio.CancelledError("the eval was stopped")
            results = self.results(started_at, time.perf_counter() - t0, ctx, await environment)
            (self.out / RESULTS_FILE).write_text(results.model_dump_json(indent=2), encoding="utf-8")
        finally:
            if freeze:
                gc.unfreeze()
        if self.write_report:
            from personae.evals._report import write_report

            write_report(self.out)
        return results

    def stop(self) -> None:
        """Ask a running eval to stop, from any thread (a cancelled server run, a signal handler).

        Items not yet begun are skipped, those in progress end, and `run` raises `asyncio.CancelledError`
        without writing results; a `resume` continues the run later.
        """
        self._stopping.set()

    def _add_remote_usage(self, usage: Mapping[str, Mapping[str, Any]]) -> None:
        for key, u in usage.items():
            total = self._remote_usage.setdefault(key, RoleUsage(address=str(u["address"])))
            total.requests += int(u["requests"])
            total.prompt_tokens += int(u["prompt_tokens"])
            total.completion_tokens += int(u["completion_tokens"])

    def results(
        self,
        started_at: float,
        seconds: float,
        ctx: EvalContext | None = None,
        environment: Environment | None = None,
    ) -> EvalResults:
        """Aggregate samples.jsonl into results (failures counted, never averaged)."""
        environment = environment or capture_environment()
        samples = read_samples(self.out / SAMPLES_FILE)
        planned = {i.id for i in self.items}
        samples = [s for s in samples if s.id in planned]
        tasks, persona_scores = summarize(self.tasks, samples, self.personas)
        models = ctx.models if ctx is not None else self.models
        usage = usage_by_backend(ctx) if ctx is not None else {}
        for key, remote in self._remote_usage.items():
            usage[key] = remote
        return EvalResults(
            name=self.spec.name,
            spec=self.spec.model_dump(mode="json"),
            versions=environment.versions,
            git_revision=environment.git_revision,
            started_at=started_at,
            finished_at=time.time(),
            seconds=seconds,
            items=len(self.items),
            finished=len(samples),
            failed=sum(1 for s in samples if s.status == "failed"),
            tasks=tasks,
            persona_scores=persona_scores,
            persona_names={pid: p.name for pid, p in self.personas.items()},
            usage=usage,
            scoring=describe_models(models) if models is not None else None,
        )


async def run_eval(
    spec: EvalSpec,
    out_dir: Path | str,
    resume: bool = False,
    backends: Mapping[str, Backend] | None = None,
    models: ScoringModels | None = None,
    progress: bool = False,
) -> EvalResults:
    """Run (or resume) an eval into `out_dir`: samples.jsonl, results.json and report.html.

    `backends` binds roles to ready-made backends (`agent`, `judge0`, `judge1`, `user`, `generator`), e.g. in tests.
    """
    return await EvalRun(spec, out_dir, resume=resume, backends=backends, models=models, progress=progress).run()
