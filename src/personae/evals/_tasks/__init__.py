"""Built-in tasks, registered through the same `register` callback as plugins' tasks."""

from collections.abc import Callable

from personae.evals._task import Task
from personae.evals._tasks.bias import PersonaBiasTask
from personae.evals._tasks.faithfulness import FaithfulnessTask
from personae.evals._tasks.multi_turn import MultiTurnTask
from personae.evals._tasks.persona_gym import PersonaGymTask
from personae.evals._tasks.personalization import PersonalizationTask
from personae.evals._tasks.psychometric import PsychometricTask
from personae.evals._tasks.role_id import RoleIdTask

BUILTIN_TASKS: tuple[type[Task], ...] = (
    PersonaGymTask,
    FaithfulnessTask,
    PsychometricTask,
    MultiTurnTask,
    RoleIdTask,
    PersonaBiasTask,
    PersonalizationTask,
)
"""The tasks personae ships."""


def register_builtin(register: Callable[[type[Task]], object]) -> None:
    """Register the built-in tasks (the hook signature plugins implement as `register_tasks`)."""
    for task in BUILTIN_TASKS:
        register(task)


__all__ = [
    "BUILTIN_TASKS",
    "FaithfulnessTask",
    "MultiTurnTask",
    "PersonaBiasTask",
    "PersonaGymTask",
    "PersonalizationTask",
    "PsychometricTask",
    "RoleIdTask",
    "register_builtin",
]
