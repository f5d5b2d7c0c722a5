"""A conversation with a persona: the message list sent to the backend, and the turns so far.

This is the minimal in-memory runtime; persistence, retrieval and the guard build on it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from pydantic import BaseModel

from personae.backends import Backend, GenerateConfig, Message
from personae.persona import Persona, expand_macros, render_system_prompt


class Turn(BaseModel):
    """One exchange: what the user said and what the character answered."""

    user: str
    """The user's message."""
    reply: str
    """The character's reply."""


class Conversation:
    """Holds a persona, a backend and the turns so far; builds the prompt for the next reply."""

    def __init__(
        self,
        persona: Persona,
        backend: Backend,
        user_name: str = "User",
        config: GenerateConfig | None = None,
        max_history_turns: int = 12,
    ) -> None:
        self.persona = persona
        self.backend = backend
        self.user_name = user_name
        self.config = config or GenerateConfig()
        self.max_history_turns = max_history_turns
        self.turns: list[Turn] = []
        self.system_prompt = render_system_prompt(persona, user_name=user_name)

    @property
    def greeting(self) -> str | None:
        """The persona's first greeting with macros expanded, if it has one."""
        if not self.persona.greetings:
            return None
        return expand_macros(self.persona.greetings[0], char=self.persona.name, user=self.user_name)

    def messages(self, user_text: str) -> list[Message]:
        """System prompt, the greeting, recent turns verbatim, then the new user message."""
        msgs = [Message(role="system", content=self.system_prompt)]
        if self.greeting and len(self.turns) < self.max_history_turns:
            msgs.append(Message(role="assistant", content=self.greeting))
        for turn in self.turns[-self.max_history_turns :]:
            msgs.append(Message(role="user", content=turn.user))
            msgs.append(Message(role="assistant", content=turn.reply))
        msgs.append(Message(role="user", content=user_text))
        return msgs

    async def reply(self, user_text: str) -> str:
        """Generate the character's reply to `user_text` and record the turn."""
        output = await self.backend.generate(self.messages(user_text), self.config)
        text = output.text.strip()
        self.turns.append(Turn(user=user_text, reply=text))
        return text

    async def stream_reply(self, user_text: str) -> AsyncIterator[str]:
        """Stream the reply to `user_text`; the turn is recorded once the stream completes."""
        parts: list[str] = []
        async for piece in self.backend.stream(self.messages(user_text), self.config):
            parts.append(piece)
            yield piece
        self.turns.append(Turn(user=user_text, reply="".join(parts).strip()))
