"""`personae export-pairs`: DPO preference pairs (TRL conversational format) from stored sessions."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from personae.cli._errors import user_errors
from personae.cli._options import DatabaseOpt
from personae.preference import preference_pairs
from personae.store import SessionStore


@user_errors
def export_pairs(
    out: Annotated[Path, typer.Option("--out", "-o", help="Output JSONL file.")],
    sessions: Annotated[
        list[str] | None, typer.Option("--sessions", "-s", help="Session ids (repeatable); default: every session.")
    ] = None,
    margin: Annotated[
        float, typer.Option("--margin", min=0.0, max=1.0, help="Minimum normalised-APC gap between the two replies.")
    ] = 0.2,
    all_pairs: Annotated[
        bool, typer.Option("--all-pairs", help="Every pair above the margin, not only best versus the rest.")
    ] = False,
    db: DatabaseOpt = None,
) -> None:
    """Write preference pairs: chosen = the more faithful candidate of a turn, rejected = the less faithful one."""
    store = SessionStore(db)
    ids = sessions or [s.id for s in store.list_sessions()]
    records = (store.load(session_id) for session_id in ids)
    count = 0
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8") as handle:
        for pair in preference_pairs(records, margin=margin, strategy="all" if all_pairs else "best-vs-rest"):
            handle.write(json.dumps(pair.model_dump(mode="json"), ensure_ascii=False) + "\n")
            count += 1
    typer.echo(f"{count} pairs from {len(ids)} session(s) written to {out}", err=True)
