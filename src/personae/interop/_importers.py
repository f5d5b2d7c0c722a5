"""Persona importers added by plugins: each is asked first whether a file is in its format.

An importer is `importer(data, source, extract) -> Imported | None`: it returns None for content that is not its
format, so the next importer (and finally the built-in formats) gets the file.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from personae.interop._card import Extractor
from personae.plugins import Registry

if TYPE_CHECKING:
    from personae.interop._io import Imported

Importer = Callable[[bytes, "Path | str", Extractor], "Imported | None"]
"""`importer(data, source, extract)`: what the file holds, or None when the content is not this importer's format."""


def register_importer(name: str, importer: Importer) -> None:
    """Have `read_file` and `read_bytes` try `importer` (also a plugin's `register_importers` callback)."""
    _IMPORTERS.add(name, importer)


def _no_builtins(register: Callable[[str, Importer], object]) -> None:
    """The built-in formats are recognised by content in `read_bytes` itself, after every registered importer."""


_IMPORTERS: Registry[Importer] = Registry(
    "importer", "register_importers", builtins=_no_builtins, callback=register_importer
)


def list_importers() -> list[str]:
    """Names of the importers plugins (or `register_importer`) added."""
    return _IMPORTERS.names()


def registered_importers() -> list[tuple[str, Importer]]:
    """(name, importer) in the order they are tried."""
    return _IMPORTERS.items()
