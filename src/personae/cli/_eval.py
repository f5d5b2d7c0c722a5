"""`personae eval` and `personae report`: run an eval spec into a folder, compare finished runs."""

from __future__ import annotations

import asyncio
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from personae.cli._errors import EXIT_USAGE, fail, user_errors
from personae.evals import EvalError, EvalRun, Stat, compare_runs, load_results, load_spec, rescore


class Executor(StrEnum):
    """Where items run."""

    asyncio = "asyncio"
    ray = "ray"


@user_errors
def eval_command(
    spec: Annotated[
        Path | None, typer.Argument(help="Eval spec (YAML); with --rescore, only for runs without a persona snapshot.")
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Output folder: samples.jsonl, results.json, report.html.")
    ] = None,
    resume: Annotated[bool, typer.Option("--resume", help="Continue an interrupted run in --out.")] = False,
    progress: Annotated[bool, typer.Option("--progress/--no-progress", help="Show progress bars.")] = True,
    executor: Annotated[
        Executor | None, typer.Option("--executor", help="Run items in this process (asyncio) or as Ray tasks.")
    ] = None,
    rescore_dir: Annotated[
        Path | None,
        typer.Option(
            "--rescore",
            metavar="RUN_DIR",
            help="Recompute a finished run's model-free scores (APC, OOC, self-contradiction) with the current "
            "scoring models; no LLM is called, judged scores stay. The replaced files go to RUN_DIR/previous/.",
        ),
    ] = None,
    nli: Annotated[
        str | None, typer.Option("--nli", help="With --rescore: NLI binding to score with instead of the spec's.")
    ] = None,
) -> None:
    """Run an evaluation: every task of SPEC on its personas, crash-safe and resumable; or rescore a finished one."""
    if rescore_dir is not None:
        if out is not None or resume or executor is not None:
            raise fail("--rescore RUN_DIR rewrites that run in place: drop --out, --resume and --executor", EXIT_USAGE)
        _rescore(rescore_dir, spec, nli)
        return
    if spec is None or out is None:
        raise fail("give a spec and --out DIR (or --rescore RUN_DIR)", EXIT_USAGE)
    if nli is not None:
        raise fail("--nli goes with --rescore; a run's NLI model is the spec's roles.nli", EXIT_USAGE)
    if out.exists() and not out.is_dir():
        raise fail(f"--out: {out} is a file; give a folder (new, or holding the run to --resume)", EXIT_USAGE)
    try:
        loaded = load_spec(spec)
        if executor is not None:
            loaded = loaded.model_copy(update={"executor": executor.value})
        run = EvalRun(loaded, out, resume=resume, progress=progress)
        results = asyncio.run(run.run())
    except EvalError as exc:  # a bad spec, or a folder that holds another run: the user's to fix
        raise fail(str(exc), EXIT_USAGE) from None
    console = Console()
    console.print(f"{results.finished}/{results.items} items, {results.failed} failed, {results.seconds:.1f} s")
    for pid, score in results.persona_scores.items():
        name = results.persona_names.get(pid, pid)
        console.print(f"PersonaScore {name}: {'–' if score is None else f'{score:.2f}'}")
    console.print(f"wrote {out / 'results.json'}, {out / 'samples.jsonl'}, {out / 'report.html'}")


def _rescore(run_dir: Path, spec: Path | None, nli: str | None) -> None:
    try:
        results = rescore(run_dir, nli=nli, spec=load_spec(spec) if spec else None)
        before = load_results(run_dir / results.rescorings[-1].previous)
    except EvalError as exc:  # not a finished run, a malformed file: the user's to fix
        raise fail(str(exc), EXIT_USAGE) from None
    record = results.rescorings[-1]
    models = [record.scoring.nli, record.scoring.embedder]
    used = ", ".join(f"{m.name}" + (f" (sha256 {m.sha256[:12]})" if m.sha256 else "") for m in models)
    typer.echo(f"rescored {record.rescored} samples with {used}; {record.failed} failed items left as they were")
    for name, metrics in record.metrics.items():
        old, new = before.tasks.get(name), results.tasks.get(name)
        for metric in metrics:
            a = old.metrics.get(metric) if old else None
            b = new.metrics.get(metric) if new else None
            if a is not None or b is not None:
                typer.echo(f"  {name} {metric}: {_mean(a)} → {_mean(b)}")
    if record.not_rescored:
        typer.echo(f"{len(record.not_rescored)} samples could not be rescored (their model-free scores are left out):")
        for sample_id, reason in list(record.not_rescored.items())[:10]:
            typer.echo(f"  {sample_id}: {reason}")
    typer.echo(f"previous files kept in {run_dir / record.previous}")


def _mean(stat: Stat | None) -> str:
    return "–" if stat is None else f"{stat.mean:.3f}"


@user_errors
def report_command(
    runs: Annotated[list[Path], typer.Argument(help="Output folders of finished evals.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="HTML file to write.")] = Path("compare.html"),
) -> None:
    """Compare finished eval runs side by side in one self-contained HTML file."""
    try:
        path = compare_runs(runs, out)
    except EvalError as exc:
        raise fail(str(exc), EXIT_USAGE) from None
    typer.echo(f"wrote {path}")
