"""Reading any supported file into personas or lorebooks, and writing personas as cards.

Files are recognised by content (PNG signature, zip signature, JSON shape), not by suffix alone.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from personae.interop._card import (
    Extractor,
    card_kind,
    card_v2,
    card_v3,
    lorebook_from_card,
    lorebook_from_world_info,
    persona_from_card,
)
from personae.interop._charx import read_charx, write_charx
from personae.interop._importers import registered_importers
from personae.interop._json import parse_json
from personae.interop._limits import read_limited
from personae.interop._personagym import personas_from_personagym
from personae.interop._png import PNG_SIGNATURE, blank_png, read_text_chunks, write_text_chunks
from personae.interop._text import extract_statements
from personae.interop._textfile import persona_from_text
from personae.interop._tinytroupe import is_tinytroupe, persona_from_tinytroupe
from personae.persona import Lorebook, Persona, PersonaFormatError

CARD_IMAGE = "card.png"
"""Asset name under which the picture of a PNG card is kept (its card chunks removed)."""
_CARD_KEYWORDS = frozenset({"ccv3", "chara"})


@dataclass
class Imported:
    """What one input file held: personas, standalone lorebooks, and asset files by relative path."""

    source: str
    personas: list[Persona] = field(default_factory=list)
    lorebooks: list[Lorebook] = field(default_factory=list)
    assets: dict[str, bytes] = field(default_factory=dict)


def _decode_card_text(raw: bytes, source: Path | str, keyword: str) -> Any:
    """A card chunk's value: base64 of UTF-8 JSON per the specs; plain JSON is accepted too."""
    stripped = raw.strip()
    if stripped.startswith(b"{"):
        return parse_json(stripped, source, f"PNG '{keyword}' chunk JSON")
    try:
        decoded = base64.b64decode(stripped, validate=False)
    except (binascii.Error, ValueError) as exc:
        raise PersonaFormatError(source, f"PNG '{keyword}' chunk is not base64: {exc}") from None
    return parse_json(decoded, source, f"PNG '{keyword}' chunk JSON")


def card_from_png(data: bytes, source: Path | str) -> Any:
    """The card object embedded in a PNG, preferring `ccv3` over `chara` when both are present."""
    chunks = read_text_chunks(data, source, _CARD_KEYWORDS)
    for keyword in ("ccv3", "chara"):
        if keyword in chunks:
            return _decode_card_text(chunks[keyword], source, keyword)
    raise PersonaFormatError(source, "PNG has no character card (no 'chara' or 'ccv3' text chunk)")


def read_bytes(
    data: bytes,
    source: Path | str,
    *,
    extract: Extractor = extract_statements,
    fragments: Sequence[Any] = (),
    name: str | None = None,
) -> Imported:
    """Recognise and read one file's content; every problem is a `PersonaFormatError` naming `source`.

    Importers that plugins registered are asked first (see `personae.plugins`), then the built-in formats.
    """
    for importer_name, importer in registered_importers():
        found = importer(data, source, extract)
        if found is not None:
            if not isinstance(found, Imported):
                raise TypeError(f"importer '{importer_name}' returned {type(found).__name__}, not Imported or None")
            return found
    result = Imported(source=str(source))
    suffix = Path(str(source)).suffix.lower()
    if data.startswith(PNG_SIGNATURE):
        card = card_from_png(data, source)
        result.personas.append(persona_from_card(card, source, extract))
        result.assets[CARD_IMAGE] = write_text_chunks(data, {}, source, drop=_CARD_KEYWORDS)
        return result
    if suffix in (".png", ".apng"):
        raise PersonaFormatError(source, "not a PNG file (bad signature)")
    if data.startswith(b"PK\x03\x04") or data.startswith(b"PK\x05\x06") or suffix == ".charx":
        card, assets = read_charx(data, source)
        result.personas.append(persona_from_card(card, source, extract))
        result.assets.update(assets)
        return result
    if suffix == ".jsonl":
        result.personas.extend(personas_from_personagym(data, source, extract))
        return result
    if suffix in (".txt", ".md", ".wiki", ".text", ".mediawiki"):
        result.personas.append(persona_from_text(data, source, extract, name))
        return result
    obj = parse_json(data, source)
    kind = card_kind(obj)
    if kind.startswith("chara_card"):
        result.personas.append(persona_from_card(obj, source, extract))
    elif kind == "lorebook_v3":
        assert isinstance(obj, dict)
        result.lorebooks.append(lorebook_from_card(obj.get("data"), source, "data."))
    elif kind == "world_info":
        assert isinstance(obj, dict)
        book_name = obj.get("name") if isinstance(obj.get("name"), str) else Path(str(source)).stem
        result.lorebooks.append(lorebook_from_world_info(obj, source, book_name))
    elif is_tinytroupe(obj):
        result.personas.append(persona_from_tinytroupe(obj, source, fragments))
    else:
        raise PersonaFormatError(source, "not a recognised format (character card, lorebook, TinyTroupe agent)")
    return result


def read_file(
    path: Path | str,
    *,
    extract: Extractor = extract_statements,
    fragments: Sequence[Path | str] = (),
    name: str | None = None,
) -> Imported:
    """Read a character card (JSON, PNG, CHARX), lorebook, TinyTroupe agent, PersonaGym JSONL or text file."""
    path = Path(path)
    fragment_objs = [parse_json(read_limited(f), f) for f in fragments]
    return read_bytes(read_limited(path), path, extract=extract, fragments=fragment_objs, name=name)


def card_png(persona: Persona, image: bytes | None = None, image_source: Path | str = "image") -> bytes:
    """A PNG with the persona as both a V2 (`chara`) and a V3 (`ccv3`) card; `image` is kept byte for byte.

    A malformed `image` raises `PersonaFormatError` naming `image_source`.
    """
    texts = {
        "chara": _b64(card_v2(persona)),
        "ccv3": _b64(card_v3(persona)),
    }
    return write_text_chunks(image if image is not None else blank_png(), texts, image_source)


def card_json(persona: Persona) -> str:
    """The persona as a V3 card JSON text."""
    return json.dumps(card_v3(persona), ensure_ascii=False, indent=2) + "\n"


def card_charx(persona: Persona, assets: dict[str, bytes] | None = None) -> bytes:
    """The persona as a CHARX archive with `assets`."""
    return write_charx(card_v3(persona), dict(assets or {}))


def _b64(card: dict[str, Any]) -> str:
    return base64.b64encode(json.dumps(card, ensure_ascii=False).encode("utf-8")).decode("ascii")
