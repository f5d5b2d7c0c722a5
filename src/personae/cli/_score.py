"""`personae score` and `personae nli`: faithfulness of replies, and raw NLI labels, from the command line."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from personae._util.loading import DataFormatError, load_text
from personae.cli._errors import EXIT_USAGE, fail, user_errors
from personae.persona import load_persona
from personae.scoring import LABELS, APCResult, APCScorer, OOCDetector, OOCResult, get_nli

NliOpt = Annotated[str, typer.Option("--nli", help="NLI binding: shipped, fake, onnx:DIR, hf:MODEL or llm:BACKEND.")]


def read_jsonl(path: Path, required: tuple[str, ...]) -> list[dict[str, Any]]:
    """Read JSONL records that must carry string fields `required`; a bad line ends the command (exit 2)."""
    records: list[dict[str, Any]] = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise fail(f"{path}: cannot read file: {exc.strerror or exc}", EXIT_USAGE) from None
    except UnicodeDecodeError as exc:
        raise fail(f"{path}: not UTF-8 text (invalid byte at offset {exc.start})", EXIT_USAGE) from None
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = load_text(line, f"{path}:{number}", kind="json")
        except DataFormatError as exc:
            raise fail(str(exc), EXIT_USAGE) from None
        if not isinstance(record, dict):
            raise fail(f"{path}:{number}: expected a JSON object", EXIT_USAGE)
        for key in required:
            if not isinstance(record.get(key), str):
                raise fail(f"{path}:{number}: {key}: expected a string", EXIT_USAGE)
        records.append(record)
    return records


def render_table(result: APCResult, console: Console) -> None:
    """The per-statement explanation of one reply as a Rich table."""
    table = Table(title=f"APC {result.apc:.2f} / {len(result.statements)}  (normalised {result.apc_normalized:.2f})")
    for column in ("statement", "rel", "entail", "neutral", "contra", "apc", ""):
        table.add_column(column, justify="left" if column == "statement" else "right")
    for s in result.statements:
        mark = "[red]violated[/red]" if s.violation else ("[green]supported[/green]" if s in result.supported else "")
        table.add_row(
            s.statement,
            f"{s.relevance:.2f}",
            f"{s.entailment:.2f}",
            f"{s.neutral:.2f}",
            f"{s.contradiction:.2f}",
            f"{s.apc:.2f}",
            mark,
        )
    console.print(table)


@user_errors
def score(
    persona_file: Annotated[Path, typer.Argument(help="Persona file (YAML or JSON).")],
    query: Annotated[str | None, typer.Option("--query", "-q", help="The user's message.")] = None,
    response: Annotated[str | None, typer.Option("--response", "-r", help="The character's reply.")] = None,
    batch: Annotated[
        Path | None, typer.Option("--batch", help="JSONL of {query, response}; one JSON line out per record.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object instead of a table.")] = False,
    nli: NliOpt = "shipped",
    threshold: Annotated[
        float | None,
        typer.Option(
            min=0.0,
            max=1.0,
            help="P(contradiction) above which a statement is violated (default: the model's calibrated threshold).",
        ),
    ] = None,
) -> None:
    """Score how faithful replies are to a persona (APC), with a per-statement explanation."""
    persona = load_persona(persona_file)
    if not persona.statements:
        raise fail(f"{persona_file}: statements: the persona has no statements to score against", EXIT_USAGE)
    if batch is None and (query is None or response is None):
        raise fail("give --query and --response, or --batch FILE", EXIT_USAGE)
    scorer = APCScorer(persona, nli=get_nli(nli), threshold=threshold)
    detector = OOCDetector(persona)
    if batch is not None:
        records = read_jsonl(batch, ("query", "response"))
        items = [(r["query"], r["response"]) for r in records]
        for result, verdict in zip(scorer.score_batch(items), detector.detect_batch(items), strict=True):
            sys.stdout.write(json.dumps(_with_ooc(result, verdict), ensure_ascii=False) + "\n")
        return
    result = scorer.score(query or "", response or "")
    verdict = detector.detect(query or "", response or "")
    if as_json:
        sys.stdout.write(json.dumps(_with_ooc(result, verdict), ensure_ascii=False) + "\n")
    else:
        console = Console()
        render_table(result, console)
        render_ooc(verdict, console)


def _with_ooc(result: APCResult, verdict: OOCResult) -> dict[str, Any]:
    return {**result.to_json(), "ooc": verdict.model_dump(mode="json")}


def render_ooc(verdict: OOCResult, console: Console) -> None:
    """One line: in character, or out of character with its reasons and evidence."""
    if not verdict.ooc:
        console.print(f"[green]in character[/green] [dim](P(out of character) {verdict.ooc_probability:.2f})[/dim]")
        return
    evidence = "; ".join(f"{s.reason}: “{s.evidence[:60]}”" for s in verdict.signals[:3])
    console.print(f"[red]out of character[/red] ({verdict.ooc_probability:.2f}) {evidence}")


@user_errors
def ooc_command(
    persona_file: Annotated[Path, typer.Argument(help="Persona file (YAML or JSON).")],
    jsonl: Annotated[Path, typer.Option("--jsonl", help="JSONL of {query, response}.")],
    user: Annotated[str, typer.Option("--user", help="The user's name in the conversation.")] = "User",
) -> None:
    """Flag out-of-character replies: adds `ooc`, `ooc_probability` and `reasons` to each {query, response} record."""
    persona = load_persona(persona_file)
    records = read_jsonl(jsonl, ("query", "response"))
    verdicts = OOCDetector(persona, user).detect_batch([(r["query"], r["response"]) for r in records])
    for record, verdict in zip(records, verdicts, strict=True):
        out = {**record, "ooc": verdict.ooc, "ooc_probability": round(verdict.ooc_probability, 6)}
        out["reasons"] = verdict.reasons
        sys.stdout.write(json.dumps(out, ensure_ascii=False) + "\n")


@user_errors
def nli_command(
    jsonl: Annotated[Path, typer.Option("--jsonl", help="JSONL of {premise, hypothesis}.")],
    nli: NliOpt = "shipped",
) -> None:
    """Label premise/hypothesis pairs: adds entailment, neutral, contradiction probabilities and a label."""
    records = read_jsonl(jsonl, ("premise", "hypothesis"))
    probs = get_nli(nli).predict([(r["premise"], r["hypothesis"]) for r in records])
    for record, row in zip(records, probs, strict=True):
        out = {**record, **{label: round(float(p), 6) for label, p in zip(LABELS, row, strict=True)}}
        out["label"] = LABELS[int(row.argmax())]
        sys.stdout.write(json.dumps(out, ensure_ascii=False) + "\n")
