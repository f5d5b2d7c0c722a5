"""Number words as digits before the NLI model reads a pair: "sixty-seven" and "67" are the same fact.

The persona-NLI model read "I'm sixty-seven." as contradicting "Ada Quint is 67 years old." (0.97) and "I'm 67." as
entailing it (0.98): its tokenizer has no way to know the two spellings agree. Both sides of every pair are rewritten
the same way (text2num's `alpha2digit`, English; "one" and "two" stay words, as in "no one" or "one of them"), at
inference and in training, so a number means the same whichever way a statement or a reply spells it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

from text_to_num import alpha2digit


@lru_cache(maxsize=65536)
def numbers_as_digits(text: str) -> str:
    """`text` with English number words written as digits ("forty-one years" → "41 years"); cached per text."""
    try:
        return str(alpha2digit(text, "en"))
    except (ValueError, RuntimeError):  # a parse it cannot make: the text as written
        return text


def pairs_with_digits(pairs: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    """Both texts of every (premise, hypothesis) pair through `numbers_as_digits`."""
    return [(numbers_as_digits(p), numbers_as_digits(h)) for p, h in pairs]


_AGE_NOW = re.compile(r"\b(?:is|am|are|I'm)\s+(?:now\s+)?\d+(?:\s+years?\s+old)?\b|\b\d+\s+years?\s+old\s+now\b", re.I)
"""A present age: "is 41 years old", "I'm 67", "67 years old now"."""
_AGE_THEN = re.compile(
    r"\b(?:was|were)\s+(?:only\s+|just\s+|barely\s+|about\s+|nearly\s+)?\d+(?:\s+years?\s+old)?\b"
    r"|\bat\s+the\s+age\s+of\s+\d+\b",
    re.IGNORECASE,
)
"""An age at some past moment: "I was sixteen years old when I became a monk.", "at the age of 12"."""


def age_then_not_now(statement: str, sentence: str) -> bool:
    """Whether `statement` gives a present age and `sentence` only an age at a past moment, which says nothing of it.

    "I was sixteen years old when I became a monk." against "Brother Anselm is 41 years old." read as a
    contradiction (0.98): the model took the past age for the present one.
    """
    said = numbers_as_digits(sentence)
    now = _AGE_NOW.search(numbers_as_digits(statement))
    return bool(now) and bool(_AGE_THEN.search(said)) and not _AGE_NOW.search(said)
