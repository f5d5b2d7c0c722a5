"""`personae memory show|forget|export`: what characters know about a user, to read, delete and take away."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from personae.cli._errors import EXIT_USAGE, fail, user_errors
from personae.cli._options import DatabaseOpt
from personae.memory import Episode, MemoryScope, UserFact
from personae.store import SessionStore, UserMemoryStore

app = typer.Typer(help="What characters remember about their users: show, forget, export.", no_args_is_help=True)

UserOpt = Annotated[str, typer.Option("--user", help="The user's name ({{user}}).", min=1)]
PersonaOpt = Annotated[
    str | None, typer.Option("--persona", help="One character's memory (its id, the persona file's slug); all without.")
]
KeyIdOpt = Annotated[
    str | None,
    typer.Option(
        "--key-id", help="Memory a server key's sessions wrote (its id, from `personae keys`); local without."
    ),
]


def render_memory(facts: list[UserFact], episodes: list[Episode], console: Console, char: str | None = None) -> None:
    """Facts (with ids, dates and what superseded them) and episodes, as `/profile` and `memory show` print them."""
    if not facts and not episodes:
        console.print(f"[dim]{char or 'No character'} knows nothing about this user yet.[/dim]")
        return
    for fact in facts:
        told = f"{fact.said_at:%Y-%m-%d}" if fact.said_at else "----------"
        who = f" [{fact.persona_id}]" if char is None else ""
        old = f"  [dim](superseded by #{fact.superseded_by})[/dim]" if not fact.current else ""
        console.print(f"#{fact.id:<5} {told}{who}  {fact.text}  [dim]{fact.topic}[/dim]{old}", highlight=False)
    for episode in episodes:
        when = f"{episode.happened_at:%Y-%m-%d}" if episode.happened_at else "----------"
        console.print(
            f"[dim]episode {when} session {episode.session_id} turns {episode.first_turn}-{episode.last_turn}:[/dim] "
            f"{episode.summary}",
            highlight=False,
        )


def _memory(db: str | None) -> UserMemoryStore:
    return UserMemoryStore(SessionStore(db))


@app.command("show")
@user_errors
def show(
    user: UserOpt,
    persona: PersonaOpt = None,
    history: Annotated[bool, typer.Option("--history", help="Include superseded facts.")] = False,
    key_id: KeyIdOpt = None,
    db: DatabaseOpt = None,
) -> None:
    """Print the facts and episodes kept about a user."""
    memory = _memory(db)
    scope = MemoryScope(key_id, user, persona)
    render_memory(memory.facts(scope, history=history), memory.episodes(scope), Console(highlight=False))


@app.command("forget")
@user_errors
def forget(
    user: UserOpt,
    persona: PersonaOpt = None,
    fact: Annotated[
        list[int] | None, typer.Option("--fact", min=1, max=2**63 - 1, help="Forget this fact id (repeatable).")
    ] = None,
    everything: Annotated[bool, typer.Option("--all", help="Forget every fact and episode of the user.")] = False,
    key_id: KeyIdOpt = None,
    db: DatabaseOpt = None,
) -> None:
    """Delete facts for good (their history too), or with --all everything kept about the user."""
    if bool(fact) == everything:
        raise fail("say what to forget: --fact ID (repeatable) or --all", EXIT_USAGE)
    memory = _memory(db)
    scope = MemoryScope(key_id, user, persona)
    if fact:
        missing = [i for i in fact if memory.fact(scope, i) is None]
        if missing:
            raise fail(f"--fact: no fact {missing[0]} in the memory of user {user!r}", EXIT_USAGE)
    gone = memory.forget(scope, fact or None)
    typer.echo(f"forgot {gone} {'item' if gone == 1 else 'items'} about {user}")


@app.command("export")
@user_errors
def export(
    user: UserOpt,
    persona: PersonaOpt = None,
    out: Annotated[Path | None, typer.Option("--out", help="Write the JSON here instead of stdout.")] = None,
    key_id: KeyIdOpt = None,
    db: DatabaseOpt = None,
) -> None:
    """Everything kept about a user (facts with their history, episodes) as JSON."""
    data = _memory(db).export(MemoryScope(key_id, user, persona)).model_dump_json(indent=2)
    if out is None:
        sys.stdout.write(data + "\n")
    else:
        out.write_text(data + "\n", encoding="utf-8")
        typer.echo(f"wrote {out}", err=True)
