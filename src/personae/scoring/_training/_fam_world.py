"""Attribute families about the material world: possessions, appearance, and the era a character lives in.

The tables (possessions, looks, past eras, anachronisms and the reply templates) live in ``data/world.yaml``.
"""

from __future__ import annotations

from functools import cache
from typing import Annotated, Literal, NamedTuple

from pydantic import Field

from ._core import Ctx, Fact, lines, number_words, with_article
from ._tables import NonEmpty, Tables, TaggedLine, data_path, load_tables
from ._vocab import vocab


class Possession(NamedTuple):
    """Something owned, or pointedly not owned; line lists take ``tag|`` prefixes."""

    key: NonEmpty
    predicates: tuple[NonEmpty, ...]
    confirm: Annotated[tuple[NonEmpty, ...], Field(min_length=1)]
    contradict: tuple[NonEmpty, ...]
    neutral: tuple[NonEmpty, ...]


class Era(NamedTuple):
    """A role in a past century; `gender` is "" for anyone, `title` ("Brother") replaces the surname if set."""

    key: NonEmpty
    year: int
    role: NonEmpty
    place: NonEmpty
    gender: Literal["", "f", "m"]
    title: str
    lines: tuple[NonEmpty, ...]


class Anachronism(NamedTuple):
    """A line that would be out of place before the year `since`."""

    line: NonEmpty
    since: int


class WorldTables(Tables):
    """The tables of ``world.yaml``."""

    possessions: tuple[Possession, ...]
    cars: tuple[NonEmpty, ...]
    car_colours: tuple[NonEmpty, ...]
    poss_questions: tuple[NonEmpty, ...]
    hair_colours: tuple[NonEmpty, ...]
    hair_styles: tuple[NonEmpty, ...]
    eye_colours: tuple[NonEmpty, ...]
    tattoos: tuple[NonEmpty, ...]
    body_parts: tuple[NonEmpty, ...]
    look_questions: tuple[NonEmpty, ...]
    look_neu: tuple[TaggedLine, ...]
    eras: tuple[Era, ...]
    anachronisms: tuple[Anachronism, ...]
    # Timeless lines that say nothing about the era (safe neutral replies for a historical character).
    timeless: tuple[TaggedLine, ...]
    era_questions: tuple[NonEmpty, ...]


@cache
def world_tables() -> WorldTables:
    """The possession, appearance and era tables, read and validated on the first call."""
    return load_tables(WorldTables, data_path("world"))


def __getattr__(name: str) -> object:
    """The former module constants (``POSSESSIONS``, ``ERAS``, ...), served from the data file."""
    if name.isupper() and name.lower() in WorldTables.model_fields:
        return getattr(world_tables(), name.lower())
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def possessions(ctx: Ctx) -> Fact:
    """Something the character owns, or pointedly does not own."""
    t = world_tables()
    v = ctx.pick(t.possessions)
    o = ctx.other(t.possessions, v)
    slots = {
        "m": ctx.rng.choice(t.cars),
        "c": ctx.rng.choice(t.car_colours),
        "rel": ctx.rng.choice(vocab().relatives[:5]),
    }
    neu = lines("related", *v.neutral)
    if {v.key, o.key} not in ({"flat", "house"}, {"car", "motorbike"}, {"no_phone", "records"}):
        neu += lines("other", o.confirm[0])
    return Fact(
        "possessions",
        slots,
        sentences=tuple("{S} " + p + "." for p in v.predicates),
        preds=v.predicates,
        ent=lines("direct", *v.confirm),
        con=lines("neg", *v.contradict),
        neu=neu,
        questions=t.poss_questions,
        topic="possessions",
    )


def appearance(ctx: Ctx) -> Fact:
    """Hair, eyes, height, tattoos, beards and clothes."""
    t = world_tables()
    hc = ctx.pick(t.hair_colours)
    ohc = ctx.other(t.hair_colours, hc)
    slots = {
        "hc": hc,
        "oh": ohc,
        "st": ctx.rng.choice(t.hair_styles),
        "rel": ctx.rng.choice(vocab().relatives[:5]),
        "part": ctx.rng.choice(("hands", "laugh", "voice", "walk")),
        "k": number_words(ctx.rng.randint(16, max(16, min(ctx.char.age - 1, 40)))),
    }
    kinds = ["hair", "eyes", "tall", "short", "tattoo", "black", "freckles"]
    if ctx.char.gender == "m":
        kinds.append("beard")
    if ctx.char.age < 40 and hc in ("grey", "silver-white"):
        slots["hc"] = hc = "dark brown"
    kind = ctx.rng.choice(kinds)
    if kind == "hair":
        long_ = slots["st"].startswith("long")
        return Fact(
            "appearance",
            slots,
            sentences=("{S} has {st} {hc} hair.", "{S}'s hair is {hc} and {st}."),
            preds=("has {st} {hc} hair",),
            ent=lines(
                "direct",
                "My hair is {hc}.",
                "I've got {st} {hc} hair.",
                "para|Everyone recognises me by my {st} {hc} hair.",
            ),
            con=lines(
                "value",
                "My hair is {oh}.",
                "I've got {oh} hair, always have.",
                "world|I've been completely bald for years.",
            )
            + (lines("world", "I keep my hair cut really short, like a soldier's.") if long_ else ()),
            neu=t.look_neu,
            questions=t.look_questions,
            topic="hair",
        )
    if kind == "eyes":
        e = ctx.pick(t.eye_colours)
        slots.update(e=e, oe=ctx.other(t.eye_colours, e))
        return Fact(
            "appearance",
            slots,
            sentences=("{S} has {e} eyes.", "{S} has striking {e} eyes."),
            preds=("has {e} eyes",),
            ent=lines("direct", "My eyes are {e}.", "para|People always comment on my {e} eyes."),
            con=lines("value", "My eyes are {oe}.", "I've got {oe} eyes, like my mother."),
            neu=t.look_neu + lines("related", "My {rel} has {oe} eyes."),
            questions=t.look_questions,
            topic="looks",
        )
    if kind in ("tall", "short"):
        tall = lines(
            "direct",
            "I'm very tall.",
            "para|I'm always banging my head on door frames.",
            "para|I can reach the top shelf in any shop without a stool.",
        )
        short = lines(
            "direct",
            "I'm quite short.",
            "para|I'm barely five foot; I need a stool for the top shelf.",
            "para|In crowds, all I can see is people's shoulders.",
        )
        neu = t.look_neu + lines(
            "related", "My {rel} is really tall.", "opinion|Tall people always get asked about basketball."
        )
        if kind == "tall":
            return Fact(
                "appearance",
                slots,
                sentences=("{S} is very tall.", "{S} is six foot five."),
                preds=("is very tall", "stands six foot five"),
                ent=tall,
                con=short,
                neu=neu,
                questions=t.look_questions,
                topic="looks",
                adjs=("tall",),
            )
        return Fact(
            "appearance",
            slots,
            sentences=("{S} is very short.", "{S} is barely five foot tall."),
            preds=("is very short", "is barely five foot tall"),
            ent=short,
            con=tall,
            neu=neu,
            questions=t.look_questions,
            topic="looks",
            adjs=("short",),
        )
    if kind == "tattoo":
        tattoo = ctx.pick(t.tattoos)
        slots.update(
            t=tattoo,
            a_t=with_article(tattoo),
            ot=with_article(ctx.other(t.tattoos, tattoo)),
            bp=ctx.rng.choice(t.body_parts),
        )
        return Fact(
            "appearance",
            slots,
            sentences=("{S} has a tattoo of {a_t} on {his} {bp}.", "{S} has {a_t} tattooed on {his} {bp}."),
            preds=("has a tattoo of {a_t} on {his} {bp}",),
            ent=lines(
                "direct", "I have {a_t} tattooed on my {bp}.", "para|I got this {t} inked on my {bp} when I was {k}."
            ),
            con=lines(
                "neg", "I don't have any tattoos; never wanted one.", "My skin is completely un-inked, no tattoos."
            ),
            neu=t.look_neu
            + lines("related", "My {rel} has a tattoo of {ot}.", "opinion|Tattoos are everywhere these days."),
            questions=t.look_questions,
            topic="looks",
        )
    if kind == "beard":
        return Fact(
            "appearance",
            slots,
            sentences=("{S} has a thick beard.", "{S} has worn a full beard for years."),
            preds=("has a thick beard",),
            ent=lines("direct", "I've had this beard for years.", "para|I trim my beard every Sunday morning."),
            con=lines("neg", "I've always been clean-shaven.", "I shave every morning; I've never had a beard."),
            neu=t.look_neu + lines("opinion", "Beards are very fashionable now."),
            questions=t.look_questions,
            topic="looks",
            adjs=("bearded",),
        )
    if kind == "freckles":
        return Fact(
            "appearance",
            slots,
            sentences=("{S} has a face full of freckles.", "{S} is covered in freckles."),
            preds=("has a face full of freckles",),
            ent=lines(
                "direct",
                "I've got freckles all over my face.",
                "para|The sun brings out a thousand new dots on my nose every summer.",
            ),
            con=lines("neg", "I've never had a single freckle.", "My skin's completely clear, not a freckle on me."),
            neu=t.look_neu,
            questions=t.look_questions,
            topic="looks",
            adjs=("freckled",),
        )
    return Fact(
        "appearance",
        slots,
        sentences=("{S} always dresses in black.", "{S} wears nothing but black."),
        preds=("always dresses in black", "wears nothing but black clothes"),
        ent=lines("direct", "My wardrobe is basically all black.", "para|You'll never catch me in anything but black."),
        con=lines(
            "world",
            "I love wearing bright colours: yellow, pink, orange.",
            "I'm wearing my favourite bright green dress, as usual."
            if ctx.char.gender == "f"
            else "I'm in my favourite bright orange shirt, as usual.",
        ),
        neu=t.look_neu,
        questions=t.look_questions,
        topic="clothes",
    )


def era(ctx: Ctx) -> Fact:
    """A character living in a past century, with anachronisms for contradictions."""
    t = world_tables()
    cands = [e for e in t.eras if e.gender in ("", ctx.char.gender)]
    v = ctx.pick(cands)
    year = v.year
    later = ctx.rng.randint(year + 150, 2090)
    slots = {"y": str(year), "r": v.role, "a_r": with_article(v.role), "pl": v.place, "ly": str(later)}
    ent = lines(
        "direct",
        "It is the year {y}, and times are hard.",
        "I've been {a_r} all my life.",
        "I've been {a_r} for many years now.",
    ) + lines("para", *v.lines)
    if year < 1870:
        ent += lines(
            "world",
            "A 'telephone'? I've never heard of such a thing.",
            "A machine that flies through the air? You jest.",
        )
    con = lines("world", *(a.line for a in t.anachronisms if a.since > year + 20)) + lines(
        "value", "I was born in {ly}.", "Back in {y}? That was centuries before my time."
    )
    fact = Fact(
        "era",
        slots,
        sentences=(
            "{S} is {a_r} living {pl} in the year {y}.",
            "{S} is {a_r} {pl} in {y}.",
            "In the year {y}, {S} works as {a_r} {pl}.",
        ),
        preds=("is {a_r} living {pl} in {y}",),
        ent=ent,
        con=con,
        neu=t.timeless + lines("mention", "Some say the world will change beyond recognition one day."),
        questions=t.era_questions,
        topic="daily life",
        timeless=True,
    )
    if v.title:
        fact.extra["title"] = v.title
    return fact
