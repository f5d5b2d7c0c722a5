"""Attribute families about animals, food, the body, abilities and daily habits.

The tables (pets, diets, foods, exercise, health and the reply templates) live in ``data/body.yaml``.
"""

from __future__ import annotations

from functools import cache
from typing import Annotated, NamedTuple

from pydantic import Field, model_validator

from ._core import Ctx, Fact, Line, lines, number_words
from ._tables import NonEmpty, Tables, TaggedLine, data_path, load_tables
from ._vocab import vocab

SomeLines = Annotated[tuple[NonEmpty, ...], Field(min_length=1)]


class Pole(NamedTuple):
    """One side of a two-sided attribute (swimmer or not): statements, predicates, confirming lines, adjectives."""

    sentences: tuple[NonEmpty, ...]
    predicates: tuple[NonEmpty, ...]
    confirm: tuple[TaggedLine, ...]
    adjectives: tuple[NonEmpty, ...]


class Pet(NamedTuple):
    """A kind of pet with its singular and plural."""

    kind: NonEmpty
    singular: NonEmpty
    plural: NonEmpty


class Diet(NamedTuple):
    """A dietary choice or restriction; `noun` ("vegetarian") may be empty, line lists take ``tag|`` prefixes."""

    key: NonEmpty
    predicates: SomeLines
    noun: str
    confirm: tuple[NonEmpty, ...]
    contradict: tuple[NonEmpty, ...]
    neutral: SomeLines


class Food(NamedTuple):
    """A food with two lines that show liking it and two that show disliking it."""

    name: NonEmpty
    likes: tuple[NonEmpty, NonEmpty]
    dislikes: tuple[NonEmpty, NonEmpty]


class Activity(NamedTuple):
    """A regular exercise habit."""

    key: NonEmpty
    predicate: NonEmpty
    confirm: tuple[NonEmpty, ...]


class Condition(NamedTuple):
    """A health condition (or unusually good health)."""

    key: NonEmpty
    predicate: NonEmpty
    confirm: tuple[NonEmpty, ...]
    contradict: tuple[NonEmpty, ...]
    neutral: tuple[NonEmpty, ...]


class BodyTables(Tables):
    """The tables of ``body.yaml``."""

    pets: tuple[Pet, ...]
    pet_lines: dict[NonEmpty, SomeLines]  # by pet kind: lines about the pet, {x} is its name
    pet_questions: tuple[NonEmpty, ...]
    diets: tuple[Diet, ...]
    diet_neu: tuple[TaggedLine, ...]
    diet_questions: tuple[NonEmpty, ...]
    foods: tuple[Food, ...]
    food_questions: tuple[NonEmpty, ...]
    swim_questions: tuple[NonEmpty, ...]
    swim_yes: Pole
    swim_no: Pole
    swim_neu: tuple[TaggedLine, ...]
    drive_questions: tuple[NonEmpty, ...]
    drive_yes: Pole
    drive_no: Pole
    drive_neu: tuple[TaggedLine, ...]
    sleep_questions: tuple[NonEmpty, ...]
    early: Pole
    late: Pole
    sleep_neu: tuple[TaggedLine, ...]
    smoke_questions: tuple[NonEmpty, ...]
    smoke_neu: tuple[TaggedLine, ...]
    active: tuple[Activity, ...]
    lazy: tuple[TaggedLine, ...]
    exercise_questions: tuple[NonEmpty, ...]
    health: tuple[Condition, ...]
    health_neu: tuple[TaggedLine, ...]
    health_questions: tuple[NonEmpty, ...]

    @model_validator(mode="after")
    def _every_pet_has_lines(self) -> BodyTables:
        missing = [p.kind for p in self.pets if p.kind not in self.pet_lines]
        if missing:
            raise ValueError(f"pet_lines has no entry for the pet kind(s) {', '.join(missing)}")
        return self


@cache
def body_tables() -> BodyTables:
    """The pet, diet, food, ability, habit and health tables, read and validated on the first call."""
    return load_tables(BodyTables, data_path("body"))


def __getattr__(name: str) -> object:
    """The former module constants (``PETS``, ``DIETS``, ...), served from the data file."""
    if name.isupper() and name.lower() in BodyTables.model_fields:
        return getattr(body_tables(), name.lower())
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _axis(
    ctx: Ctx, family: str, a: Pole, b: Pole, neu: tuple[Line, ...], questions: tuple[str, ...], topic: str
) -> Fact:
    mine, theirs = (a, b) if ctx.chance(0.5) else (b, a)
    slots = {"rel": ctx.rng.choice(vocab().relatives[:5])}
    return Fact(
        family,
        slots,
        sentences=mine.sentences,
        preds=mine.predicates,
        ent=mine.confirm,
        con=theirs.confirm,
        neu=neu,
        questions=questions,
        topic=topic,
        adjs=mine.adjectives,
    )


def pets(ctx: Ctx) -> Fact:
    """A named pet, or no pets at all."""
    t = body_tables()
    v = ctx.pick(t.pets)
    o = ctx.other(t.pets, v)
    x = ctx.pick(vocab().pet_names)
    slots = {
        "x": x,
        "v": v.singular,
        "vs": v.plural,
        "o": o.singular,
        "os": o.plural,
        "rel": ctx.rng.choice(vocab().relatives[:5]),
    }
    neu = lines(
        "opinion",
        "{Vs} are great company, I suppose.",
        "related|My {rel} has {a_o}.",
        "wish|I'd love to get {a_o} one day.",
        "related|The neighbour's {o} keeps wandering into my garden.",
        "topic|Animals are good for the soul, they say.",
        "mention|There was a programme about {vs} on last night.",
        "mention|My {rel} can't stand {vs}.",
        "mention|My {rel} has never had a pet in {rel_his} life.",
    )
    slots["a_o"] = ("an " if o.singular[0] in "aeiou" else "a ") + o.singular
    if ctx.chance(0.25):
        return Fact(
            "pets",
            slots,
            sentences=("{S} doesn't have any pets.", "{S} has no pets.", "{S} has never owned a pet."),
            preds=("doesn't have any pets", "has never owned a pet"),
            ent=lines(
                "direct",
                "I don't have any pets.",
                "No pets for me; my landlord doesn't allow them.",
                "para|I've never owned an animal in my life.",
                "para|It's just me at home, no furry friends.",
            ),
            con=lines(
                "world",
                "My {v} {x} is waiting for me at home.",
                "I need to get back and feed my {v}.",
                "neg|I've always had pets; I couldn't live without them.",
            )
            + lines("para", *(line.replace("{x}", "my " + v.singular + " " + x) for line in t.pet_lines[v.kind][:1])),
            neu=neu,
            questions=t.pet_questions,
            topic="animals",
        )
    return Fact(
        "pets",
        slots,
        sentences=("{S} has a {v} named {x}.", "{S} has a pet {v} called {x}.", "{S} lives with {his} {v}, {x}."),
        preds=("has a {v} named {x}", "has a pet {v} called {x}", "lives with {his} {v}, {x}"),
        ent=lines(
            "direct", "My {v} {x} is my best friend.", "I have a {v} called {x}.", "generic|I have a pet at home."
        )
        + lines("para", *t.pet_lines[v.kind]),
        con=lines(
            "neg",
            "I don't have any pets.",
            "I've never had a {v}.",
            "I can't stand {vs}; never could.",
            "world|Pets? I'm far too busy to look after an animal.",
        ),
        neu=neu,
        questions=t.pet_questions,
        topic="animals",
    )


def diet(ctx: Ctx) -> Fact:
    """Dietary choices and restrictions."""
    t = body_tables()
    v = ctx.pick(t.diets)
    o = ctx.other(t.diets, v)
    slots = {"rel": ctx.rng.choice(vocab().relatives[:5])}
    return Fact(
        "diet",
        slots,
        sentences=tuple("{S} " + p + "." for p in v.predicates),
        preds=v.predicates,
        ent=lines("direct", *v.confirm),
        con=lines("world", *v.contradict),
        neu=lines("related", *v.neutral) + lines("other", o.neutral[0]) + t.diet_neu,
        questions=t.diet_questions,
        topic="food",
        nouns=(v.noun,) if v.noun else (),
    )


def food(ctx: Ctx) -> Fact:
    """A food the character loves or hates."""
    t = body_tables()
    v = ctx.pick(t.foods)
    o = ctx.other(t.foods, v)
    while {v.name, o.name} == {"cheese", "pineapple on pizza"}:
        o = ctx.other(t.foods, v)
    loves = ctx.chance(0.6)
    slots = {"v": v.name, "o": o.name, "rel": ctx.rng.choice(vocab().relatives[:5])}
    good = lines("direct", "I love {v}.", "para|" + v.likes[0], "para|" + v.likes[1])
    bad = lines("direct", "I can't stand {v}.", "para|" + v.dislikes[0], "para|" + v.dislikes[1])
    neu = lines(
        "mention",
        "{V} is really popular round here.",
        "related|My {rel} is mad about {o}.",
        "topic|Everyone's taste is different, isn't it?",
        "compat|" + o.likes[0],
        "compat|I'm not fussed about {o}, to be honest.",
        "opinion|They say you can learn to like anything.",
        "mention|My {rel} can't stand {v}.",
        "mention|My {rel} is mad about {v}.",
        "mention|I've never understood why people argue so much about {v}.",
    )
    if loves:
        sentences: tuple[str, ...] = ("{S} loves {v}.", "{S} is mad about {v}.", "{S} adores {v}.")
        preds: tuple[str, ...] = ("loves {v}", "adores {v}")
    else:
        sentences = ("{S} hates {v}.", "{S} can't stand {v}.", "{S} refuses to eat {v}.")
        preds = ("hates {v}", "can't stand {v}")
    return Fact(
        "food",
        slots,
        sentences=sentences,
        preds=preds,
        ent=good if loves else bad,
        con=bad if loves else good,
        neu=neu,
        questions=t.food_questions,
        topic="food",
    )


def swim(ctx: Ctx) -> Fact:
    """Whether the character can swim."""
    t = body_tables()
    return _axis(ctx, "swim", t.swim_yes, t.swim_no, t.swim_neu, t.swim_questions, "swimming")


def drive(ctx: Ctx) -> Fact:
    """Whether the character can drive."""
    t = body_tables()
    return _axis(ctx, "drive", t.drive_yes, t.drive_no, t.drive_neu, t.drive_questions, "driving")


def sleep(ctx: Ctx) -> Fact:
    """Early riser or night owl."""
    t = body_tables()
    return _axis(ctx, "sleep", t.early, t.late, t.sleep_neu, t.sleep_questions, "sleep")


def smoking(ctx: Ctx) -> Fact:
    """Smoker, ex-smoker or never smoked."""
    t = body_tables()
    slots = {"rel": ctx.rng.choice(vocab().relatives[:5]), "n": number_words(ctx.years(18, 30))}
    smokes = lines(
        "direct",
        "I smoke about ten a day.",
        "world|I'm just popping out for a cigarette.",
        "world|Have you got a light? I've left my lighter at home.",
    )
    quit_ = lines(
        "direct",
        "I gave up smoking years ago.",
        "para|I haven't touched a cigarette since I quit, and I don't miss them.",
    )
    never = lines("direct", "I've never smoked.", "para|I've never so much as touched a cigarette.")
    kind = ctx.rng.choice(("smokes", "quit", "never"))
    if kind == "smokes":
        return Fact(
            "smoking",
            slots,
            sentences=("{S} smokes.", "{S} is a heavy smoker."),
            preds=("smokes", "is a heavy smoker"),
            ent=smokes,
            con=quit_ + never,
            neu=t.smoke_neu,
            questions=t.smoke_questions,
            topic="smoking",
            nouns=("smoker",),
        )
    if kind == "quit":
        return Fact(
            "smoking",
            slots,
            sentences=("{S} gave up smoking {n} years ago.", "{S} is an ex-smoker."),
            preds=("gave up smoking {n} years ago",),
            ent=quit_,
            con=smokes + never,
            neu=t.smoke_neu,
            questions=t.smoke_questions,
            topic="smoking",
            nouns=("ex-smoker",),
        )
    return Fact(
        "smoking",
        slots,
        sentences=("{S} has never smoked.", "{S} has never touched a cigarette."),
        preds=("has never smoked",),
        ent=never,
        con=smokes + quit_,
        neu=t.smoke_neu,
        questions=t.smoke_questions,
        topic="smoking",
    )


def exercise(ctx: Ctx) -> Fact:
    """A regular exercise habit, or a hatred of exercise."""
    t = body_tables()
    v = ctx.pick(t.active)
    o = ctx.other(t.active, v)
    slots = {"v": v.key, "o": o.key, "rel": ctx.rng.choice(vocab().relatives[:5])}
    neu = lines(
        "opinion",
        "Exercise is meant to be good for you.",
        "related|My {rel} is obsessed with {o}.",
        "wish|I'd like to try {o} one day.",
        "topic|Everyone should find something that keeps them moving.",
        "mention|The new sports centre in town is always busy.",
        "mention|My {rel} hates {v}.",
        "mention|My {rel} has never done any exercise in {rel_his} life.",
    )
    active = lines("direct", *v.confirm)
    if ctx.chance(0.7):
        return Fact(
            "exercise",
            slots,
            sentences=("{S} " + v.predicate + ".",),
            preds=(v.predicate,),
            ent=active,
            con=t.lazy + lines("neg", "I never exercise.", "I haven't done any {v} in years."),
            neu=neu + lines("compat", "I do a bit of {o} too, now and then."),
            questions=t.exercise_questions,
            topic="exercise",
        )
    return Fact(
        "exercise",
        slots,
        sentences=("{S} hates exercise.", "{S} avoids exercise whenever possible."),
        preds=("hates exercise", "avoids any kind of exercise"),
        ent=t.lazy,
        con=active + lines("direct", "I love exercise; I'm never happier than when I'm moving."),
        neu=neu,
        questions=t.exercise_questions,
        topic="exercise",
    )


def health(ctx: Ctx) -> Fact:
    """A health condition, or unusually good health."""
    t = body_tables()
    cands = t.health if ctx.char.age >= 25 else [h for h in t.health if h.key != "healthy"]
    v = ctx.pick(cands)
    slots = {"rel": ctx.rng.choice(vocab().relatives[:5])}
    return Fact(
        "health",
        slots,
        sentences=("{S} " + v.predicate + ".",),
        preds=(v.predicate,),
        ent=lines("direct", *v.confirm),
        con=lines("world", *v.contradict),
        neu=lines("related", *v.neutral) + t.health_neu,
        questions=t.health_questions,
        topic="health",
    )
