"""Long-term memory for long conversations: rolling summaries made by the backend, and retrieval of past exchanges.

Exchanges that have left the verbatim window of the prompt are (1) folded into a rolling summary every
`summarize_every` turns, and (2) retrievable one by one by embedding similarity to the new user message.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
from pydantic import BaseModel, Field

from personae.backends import Backend, GenerateConfig, Message
from personae.memory._user import UserMemorySettings
from personae.prompting import Exchange, MemoryContext
from personae.scoring import Embedder


class MemoryItem(BaseModel):
    """One stored memory."""

    kind: Literal["summary"]
    """`summary`: a rolling summary of turns `first_turn..last_turn`."""
    content: str
    """The memory text."""
    first_turn: int
    """First turn it covers."""
    last_turn: int
    """Last turn it covers."""


class MemorySettings(BaseModel):
    """When to summarise."""

    summarize_every: int = Field(default=6, ge=1)
    """Fold exchanges into the summary once this many have left the verbatim window unsummarised."""
    summary_max_tokens: int = Field(default=160, ge=16)
    """Length bound of a summary."""
    user: UserMemorySettings = Field(default_factory=UserMemorySettings)
    """What the character remembers of its user across sessions (facts and episodes)."""


class LongTermMemory:
    """Builds the memory context of a prompt and keeps the rolling summary up to date."""

    def __init__(
        self, char: str, user: str, embedder: Embedder | None = None, settings: MemorySettings | None = None
    ) -> None:
        self.char = char
        self.user = user
        self.embedder = embedder
        self.settings = settings or MemorySettings()

    def context(
        self, history: Sequence[Exchange], window: int, user_text: str, summary: MemoryItem | None
    ) -> MemoryContext:
        """The summary and the older exchanges most similar to `user_text` (none without an embedder)."""
        older = list(history[: max(0, len(history) - window)])
        events: list[tuple[Exchange, float]] = []
        if older and self.embedder is not None:
            texts = [f"{e.user} {e.reply}" for e in older]
            sims = self.embedder.embed(texts) @ self.embedder.embed([user_text])[0]
            events = [(older[int(i)], float(sims[int(i)])) for i in np.argsort(-sims, kind="stable")]
        return MemoryContext(summary=summary.content if summary else None, events=events)

    def due(self, history: Sequence[Exchange], window: int, summary: MemoryItem | None) -> list[Exchange]:
        """Exchanges to fold into the summary now (empty when not yet due)."""
        older = list(history[: max(0, len(history) - window)])
        covered = summary.last_turn if summary else -1
        pending = [e for e in older if e.index > covered]
        return pending if len(pending) >= self.settings.summarize_every else []

    async def summarize(self, backend: Backend, pending: Sequence[Exchange], summary: MemoryItem | None) -> MemoryItem:
        """Ask the backend for a new rolling summary covering the old one plus `pending`."""
        previous = f"Summary so far:\n{summary.content}\n\n" if summary else ""
        new_part = "\n".join(e.transcript(self.char, self.user) for e in pending)
        prompt = (
            f"{previous}New part of the conversation between {self.user} and {self.char}:\n{new_part}\n\n"
            f"Write an updated summary in at most four sentences, in the third person, keeping names, facts, "
            f"promises and feelings that {self.char} should remember. Reply with the summary only."
        )
        output = await backend.generate(
            [Message(role="user", content=prompt)],
            GenerateConfig(temperature=0.2, max_tokens=self.settings.summary_max_tokens),
        )
        first = summary.first_turn if summary else pending[0].index
        return MemoryItem(kind="summary", content=output.text.strip(), first_turn=first, last_turn=pending[-1].index)
