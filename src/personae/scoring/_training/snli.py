"""SNLI pairs from ../shared/data/nli, detokenised, with a fixed held-out slice for measuring."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path
from typing import NamedTuple

_FIXES = [
    (re.compile(r" ([.,!?;:])"), r"\1"),
    (re.compile(r" (n't|'s|'re|'m|'ve|'ll|'d)\b"), r"\1"),
    (re.compile(r"\s+"), " "),
]

HELDOUT_SIZE = 2000
"""About this many pairs of snli_test.jsonl are kept out of training for the quality benchmark."""


def detokenise(text: str) -> str:
    """Undo SNLI's spaces before punctuation and clitics, and capitalise the first letter."""
    for pattern, repl in _FIXES:
        text = pattern.sub(repl, text)
    text = text.strip()
    return text[:1].upper() + text[1:]


def _read(path: Path) -> list[dict[str, str]]:
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            r = json.loads(line)
            rows.append(
                {"premise": detokenise(r["premise"]), "hypothesis": detokenise(r["hypothesis"]), "label": r["label"]}
            )
    return rows


class SnliSplit(NamedTuple):
    """SNLI rows for training and the held-out slice for measuring."""

    train: list[dict[str, str]]
    heldout: list[dict[str, str]]


def load_snli(folder: Path) -> SnliSplit:
    """Train on snli_dev plus snli_test minus a held-out slice of about `HELDOUT_SIZE` pairs.

    The slice is drawn by premise (SNLI has three hypotheses per premise), so no held-out premise is
    ever seen in training.
    """
    dev = _read(folder / "snli_dev.jsonl")
    test = _read(folder / "snli_test.jsonl")
    premises = sorted({r["premise"] for r in test})
    random.Random(1234).shuffle(premises)
    held: set[str] = set()
    count = 0
    by_premise: dict[str, int] = {}
    for r in test:
        by_premise[r["premise"]] = by_premise.get(r["premise"], 0) + 1
    for premise in premises:
        if count >= HELDOUT_SIZE:
            break
        held.add(premise)
        count += by_premise[premise]
    return SnliSplit(
        train=dev + [r for r in test if r["premise"] not in held],
        heldout=[r for r in test if r["premise"] in held],
    )
