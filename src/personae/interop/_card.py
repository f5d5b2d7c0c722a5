"""Character Card V1/V2/V3 and lorebooks ↔ `Persona`, losslessly.

Everything the persona model has no field for (creator notes, tags, the original description text, unknown
fields, card extensions) is kept in `Persona.extensions["chara_card"]`; lorebook and entry fields without a
model counterpart are kept in their `extensions["chara_card"]`. Writing a card starts from that kept data
and overlays what the persona says, so an unedited persona writes back the card it came from. `null` is
treated as absent, and spec fields holding their default ("" / [] / {}) are not stored, so the same card
read from V2 or V3 gives the same persona.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from personae._util.hashing import content_hash
from personae.interop._text import extract_statements
from personae.persona import (
    DialogueLine,
    Lorebook,
    LorebookEntry,
    Persona,
    PersonaFormatError,
    persona_from_data,
)

KEEP = "chara_card"
"""Key under which card data without a persona field is kept in `extensions`."""
PERSONA_EXT = "personae"
"""Key inside the card's `data.extensions` carrying persona fields that cards lack (traits, goals, ...)."""

V1_FIELDS = ("name", "description", "personality", "scenario", "first_mes", "mes_example")
_V2_STRINGS = (
    *V1_FIELDS,
    *("creator_notes", "system_prompt", "post_history_instructions", "creator", "character_version"),
)
_V2_LISTS = ("alternate_greetings", "tags")
_V3_LISTS = ("group_only_greetings",)
_TEXT_FIELDS = ("description", "personality", "scenario")
_PERSONA_ONLY = ("id", "summary", "traits", "speaking_style", "knowledge_boundary", "relationships", "goals")

_SPEC_VERSION = {"chara_card_v2": "2.0", "chara_card_v3": "3.0"}
Extractor = Callable[[str, str], list[str]]
"""(text, character name) → statements."""

Source = Path | str | None


def _err(source: Source, field: str, reason: str) -> PersonaFormatError:
    return PersonaFormatError(source, reason, field=field)


def _drop_null(obj: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in obj.items() if v is not None}


def _is_default(key: str, value: Any) -> bool:
    if key in _V2_STRINGS:
        return bool(value == "")
    if key in (*_V2_LISTS, *_V3_LISTS):
        return bool(value == [])
    return key == "extensions" and value == {}


def _str(obj: dict[str, Any], key: str, source: Source, where: str) -> str:
    value = obj.get(key, "")
    if not isinstance(value, str):
        raise _err(source, f"{where}{key}", "expected a string")
    return value


def _str_list(obj: dict[str, Any], key: str, source: Source, where: str) -> list[str]:
    value = obj.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _err(source, f"{where}{key}", "expected a list of strings")
    return list(value)


def _dict(obj: dict[str, Any], key: str, source: Source, where: str) -> dict[str, Any]:
    value = obj.get(key, {})
    if not isinstance(value, dict):
        raise _err(source, f"{where}{key}", "expected a mapping")
    return dict(value)


def _int(obj: dict[str, Any], key: str, source: Source, where: str) -> int | None:
    value = obj.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value != int(value):
        raise _err(source, f"{where}{key}", "expected an integer")
    return int(value)


def _bool(obj: dict[str, Any], key: str, default: bool, source: Source, where: str) -> bool:
    value = obj.get(key)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise _err(source, f"{where}{key}", "expected true or false")
    return value


# ---------------------------------------------------------------- lorebooks

_ENTRY_ALWAYS = ("keys", "content", "extensions", "enabled", "insertion_order", "constant")
_ENTRY_OPTIONAL: dict[str, Any] = {"case_sensitive": False, "name": None, "priority": 0, "secondary_keys": []}


def entry_from_card(raw: Any, source: Source, where: str) -> LorebookEntry:
    """One `character_book` entry → `LorebookEntry`, unknown and unmapped fields kept in its extensions."""
    if not isinstance(raw, dict):
        raise _err(source, where.rstrip("."), "expected a mapping")
    raw = _drop_null(raw)
    extensions = _dict(raw, "extensions", source, where)
    keep = {k: v for k, v in raw.items() if k not in _ENTRY_ALWAYS and k not in _ENTRY_OPTIONAL}
    if keep.get("use_regex") is False:
        del keep["use_regex"]
    for key, default in _ENTRY_OPTIONAL.items():
        if key in raw and raw[key] == default:
            keep[key] = raw[key]  # remember that the card spelled out the default
    name = raw.get("name")
    if name is not None and not isinstance(name, str):
        raise _err(source, f"{where}name", "expected a string")
    if keep:
        extensions[KEEP] = keep
    fields = {
        "keys": _str_list(raw, "keys", source, where),
        "content": _str(raw, "content", source, where),
        "secondary_keys": _str_list(raw, "secondary_keys", source, where),
        "constant": _bool(raw, "constant", False, source, where),
        "priority": _int(raw, "priority", source, where) or 0,
        "insertion_order": _int(raw, "insertion_order", source, where) or 0,
        "enabled": _bool(raw, "enabled", True, source, where),
        "case_sensitive": _bool(raw, "case_sensitive", False, source, where),
        "name": name,
        "extensions": extensions,
    }
    try:
        return LorebookEntry.model_validate(fields)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        at = ".".join(str(p) for p in first["loc"])
        reason = first["msg"].removeprefix("Value error, ")
        raise _err(source, f"{where}{at}" if at else where.rstrip("."), reason) from None


def entry_to_card(entry: LorebookEntry, v3: bool) -> dict[str, Any]:
    """`LorebookEntry` → a `character_book` entry, restoring kept fields."""
    extensions = dict(entry.extensions)
    keep: dict[str, Any] = dict(extensions.pop(KEEP, None) or {})
    out: dict[str, Any] = {
        "keys": list(entry.keys),
        "content": entry.content,
        "extensions": extensions,
        "enabled": entry.enabled,
        "insertion_order": entry.insertion_order,
        "constant": entry.constant,
    }
    for key, default in _ENTRY_OPTIONAL.items():
        value = getattr(entry, key)
        value = list(value) if isinstance(value, list) else value
        if value != default or key in keep:
            out[key] = value
    out.update({k: v for k, v in keep.items() if k not in out and k not in _ENTRY_OPTIONAL})
    if v3:
        out.setdefault("use_regex", False)
    return out


def lorebook_from_card(raw: Any, source: Source, where: str = "character_book.") -> Lorebook:
    """A V2/V3 `character_book` (or the `data` of a `lorebook_v3` file) → `Lorebook`."""
    if not isinstance(raw, dict):
        raise _err(source, where.rstrip("."), "expected a mapping")
    raw = _drop_null(raw)
    entries_raw = raw.get("entries", [])
    if not isinstance(entries_raw, list):
        raise _err(source, f"{where}entries", "expected a list")
    mapped = ("name", "description", "scan_depth", "token_budget", "entries", "extensions")
    extensions = _dict(raw, "extensions", source, where)
    keep = {k: v for k, v in raw.items() if k not in mapped}
    if keep:
        extensions[KEEP] = keep
    for key in ("name", "description"):
        _str(raw, key, source, where)
    scan_depth = _int(raw, "scan_depth", source, where)
    token_budget = _int(raw, "token_budget", source, where)
    for key, value in (("scan_depth", scan_depth), ("token_budget", token_budget)):
        if value is not None and value < 0:
            raise _err(source, f"{where}{key}", "must not be negative")
    return Lorebook(
        name=raw.get("name"),
        description=raw.get("description"),
        scan_depth=scan_depth,
        token_budget=token_budget,
        entries=[entry_from_card(e, source, f"{where}entries[{i}].") for i, e in enumerate(entries_raw)],
        extensions=extensions,
    )


def lorebook_to_card(book: Lorebook, v3: bool) -> dict[str, Any]:
    """`Lorebook` → a V2/V3 `character_book` object."""
    extensions = dict(book.extensions)
    keep: dict[str, Any] = dict(extensions.pop(KEEP, None) or {})
    out: dict[str, Any] = {**keep, "extensions": extensions, "entries": [entry_to_card(e, v3) for e in book.entries]}
    for key in ("name", "description", "scan_depth", "token_budget"):
        value = getattr(book, key)
        if value is not None:
            out[key] = value
    return out


_WI_MAPPED = ("key", "keysecondary", "content", "constant", "order", "disable", "comment", "caseSensitive")


def lorebook_from_world_info(raw: dict[str, Any], source: Source, name: str | None) -> Lorebook:
    """SillyTavern World Info JSON (`{"entries": {"0": {...}}}`) → `Lorebook`; ST-only fields kept per entry."""
    entries_raw = raw.get("entries")
    items = list(entries_raw.values()) if isinstance(entries_raw, dict) else entries_raw
    if not isinstance(items, list):
        raise _err(source, "entries", "expected a mapping or list of entries")
    entries: list[LorebookEntry] = []
    for index, item in enumerate(items):
        where = f"entries[{index}]."
        if not isinstance(item, dict):
            raise _err(source, where.rstrip("."), "expected a mapping")
        item = _drop_null(item)
        keep = {k: v for k, v in item.items() if k not in _WI_MAPPED}
        comment = _str(item, "comment", source, where)
        card = {
            "keys": item.get("key", []),
            "secondary_keys": item.get("keysecondary", []),
            "content": item.get("content", ""),
            "constant": item.get("constant", False),
            "insertion_order": item.get("order", 100),
            "enabled": not _bool(item, "disable", False, source, where),
            "name": comment or None,
            "extensions": {"world_info": keep} if keep else {},
        }
        if "caseSensitive" in item:
            card["case_sensitive"] = item["caseSensitive"]
        entries.append(entry_from_card(card, source, where))
    extra = {k: v for k, v in raw.items() if k != "entries"}
    return Lorebook(name=name, entries=entries, extensions={"world_info": extra} if extra else {})


# ---------------------------------------------------------------- example dialogues


def parse_mes_example(text: str, name: str) -> list[list[DialogueLine]]:
    """`<START>`-separated example chats → dialogues: `{{user}}:` lines are the user, `{{char}}:`/name lines the char.

    Text outside any speaker line is appended to the previous line; a block with no speaker line is skipped
    (the original text stays kept alongside).
    """
    dialogues: list[list[DialogueLine]] = []
    blocks = [b for b in _split_start(text) if b.strip()]
    user_tags = ("{{user}}:", "<user>:")
    char_tags = ("{{char}}:", "<bot>:", f"{name.lower()}:")
    for block in blocks:
        lines: list[DialogueLine] = []
        for raw_line in block.strip().split("\n"):
            line = raw_line.rstrip("\r")
            lower = line.lower().lstrip()
            tag = next((t for t in user_tags if lower.startswith(t)), None)
            role = "user"
            if tag is None:
                tag = next((t for t in char_tags if lower.startswith(t)), None)
                role = "char"
            if tag is not None:
                content = line.lstrip()[len(tag) :].strip()
                lines.append(DialogueLine(role="user" if role == "user" else "char", content=content))
            elif lines:
                lines[-1] = DialogueLine(role=lines[-1].role, content=f"{lines[-1].content}\n{line}".rstrip())
        if lines:
            dialogues.append(lines)
    return dialogues


def _split_start(text: str) -> list[str]:
    parts: list[str] = []
    lower = text.lower()
    start = 0
    while True:
        found = lower.find("<start>", start)
        if found == -1:
            parts.append(text[start:])
            return parts
        parts.append(text[start:found])
        start = found + len("<start>")


def render_mes_example(dialogues: list[list[DialogueLine]]) -> str:
    """Dialogues → the `<START>`-separated `mes_example` text."""
    blocks = []
    for dialogue in dialogues:
        lines = [f"{'{{user}}' if line.role == 'user' else '{{char}}'}: {line.content}" for line in dialogue]
        blocks.append("<START>\n" + "\n".join(lines))
    return "\n".join(blocks)


# ---------------------------------------------------------------- cards


def _hash(value: Any) -> str:
    return content_hash(value)[len("sha256:") :][:16]


def card_kind(obj: Any) -> str:
    """`chara_card_v3`, `chara_card_v2`, `chara_card_v1`, `lorebook_v3`, `world_info` or `unknown`."""
    if not isinstance(obj, dict):
        return "unknown"
    spec = obj.get("spec")
    if spec in ("chara_card_v2", "chara_card_v3", "lorebook_v3"):
        return str(spec)
    if isinstance(spec, str) and spec.startswith("chara_card"):
        return "chara_card_unsupported"
    if spec is None and isinstance(obj.get("name"), str) and any(k in obj for k in V1_FIELDS[1:]):
        return "chara_card_v1"
    if spec is None and "entries" in obj and isinstance(obj["entries"], dict | list):
        return "world_info"
    return "unknown"


def persona_from_card(obj: Any, source: Source = None, extract: Extractor = extract_statements) -> Persona:
    """A parsed V1, V2 or V3 card → `Persona` (`extract` turns description/personality/scenario into statements)."""
    kind = card_kind(obj)
    if kind not in ("chara_card_v1", "chara_card_v2", "chara_card_v3"):
        spec = obj.get("spec") if isinstance(obj, dict) else None
        what = f"unknown card spec {spec!r}" if isinstance(spec, str) else "not a character card"
        raise PersonaFormatError(source, what)
    assert isinstance(obj, dict)
    data_raw: Any
    if kind == "chara_card_v1":
        data_raw = {k: v for k, v in obj.items() if k in (*_V2_STRINGS, *_V2_LISTS, "extensions", "character_book")}
        wrapper = {k: v for k, v in obj.items() if k not in data_raw}
        where = ""
    else:
        data_raw = obj.get("data")
        if not isinstance(data_raw, dict):
            raise _err(source, "data", "expected a mapping")
        wrapper = {k: v for k, v in obj.items() if k not in ("spec", "spec_version", "data", *V1_FIELDS)}
        where = "data."
    data = _drop_null(data_raw)
    wrapper = _drop_null(wrapper)
    name = _str(data, "name", source, where).strip()
    if not name:
        raise _err(source, f"{where}name", "the card has no name")
    for key in _V2_STRINGS:
        _str(data, key, source, where)
    for key in (*_V2_LISTS, *_V3_LISTS):
        if key in data:
            _str_list(data, key, source, where)
    extensions = _dict(data, "extensions", source, where)
    native = extensions.pop(PERSONA_EXT, None)

    texts = [data.get(k, "") for k in _TEXT_FIELDS]
    personality = texts[1].strip()
    if personality and name.lower() not in personality.lower() and not personality.rstrip().endswith((".", "!", "?")):
        texts[1] = f"{name}'s personality: {personality}."  # a bare list of adjectives, as editors usually hold
    statements: list[str] = []
    for text in texts:
        for statement in extract(text, name) if text.strip() else []:
            if statement not in statements:
                statements.append(statement)
    first = data.get("first_mes", "")
    alternates = data.get("alternate_greetings", [])
    greetings = ([first] if first else []) + alternates
    dialogues = parse_mes_example(data.get("mes_example", ""), name)
    lorebook = None
    if "character_book" in data:
        lorebook = lorebook_from_card(data["character_book"], source, f"{where}character_book.")

    keep_data = {
        k: v
        for k, v in data.items()
        if k not in ("name", "first_mes", "alternate_greetings", "character_book", "extensions")
        and not _is_default(k, v)
    }
    if not first and alternates:
        keep_data["first_mes"] = ""
    if extensions:
        keep_data["extensions"] = extensions
    kept: dict[str, Any] = {
        "data": keep_data,
        "derived": {
            "statements": _hash(statements),
            "dialogues": _hash([[line.model_dump() for line in d] for d in dialogues]),
        },
    }
    if wrapper:
        kept["wrapper"] = wrapper
    version = obj.get("spec_version")
    if kind != "chara_card_v1" and version is not None and version != _SPEC_VERSION[kind]:
        kept["spec_version"] = {kind: version}  # e.g. a newer 3.x card: written back with its own version
    fields: dict[str, Any] = {}
    if isinstance(native, dict):
        fields = {k: v for k, v in native.items() if k in _PERSONA_ONLY or (k == "extensions" and isinstance(v, dict))}
        unknown = {k: v for k, v in native.items() if k not in fields}
        if unknown:
            kept["data"].setdefault("extensions", {})[PERSONA_EXT] = unknown
    elif native is not None:
        kept["data"].setdefault("extensions", {})[PERSONA_EXT] = native
    persona_extensions = dict(fields.pop("extensions", None) or {})
    persona_extensions[KEEP] = kept
    return persona_from_data(
        {
            **fields,
            "name": name,
            "statements": statements,
            "greetings": greetings,
            "example_dialogues": [[line.model_dump() for line in d] for d in dialogues],
            "lorebook": lorebook.model_dump() if lorebook is not None else None,
            "extensions": persona_extensions,
        },
        source,
    )


def _spec_version(persona: Persona, spec: str) -> Any:
    """The version to write for `spec`: the one the card was read with, if it was not the default."""
    kept = persona.extensions.get(KEEP)
    versions = kept.get("spec_version") if isinstance(kept, dict) else None
    return versions.get(spec, _SPEC_VERSION[spec]) if isinstance(versions, dict) else _SPEC_VERSION[spec]


def _card_data(persona: Persona, v3: bool) -> tuple[dict[str, Any], dict[str, Any]]:
    """The `data` object of a card for `persona`, and the kept top-level wrapper fields."""
    stored = persona.extensions.get(KEEP)
    kept: dict[str, Any] = copy.deepcopy(stored) if isinstance(stored, dict) else {}
    keep_data: dict[str, Any] = kept["data"] if isinstance(kept.get("data"), dict) else {}
    derived: dict[str, Any] = kept["derived"] if isinstance(kept.get("derived"), dict) else {}
    wrapper: dict[str, Any] = kept["wrapper"] if isinstance(kept.get("wrapper"), dict) else {}

    data: dict[str, Any] = {k: "" for k in _V2_STRINGS}
    data.update({k: [] for k in _V2_LISTS})
    if v3:
        data.update({k: [] for k in _V3_LISTS})
    data["extensions"] = {}
    data.update(keep_data)
    data["name"] = persona.name
    if derived.get("statements") != _hash(list(persona.statements)):
        data["description"] = "\n".join(persona.statements)
        data["personality"] = ""
        data["scenario"] = ""
    dialogues = [[line.model_dump() for line in d] for d in persona.example_dialogues]
    if derived.get("dialogues") != _hash(dialogues):
        data["mes_example"] = render_mes_example(persona.example_dialogues)
    if keep_data.get("first_mes") == "" and persona.greetings:
        data["first_mes"], data["alternate_greetings"] = "", list(persona.greetings)
    else:
        data["first_mes"] = persona.greetings[0] if persona.greetings else ""
        data["alternate_greetings"] = list(persona.greetings[1:])
    if persona.lorebook is not None:
        data["character_book"] = lorebook_to_card(persona.lorebook, v3)
    extensions = dict(data["extensions"]) if isinstance(data["extensions"], dict) else {}
    native = persona.model_dump(mode="json", include=set(_PERSONA_ONLY), exclude_none=True, exclude_defaults=True)
    other_ext = {k: v for k, v in persona.extensions.items() if k != KEEP}
    if other_ext:
        native["extensions"] = other_ext
    if native:
        earlier = extensions.get(PERSONA_EXT)
        # The key is personae's own namespace: a non-mapping found there is replaced, not merged.
        extensions[PERSONA_EXT] = {**earlier, **native} if isinstance(earlier, dict) else native
    data["extensions"] = extensions
    return data, wrapper


def card_v2(persona: Persona) -> dict[str, Any]:
    """A `chara_card_v2` object for `persona`, with the V1 fields mirrored at the top level for V1 readers."""
    data, wrapper = _card_data(persona, v3=False)
    mirror = {k: data[k] for k in V1_FIELDS}
    version = _spec_version(persona, "chara_card_v2")
    return {**wrapper, **mirror, "spec": "chara_card_v2", "spec_version": version, "data": data}


def card_v3(persona: Persona) -> dict[str, Any]:
    """A `chara_card_v3` object for `persona`."""
    data, wrapper = _card_data(persona, v3=True)
    version = _spec_version(persona, "chara_card_v3")
    return {**wrapper, "spec": "chara_card_v3", "spec_version": version, "data": data}


def lorebook_v3(book: Lorebook) -> dict[str, Any]:
    """A standalone `lorebook_v3` object."""
    return {"spec": "lorebook_v3", "data": lorebook_to_card(book, v3=True)}
