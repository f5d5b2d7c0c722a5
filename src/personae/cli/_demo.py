"""`personae demo`: a short scripted conversation that shows personae working end to end."""

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
from personae.cli._options import BackendOpt, SeedOpt
from personae.cli._score import render_table
from personae.persona import load_persona
from personae.scoring import APCScorer, ScoringModelError
from personae.session import Conversation

DEMO_QUESTIONS = (
    "Hello there! Who are you?",
    "What do you do for a living?",
    "Tell me about the people closest to you.",
    "What is something you would never do?",
)
"""User lines of the scripted conversation; generic so they suit any persona."""


async def _run(conversation: Conversation, console: Console, scorer: APCScorer | None) -> None:
    name = conversation.persona.name
    if conversation.greeting:
        console.print(f"[bold cyan]{name}:[/bold cyan] {conversation.greeting}\n")
    for question in DEMO_QUESTIONS:
        console.print(f"[bold green]{conversation.user_name}:[/bold green] {question}")
        console.print(f"[bold cyan]{name}:[/bold cyan] ", end="")
        async for piece in conversation.stream_reply(question):
            console.print(piece, end="", markup=False, highlight=False)
        console.print("\n")
        if scorer is not None:
            render_table(scorer.score(question, conversation.turns[-1].reply), console)
            console.print()


@user_errors
def demo(
    personas: Annotated[list[Path], typer.Argument(help="Persona files to talk to, one conversation each.")],
    backend: BackendOpt = "embedded",
    seed: SeedOpt = 7,
    score: Annotated[
        bool, typer.Option("--score/--no-score", help="Print the faithfulness table of each reply.")
    ] = True,
) -> None:
    """Run a scripted in-character conversation with each persona and print it."""
    console = Console(highlight=False)
    llm = get_backend(backend)
    for path in personas:
        persona = load_persona(path)
        console.print(Rule(f"{persona.name}  ({path.name}, backend {llm.address})"))
        conversation = Conversation(persona, llm, config=GenerateConfig(temperature=0.7, max_tokens=160, seed=seed))
        scorer = None
        if score and persona.statements:
            try:
                scorer = APCScorer(persona)
            except ScoringModelError as exc:
                console.print(f"[yellow]faithfulness scoring unavailable: {exc}[/yellow]")
        started = time.perf_counter()
        asyncio.run(_run(conversation, console, scorer))
        usage = llm.usage
        console.print(
            f"[dim]{len(conversation.turns)} turns in {time.perf_counter() - started:.1f} s; "
            f"tokens so far: {usage.prompt_tokens} prompt, {usage.completion_tokens} generated[/dim]\n"
        )
