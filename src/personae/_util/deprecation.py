"""Keeping moved names importable from their old place for a while, with a warning that says where they went."""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Callable, Mapping
from typing import Any


def relocated(module: str, moved: Mapping[str, str], removed_in: str) -> Callable[[str], Any]:
    """A module `__getattr__` that serves each name in `moved` from its new module, warning on every use.

    Args:
        module: The old module's name, e.g. `personae.session`.
        moved: Old attribute name → new module, e.g. `{"ScoringModels": "personae.scoring"}`.
        removed_in: The version that drops the old names, named in the warning.
    """

    def __getattr__(name: str) -> Any:
        new_module = moved.get(name)
        if new_module is None:
            raise AttributeError(f"module {module!r} has no attribute {name!r}")
        warnings.warn(
            f"{module}.{name} moved to {new_module}.{name}; import it from there "
            f"(the old name will be removed in {removed_in})",
            DeprecationWarning,
            stacklevel=2,
        )
        return getattr(importlib.import_module(new_module), name)

    return __getattr__
