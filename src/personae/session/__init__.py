"""Role-play sessions: persisted conversations with a persona, guarded replies, swipes and explanations."""

from personae.session._session import ChatSession, Explanation, ScoringModels, SessionSettings, ShownTurns

__all__ = ["ChatSession", "Explanation", "ScoringModels", "SessionSettings", "ShownTurns"]
