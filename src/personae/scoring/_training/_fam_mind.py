"""Attribute families about the inner life: beliefs, fears, personality and goals.

The tables (beliefs, fears, personality traits, goals and the reply templates) live in ``data/mind.yaml``.
"""

from __future__ import annotations

from functools import cache
from typing import Annotated, NamedTuple

from pydantic import Field

from ._core import Ctx, Fact, lines
from ._tables import NonEmpty, Tables, TaggedLine, data_path, load_tables
from ._vocab import vocab


class Belief(NamedTuple):
    """A faith, a lack of one, or a strongly held value; line lists take ``tag|`` prefixes."""

    key: NonEmpty
    predicates: tuple[NonEmpty, ...]
    confirm: tuple[NonEmpty, ...]
    contradict: tuple[NonEmpty, ...]


class Fear(NamedTuple):
    """Something to be afraid of, with lines that confirm and contradict the fear."""

    name: NonEmpty
    confirm: tuple[NonEmpty, ...]
    contradict: Annotated[tuple[NonEmpty, ...], Field(min_length=1)]


class TraitPole(NamedTuple):
    """One end of a personality dimension: the adjective, predicates and confirming lines (two at least)."""

    adjective: NonEmpty
    predicates: tuple[NonEmpty, ...]
    confirm: Annotated[tuple[NonEmpty, ...], Field(min_length=2)]


class Trait(NamedTuple):
    """A personality dimension: its cluster ("social") and its two opposite poles."""

    cluster: NonEmpty
    pole_a: TraitPole
    pole_b: TraitPole


class Goal(NamedTuple):
    """An aspiration as infinitive, gerund and past phrase, with a confirming and a related line."""

    infinitive: NonEmpty
    gerund: NonEmpty
    past: NonEmpty
    confirm: NonEmpty
    related: NonEmpty


class MindTables(Tables):
    """The tables of ``mind.yaml``."""

    beliefs: tuple[Belief, ...]
    belief_neu: tuple[TaggedLine, ...]
    belief_questions: tuple[NonEmpty, ...]
    fears: tuple[Fear, ...]
    fear_questions: tuple[NonEmpty, ...]
    traits: tuple[Trait, ...]
    personality_questions: tuple[NonEmpty, ...]
    goals: tuple[Goal, ...]
    goal_questions: tuple[NonEmpty, ...]


@cache
def mind_tables() -> MindTables:
    """The belief, fear, personality and goal tables, read and validated on the first call."""
    return load_tables(MindTables, data_path("mind"))


def __getattr__(name: str) -> object:
    """The former module constants (``BELIEFS``, ``TRAITS``, ...), served from the data file."""
    if name.isupper() and name.lower() in MindTables.model_fields:
        return getattr(mind_tables(), name.lower())
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def beliefs(ctx: Ctx) -> Fact:
    """A faith, a lack of one, or a strongly held value."""
    t = mind_tables()
    v = ctx.pick(t.beliefs)
    slots = {"rel": ctx.rng.choice(vocab().relatives[:5])}
    return Fact(
        "beliefs",
        slots,
        sentences=tuple("{S} " + p + "." for p in v.predicates),
        preds=v.predicates,
        ent=lines("direct", *v.confirm),
        con=lines("neg", *v.contradict),
        neu=t.belief_neu,
        questions=t.belief_questions,
        topic="belief",
    )


def fears(ctx: Ctx) -> Fact:
    """Something the character is afraid of."""
    t = mind_tables()
    v = ctx.pick(t.fears)
    o = ctx.other(t.fears, v)
    slots = {"f": v.name, "o": o.name, "rel": ctx.rng.choice(vocab().relatives[:5])}
    calm_o = next((line for line in o.contradict if not line.startswith("world|")), o.contradict[0])
    return Fact(
        "fears",
        slots,
        sentences=("{S} is afraid of {f}.", "{S} has a terrible fear of {f}.", "{S} is terrified of {f}."),
        preds=("is afraid of {f}", "has a terrible fear of {f}"),
        ent=lines("direct", *v.confirm),
        con=lines("neg", *v.contradict),
        neu=lines(
            "topic",
            "Everyone's afraid of something, aren't they?",
            "related|My {rel} is scared of {o}.",
            "compat|" + calm_o.removeprefix("world|"),
            "mention|Fear of {f} is very common, apparently.",
            "opinion|Facing your fears is overrated, if you ask me.",
            "mention|My {rel} has never been scared of {f}.",
            "mention|My {rel} is terrified of {f}.",
            "mention|No one likes {o}, surely.",
        ),
        questions=t.fear_questions,
        topic="fear",
    )


def personality(ctx: Ctx) -> Fact:
    """A personality trait with its opposite for contradictions and an unrelated trait for neutrals."""
    t = mind_tables()
    cluster, a, b = ctx.pick(t.traits)
    mine, theirs = (a, b) if ctx.chance(0.5) else (b, a)
    others = [trait for trait in t.traits if trait.cluster != cluster]
    _, oa, ob = ctx.other(others)
    other = oa if ctx.chance(0.5) else ob
    slots = {
        "t": mine.adjective,
        "ot": theirs.adjective,
        "x": other.adjective,
        "rel": ctx.rng.choice(vocab().relatives[:5]),
    }
    return Fact(
        "personality",
        slots,
        sentences=tuple("{S} " + p + "." for p in mine.predicates),
        preds=mine.predicates,
        ent=lines("direct", *mine.confirm),
        con=lines("direct", *theirs.confirm),
        neu=lines(
            "mention",
            "Everyone's a bit {t} sometimes, I think.",
            "related|My {rel} is really {ot}.",
            "compat|" + other.confirm[0],
            "compat|" + other.confirm[1].removeprefix("para|"),
            "opinion|People are complicated, aren't they?",
            "topic|I'm not sure anyone really knows themselves.",
            "mention|My {rel} says I'm hard to read.",
            "mention|People say {t} people make the best friends.",
            "mention|My {rel} has never been {t} in {rel_his} life.",
        ),
        questions=t.personality_questions,
        topic="personality",
        adjs=(mine.adjective,),
    )


def goals(ctx: Ctx) -> Fact:
    """An aspiration the character has not yet achieved."""
    t = mind_tables()
    v = ctx.pick(t.goals)
    o = ctx.other(t.goals, v)
    slots = {
        "g": v.infinitive,
        "ging": v.gerund,
        "gp": v.past,
        "o": o.infinitive,
        "rel": ctx.rng.choice(vocab().relatives[:5]),
    }
    return Fact(
        "goals",
        slots,
        sentences=(
            "{S} dreams of being able to {g} one day.",
            "{S}'s greatest ambition is to {g}.",
            "{S} hopes to {g} someday.",
        ),
        preds=("dreams of one day being able to {g}", "hopes to {g} someday", "has always wanted to {g}"),
        ent=lines(
            "direct",
            "My dream is to {g}.",
            "One day I'm going to {g}.",
            "I really hope to {g} someday.",
            "para|" + v.confirm,
        ),
        con=lines(
            "neg",
            "{Ging}? God, no, I'd hate that.",
            "I've got no interest in {ging} whatsoever.",
            "I've never wanted to {g}.",
            "world|I {gp} years ago; that dream's done and dusted.",
        ),
        neu=lines(
            "mention",
            "Lots of people dream of {ging}.",
            "related|" + v.related,
            "topic|Everyone needs something to aim for.",
            "related|My {rel} wants to {o}.",
            "opinion|Dreams keep you going, don't they?",
            "mention|My {rel} has never wanted to {g}.",
            "mention|No one in my family has ever managed to {g}.",
        ),
        questions=t.goal_questions,
        topic="dreams",
    )
