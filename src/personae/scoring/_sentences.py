"""Splitting replies into sentences, so that one long reply is judged sentence by sentence."""

from __future__ import annotations

import re

_BOUNDARY = re.compile(r"(?<=[.!?…])[\"'”’)\]]*\s+(?=[\"'“‘(\[*]?[A-Z0-9])|\n+")
_NARRATION = re.compile(r"(\*[^*\s][^*\n]*\s[^*\n]*[^*\s]\*)")
"""A narration block: two or more words between asterisks on one line (kept by `re.split` as a segment)."""
_EMPHASIS = re.compile(r"\*([^*\s]+)\*")
"""One word between asterisks: emphasis or a one-word action (`*really*`, `*smiles*`), kept in its sentence."""
_ABBREVIATION = re.compile(
    r"(?:^|(?<=[\s(\[\"'“‘]))(?:mrs?|ms|dr|st|prof|capt|lt|col|gen|sgt|jr|sr|mt|vs|etc|cf|e\.g|i\.e|a\.k\.a)\.$",
    re.IGNORECASE,
)
"""A piece ending in an abbreviation ("Dr.", "e.g.", "a.k.a.", in any case, as a whole word): its full stop ends no
sentence, so the piece is joined to the next ("The protagonist, a.k.a. The One" stays one sentence)."""


def split_sentences(text: str, min_chars: int = 3) -> list[str]:
    """Split on sentence-final punctuation followed by a capital, on line breaks, and around *narration*.

    Role-play replies interleave narration in asterisks with speech (`*pours the tea* Sit down, love.`); each
    narration block is a unit of its own, without its asterisks. Abbreviations such as "Dr.", "e.g." or "a.k.a." do
    not end a sentence; fragments shorter than `min_chars` are merged into their neighbour. Always returns at least one
    element for non-blank text.
    """
    text = text.strip()
    if not text:
        return []
    pieces = [
        p.strip()
        for segment in _NARRATION.split(_EMPHASIS.sub(r"\1", text))
        for p in _BOUNDARY.split(segment.strip("* \t\n"))
        if p and p.strip(" *")
    ]
    merged: list[str] = []
    for piece in pieces:
        if merged and (_ABBREVIATION.search(merged[-1]) or len(merged[-1]) < min_chars):
            merged[-1] = f"{merged[-1]} {piece}"
        else:
            merged.append(piece)
    if len(merged) > 1 and len(merged[-1]) < min_chars:
        last = merged.pop()
        merged[-1] = f"{merged[-1]} {last}"
    return merged
