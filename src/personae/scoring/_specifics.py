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

_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*|\d+(?:[.,]\d+)?(?:st|nd|rd|th)?")
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


_JOINS = frozenset(["of", "the", "de", "del", "la", "le", "von", "van", "st", "saint", "and"])
"""Words that may sit inside one name ("Order of the Ashen Rose", "Bury St Edmunds"); "and" only between two
capitalised words of a name is still two names ("Uig and Tarbert"), see `specifics`."""


_WITHIN = frozenset([",", "in", "on", ", in", "near"])
"""What sits between a place and the larger place it is in: "El Paso, Texas", "Bury St Edmunds in England"."""


def specifics(statement: str, names: tuple[str, ...] = ()) -> tuple[str, ...]:
    """The particulars of `statement` a reply must mention to support it: its names and numbers, casefolded.

    A name is a run of capitalised words with nothing but spaces and the joining words of `_JOINS` (not "and")
    between them: "Order of the Ashen Rose" is one particular, "Uig and Tarbert" two, "El Paso, Texas" two. The
    first word (a statement opens with its subject) and the character's `names` are not particulars.
    """
    return tuple(dict.fromkeys(p for p, _ in _read(statement, names)))


@lru_cache(maxsize=16384)
def _read(statement: str, names: tuple[str, ...]) -> tuple[tuple[str, str | None], ...]:
    """Each particular of `statement` with the name it is the larger place of ("texas" of "el paso"), if any."""
    own = {w.casefold() for n in names for w in _WORD.findall(n)}
    text = numbers_as_digits(statement)
    found: list[tuple[str, str | None]] = []
    run: list[str] = []
    span = [-1, -1]
    """Where the current run started and ended in `text`."""
    last_name: tuple[str, int] | None = None
    """The last name closed and where it ended."""
    last_end = -1

    def close() -> None:
        nonlocal last_name
        words = [w for w in run if w not in own]
        while words and words[-1] in _JOINS:
            words.pop()
        if any(w not in _COMMON for w in words):
            name = " ".join(words)
            within = last_name is not None and text[last_name[1] : span[0]].strip().casefold() in _WITHIN
            found.append((name, last_name[0] if within and last_name else None))
            last_name = (name, span[1])
        run.clear()

    for k, match in enumerate(_WORD.finditer(text)):
        word, folded = match.group(0), _fold(match.group(0))
        adjacent = last_end >= 0 and not text[last_end : match.start()].strip()
        last_end = match.end()
        if word[0].isdigit() and not word[-1].isalpha():
            close()
            found.append((folded, None))
            continue
        name_word = word[0].isdigit() or (k > 0 and word[0].isupper() and folded not in own)
        # an ordinal opens or continues a name: "the Sixth Legion" (read as "6th Legion")
        if name_word:
            if not adjacent or (run and run[-1] == "and"):
                close()
            if not run:
                span[0] = match.start()
            run.append(folded)
            span[1] = match.end()
        elif run and adjacent and folded in _JOINS - {"and"}:
            run.append(folded)
        else:
            close()
    close()
    return tuple(found)


def _mentions(particular: str, words: Iterable[str]) -> bool:
    """Whether `words` mention `particular`: a number as written, a name by any of its words.

    A word of `STEM` letters or more also matches another ending of itself ("Benedictine" and "Benedictines").
    """
    if particular.replace(".", "").replace(",", "").isdigit():
        return particular in words
    parts = [w for w in particular.split() if w not in _JOINS and w not in _COMMON]
    return any(
        word == part or (len(word) >= STEM <= len(part) and (word.startswith(part) or part.startswith(word)))
        for part in parts
        for word in words
    )


@lru_cache(maxsize=16384)
def _said(text: str) -> frozenset[str]:
    """The words of `text`, folded as particulars are: read once per text, which every statement is checked against."""
    return frozenset(_fold(w) for w in _words(text))


def uncovered(statement: str, reply: str, names: Sequence[str] = ()) -> list[str]:
    """The particulars of `statement` that `reply` never mentions (empty: it may support the statement)."""
    wanted = _read(statement, tuple(names))
    if not wanted:
        return []
    words = _said(reply)
    said = {p for p, _ in wanted if _mentions(p, words)}
    # the larger place is implied by the place in it: "El Paso girl" says Texas
    return list(dict.fromkeys(p for p, inside in wanted if p not in said and inside not in said))
