"""Shared types and helpers for the persona-NLI training data generator.

Templates use ``{slot}`` placeholders. A slot whose name starts with a capital letter is filled with the
value of the lower-case slot, capitalised (``{He}`` -> ``She``). Unknown slots are left in place so a
template can be filled in stages (fact values first, then the subject and pronouns).
"""

from __future__ import annotations

import random
import re
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

T = TypeVar("T")

# (tag, template): the tag names the template family ("direct", "para", "world", "topic", ...).
Line = tuple[str, str]

_SLOT = re.compile(r"\{(\w+)\}")


def fill(template: str, slots: Mapping[str, str]) -> str:
    """Replace the ``{slot}`` placeholders of `template` that `slots` knows; leave the others."""

    def sub(match: re.Match[str]) -> str:
        key = match.group(1)
        value = slots.get(key)
        if value is not None:
            return value
        if key[0].isupper() and key != "S":  # {S} is the subject slot, never a capitalised {s}
            lower = slots.get(key[0].lower() + key[1:])
            if lower is not None:
                return lower[:1].upper() + lower[1:]
        return match.group(0)

    return _SLOT.sub(sub, template)


def lines(default: str, *texts: str) -> tuple[Line, ...]:
    """Tag templates: ``"tag|text"`` keeps its own tag, a bare text gets `default`."""
    out: list[Line] = []
    for text in texts:
        tag, sep, body = text.partition("|")
        if sep and tag.isidentifier():
            out.append((tag, body))
        else:
            out.append((default, text))
    return tuple(out)


def retag(tag: str, items: Sequence[Line]) -> tuple[Line, ...]:
    """Give every line of `items` the tag `tag`."""
    return tuple((tag, text) for _, text in items)


_NUMBER_WORDS = (
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
)
_TENS = ("_", "_", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")


def number_words(n: int) -> str:
    """Spell out 0 <= n < 100 in English words ("thirty-four")."""
    if n < 20:
        return _NUMBER_WORDS[n]
    tens, unit = divmod(n, 10)
    return _TENS[tens] if unit == 0 else f"{_TENS[tens]}-{_NUMBER_WORDS[unit]}"


def article(phrase: str) -> str:
    """The indefinite article for `phrase` ("a" or "an")."""
    word = phrase.split(" ", 1)[0].lower()
    if word[:1].isdigit():
        digits = word.split("-", 1)[0]
        return "an" if digits.startswith("8") or digits in ("11", "18") else "a"
    if word.startswith(("uni", "use", "eu", "one")):
        return "a"
    if word.startswith(("hour", "honest", "heir")):
        return "an"
    return "an" if word[:1] in "aeiou" else "a"


def with_article(phrase: str) -> str:
    """`phrase` preceded by its indefinite article."""
    return f"{article(phrase)} {phrase}"


def decade_phrase(age: int) -> str:
    """Describe an age the way people do ("mid-thirties", "late teens")."""
    if age < 20:
        return "late teens"
    tens, unit = divmod(age, 10)
    stage = "early " if unit <= 3 else ("mid-" if unit <= 6 else "late ")
    return f"{stage}{_TENS[tens][:-1]}ies"


_HELD: dict[str, bool] = {}


def held_out(key: str) -> bool:
    """Whether a value or name is reserved for the dev split (a fixed fifth, by CRC32)."""
    held = _HELD.get(key)
    if held is None:
        held = _HELD[key] = zlib.crc32(key.encode("utf-8")) % 5 == 0
    return held


def _key(item: object) -> str:
    if isinstance(item, str):
        return item
    if isinstance(item, tuple) and item and isinstance(item[0], str):
        return item[0]
    return repr(item)


class Pool:
    """Chooses values for one split: "train" never sees held-out values, "dev" prefers them."""

    def __init__(self, split: str) -> None:
        if split not in ("train", "dev", "all"):
            raise ValueError(f"unknown split {split!r}")
        self.split = split
        self._cache: dict[int, tuple[object, list[Any], list[Any]]] = {}

    def _parts(self, items: Sequence[T]) -> tuple[list[T], list[T]]:
        cached = self._cache.get(id(items))
        if cached is None or cached[0] is not items:
            train = [x for x in items if not held_out(_key(x))]
            dev = [x for x in items if held_out(_key(x))]
            if not isinstance(items, tuple):  # only module-level tuples are worth caching
                return train, dev
            cached = (items, train, dev)
            self._cache[id(items)] = cached
        return cached[1], cached[2]

    def candidates(self, items: Sequence[T], *, main: bool) -> Sequence[T]:
        """The items this split may use; `main` values in dev come from the held-out part."""
        if self.split == "all" or len(items) < 5:
            return items
        train, dev = self._parts(items)
        if self.split == "train":
            return train or items
        return (dev or items) if main else items


@dataclass(frozen=True)
class Character:
    """The persona a statement is about: name, gender and a latent age every family respects."""

    first: str
    last: str
    gender: str  # "f" or "m"
    age: int
    title: str = ""

    @property
    def full(self) -> str:
        """The full name, with the title if any ("Brother Anselm" has no surname)."""
        if self.title:
            return f"{self.title} {self.first}"
        return f"{self.first} {self.last}"

    @property
    def short(self) -> str:
        """The short form used in statements and questions."""
        return self.full if self.title else self.first

    def pronouns(self) -> dict[str, str]:
        """Pronoun and gendered-word slots for templates."""
        if self.gender == "f":
            return {
                "he": "she",
                "him": "her",
                "his": "her",
                "himself": "herself",
                "parent": "mum",
                "kid": "girl",
                "man": "woman",
            }
        return {
            "he": "he",
            "him": "him",
            "his": "his",
            "himself": "himself",
            "parent": "dad",
            "kid": "boy",
            "man": "man",
        }


@dataclass
class Ctx:
    """Per-record context handed to the attribute families."""

    rng: random.Random
    pool: Pool
    char: Character
    people: Callable[[random.Random, str], str]  # (rng, gender) -> a first name of this split

    def pick(self, items: Sequence[T]) -> T:
        """A main value (dev: held out from training)."""
        return self.rng.choice(self.pool.candidates(items, main=True))

    def other(self, items: Sequence[T], *avoid: T) -> T:
        """An alternative value different from `avoid`."""
        cands = [x for x in self.pool.candidates(items, main=False) if x not in avoid]
        if not cands:
            cands = [x for x in items if x not in avoid]
        return self.rng.choice(cands)

    def chance(self, p: float) -> bool:
        """True with probability `p`."""
        return self.rng.random() < p

    def person(self, gender: str | None = None) -> tuple[str, str]:
        """A (first name, gender) for someone the character knows."""
        g = gender or self.rng.choice("fm")
        name = self.people(self.rng, g)
        while name == self.char.first:
            name = self.people(self.rng, g)
        return name, g

    def years(self, start_age: int, cap: int = 40) -> int:
        """A plausible number of years for something begun at `start_age` or later."""
        return self.rng.randint(2, max(2, min(cap, self.char.age - start_age)))


@dataclass
class Fact:
    """One persona fact with its statement templates and first-person replies by label."""

    family: str
    slots: dict[str, str]
    sentences: Sequence[str]  # full third-person sentences with {S} and pronoun slots
    preds: Sequence[str]  # verb phrases for compound statements ("lives in Leeds")
    ent: Sequence[Line]
    con: Sequence[Line]
    neu: Sequence[Line]
    questions: Sequence[str]
    topic: str = ""  # bare noun for generic neutral replies ("music")
    nouns: Sequence[str] = ()  # "nurse" for "{S} is a 34-year-old nurse who ..."
    adjs: Sequence[str] = ()  # "34-year-old", "shy"
    group: str = ""
    timeless: bool = False
    extra: dict[str, str] = field(default_factory=dict)


def pronoun_slots(gender: str, prefix: str) -> dict[str, str]:
    """Pronoun slots for a secondary person, named ``{prefix}he``, ``{prefix}him``, ``{prefix}his``."""
    if gender == "f":
        return {f"{prefix}he": "she", f"{prefix}him": "her", f"{prefix}his": "her"}
    return {f"{prefix}he": "he", f"{prefix}him": "him", f"{prefix}his": "his"}
