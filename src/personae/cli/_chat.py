"""`personae chat`: an interactive, streaming conversation with a persona (or one reply with --message)."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from personae.backends import GenerateConfig, get_backend
from personae.cli._errors import user_errors
from personae.cli._options import (
    BackendOpt,
    BaseUrlOpt,
    MaxTokensOpt,
    ModelOpt,
    SeedOpt,
    TemperatureOpt,
    UserNameOpt,
)
from personae.persona import load_persona
from personae.session import Conversation

QUIT_COMMANDS = {"/quit", "/exit", "/q"}


async def _interactive(conversation: Conversation, console: Console) -> None:
    name = conversation.persona.name
    console.print(f"[dim]Chatting with {name} on {conversation.backend.address}. /quit to leave.[/dim]")
    if conversation.greeting:
        console.print(f"[bold cyan]{name}:[/bold cyan] {conversation.greeting}")
    while True:
        try:
            text = console.input(f"[bold green]{conversation.user_name}:[/bold green] ").strip()
        except (EOFError, KeyboardInterrupt):
            console.print()
            return
        if not text:
            continue
        if text.lower() in QUIT_COMMANDS:
            return
        console.print(f"[bold cyan]{name}:[/bold cyan] ", end="")
        async for piece in conversation.stream_reply(text):
            console.print(piece, end="", markup=False, highlight=False)
        console.print()


@user_errors
def chat(
    persona_file: Annotated[Path, typer.Argument(help="Persona file (YAML or JSON).")],
    backend: BackendOpt = "embedded",
    model: ModelOpt = None,
    base_url: BaseUrlOpt = None,
    message: Annotated[
        str | None, typer.Option("--message", help="Send one message, print the reply to stdout, and exit.")
    ] = None,
    seed: SeedOpt = None,
    temperature: TemperatureOpt = 0.7,
    max_tokens: MaxTokensOpt = 256,
    user: UserNameOpt = "User",
) -> None:
    """Chat in character with a persona through any backend."""
    persona = load_persona(persona_file)
    llm = get_backend(backend, model=model, base_url=base_url)
    config = GenerateConfig(temperature=temperature, max_tokens=max_tokens, seed=seed)
    conversation = Conversation(persona, llm, user_name=user, config=config)
    if message is not None:
        reply = asyncio.run(conversation.reply(message))
        sys.stdout.write(reply + "\n")
        return
    asyncio.run(_interactive(conversation, Console(highlight=False)))
