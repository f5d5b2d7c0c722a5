"""Scene studies: many scenes (scenarios × seeds) as one run, one scene per task, in process or on Ray.

Each scene runs whole in one task (in a scratch folder: on Ray, in a worker process) and comes back as its files;
the driver alone writes them, under `scenes/<id>/`, and then appends the scene's line to study.jsonl (fsynced).
A line there is what makes a scene recorded: a scene whose worker died is run again by Ray (the task is retried),
and a resumed study skips the scenes study.jsonl already holds, so every scene is recorded exactly once.
"""

from __future__ import annotations

import asyncio
import math
import os
import re
import shutil
import socket
import statistics
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError

from personae.backends import Backend, get_backend
from personae.evals import SampleWriter
from personae.scene._log import REPORT_FILE, RESULTS_FILE, SCENE_FILE, TRANSCRIPT_FILE, SceneResults
from personae.scene._mock import scene_mock_options
from personae.scene._runner import SceneRun, scoring_models
from personae.scene._spec import SceneError, SceneSpec, persona_of
from personae.scoring import ScoringModels

STUDY_FILE = "study.jsonl"
"""A study's record: one line per finished scene (appended and fsynced by the driver), inside its output folder."""
SUMMARY_FILE = "summary.json"
"""A study's figures over all its scenes, inside its output folder."""
SCENES_DIR = "scenes"
"""Where a study keeps each scene's folder (transcript, results, report), inside its output folder."""
MAX_STUDY_SCENES = 10_000
"""Upper bound on the scenes of one study."""
_FILES = (SCENE_FILE, TRANSCRIPT_FILE, RESULTS_FILE, REPORT_FILE)
_MODELS: dict[tuple[str, str], ScoringModels] = {}

StudyExecutor = Literal["asyncio", "ray"]
"""How a study's scenes run: in this process, or as Ray tasks."""


class StudyEntry(BaseModel):
    """One recorded scene of a study: a line of study.jsonl."""

    id: str
    """The scene's id within the study (`<scenario>/seed<seed>`): its folder under `scenes/`."""
    scenario: str
    """The scenario (scene name) it is a run of."""
    seed: int
    """Its seed."""
    worker: str
    """Where it ran (`ray:<host>:<pid>` or `local:<host>:<pid>`)."""
    results: SceneResults
    """Its figures (as in its results.json)."""


class Spread(BaseModel):
    """Mean and spread of one figure over a study's scenes."""

    mean: float | None
    """Mean over the scenes where it is defined (None: nowhere)."""
    stdev: float | None
    """Sample standard deviation (None with fewer than two values)."""
    n: int
    """Scenes where it is defined."""


class StudySummary(BaseModel):
    """summary.json: a study's figures over all its scenes, overall and per scenario."""

    name: str
    """The study's name."""
    scenes: int
    """Scenes planned."""
    recorded: int
    """Scenes recorded (each exactly once)."""
    seconds: float
    """Wall time of the last invocation."""
    executor: StudyExecutor
    """How the scenes ran."""
    figures: dict[str, Spread]
    """Figure name → mean and spread over every recorded scene."""
    by_scenario: dict[str, dict[str, Spread]] = Field(default_factory=dict)
    """Scenario → figure name → mean and spread over its seeds."""


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60] or "scene"


def plan_study(scenarios: Sequence[SceneSpec], seeds: Sequence[int]) -> dict[str, SceneSpec]:
    """Scene id → self-contained spec (personas inline, the seed set) for every scenario × seed."""
    if len(scenarios) * len(seeds) > MAX_STUDY_SCENES:
        raise SceneError(f"a study of {len(scenarios) * len(seeds)} scenes is over the limit of {MAX_STUDY_SCENES}")
    plan: dict[str, SceneSpec] = {}
    for i, spec in enumerate(scenarios):
        characters = [
            c.model_copy(update={"persona": persona_of(spec, j).model_dump(mode="json", exclude_none=True)})
            for j, c in enumerate(spec.characters)
        ]
        inline = spec.model_copy(update={"characters": characters})
        prefix = f"{i:02d}-{_slug(spec.name)}"
        for seed in seeds:
            plan[f"{prefix}/seed{seed}"] = inline.model_copy(update={"seed": seed})
    return plan


def _models(spec: SceneSpec) -> ScoringModels:
    key = (spec.nli, spec.embedder)
    if key not in _MODELS:  # loop-independent: loaded once per process
        _MODELS[key] = scoring_models(spec)
    return _MODELS[key]


async def run_one(spec_data: dict[str, Any], options: Mapping[str, Any], where: str) -> dict[str, Any]:
    """Run one scene whole in a scratch folder; returns its files' text, its results and where it ran."""
    spec = SceneSpec.model_validate(spec_data)

    def make(address: str) -> Backend:
        return get_backend(address, **scene_mock_options(address), **options)

    with tempfile.TemporaryDirectory(prefix="personae-scene-") as scratch:
        out = Path(scratch)
        run = SceneRun(spec, out, models=_models(spec), backend_factory=make)
        results = await run.run()
        files = {name: (out / name).read_text(encoding="utf-8") for name in _FILES if (out / name).exists()}
    return {"files": files, "results": results.model_dump(mode="json"), "worker": where}


def run_scene_in_worker(spec_data: dict[str, Any], options: dict[str, Any]) -> dict[str, Any]:
    """A Ray task: one scene in this worker process (fresh backends, this process's scoring models)."""
    return asyncio.run(run_one(spec_data, options, f"ray:{socket.gethostname()}:{os.getpid()}"))


def read_study(out: Path) -> list[StudyEntry]:
    """The scenes study.jsonl records, first line of each id only (unreadable lines skipped)."""
    path = out / STUDY_FILE
    if not path.exists():
        return []
    seen: set[str] = set()
    entries: list[StudyEntry] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        try:
            entry = StudyEntry.model_validate_json(line)
        except ValidationError:
            continue
        if entry.id not in seen:
            seen.add(entry.id)
            entries.append(entry)
    return entries


def _figures(results: SceneResults) -> dict[str, float | None]:
    scene = results.scene
    return {
        "turns": float(results.turns),
        "role_confusion_rate": scene.role_confusion_rate,
        "ooc_rate": scene.ooc_rate,
        "contradiction_rate": scene.contradiction_rate,
        "violation_rate": scene.violation_rate,
        "dominance": scene.dominance,
        "convergence_semantic_delta": scene.convergence.semantic_delta,
        "convergence_style_delta": scene.convergence.style_delta,
        "seconds_generating": scene.seconds_generating,
        "seconds_narrating": scene.seconds_narrating,
        "seconds_scoring": scene.seconds_scoring,
        "scoring_share": scene.scoring_share,
    }


def _spread(values: Sequence[float | None]) -> Spread:
    xs = [v for v in values if v is not None and not math.isnan(v)]
    return Spread(
        mean=statistics.fmean(xs) if xs else None,
        stdev=statistics.stdev(xs) if len(xs) > 1 else None,
        n=len(xs),
    )


def summarize(
    name: str, entries: Sequence[StudyEntry], planned: int, seconds: float, executor: StudyExecutor
) -> StudySummary:
    """A study's figures over its recorded scenes, overall and per scenario."""
    rows = [_figures(e.results) for e in entries]
    names = list(rows[0]) if rows else []
    by: dict[str, list[dict[str, float | None]]] = {}
    for entry, row in zip(entries, rows, strict=True):
        by.setdefault(entry.scenario, []).append(row)
    return StudySummary(
        name=name,
        scenes=planned,
        recorded=len(entries),
        seconds=seconds,
        executor=executor,
        figures={f: _spread([r[f] for r in rows]) for f in names},
        by_scenario={s: {f: _spread([r[f] for r in rs]) for f in names} for s, rs in by.items()},
    )


class SceneStudy:
    """Scenarios × seeds as one study in one output folder: `await SceneStudy(scenarios, seeds, out).run()`.

    Example:
        study = SceneStudy([load_scene("examples/scenes/harbour.yaml").with_backend("mock/scene")], range(25),
                           "out/study", executor="ray")
        summary = asyncio.run(study.run())      # study.jsonl, scenes/<id>/..., summary.json
    """

    def __init__(
        self,
        scenarios: Sequence[SceneSpec],
        seeds: Sequence[int],
        out_dir: Path | str,
        executor: StudyExecutor = "asyncio",
        concurrency: int = 4,
        resume: bool = False,
        ray_address: str | None = None,
        backend_options: Mapping[str, Any] | None = None,
        name: str = "study",
    ) -> None:
        self.plan = plan_study(scenarios, seeds)
        self.out = Path(out_dir)
        self.executor: StudyExecutor = executor
        self.concurrency = max(1, concurrency)
        self.resume = resume
        self.ray_address = ray_address
        self.options = dict(backend_options or {})
        """Provider options given to every backend the scenes make (e.g. a mock's `delay`)."""
        self.name = name

    def _record(self, writer: SampleWriter, scene_id: str, done: dict[str, Any]) -> StudyEntry:
        """Write a finished scene's folder (replacing a partial one), then its line in study.jsonl."""
        folder = self.out / SCENES_DIR / scene_id
        staging = folder.with_name(folder.name + ".partial")
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        for name, text in done["files"].items():
            (staging / name).write_text(text, encoding="utf-8")
        shutil.rmtree(folder, ignore_errors=True)
        staging.rename(folder)
        spec = self.plan[scene_id]
        entry = StudyEntry(
            id=scene_id,
            scenario=spec.name,
            seed=spec.seed,
            worker=done["worker"],
            results=SceneResults.model_validate(done["results"]),
        )
        writer.write(entry)
        return entry

    async def run(self) -> StudySummary:
        """Run the scenes not yet recorded, then write summary.json."""
        self.out.mkdir(parents=True, exist_ok=True)
        recorded = {e.id for e in read_study(self.out)}
        if recorded and not self.resume:
            raise SceneError(f"{self.out} already holds a study; continue it with resume")
        pending = [sid for sid in self.plan if sid not in recorded]
        t0 = time.perf_counter()
        writer = SampleWriter(self.out / STUDY_FILE)
        gate = asyncio.Semaphore(self.concurrency)
        run = self._ray_runner() if self.executor == "ray" else self._local_runner()

        async def one(scene_id: str) -> None:
            async with gate:
                done = await run(self.plan[scene_id].model_dump(mode="json"))
            self._record(writer, scene_id, done)

        try:  # every scene is awaited before the writer closes, even when one fails (resume runs it again)
            outcomes = await asyncio.gather(*(one(sid) for sid in pending), return_exceptions=True)
        finally:
            writer.close()
        failed = [o for o in outcomes if isinstance(o, BaseException)]
        if failed:
            raise SceneError(f"{len(failed)} scene(s) failed, the first with {failed[0]!r}; resume runs them again")
        entries = [e for e in read_study(self.out) if e.id in self.plan]
        summary = summarize(self.name, entries, len(self.plan), time.perf_counter() - t0, self.executor)
        (self.out / SUMMARY_FILE).write_text(summary.model_dump_json(indent=2), encoding="utf-8")
        return summary

    def _local_runner(self) -> Any:
        where = f"local:{socket.gethostname()}:{os.getpid()}"

        async def run(spec_data: dict[str, Any]) -> dict[str, Any]:
            return await run_one(spec_data, self.options, where)

        return run

    def _ray_runner(self) -> Any:
        try:
            import ray
        except ImportError:
            raise SceneError("executor 'ray' needs the ray extra: pip install 'personae[ray]'") from None
        if not ray.is_initialized():
            ray.init(address=self.ray_address, log_to_driver=False)
        # A task whose worker dies is run again (from the start: its scene was in a scratch folder of the dead worker).
        remote = ray.remote(max_retries=3)(run_scene_in_worker)

        async def run(spec_data: dict[str, Any]) -> dict[str, Any]:
            result: dict[str, Any] = await remote.remote(spec_data, self.options)
            return result

        return run
