"""Role-play sessions: conversations with a persona through a backend."""

from personae.session._conversation import Conversation, Turn

__all__ = ["Conversation", "Turn"]
