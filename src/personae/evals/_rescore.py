"""Rescoring a finished eval: its model-free scores recomputed with today's scoring models, no LLM called.

The judges' scores and every reply stay as they are; APC, contradictions, self-contradiction and the OOC rate are
scored again by each task's `score` (with the NLI model, embedder and OOC detector the spec's roles bind now), so
a run made before a scoring model changed can be compared with one made after. The replaced samples.jsonl,
results.json and report.html are kept in `previous/<UTC time>/` inside the run's folder.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

from pydantic import ValidationError

from personae.evals._errors import EvalError, EvalSpecError, RescoreError, UnscorableSample
from personae.evals._log import (
    PERSONAS_FILE,
    REPORT_FILE,
    RESULTS_FILE,
    SAMPLES_FILE,
    EvalResults,
    EvalSample,
    Rescoring,
    open_locked,
)
from personae.evals._report import render_report
from personae.evals._runner import (
    HOW_RUN,
    capture_environment,
    run_personas,
    summarize,
)
from personae.evals._scoring import ScoringContext, describe_models, scoring_models
from personae.evals._spec import EvalSpec, spec_from_data
from personae.evals._task import Task, build_task
from personae.persona import Persona, PersonaError
from personae.scoring import LLMJudgeNLI, ScoringModels

PREVIOUS = "previous"
"""Folder of a run that keeps the files each rescoring replaced, one subfolder per rescoring."""
_FINISH = "personae eval SPEC --out DIR --resume"


def _read_results(path: Path) -> EvalResults:
    try:
        return EvalResults.model_validate_json(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise RescoreError(path, f"cannot read: {exc.strerror or exc}") from None
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or None
        raise RescoreError(path, f"not a personae results file ({err['msg']})", field=where) from None


def _read_samples(path: Path) -> list[EvalSample]:
    """Every sample line, strictly: rescoring rewrites the file, so a line it cannot read is an error, not a skip."""
    samples: list[EvalSample] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            samples.append(EvalSample.model_validate(json.loads(line)))
        except json.JSONDecodeError as exc:
            raise RescoreError(path, f"not JSON ({exc.msg})", field=f"line {number}") from None
        except ValidationError as exc:
            err = exc.errors()[0]
            where = ".".join(str(p) for p in err["loc"])
            field = f"line {number}: {where}" if where else f"line {number}"
            raise RescoreError(path, err["msg"], field=field) from None
    return samples


def _check_finished(out: Path, results: EvalResults, samples: list[EvalSample]) -> None:
    ids = {s.id for s in samples}
    if len(ids) < results.items:
        raise RescoreError(
            out / SAMPLES_FILE,
            f"holds {len(ids)} of the run's {results.items} items: the run is unfinished; finish it first ({_FINISH})",
        )
    if len(ids) != results.finished:
        raise RescoreError(
            out / RESULTS_FILE,
            f"counts {results.finished} finished items but {SAMPLES_FILE} holds {len(ids)}: was a resume interrupted? "
            f"finish it first ({_FINISH})",
            field="finished",
        )


def _run_spec(results: EvalResults, path: Path, given: EvalSpec | None) -> EvalSpec:
    """The spec the run was made with (relative paths resolved against `given`'s folder, else the current one)."""
    base = Path(given.base_dir) if given is not None else Path.cwd()
    try:
        spec = spec_from_data(results.spec, path, base_dir=base)
    except EvalSpecError as exc:
        raise RescoreError(path, exc.reason, field=f"spec.{exc.field}" if exc.field else "spec") from None
    if given is not None:
        ran = spec.model_dump(mode="json", exclude=set(HOW_RUN))
        if given.model_dump(mode="json", exclude=set(HOW_RUN)) != ran:
            raise RescoreError(path, "the run was made from a different spec than the one given", field="spec")
    return spec


def _personas(out: Path, spec: EvalSpec, tasks: list[Task]) -> tuple[dict[str, Persona], bool]:
    """The run's persona snapshot, else (runs made before snapshots) the spec's persona files as they are now."""
    path = out / PERSONAS_FILE
    if path.exists():
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise RescoreError(path, f"cannot read: {exc}") from None
        if not isinstance(data, dict):
            raise RescoreError(path, "expected a mapping of persona id to persona")
        personas: dict[str, Persona] = {}
        for pid, persona in data.items():
            try:
                personas[pid] = Persona.model_validate(persona)
            except ValidationError as exc:
                raise RescoreError(path, exc.errors()[0]["msg"], field=pid) from None
        return personas, True
    try:
        return run_personas(spec, tasks), False
    except (EvalError, PersonaError) as exc:
        raise RescoreError(
            path,
            f"missing (the run predates persona snapshots) and the spec's personas cannot be loaded ({exc}); "
            "pass the spec the run was made from: personae eval SPEC --rescore DIR",
        ) from None


def _models(spec: EvalSpec, models: ScoringModels | None, nli: str | None, results_path: Path) -> ScoringModels:
    if models is not None and nli is not None:
        raise ValueError("pass either ready-made scoring models or an NLI binding, not both")
    binding = nli or spec.roles.nli
    if models is not None:
        binding = models.nli.name
    if binding.startswith("llm:") or (models is not None and isinstance(models.nli, LLMJudgeNLI)):
        reason = f"NLI bound to an LLM ({binding}); rescoring calls no LLM: bind a model (--nli shipped, onnx:DIR)"
        if nli is not None or models is not None:
            raise RescoreError(None, reason)
        raise RescoreError(results_path, reason, field="spec.roles.nli")
    if models is not None:
        return models
    roles = spec.roles.model_copy(update={"nli": binding})
    return scoring_models(spec.model_copy(update={"roles": roles}))


def _strip(task: Task, sample: EvalSample) -> EvalSample:
    """A copy without the scores (and their details) that `task.score` sets."""
    out = sample.model_copy(deep=True)
    for key in task.scored:
        out.scores.pop(key, None)
    for key in task.scored_data:
        out.data.pop(key, None)
    out.not_rescored = None
    return out


def _rescore_samples(
    samples: list[EvalSample], tasks: dict[str, Task], scoring: ScoringContext, record: Rescoring
) -> list[EvalSample]:
    out: list[EvalSample] = []
    for sample in samples:
        task = tasks.get(sample.task)
        if task is None:  # never aggregated either: the spec has no such task
            record.not_rescored[sample.id] = f"task '{sample.task}' is not in the run's spec"
            out.append(sample)
            continue
        if sample.status != "ok":
            record.failed += 1
        if not task.scored or sample.status != "ok":
            out.append(sample)
            continue
        stripped = _strip(task, sample)
        scored = stripped.model_copy(deep=True)
        try:
            task.score(scored, scoring)
        except UnscorableSample as exc:
            stripped.not_rescored = str(exc)
            record.not_rescored[sample.id] = str(exc)
            out.append(stripped)
            continue
        record.rescored += 1
        out.append(scored)
    return out


def _previous_folder(out: Path, at: float) -> Path:
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(at))
    folder, n = out / PREVIOUS / stamp, 2
    while folder.exists():
        folder, n = out / PREVIOUS / f"{stamp}-{n}", n + 1
    folder.mkdir(parents=True)
    return folder


def _write_new(path: Path, text: str) -> Path:
    """Write `text` to a file beside `path`, durably; returns it (renamed over `path` once all are written)."""
    tmp = path.with_name(f"{path.name}.rescore-tmp")
    with tmp.open("w", encoding="utf-8") as f:  # truncates one left by a rescoring that died before renaming it
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    return tmp


def _keep(path: Path, folder: Path) -> None:
    if not path.exists():
        return
    try:
        os.link(path, folder / path.name)  # the replaced file lives on under the new name: no copy needed
    except OSError:
        shutil.copy2(path, folder / path.name)


def rescore(
    run_dir: Path | str,
    *,
    models: ScoringModels | None = None,
    nli: str | None = None,
    spec: EvalSpec | None = None,
) -> EvalResults:
    """Recompute every model-free score of the finished run in `run_dir` with the current scoring models.

    Calls no LLM: the replies, the judges' scores and failed items stay as they were. The models are those the
    run's spec binds (`roles.nli`, `roles.embedder`) as installed now, or `nli` (a binding such as `onnx:DIR`),
    or ready-made `models`. `spec` is needed only for runs made before personae kept a persona snapshot: its
    folder locates the persona files. Samples that cannot be rescored lose their model-free scores and say why
    (`not_rescored`); the replaced files are kept in `previous/<UTC time>/`, and results.json records the rescoring.

    Raises:
        RescoreError: `run_dir` holds no finished run, or one of its files is malformed.
        EvalError: another process is running (or rescoring) the eval in `run_dir`.
    """
    out = Path(run_dir)
    samples_path, results_path = out / SAMPLES_FILE, out / RESULTS_FILE
    if not samples_path.is_file():
        raise RescoreError(samples_path, "missing: not an eval run folder (personae eval SPEC --out DIR makes one)")
    if not results_path.is_file():
        raise RescoreError(results_path, f"missing: the run is unfinished; finish it first ({_FINISH})")
    with open_locked(samples_path, "r"):
        results = _read_results(results_path)
        samples = _read_samples(samples_path)
        _check_finished(out, results, samples)
        run_spec = _run_spec(results, results_path, spec)
        scoring_models_ = _models(run_spec, models, nli, results_path)
        tasks = {
            name: build_task(name, params, run_spec.base_dir, run_spec.seed, source=str(results_path))
            for name, params in run_spec.tasks.items()
        }
        personas, snapshot = _personas(out, run_spec, list(tasks.values()))
        at = time.time()
        environment = capture_environment()
        record = Rescoring(
            at=at,
            scoring=describe_models(scoring_models_),
            previous="",
            personas="snapshot" if snapshot else "reloaded",
            metrics={name: list(task.scored) for name, task in tasks.items()},
            versions=environment.versions,
            git_revision=environment.git_revision,
        )
        new_samples = _rescore_samples(samples, tasks, ScoringContext(personas, scoring_models_), record)
        task_results, persona_scores = summarize(list(tasks.values()), new_samples, personas)
        previous = _previous_folder(out, at)
        record.previous = str(previous.relative_to(out))
        new_results = results.model_copy(
            update={
                "tasks": task_results,
                "persona_scores": persona_scores,
                "scoring": record.scoring,
                "rescorings": [*results.rescorings, record],
            }
        )
        texts = {
            SAMPLES_FILE: "".join(s.model_dump_json() + "\n" for s in new_samples),
            RESULTS_FILE: new_results.model_dump_json(indent=2),
            REPORT_FILE: render_report(new_results, new_samples),
        }
        written = {name: _write_new(out / name, text) for name, text in texts.items()}
        for name in texts:
            _keep(out / name, previous)
        for name, tmp in written.items():  # results.json after samples.jsonl: it describes them
            os.replace(tmp, out / name)
    return new_results
