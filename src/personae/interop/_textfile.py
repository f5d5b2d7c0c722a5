"""Plain text, Markdown and wiki pages → `Persona` (name from the option, the first heading, or the file name)."""

from __future__ import annotations

import re
from pathlib import Path

from personae.interop._card import Extractor
from personae.interop._text import strip_wiki
from personae.persona import Persona, PersonaFormatError, persona_from_data

_HEADING = re.compile(r"^\s*(?:#+\s*(?P<md>.+?)\s*#*|(?P<eq>=+)\s*(?P<wiki>[^=]+?)\s*(?P=eq))\s*$")


def persona_from_text(data: bytes, source: Path | str, extract: Extractor, name: str | None = None) -> Persona:
    """Statements extracted from the whole text, for the character `name`."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise PersonaFormatError(source, f"not UTF-8 text (byte {exc.start})") from None
    if name is None:
        for line in text.splitlines():
            match = _HEADING.match(line)
            if match:
                name = (match.group("md") or match.group("wiki") or "").strip()
                break
            if line.strip():
                break
    name = name or Path(str(source)).stem.replace("_", " ").strip()
    statements = extract(strip_wiki(text), name)
    if not statements:
        raise PersonaFormatError(source, "no statements found in the text")
    return persona_from_data({"name": name, "statements": statements}, source)
