"""Rich views shared by `chat` and `demo`: the candidates of a guarded turn and the `/why` explanation."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from personae.guard import Diversity
from personae.session import Explanation
from personae.store import TurnRecord

EVIDENCE_WIDTH = 160
"""Characters of the reply sentence shown as a statement's evidence: the whole of most sentences. Cut at 50, "I am Ada
Quint, a retired ferry captain from Skye…" was shown as the evidence that she is a vegetarian, the words that said so
cut off."""


def _short(text: str, width: int = 70) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def _diversity_caption(diversity: Diversity | None) -> str | None:
    if diversity is None or diversity.candidates < 2:
        return None
    similarity = "" if diversity.mean_similarity is None else f", similarity {diversity.mean_similarity:.2f}"
    return f"last sampling: {diversity.distinct} distinct of {diversity.candidates}{similarity}"


def render_candidates(turn: TurnRecord, console: Console, diversity: Diversity | None = None) -> None:
    """One row per candidate: normalised APC, violations, self-contradictions, user facts claimed, which is shown.

    With `diversity` (the last judgement's), a caption says how many of the candidates really differed. Columns no
    candidate has anything in (a second round, self-contradictions, user facts claimed, OOC) are left out, so the
    reply keeps a readable width in an 80-column terminal.
    """
    if len(turn.candidates) < 2:
        shown = turn.shown
        if shown is not None and shown.result is not None:
            console.print(
                f"[dim]APC {shown.result.apc_normalized:.2f}, {len(shown.violations)} violation(s), "
                f"{len(shown.contradictions)} self-contradiction(s)"
                f"{f', {len(shown.claimed_user_facts)} user fact(s) claimed' if shown.claimed_user_facts else ''}"
                f"{', out of character: ' + ', '.join(shown.ooc.reasons) if shown.ooc and shown.ooc.ooc else ''}[/dim]"
            )
        return
    table = Table(
        title=f"{len(turn.candidates)} candidates",
        title_justify="left",
        caption=_diversity_caption(diversity),
        caption_justify="left",
        show_edge=False,
    )
    cells = {
        "round": [str(c.round) for c in turn.candidates],
        "violated": [str(len(c.violations)) for c in turn.candidates],
        "self-contra": [str(len(c.contradictions)) for c in turn.candidates],
        "user-fact": [str(len(c.claimed_user_facts)) for c in turn.candidates],
        "OOC": [",".join(c.ooc.reasons) if c.ooc and c.ooc.ooc else "" for c in turn.candidates],
    }
    # a column no candidate has anything in is left out: at 80 columns nine of them left the reply a word per line
    columns = [name for name, values in cells.items() if name == "violated" or any(v not in ("", "0") for v in values)]
    table.add_column("", no_wrap=True)
    table.add_column("#", justify="right", no_wrap=True)
    table.add_column("APC", justify="right", no_wrap=True)
    for name in columns:
        table.add_column(name, justify="left" if name == "OOC" else "right", no_wrap=name != "OOC")
    table.add_column("reply", justify="left", ratio=1, min_width=24)
    for row, c in enumerate(turn.candidates):
        chosen = c.index == turn.chosen_index
        table.add_row(
            "[green]▶[/green]" if chosen else "",
            str(c.index),
            f"{c.apc_normalized:.2f}" if c.apc_normalized is not None else "-",
            *(cells[name][row] for name in columns),
            escape(_short(c.text)),
            style="bold" if chosen else "dim",
        )
    console.print(table)


def render_explanation(why: Explanation, console: Console) -> None:
    """The `/why` view: supported and violated statements of the shown reply, self-contradictions, user facts."""
    if why.guard_skipped:  # the upstream's reply as given (fields passed through): there is nothing to explain
        console.print(f"[bold]not scored[/bold]: the guard was skipped ({escape(why.guard_skipped)})")
        return
    score = f"APC {why.apc_normalized:.2f}" if why.apc_normalized is not None else "not scored"
    console.print(f"[bold]{score}[/bold]")
    if why.supported:
        console.print("[green]Supports:[/green]")
        for s in why.supported:
            evidence = _short(s.evidence or "", EVIDENCE_WIDTH)
            console.print(f"  + {s.statement}  [dim](entail {s.entailment:.2f}; “{evidence}”)[/dim]")
    if why.violated:
        console.print("[red]Contradicts:[/red]")
        for s in why.violated:
            evidence = _short(s.evidence or "", EVIDENCE_WIDTH)
            console.print(f"  - {s.statement}  [dim](contra {s.contradiction:.2f}; “{evidence}”)[/dim]")
    for c in why.contradictions:
        console.print(
            f"[red]Contradicts what you said earlier:[/red] “{c.earlier}” ↔ “{c.new}” ({c.contradiction:.2f})"
        )
    for fact in why.claimed_user_facts:
        console.print(f"[red]Claims the user's fact as its own:[/red] “{escape(fact)}”")
    if why.ooc is not None and why.ooc.ooc:
        for signal in why.ooc.signals:
            console.print(f"[red]Out of character ({signal.reason}):[/red] “{_short(signal.evidence, 70)}”")
    problems = why.violated or why.contradictions or why.claimed_user_facts or (why.ooc and why.ooc.ooc)
    if not (why.supported or problems):
        console.print("[dim]No statement is clearly supported or contradicted.[/dim]")
