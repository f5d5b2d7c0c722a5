"""How the CLI turns library errors into one-line messages and exit codes (no tracebacks for users)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import wraps
from typing import ParamSpec, TypeVar

import typer

from personae.backends import BackendError, BackendNotFoundError, BackendOptionError
from personae.persona import PersonaError
from personae.scoring import ScoringModelError
from personae.scoring.training import TrainingDataError
from personae.store import DatabaseOpenError, SessionNotFoundError, StoreError

P = ParamSpec("P")
R = TypeVar("R")

EXIT_USAGE = 2
"""Bad input: a malformed file or argument (the same code click uses for usage errors)."""
EXIT_FAILURE = 1
"""The work itself failed, e.g. a backend kept erroring after retries."""


def fail(message: str, code: int) -> typer.Exit:
    """Print `error: message` on stderr as one line and return the Exit to raise."""
    print(f"error: {' '.join(message.split())}", file=sys.stderr)
    return typer.Exit(code)


def user_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Decorate a command so that personae's own errors end it with a one-line message, not a traceback."""

    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except (PersonaError, TrainingDataError, SessionNotFoundError, DatabaseOpenError) as exc:
            raise fail(str(exc), EXIT_USAGE) from None
        except (BackendNotFoundError, BackendOptionError) as exc:  # a misspelt --backend or --backend-option
            raise fail(str(exc), EXIT_USAGE) from None
        except (BackendError, ScoringModelError, StoreError) as exc:
            raise fail(str(exc), EXIT_FAILURE) from None

    return wrapper
