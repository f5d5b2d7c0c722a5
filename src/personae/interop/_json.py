"""Bounded JSON parsing: every failure becomes a `PersonaFormatError` naming the file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from personae._util.loading import DataFormatError, load_text
from personae.interop._limits import MAX_JSON_DEPTH, MAX_TEXT_BYTES
from personae.persona import PersonaFormatError


def parse_json(data: bytes | str, source: Path | str | None, what: str = "JSON") -> Any:
    """Decode UTF-8 (with or without BOM) and parse JSON with the bounded loader (size, depth, duplicate keys)."""
    try:
        value = load_text(data, source, kind="json", max_depth=MAX_JSON_DEPTH, max_bytes=MAX_TEXT_BYTES)
        json.dumps(value, ensure_ascii=False).encode("utf-8")
        return value
    except UnicodeEncodeError:
        raise PersonaFormatError(source, f"{what} holds a lone surrogate escape (not valid Unicode)") from None
    except DataFormatError as exc:
        reason = exc.reason
        if reason.startswith("not valid JSON"):
            reason = f"not valid {what}" + reason.removeprefix("not valid JSON")
        else:
            reason = f"{what} {'is ' if reason.startswith('not ') else ''}{reason}"
        raise PersonaFormatError(source, reason, field=exc.field) from None
