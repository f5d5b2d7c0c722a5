"""`personae demo`: a short scripted, guarded conversation that shows personae working end to end."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.rule import Rule

from personae.backends import GenerateConfig, get_backend
from personae.cli._errors import user_errors
from personae.cli._options import BackendOpt, DatabaseOpt, GuardOpt, NOpt, SeedOpt
from personae.cli._render import render_candidates, render_explanation
from personae.persona import load_persona
from personae.scoring import ScoringModelError, ScoringModels
from personae.session import ChatSession, SessionSettings
from personae.store import SessionStore

DEMO_QUESTIONS = (
    "Hello there! Who are you?",
    "What do you do for a living?",
    "Tell me about the people closest to you.",
    "What is something you would never do?",
)
"""User lines of the scripted conversation; generic so they suit any persona."""


async def _run(chat: ChatSession, console: Console) -> None:
    name = chat.persona.name
    if chat.greeting:
        console.print(f"[bold cyan]{name}:[/bold cyan] {chat.greeting}\n")
    for question in DEMO_QUESTIONS:
        console.print(f"[bold green]{chat.user_name}:[/bold green] {question}")
        with console.status(f"{chat.guard.n} candidate(s)…"):
            turn = await chat.send(question)
        console.print(f"[bold cyan]{name}:[/bold cyan] {turn.reply}", highlight=False)
        render_candidates(turn, console, chat.last_judgement.diversity if chat.last_judgement else None)
        if chat.guard.scorer is not None:
            render_explanation(chat.why(), console)
        console.print()


@user_errors
def demo(
    personas: Annotated[list[Path], typer.Argument(help="Persona files to talk to, one conversation each.")],
    backend: BackendOpt = "embedded",
    seed: SeedOpt = 7,
    guard: GuardOpt = None,
    n: NOpt = None,
    score: Annotated[bool, typer.Option("--score/--no-score", help="Score and guard replies for faithfulness.")] = True,
    db: DatabaseOpt = None,
) -> None:
    """Run a scripted in-character conversation with each persona, guarded for faithfulness, and print it."""
    console = Console(highlight=False)
    llm = get_backend(backend)
    store = SessionStore(db)
    models = None
    if score:
        try:
            models = ScoringModels()
        except ScoringModelError as exc:
            console.print(f"[yellow]faithfulness scoring unavailable, guard off: {exc}[/yellow]")
    settings = SessionSettings.model_validate(
        {
            "guard": guard.value if guard else "best-of-n",
            "n": n or 3,
            "generate": GenerateConfig(temperature=0.8, max_tokens=120, seed=seed),
        }
    )
    for path in personas:
        persona = load_persona(path)
        chat = ChatSession.start(persona, llm, store, settings=settings, models=models, scoring=models is not None)
        console.print(Rule(f"{persona.name}  ({path.name}, backend {llm.address}, guard {chat.guard.policy})"))
        started = time.perf_counter()
        asyncio.run(_run(chat, console))
        usage = llm.usage
        console.print(
            f"[dim]{len(chat.turns)} turns in {time.perf_counter() - started:.1f} s (session {chat.id}); "
            f"tokens so far: {usage.prompt_tokens} prompt, {usage.completion_tokens} generated[/dim]\n"
        )
