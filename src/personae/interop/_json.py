"""Bounded JSON parsing: every failure becomes a `PersonaFormatError` naming the file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from personae.interop._limits import MAX_JSON_DEPTH, MAX_TEXT_BYTES
from personae.persona import PersonaFormatError


def _depth(text: str) -> int:
    """Deepest bracket nesting outside strings (cheap pre-check before handing text to the recursive parser)."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def parse_json(data: bytes | str, source: Path | str | None, what: str = "JSON") -> Any:
    """Decode UTF-8 (with or without BOM) and parse JSON, refusing oversized or absurdly nested input."""
    if len(data) > MAX_TEXT_BYTES:
        raise PersonaFormatError(source, f"{what} is {len(data)} bytes, over the {MAX_TEXT_BYTES}-byte limit")
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise PersonaFormatError(source, f"{what} is not UTF-8 text (byte {exc.start})") from None
    else:
        text = data
    if _depth(text) > MAX_JSON_DEPTH:
        raise PersonaFormatError(source, f"{what} nests deeper than {MAX_JSON_DEPTH} levels")
    try:
        value = json.loads(text, parse_constant=_reject_constant)
        json.dumps(value, ensure_ascii=False).encode("utf-8")
        return value
    except UnicodeEncodeError:
        raise PersonaFormatError(source, f"{what} holds a lone surrogate escape (not valid Unicode)") from None
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno} column {exc.colno}"
        raise PersonaFormatError(source, f"not valid {what}: {exc.msg} at {where}") from None
    except (RecursionError, ValueError) as exc:
        raise PersonaFormatError(source, f"not valid {what}: {exc}") from None
