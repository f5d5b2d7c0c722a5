"""Splitting replies into sentences, so that one long reply is judged sentence by sentence."""

from __future__ import annotations

import re

_BOUNDARY = re.compile(r"(?<=[.!?…])[\"'”’)\]]*\s+(?=[\"'“‘(\[*]?[A-Z0-9])|\n+")
_ABBREVIATIONS = ("Mr.", "Mrs.", "Ms.", "Dr.", "St.", "Prof.", "Capt.", "e.g.", "i.e.", "vs.", "etc.")


def split_sentences(text: str, min_chars: int = 3) -> list[str]:
    """Split on sentence-final punctuation followed by a capital, and on line breaks.

    Abbreviations such as "Dr." do not end a sentence; fragments shorter than `min_chars` are merged
    into their neighbour. Always returns at least one element for non-blank text.
    """
    text = text.strip()
    if not text:
        return []
    pieces = [p.strip() for p in _BOUNDARY.split(text) if p and p.strip()]
    merged: list[str] = []
    for piece in pieces:
        if merged and (merged[-1].endswith(_ABBREVIATIONS) or len(merged[-1]) < min_chars):
            merged[-1] = f"{merged[-1]} {piece}"
        else:
            merged.append(piece)
    if len(merged) > 1 and len(merged[-1]) < min_chars:
        last = merged.pop()
        merged[-1] = f"{merged[-1]} {last}"
    return merged
