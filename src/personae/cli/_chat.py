"""`personae chat`: a persisted, guarded conversation with a persona (or one reply with --message)."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from personae.backends import BackendError, GenerateConfig, get_backend
from personae.cli._errors import EXIT_USAGE, fail, user_errors
from personae.cli._memory import render_memory
from personae.cli._options import (
    BackendOpt,
    BaseUrlOpt,
    DatabaseOpt,
    GuardOpt,
    MaxTokensOpt,
    ModelOpt,
    NOpt,
    SeedOpt,
    TemperatureOpt,
    UserNameOpt,
)
from personae.cli._render import render_candidates, render_explanation
from personae.cli._score import render_table
from personae.guard import Diversity
from personae.persona import load_persona
from personae.session import ChatSession, SessionSettings
from personae.store import SessionStore

HELP = "/swipe next candidate · /regen new candidates · /why · /score · /prompt · /profile · /sessions · /quit"
QUIT_COMMANDS = {"/quit", "/exit", "/q"}


async def _say(chat: ChatSession, text: str, console: Console) -> None:
    name = chat.persona.name
    if chat.guard.policy == "off":
        console.print(f"[bold cyan]{name}:[/bold cyan] ", end="")
        async for piece in chat.stream(text):
            console.print(piece, end="", markup=False, highlight=False)
        console.print()
    else:
        with console.status(f"{name} is thinking ({chat.guard.n} candidates)…"):
            turn = await chat.send(text)
        console.print(f"[bold cyan]{name}:[/bold cyan] {turn.reply}", markup=True, highlight=False)
    render_candidates(chat.turns[-1], console, _diversity(chat))


def _diversity(chat: ChatSession) -> Diversity | None:
    return chat.last_judgement.diversity if chat.last_judgement else None


async def _command(chat: ChatSession, command: str, console: Console) -> None:
    name = chat.persona.name
    if command == "/swipe":
        candidate = chat.swipe()
        console.print(f"[bold cyan]{name}[/bold cyan] [dim](candidate {candidate.index})[/dim]: {candidate.text}")
    elif command == "/regen":
        with console.status("regenerating…"):
            turn = await chat.regenerate()
        console.print(f"[bold cyan]{name}:[/bold cyan] {turn.reply}")
        render_candidates(turn, console, _diversity(chat))
    elif command == "/why":
        render_explanation(chat.why(), console)
    elif command == "/score":
        shown = chat.turns[-1].shown
        if shown is None or shown.result is None:
            console.print("[dim]not scored[/dim]")
        else:
            render_table(shown.result, console)
    elif command == "/prompt":
        console.print(chat.turns[-1].prompt.render(), markup=False, highlight=False)
    elif command == "/profile":
        memory = chat.user_memory
        console.print(f"[bold]What {name} knows about {chat.user_name}[/bold]")
        render_memory(
            [f for f in memory.repository.facts(memory.read_scope) if f.current],
            memory.repository.episodes(memory.read_scope),
            console,
            char=name,
        )
    elif command == "/sessions":
        for s in chat.store.list_sessions():
            mark = "*" if s.id == chat.id else " "
            console.print(f"{mark} {s.id}  {s.persona_name:<24} {s.turns:>4} turns  {s.updated_at:%Y-%m-%d %H:%M}")
    else:
        console.print(f"[yellow]unknown command {command}[/yellow]  {HELP}")


async def _interactive(chat: ChatSession, console: Console) -> None:
    name = chat.persona.name
    console.print(f"[dim]Session {chat.id} with {name} on {chat.backend.address}, guard {chat.guard.policy}.[/dim]")
    console.print(f"[dim]{HELP}[/dim]")
    if chat.turns:
        for turn in chat.turns[-3:]:
            console.print(f"[bold green]{chat.user_name}:[/bold green] {turn.user_text}")
            console.print(f"[bold cyan]{name}:[/bold cyan] {turn.reply}")
    elif chat.greeting:
        console.print(f"[bold cyan]{name}:[/bold cyan] {chat.greeting}")
    elif chat.known_user:
        console.print(f"[dim]{name} remembers you from earlier sessions (/profile shows what).[/dim]")
    while True:
        try:
            text = console.input(f"[bold green]{chat.user_name}:[/bold green] ").strip()
        except (EOFError, KeyboardInterrupt):
            console.print()
            break
        if not text:
            continue
        if text.lower() in QUIT_COMMANDS:
            break
        try:
            if text.startswith("/"):
                if not chat.turns and text.lower() not in ("/sessions", "/profile"):
                    console.print("[yellow]nothing to act on yet: say something first[/yellow]")
                    continue
                await _command(chat, text.lower(), console)
            else:
                await _say(chat, text, console)
        except BackendError as exc:  # keep the session alive; the user can retry
            console.print(f"[red]backend error: {exc}[/red]")
    await chat.end()
    console.print(f"[dim]Resume with: personae chat --session {chat.id}[/dim]")


@user_errors
def chat(
    persona_file: Annotated[
        Path | None, typer.Argument(help="Persona file (YAML or JSON); not needed with --session.")
    ] = None,
    session: Annotated[str | None, typer.Option("--session", help="Resume a stored session by id.")] = None,
    guard: GuardOpt = None,
    n: NOpt = None,
    backend: BackendOpt = "embedded",
    model: ModelOpt = None,
    base_url: BaseUrlOpt = None,
    message: Annotated[
        str | None, typer.Option("--message", help="Send one message, print the reply to stdout, and exit.")
    ] = None,
    seed: SeedOpt = None,
    temperature: TemperatureOpt = 0.8,
    max_tokens: MaxTokensOpt = 200,
    user: UserNameOpt = "User",
    db: DatabaseOpt = None,
) -> None:
    """Chat in character with a persona; replies are guarded for faithfulness and the session is stored."""
    if (persona_file is None) == (session is None):
        raise fail("give a persona file to start a session, or --session ID to resume one", EXIT_USAGE)
    llm = get_backend(backend, model=model, base_url=base_url)
    store = SessionStore(db)
    config = GenerateConfig(temperature=temperature, max_tokens=max_tokens, seed=seed)
    if session is not None:  # stored settings win, except a guard or -n given now
        given = {"guard": guard.value if guard else None, "n": n}
        overrides = {k: v for k, v in given.items() if v is not None}
        conversation = ChatSession.resume(session, llm, store, overrides=overrides)
    else:
        assert persona_file is not None
        settings = SessionSettings.model_validate(
            {"guard": guard.value if guard else "best-of-n", "n": n or 4, "generate": config}
        )
        conversation = ChatSession.start(load_persona(persona_file), llm, store, user_name=user, settings=settings)
    if message is not None:
        turn = asyncio.run(conversation.send(message))
        sys.stdout.write(turn.reply + "\n")
        print(f"session {conversation.id}", file=sys.stderr)
        return
    asyncio.run(_interactive(conversation, Console(highlight=False)))
