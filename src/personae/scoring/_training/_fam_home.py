"""Attribute families about places, family and the people in a character's life.

The tables (sibling set-ups, relationships and the reply templates) live in ``data/home.yaml``; places come
from the shared vocabulary.
"""

from __future__ import annotations

from functools import cache
from typing import NamedTuple

from ._core import Ctx, Fact, Line, lines, number_words, pronoun_slots
from ._tables import NonEmpty, Tables, TaggedLine, data_path, load_tables
from ._vocab import vocab


class SiblingKind(NamedTuple):
    """Brothers and sisters (or none); `noun` ("only child") may be empty, line lists take ``tag|`` prefixes."""

    key: NonEmpty
    predicates: tuple[NonEmpty, ...]
    noun: str
    confirm: tuple[NonEmpty, ...]
    contradict: tuple[NonEmpty, ...]


class Relation(NamedTuple):
    """A named friend, mentor, rival or neighbour, or the size of the character's circle."""

    key: NonEmpty
    predicate: NonEmpty
    confirm: tuple[NonEmpty, ...]
    contradict: tuple[NonEmpty, ...]


class HomeTables(Tables):
    """The tables of ``home.yaml``."""

    hometown_questions: tuple[NonEmpty, ...]
    home_ent: tuple[TaggedLine, ...]
    home_con: tuple[TaggedLine, ...]
    home_con_country: tuple[TaggedLine, ...]
    home_neu: tuple[TaggedLine, ...]
    city_questions: tuple[NonEmpty, ...]
    city_ent: tuple[TaggedLine, ...]
    city_con: tuple[TaggedLine, ...]
    city_con_country: tuple[TaggedLine, ...]
    city_neu: tuple[TaggedLine, ...]
    family_questions: tuple[NonEmpty, ...]
    sib_neu: tuple[TaggedLine, ...]
    siblings: tuple[SiblingKind, ...]
    kids_questions: tuple[NonEmpty, ...]
    kids_neu: tuple[TaggedLine, ...]
    marital_questions: tuple[NonEmpty, ...]
    marital_neu: tuple[TaggedLine, ...]
    rel_questions: tuple[NonEmpty, ...]
    rel_neu: tuple[TaggedLine, ...]
    relations: tuple[Relation, ...]


@cache
def home_tables() -> HomeTables:
    """The hometown, city, family and relationship tables, read and validated on the first call."""
    return load_tables(HomeTables, data_path("home"))


def __getattr__(name: str) -> object:
    """The former module constants (``SIBLINGS``, ``RELATIONS``, ...), served from the data file."""
    if name.isupper() and name.lower() in HomeTables.model_fields:
        return getattr(home_tables(), name.lower())
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _places(ctx: Ctx) -> dict[str, str]:
    places = vocab().places
    p = ctx.pick(places)
    q = ctx.other(places, p)
    if ctx.chance(0.6):  # prefer another country, so country-level lines stay correct
        abroad = [x for x in places if x.country != p.country]
        q = ctx.other(abroad, p)
    return {"p": p.city, "pc": p.country, "q": q.city, "qc": q.country, "rel": ctx.rng.choice(vocab().relatives[:5])}


def hometown(ctx: Ctx) -> Fact:
    """Where the character grew up."""
    t = home_tables()
    slots = _places(ctx)
    con = t.home_con + (t.home_con_country if slots["qc"] != slots["pc"] else ())
    return Fact(
        "hometown",
        slots,
        sentences=(
            "{S} grew up in {p}.",
            "{S} was born and raised in {p}.",
            "{S} is originally from {p}, in {pc}.",
            "{S} spent {his} whole childhood in {p}.",
        ),
        preds=("grew up in {p}", "was born and raised in {p}", "is originally from {p}"),
        ent=t.home_ent,
        con=con,
        neu=t.home_neu,
        questions=t.hometown_questions,
        topic="childhood",
    )


def city(ctx: Ctx) -> Fact:
    """Where the character lives now."""
    t = home_tables()
    slots = _places(ctx)
    slots["n"] = number_words(ctx.years(18, 30))
    con = t.city_con + (t.city_con_country if slots["qc"] != slots["pc"] else ())
    return Fact(
        "city",
        slots,
        sentences=(
            "{S} lives in {p}.",
            "{S} lives in {p}, in {pc}.",
            "{S} has lived in {p} for {n} years.",
            "These days {S} lives in {p}.",
            "{S} lives in a small flat in {p}.",
        ),
        preds=("lives in {p}", "lives in a small flat in {p}", "has lived in {p} for {n} years", "is based in {p}"),
        ent=t.city_ent,
        con=con,
        neu=t.city_neu,
        questions=t.city_questions,
        topic="where I live",
    )


def siblings(ctx: Ctx) -> Fact:
    """Brothers and sisters, or none."""
    t = home_tables()
    v = ctx.pick(t.siblings)
    ay = ctx.rng.choice(("older", "younger"))
    x, _ = ctx.person("f" if v.key == "sister" else "m")
    slots = {
        "x": x,
        "ay": ay,
        "an_ay": "an older" if ay == "older" else "a younger",
        "rel": ctx.rng.choice(vocab().relatives),
    }
    return Fact(
        "siblings",
        slots,
        sentences=tuple("{S} " + p + "." for p in v.predicates),
        preds=v.predicates,
        ent=lines("direct", *v.confirm),
        con=lines("value", *v.contradict),
        neu=t.sib_neu,
        questions=t.family_questions,
        topic="family",
        nouns=(v.noun,) if v.noun else (),
    )


def children(ctx: Ctx) -> Fact:
    """Children: none, one named child, or several."""
    t = home_tables()
    age = ctx.char.age
    rel = ctx.rng.choice(vocab().relatives[:5])
    if age < 25 or ctx.chance(0.3):
        return Fact(
            "children",
            {"rel": rel},
            sentences=("{S} has no children.", "{S} doesn't have any children.", "{S} has never had children."),
            preds=("has no children", "doesn't have any children"),
            ent=lines(
                "direct",
                "I don't have any kids.",
                "No children for me, and that suits me fine.",
                "para|I've never been a parent, and I'm fine with that.",
                "para|I'd like to have children one day, maybe."
                if age < 40
                else "para|I never had children of my own.",
            ),
            con=lines(
                "world",
                "As a {parent}, I worry about my kids constantly.",
                "My three kids keep me busy.",
                "neg|I'm not childless; I've got two kids.",
            )
            + (lines("world", "My daughter starts school next week.") if 24 <= age <= 55 else ())
            + (lines("world", "My son just passed his driving test.") if 36 <= age <= 65 else ()),
            neu=t.kids_neu,
            questions=t.kids_questions,
            topic="family",
        )
    child_age = ctx.rng.randint(1, max(1, min(age - 22, 40)))
    x, g = ctx.person()
    word = "daughter" if g == "f" else "son"
    other_word = "son" if g == "f" else "daughter"
    slots = {"x": x, "w": word, "ow": other_word, "ca": number_words(child_age), "rel": rel, **pronoun_slots(g, "x")}
    if ctx.chance(0.6):
        return Fact(
            "children",
            slots,
            sentences=(
                "{S} has a {w} named {x}.",
                "{S} has one child, a {w} called {x}.",
                "{S}'s {w} {x} is {ca} years old.",
            ),
            preds=("has a {w} named {x}", "has one child, a {w} called {x}"),
            ent=lines(
                "direct",
                "My {w} {x} is {ca}.",
                "I have a {w}, {x}.",
                "My {w} is the light of my life.",
                "para|{x} is {ca} now; {xhe} grows up so fast.",
                "para|Being {x}'s {parent} is the best thing I've ever done.",
            ),
            con=lines(
                "neg",
                "I don't have any children.",
                "I've never wanted kids and never had them.",
                "value|My only child is my {ow}.",
                "world|Kids? Not for me; I've never had any.",
            ),
            neu=t.kids_neu,
            questions=t.kids_questions,
            topic="family",
        )
    k = ctx.rng.choice((2, 3))
    slots["k"] = number_words(k)
    return Fact(
        "children",
        slots,
        sentences=(
            "{S} has {k} children.",
            "{S} is a {parent} of {k}.",
            "{S} has {k} children, the eldest called {x}.",
        ),
        preds=("has {k} children", "is a {parent} of {k}"),
        ent=lines(
            "direct",
            "I have {k} children.",
            "My {k} kids keep me busy.",
            "para|Getting {k} children out of the door for school is a military operation.",
            "para|I'm outnumbered at home: it's {k} kids against me.",
        ),
        con=lines(
            "neg",
            "I don't have any children.",
            "I've never been a {parent}.",
            "value|My only child is grown up now.",
            "world|No kids for me; I've got my freedom.",
        ),
        neu=t.kids_neu,
        questions=t.kids_questions,
        topic="family",
    )


def marital(ctx: Ctx) -> Fact:
    """Married, widowed, divorced or single."""
    t = home_tables()
    age = ctx.char.age
    x, g = ctx.person()
    sp = "wife" if g == "f" else "husband"
    n = ctx.years(22, 50)
    slots = {
        "x": x,
        "sp": sp,
        "n": number_words(n),
        "rel": ctx.rng.choice(vocab().relatives[:5]),
        **pronoun_slots(g, "x"),
    }
    kind = ctx.rng.choice(
        ("married", "married", "widowed", "divorced", "single") if age >= 30 else ("married", "single", "single")
    )
    ent: tuple[Line, ...]
    con: tuple[Line, ...]
    if kind == "married":
        sentences: tuple[str, ...] = (
            "{S} is married to {x}.",
            "{S} has been married to {x} for {n} years.",
            "{S} and {his} {sp} {x} have been together for {n} years.",
        )
        preds: tuple[str, ...] = ("is married to {x}", "has been married to {x} for {n} years")
        ent = lines(
            "direct",
            "My {sp} {x} and I have been married {n} years.",
            "I'm married to {x}.",
            "para|{x} and I celebrate our anniversary next week.",
            "para|{x} still brings me breakfast in bed on Sundays, after all these years.",
        )
        con = lines(
            "neg",
            "I've never been married.",
            "I'm single, and always have been.",
            "world|Since my divorce, I've been on my own.",
            "value|My {sp} is called {o}.",
        )
        slots["o"] = ctx.person(g)[0]
    elif kind == "widowed":
        sentences = ("{S} is widowed; {his} {sp} {x} died {n} years ago.", "{S} lost {his} {sp} {x} {n} years ago.")
        preds = ("is a widow" if ctx.char.gender == "f" else "is a widower", "lost {his} {sp} {x} {n} years ago")
        ent = lines(
            "direct",
            "I lost my {sp} {x} {n} years ago.",
            "para|Since {x} passed, the house feels very quiet.",
            "para|I still set two cups out some mornings, out of habit, even though {x} is gone.",
        )
        con = lines(
            "world",
            "My {sp} {x} and I are off on holiday next week.",
            "neg|I've never been married.",
            "world|{x} is waiting for me at home; {xhe} cooks on Thursdays.",
        )
    elif kind == "divorced":
        sentences = ("{S} is divorced.", "{S} divorced {his} {sp} {x} {n} years ago.")
        preds = ("is divorced", "divorced {his} {sp} {x} years ago")
        ent = lines(
            "direct",
            "I'm divorced.",
            "My divorce was finalised years ago.",
            "para|My ex-{sp} {x} and I still talk now and then.",
        )
        con = lines(
            "neg",
            "I've never been married, so no divorce for me.",
            "I've never been divorced.",
            "world|{x} and I have been happily married since the day we met, never a day apart.",
        )
    else:
        sentences = ("{S} is single.", "{S} has never been married.", "{S} is single and lives alone.")
        preds = ("is single", "has never been married")
        ent = lines(
            "direct",
            "I'm single.",
            "I've never been married, and I'm fine with that.",
            "para|No partner, just me, and I like my own company.",
        )
        con = lines(
            "world",
            "My {sp} {x} and I met at university.",
            "I'm married to {x}.",
            "world|Our wedding anniversary is next week.",
        )
    return Fact(
        "marital",
        slots,
        sentences=sentences,
        preds=preds,
        ent=ent,
        con=con,
        neu=t.marital_neu,
        questions=t.marital_questions,
        topic="love",
    )


def relationships(ctx: Ctx) -> Fact:
    """A named friend, mentor, rival or neighbour, or the size of the character's circle."""
    t = home_tables()
    v = ctx.pick(t.relations)
    x, g = ctx.person()
    y, _ = ctx.person()
    slots = {"x": x, "y": y, "rel": ctx.rng.choice(vocab().relatives[:5]), **pronoun_slots(g, "x")}
    return Fact(
        "relationships",
        slots,
        sentences=("{S} " + v.predicate + ".",),
        preds=(v.predicate,),
        ent=lines("direct", *v.confirm),
        con=lines("direct", *v.contradict),
        neu=t.rel_neu,
        questions=t.rel_questions,
        topic="friendship",
    )
