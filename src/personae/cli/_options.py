"""Options shared by several commands, declared once."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

BackendOpt = Annotated[
    str,
    typer.Option(
        "--backend",
        "-b",
        help="Model address: 'embedded' (offline default), 'openai/<model>', 'mock/echo'.",
        envvar="PERSONAE_BACKEND",
    ),
]
ModelOpt = Annotated[str | None, typer.Option("--model", "-m", help="Model name; overrides the address's model.")]
BaseUrlOpt = Annotated[
    str | None, typer.Option("--base-url", help="Server URL for OpenAI-compatible backends (vLLM, Ollama, ...).")
]
SeedOpt = Annotated[int | None, typer.Option("--seed", help="Random seed for reproducible sampling.")]
TemperatureOpt = Annotated[float, typer.Option("--temperature", "-t", min=0.0, max=2.0, help="Sampling temperature.")]
MaxTokensOpt = Annotated[int, typer.Option("--max-tokens", min=1, help="Upper bound on tokens per reply.")]
UserNameOpt = Annotated[str, typer.Option("--user", help="Your name in the conversation ({{user}}).")]


class GuardChoice(StrEnum):
    """The guard policies, as the CLI spells them."""

    off = "off"
    best_of_n = "best-of-n"
    threshold = "threshold"


GuardOpt = Annotated[
    GuardChoice | None,
    typer.Option(
        "--guard",
        help="off: one reply; best-of-n (default): keep the most faithful of n; threshold: best-of-n, then one "
        "corrective retry if the best still contradicts the persona, leaves the role or goes along with a false "
        "premise.",
    ),
]
NOpt = Annotated[
    int | None, typer.Option("-n", min=1, max=16, help="Candidates per turn for best-of-n and threshold (default 4).")
]
DatabaseOpt = Annotated[
    str | None,
    typer.Option("--db", envvar="PERSONAE_DATABASE_URL", help="SQLAlchemy URL of the session database."),
]
