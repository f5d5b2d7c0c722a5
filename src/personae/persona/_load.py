"""Reading and writing persona files (YAML or JSON) with errors that name the file and the field."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from pydantic_core import ErrorDetails

from personae._util.loading import DataFormatError, load_text
from personae.persona._errors import PersonaFormatError
from personae.persona._model import Persona

MAX_PERSONA_BYTES = 10 * 1024 * 1024
"""Persona files larger than this are refused before parsing."""

_FRIENDLY: dict[str, str] = {
    "string_type": "expected a string",
    "list_type": "expected a list",
    "dict_type": "expected a mapping",
    "model_type": "expected a mapping",
    "missing": "required field is missing",
    "int_type": "expected an integer",
    "int_parsing": "expected an integer",
    "float_type": "expected a number",
    "float_parsing": "expected a number",
    "bool_type": "expected true or false",
    "bool_parsing": "expected true or false",
    "extra_forbidden": "unknown field",
    "string_too_short": "must not be empty",
}


def format_location(loc: Sequence[int | str]) -> str:
    """Render a pydantic error location as a field path such as ``lorebook.entries[2].keys``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out


def _reason(error: ErrorDetails) -> str:
    friendly = _FRIENDLY.get(error["type"])
    if friendly:
        return friendly
    msg = error["msg"]
    return msg.removeprefix("Value error, ")


def persona_from_data(data: Any, source: Path | str | None = None) -> Persona:
    """Validate already-parsed data into a `Persona`, raising `PersonaFormatError` on the first problem."""
    if not isinstance(data, dict):
        kind = "empty" if data is None else type(data).__name__
        raise PersonaFormatError(source, f"expected a mapping at the top level, got {kind}")
    try:
        return Persona.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        first = errors[0]
        more = f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})" if len(errors) > 1 else ""
        raise PersonaFormatError(source, _reason(first) + more, field=format_location(first["loc"])) from None


def parse_persona_text(
    text: str | bytes, source: Path | str | None = None, fmt: str | None = None, aliases: bool = True
) -> Persona:
    """Parse YAML or JSON text (JSON is valid YAML, so YAML is the default parser) with the bounded loader.

    `aliases=False` refuses YAML aliases (uploads: a few hundred bytes of nested aliases expand to gigabytes).
    """
    try:
        data = load_text(
            text, source, kind="json" if fmt == "json" else "yaml", aliases=aliases, max_bytes=MAX_PERSONA_BYTES
        )
    except DataFormatError as exc:
        raise PersonaFormatError(source, exc.reason, field=exc.field) from None
    return persona_from_data(data, source)


def load_persona(path: Path | str) -> Persona:
    """Load a persona from a `.yaml`, `.yml` or `.json` file."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_PERSONA_BYTES:
            raise PersonaFormatError(path, f"file is {size} bytes, over the {MAX_PERSONA_BYTES}-byte limit")
        data = path.read_bytes()
    except OSError as exc:
        raise PersonaFormatError(path, f"cannot read file: {exc.strerror or exc}") from None
    fmt = "json" if path.suffix.lower() == ".json" else None
    return parse_persona_text(data, path, fmt)


def dump_persona(persona: Persona, path: Path | str) -> None:
    """Write a persona as YAML (or JSON when the suffix is `.json`), leaving out empty optional fields."""
    path = Path(path)
    data = persona.model_dump(mode="json", exclude_none=True, exclude_defaults=True)
    data = {"name": persona.name, "statements": list(persona.statements), **data}
    if path.suffix.lower() == ".json":
        path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    else:
        path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100), encoding="utf-8")
