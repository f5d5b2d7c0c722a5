"""Built-in tasks; importing this package registers them."""

from personae.evals._tasks.faithfulness import FaithfulnessTask
from personae.evals._tasks.multi_turn import MultiTurnTask
from personae.evals._tasks.persona_gym import PersonaGymTask
from personae.evals._tasks.psychometric import PsychometricTask
from personae.evals._tasks.role_id import RoleIdTask

__all__ = ["FaithfulnessTask", "MultiTurnTask", "PersonaGymTask", "PsychometricTask", "RoleIdTask"]
