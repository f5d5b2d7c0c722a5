"""personae: persona-driven role-playing agents that stay in character, measurably.

The names most programs need, importable from the top level:

    from personae import ChatSession, get_backend, load_persona

    chat = ChatSession.start(load_persona("ada.yaml"), get_backend("embedded"))
    turn = await chat.send("Fancy a bacon roll?")

Each name is loaded from its package (`personae.session`, `personae.backends`, ...) on first use, so
`import personae` stays cheap; the packages hold everything else.
"""

from __future__ import annotations

import importlib
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from personae.backends import GenerateConfig, Message, get_backend
    from personae.evals import load_spec, run_eval
    from personae.persona import Persona, load_persona
    from personae.scoring import APCScorer, ScoringModels, get_nli
    from personae.session import ChatSession, SessionSettings

try:
    __version__ = version("personae")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"

_HOME = {
    "Persona": "personae.persona",
    "load_persona": "personae.persona",
    "ChatSession": "personae.session",
    "SessionSettings": "personae.session",
    "GenerateConfig": "personae.backends",
    "Message": "personae.backends",
    "get_backend": "personae.backends",
    "APCScorer": "personae.scoring",
    "ScoringModels": "personae.scoring",
    "get_nli": "personae.scoring",
    "load_spec": "personae.evals",
    "run_eval": "personae.evals",
}
"""The package each top-level name comes from."""


def __getattr__(name: str) -> Any:
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_HOME})


__all__ = [
    "APCScorer",
    "ChatSession",
    "GenerateConfig",
    "Message",
    "Persona",
    "ScoringModels",
    "SessionSettings",
    "__version__",
    "get_backend",
    "get_nli",
    "load_persona",
    "load_spec",
    "run_eval",
]
