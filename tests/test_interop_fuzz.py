"""Seeded fuzzing of the importers: mutated PNG, JSON and CHARX inputs may only ever raise PersonaFormatError.

Mutations are both blind (bit flips, truncation, inserted and deleted bytes) and structure-aware (a card
whose JSON values are replaced by values of the wrong type, re-packed with valid CRCs and zip headers), so
that inputs get past the container checks and reach the card mapping. Every input that imports is exported
again, since an importable persona must also be writable.
"""

from __future__ import annotations

import copy
import io
import json
import random
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from helpers.cards import b64, charx_with, png_with, text_chunk, tinytroupe_agent, v1_card, v2_card, v3_card
from personae.interop import card_charx, card_png, card_v2, card_v3, persona_to_tinytroupe, read_bytes
from personae.persona import Persona, PersonaFormatError, dump_persona, load_persona

pytestmark = pytest.mark.slow  # thousands of mutated files per format

_ODD_VALUES: list[Any] = [
    None,
    0,
    -1,
    2**70,
    1.5,
    float("inf"),
    True,
    "",
    "x" * 3000,
    "{{char}} <START>\n{{user}}: hi",
    "\u0000\udcff",
    [],
    [None],
    [1, "a"],
    {},
    {"keys": None},
    {"entries": [{}]},
]
_SEEDS = [v1_card(), v2_card(), v3_card(), tinytroupe_agent()]


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            out.extend(_paths(value, (*prefix, key)))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            out.extend(_paths(value, (*prefix, index)))
    return out


def mutate_tree(rng: random.Random, card: Any) -> Any:
    """Replace, delete or add a few nodes of a card with values of unexpected types."""
    card = copy.deepcopy(card)
    for _ in range(rng.randint(1, 4)):
        paths = [p for p in _paths(card) if p]
        if not paths:
            return card
        path = rng.choice(paths)
        parent = card
        for part in path[:-1]:
            parent = parent[part]
        action = rng.random()
        value = copy.deepcopy(rng.choice(_ODD_VALUES))
        if action < 0.6:
            parent[path[-1]] = value
        elif action < 0.8 and isinstance(parent, dict):
            del parent[path[-1]]
        elif isinstance(parent, dict):
            parent[rng.choice(["spec", "data", "name", "character_book", "entries", "extensions", "zz"])] = value
        elif isinstance(parent, list):
            parent.insert(rng.randint(0, len(parent)), value)
    return card


def mutate_bytes(rng: random.Random, data: bytes) -> bytes:
    """Blind byte-level damage: flips, overwrites, inserts, deletes, truncation, duplicated slices."""
    buf = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        if not buf:
            break
        op = rng.randrange(6)
        pos = rng.randrange(len(buf))
        if op == 0:
            buf[pos] ^= 1 << rng.randrange(8)
        elif op == 1:
            buf[pos] = rng.choice([0, 0xFF, 0x7F, 0x80, rng.randrange(256)])
        elif op == 2:
            buf[pos:pos] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 16)))
        elif op == 3:
            del buf[pos : pos + rng.randint(1, 64)]
        elif op == 4:
            del buf[pos:]
        else:
            end = min(len(buf), pos + rng.randint(1, 256))
            buf[pos:pos] = buf[pos:end]
    return bytes(buf)


def _dumps(rng: random.Random, card: Any) -> bytes:
    try:
        return json.dumps(card, allow_nan=True).encode("utf-8", "surrogatepass")
    except (ValueError, TypeError):
        return b"{}"


def make_json(rng: random.Random) -> tuple[bytes, str]:
    card = mutate_tree(rng, rng.choice(_SEEDS)) if rng.random() < 0.7 else rng.choice(_SEEDS)
    data = _dumps(rng, card)
    if rng.random() < 0.5:
        data = mutate_bytes(rng, data)
    return data, "fuzz.json"


def make_png(rng: random.Random) -> tuple[bytes, str]:
    card = mutate_tree(rng, rng.choice(_SEEDS[:3])) if rng.random() < 0.7 else rng.choice(_SEEDS[:3])
    raw = _dumps(rng, card)
    value = b64(card) if rng.random() < 0.8 and raw != b"{}" else raw
    if rng.random() < 0.3:
        value = mutate_bytes(rng, value)
    chunks = [
        text_chunk(rng.choice(["chara", "ccv3", "Chara", "comment"]), value, rng.choice(["tEXt", "zTXt", "iTXt"]))
    ]
    if rng.random() < 0.3:
        chunks.append(text_chunk("ccv3", b64(rng.choice(_SEEDS[:3])), "tEXt"))
    data = png_with(chunks, before_idat=rng.random() < 0.5)
    if rng.random() < 0.5:
        data = mutate_bytes(rng, data)
    return data, "fuzz.png"


def make_charx(rng: random.Random) -> tuple[bytes, str]:
    card = mutate_tree(rng, v3_card()) if rng.random() < 0.7 else v3_card()
    assets = {"assets/icon/images/main.png": b"\x89PNG not really", "x_app.json": b"{}"}
    if rng.random() < 0.1:
        data = charx_with(card, assets, raw_names={rng.choice(["../x", "/abs", "a\\b", "C:/x", "a/../../b"]): b"x"})
    else:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", compression=rng.choice([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED])) as zf:
            if rng.random() < 0.95:
                zf.writestr("card.json", _dumps(rng, card))
            for name, content in assets.items():
                zf.writestr(name, content)
        data = buffer.getvalue()
    if rng.random() < 0.6:
        data = mutate_bytes(rng, data)
    return data, "fuzz.charx"


def _export_all(result: Any, tmp: Path) -> None:
    for persona in result.personas:
        dump_persona(persona, tmp)  # what `personae import` writes must load back unchanged
        assert load_persona(tmp) == persona
        edited = Persona.model_validate(
            {
                **persona.model_dump(),
                "statements": [*persona.statements, "Fuzz keeps bees."],
                "greetings": persona.greetings[1:],
                "goals": ["Rest."],
                "traits": {"openness": 0.3},
                "example_dialogues": [[line.model_dump() for line in d] for d in persona.example_dialogues[:1]],
            }
        )
        card_v2(edited)
        card_v3(edited)
        persona_to_tinytroupe(edited)
        card_v2(persona)
        card_v3(persona)
        card_png(persona)
        card_charx(persona, {})
        persona_to_tinytroupe(persona)


def _fuzz(make: Callable[[random.Random], tuple[bytes, str]], count: int, seed: int, tmp: Path) -> dict[str, int]:
    rng = random.Random(seed)
    outcomes = {"imported": 0, "rejected": 0}
    for index in range(count):
        data, name = make(rng)
        try:
            result = read_bytes(data, name)
        except PersonaFormatError as exc:
            if not str(exc).startswith(name):
                pytest.fail(f"input {index}: the error does not name the file: {exc}")
            outcomes["rejected"] += 1
            continue
        except Exception as exc:  # pragma: no cover - the failure report
            pytest.fail(f"input {index} of seed {seed} raised {type(exc).__name__}: {exc!r}\n{data[:300]!r}")
        _export_all(result, tmp)
        outcomes["imported"] += 1
    return outcomes


@pytest.mark.parametrize(
    ("kind", "make", "count"),
    [("png", make_png, 4000), ("json", make_json, 3500), ("charx", make_charx, 3000)],
)
def test_mutated_inputs_only_raise_persona_format_error(
    kind: str, make: Callable[[random.Random], tuple[bytes, str]], count: int, tmp_path: Path
) -> None:
    started = time.perf_counter()
    outcomes = _fuzz(make, count, seed={"png": 1, "json": 2, "charx": 3}[kind], tmp=tmp_path / "p.yaml")
    elapsed = time.perf_counter() - started
    print(f"{kind}: {count} inputs, {outcomes['imported']} imported, {outcomes['rejected']} rejected, {elapsed:.1f}s")
    assert sum(outcomes.values()) == count
    # Both paths are exercised: the mutator is neither too gentle nor too destructive.
    assert outcomes["imported"] > count // 20
    assert outcomes["rejected"] > count // 20
