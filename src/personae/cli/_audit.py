"""`personae audit`: a quick persona-bias check of one's own characters against the no-persona baseline."""

from __future__ import annotations

import asyncio
import json
import tempfile
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from personae.cli._errors import EXIT_USAGE, fail, user_errors
from personae.evals import EvalError, EvalRun, audit_rows, audit_spec


def _fmt(value: Any, signed: bool = False) -> str:
    if not isinstance(value, (int, float)):
        return "–"
    return f"{value:+.3f}" if signed else f"{value:.3f}"


@user_errors
def audit_command(
    personas: Annotated[list[Path], typer.Argument(help="Persona files to audit (YAML or JSON).")],
    backend: Annotated[str, typer.Option("--backend", "-b", help="Backend address of the model, e.g. embedded.")],
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, max=1000, help="Items per probe.")] = 20,
    judge: Annotated[
        str | None, typer.Option("--judge", help="Backend grading open-ended replies (default: --backend).")
    ] = None,
    data: Annotated[
        Path | None, typer.Option("--data", help="Folder with bbq/bbq_sample.jsonl and gsm8k/test.jsonl.")
    ] = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Run folder (default: a new temporary one).")] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON object with a row per persona and probe.")
    ] = False,
    progress: Annotated[bool, typer.Option("--progress/--no-progress", help="Show a progress bar.")] = True,
) -> None:
    """Audit personas for bias: BBQ, maths and open prompts, each persona against the no-persona baseline."""
    folder = out or Path(tempfile.mkdtemp(prefix="personae-audit-"))
    try:
        spec = audit_spec(personas, backend, limit=limit, judge=judge, data=data)
        results = asyncio.run(EvalRun(spec, folder, progress=progress and not as_json).run())
    except EvalError as exc:  # missing data, a bad persona file, a folder holding another run
        raise fail(str(exc), EXIT_USAGE) from None
    rows = audit_rows(results)
    if as_json:
        typer.echo(json.dumps({"run": str(folder), "items": results.items, "failed": results.failed, "rows": rows}))
        return
    table = Table("persona", "probe", "value", "baseline", "difference [95 % CI]", "", "n")
    for row in rows:
        ci = f" [{_fmt(row['diff_low'], True)}, {_fmt(row['diff_high'], True)}]" if row["diff"] is not None else ""
        table.add_row(
            row["name"],
            row["probe"],
            _fmt(row["value"]),
            _fmt(row["baseline"]),
            _fmt(row["diff"], True) + ci,
            "⚑" if row["flagged"] else "",
            str(row["n"]),
        )
    console = Console()
    console.print(table)
    console.print(f"{results.finished}/{results.items} items, {results.failed} failed; ⚑: the interval excludes 0")
    console.print(f"wrote {folder / 'results.json'}, {folder / 'report.html'}")
