"""`personae eval` and `personae report`: run an eval spec into a folder, compare finished runs."""

from __future__ import annotations

import asyncio
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from personae.cli._errors import EXIT_USAGE, fail, user_errors
from personae.evals import EvalError, EvalRun, compare_runs, load_spec


class Executor(StrEnum):
    """Where items run."""

    asyncio = "asyncio"
    ray = "ray"


@user_errors
def eval_command(
    spec: Annotated[Path, typer.Argument(help="Eval spec (YAML).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder: samples.jsonl, results.json, report.html.")],
    resume: Annotated[bool, typer.Option("--resume", help="Continue an interrupted run in --out.")] = False,
    progress: Annotated[bool, typer.Option("--progress/--no-progress", help="Show progress bars.")] = True,
    executor: Annotated[
        Executor | None, typer.Option("--executor", help="Run items in this process (asyncio) or as Ray tasks.")
    ] = None,
) -> None:
    """Run an evaluation: every task of SPEC on its personas, crash-safe and resumable."""
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
