"""Cards the interop tests generate themselves (no third-party data), in every container the readers accept."""

from __future__ import annotations

import base64
import copy
import io
import json
import struct
import zipfile
import zlib
from typing import Any

from personae.interop import blank_png

SHARED_CARDS_REASON = "../shared/data/cards not present"


def v2_card() -> dict[str, Any]:
    """A complete V2 card with unknown fields at every level, V1 mirrors and a lorebook."""
    data: dict[str, Any] = {
        "name": "Mira Vale",
        "description": "Mira Vale is a lighthouse keeper on the island of Rook. She lives alone with a cat.\n"
        "Her father built the lighthouse.",
        "personality": "stubborn, kind, dry humour",
        "scenario": "{{user}} is shipwrecked on Rook during a storm.",
        "first_mes": "*Mira holds up a lantern.* You're soaked. Come in.",
        "mes_example": "<START>\n{{user}}: Who are you?\n{{char}}: The keeper. Who are you?\n"
        "<START>\n{{user}}: Do you get lonely?\n{{char}}: The cat disagrees.\nShe smiles.",
        "creator_notes": "Test card.",
        "system_prompt": "Write {{char}}'s next reply. {{original}}",
        "post_history_instructions": "Stay in character.",
        "alternate_greetings": ["*The lamp turns.* Another one washed up."],
        "tags": ["maritime", "slice of life"],
        "creator": "personae tests",
        "character_version": "1.2",
        "extensions": {"talkativeness": "0.5", "depth_prompt": {"prompt": "x", "depth": 4}, "acme/voice": [1, 2]},
        "character_book": {
            "name": "Rook",
            "scan_depth": 3,
            "recursive_scanning": False,
            "extensions": {"acme/book": True},
            "entries": [
                {
                    "id": 0,
                    "keys": ["lighthouse", "lamp"],
                    "secondary_keys": [],
                    "comment": "the light",
                    "content": "The Rook light has burned every night for 80 years.",
                    "constant": False,
                    "selective": False,
                    "insertion_order": 100,
                    "enabled": True,
                    "position": "before_char",
                    "extensions": {"position": 0, "probability": None, "useProbability": False},
                },
                {
                    "id": 1,
                    "keys": [],
                    "content": "Rook is a small island in a cold northern sea.",
                    "constant": True,
                    "priority": 5,
                    "insertion_order": 10,
                    "enabled": True,
                    "case_sensitive": True,
                    "name": "island",
                    "extensions": {},
                    "acme_unknown_entry_field": {"nested": [1, None]},
                },
            ],
        },
        "acme_unknown_data_field": "kept",
    }
    card: dict[str, Any] = {
        "spec": "chara_card_v2",
        "spec_version": "2.0",
        "data": data,
        "avatar": "none",
        "create_date": "2024-1-1",
        "fav": False,
    }
    for key in ("name", "description", "personality", "scenario", "first_mes", "mes_example"):
        card[key] = data[key]
    return card


def v3_card() -> dict[str, Any]:
    """The same character as a V3 card (V3-only fields added)."""
    card = copy.deepcopy(v2_card())
    data = card["data"]
    data.update({"nickname": "Keeper", "group_only_greetings": ["Everyone inside!"], "creation_date": 1700000000})
    data["assets"] = [{"type": "icon", "uri": "ccdefault:", "name": "main", "ext": "png"}]
    for entry in data["character_book"]["entries"]:
        entry["use_regex"] = False
    return {"spec": "chara_card_v3", "spec_version": "3.0", "data": data, "avatar": "none"}


def v1_card() -> dict[str, Any]:
    """A V1 card: the six flat fields only, plus an unknown one."""
    data = v2_card()["data"]
    card = {k: data[k] for k in ("name", "description", "personality", "scenario", "first_mes", "mes_example")}
    card["chat"] = "old-tool-field"
    return card


def _chunk(ctype: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + ctype + body + struct.pack(">I", zlib.crc32(ctype + body))


def text_chunk(keyword: str, value: bytes, kind: str = "tEXt") -> bytes:
    """A tEXt, zTXt or iTXt (compressed) chunk."""
    key = keyword.encode("latin-1") + b"\0"
    if kind == "tEXt":
        return _chunk(b"tEXt", key + value)
    if kind == "zTXt":
        return _chunk(b"zTXt", key + b"\0" + zlib.compress(value))
    return _chunk(b"iTXt", key + b"\x01\x00" + b"en\0" + b"\0" + zlib.compress(value))


def b64(card: dict[str, Any]) -> bytes:
    return base64.b64encode(json.dumps(card).encode("utf-8"))


def png_with(chunks: list[bytes], before_idat: bool = False) -> bytes:
    """A small PNG with extra `chunks` inserted after IDAT (default) or right after IHDR."""
    base = blank_png(8, 8)
    sig, rest = base[:8], base[8:]
    ihdr_end = 8 + 12 + 13
    ihdr, tail = rest[: ihdr_end - 8], rest[ihdr_end - 8 :]
    iend = _chunk(b"IEND", b"")
    body = tail[: -len(iend)]
    extra = b"".join(chunks)
    if before_idat:
        return sig + ihdr + extra + body + iend
    return sig + ihdr + body + extra + iend


def charx_with(card: Any, assets: dict[str, bytes] | None = None, raw_names: dict[str, bytes] | None = None) -> bytes:
    """A CHARX zip with `card.json` and assets; `raw_names` lets tests add unsafe member names."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("card.json", json.dumps(card))
        for name, content in (assets or {}).items():
            archive.writestr(name, content)
        for name, content in (raw_names or {}).items():
            info = zipfile.ZipInfo(name)
            archive.writestr(info, content)
    return buffer.getvalue()


def ztxt_bomb(inflated: int = 1 << 30) -> bytes:
    """A PNG whose `chara` zTXt chunk inflates to `inflated` bytes (1 GiB by default) of spaces."""
    compressor = zlib.compressobj(9)
    block = b" " * (1 << 20)
    parts = [compressor.compress(block) for _ in range(inflated // len(block))]
    parts.append(compressor.flush())
    return png_with([_chunk(b"zTXt", b"chara\0\0" + b"".join(parts))])


def tinytroupe_agent() -> dict[str, Any]:
    return {
        "type": "TinyPerson",
        "persona": {
            "name": "Nora Holt",
            "age": 41,
            "occupation": {"title": "Baker", "organization": "Holt & Sons", "description": "You run the ovens."},
            "style": "Warm and brisk.",
            "personality": {
                "traits": ["You are patient with apprentices."],
                "big_five": {"openness": "High. Curious.", "neuroticism": "Low. Calm.", "extraversion": "Medium."},
            },
            "preferences": {"interests": ["Sourdough"], "likes": ["Early mornings"], "dislikes": ["Waste"]},
            "skills": ["Proficient in laminated doughs."],
            "beliefs": ["Bread should be affordable."],
            "behaviors": {"general": ["Hums while kneading."], "routines": {"morning": ["Wakes at 3 AM."]}},
            "long_term_goals": ["Open a second shop."],
            "relationships": [{"name": "Sam", "description": "Your apprentice, eager but clumsy."}],
            "other_facts": ["You grew up above the bakery."],
        },
    }


def tinytroupe_fragment() -> dict[str, Any]:
    return {
        "type": "Fragment",
        "persona": {
            "preferences": {"likes": ["Early mornings", "Debates"]},
            "beliefs": ["Winning a debate is a matter of honour."],
            "behaviors": {"debate": ["Interrupts to make a point."]},
            "age": 42,
        },
    }
