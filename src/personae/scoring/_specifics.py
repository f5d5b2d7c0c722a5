"""Partial support: a reply that establishes part of a statement does not support the whole of it.

The persona-NLI reads "I am a ferry captain." as entailing "Ada Quint captained the ferry between Uig and Tarbert for
forty years" (0.99) and "I work as a scribe in the abbey's scriptorium" as entailing "lives at the abbey of Bury St
Edmunds" (0.95): the reply speaks of the statement's topic and agrees with it, but says nothing of its particulars.
Training data for partial support taught the model this and cost it negation (stage 5b in the model card), so the
scorer reads the particulars itself: a statement's names (capitalised words after its first, other than the
character's own) and its numbers must each appear in the reply for the reply to support the statement. A reply that
mentions none of them still counts as consistent with the statement in APC; it is only not listed as supporting it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import lru_cache

from personae.scoring._numbers import numbers_as_digits

_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*|\d+(?:[.,]\d+)?")
_COMMON = frozenset(
    re.findall(
        r"\w+",
        "i he she it they we you his her their its our my the a an and or of in on at to for with from by as "
        "mr mrs ms miss dr st saint sir lady lord",
    )
)
"""Capitalised words that name nothing of their own (a title's "St" is part of the name it opens)."""
STEM = 5
"""Letters two spellings of a name must share from their start ("Benedictine" and "Benedictines", "Tarbert's")."""


def _words(text: str) -> list[str]:
    return _WORD.findall(numbers_as_digits(text))


def _fold(word: str) -> str:
    """`word` casefolded, without a possessive ending ("Tarbert's" → "tarbert")."""
    return word.casefold().removesuffix("'s").removesuffix("’s").rstrip("'’")


@lru_cache(maxsize=16384)
def specifics(statement: str, names: tuple[str, ...] = ()) -> tuple[str, ...]:
    """The particulars of `statement` a reply must mention to support it: its names and numbers, casefolded.

    The first word (a statement opens with its subject) and the character's `names` are not particulars.
    """
    own = {w.casefold() for n in names for w in _WORD.findall(n)}
    found: list[str] = []
    for k, word in enumerate(_words(statement)):
        folded = _fold(word)
        if folded in own or folded in _COMMON:
            continue
        if word[0].isdigit() or (k > 0 and word[0].isupper()):
            found.append(folded)
    return tuple(dict.fromkeys(found))


def _mentions(particular: str, words: Iterable[str]) -> bool:
    """Whether one of `words` is `particular`, or (for names of `STEM` letters or more) one spelling of the other."""
    if particular[0].isdigit():
        return particular in words
    return any(
        word == particular
        or (len(word) >= STEM <= len(particular) and (word.startswith(particular) or particular.startswith(word)))
        for word in words
    )


def uncovered(statement: str, reply: str, names: Sequence[str] = ()) -> list[str]:
    """The particulars of `statement` that `reply` never mentions (empty: it may support the statement)."""
    wanted = specifics(statement, tuple(names))
    if not wanted:
        return []
    words = {_fold(w) for w in _words(reply)}
    return [p for p in wanted if not _mentions(p, words)]
