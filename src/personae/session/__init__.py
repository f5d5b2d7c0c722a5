"""Role-play sessions: persisted conversations with a persona, guarded replies, swipes and explanations."""

from personae._util.deprecation import relocated
from personae.session._session import IMPORTED_REASON, ChatSession, Explanation, SessionSettings, ShownTurns

__all__ = ["IMPORTED_REASON", "ChatSession", "Explanation", "SessionSettings", "ShownTurns"]

# ScoringModels lived here until 0.2; it belongs to scoring.
__getattr__ = relocated(__name__, {"ScoringModels": "personae.scoring"}, removed_in="0.3")
