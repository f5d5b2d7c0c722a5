"""Attribute families about work, age, schooling and past events.

The tables (jobs, subjects, past events and the reply templates) live in ``data/work.yaml``.
"""

from __future__ import annotations

from functools import cache
from typing import NamedTuple

from ._core import Ctx, Fact, decade_phrase, lines, number_words, retag, with_article
from ._tables import NonEmpty, Tables, TaggedLine, data_path, load_tables


class Job(NamedTuple):
    """A profession, the youngest age for it, and first-person lines that show it without naming it."""

    name: NonEmpty
    plural: NonEmpty
    min_age: int
    lines: tuple[NonEmpty, ...]


class Subject(NamedTuple):
    """A subject of study and a line about studying it that does not name it."""

    name: NonEmpty
    line: NonEmpty


class PastEvent(NamedTuple):
    """An event in a character's past; the line lists take ``tag|`` prefixes (see `lines`)."""

    key: NonEmpty
    predicate: NonEmpty
    min_age: int
    confirm: tuple[NonEmpty, ...]
    contradict: tuple[NonEmpty, ...]
    neutral: tuple[NonEmpty, ...]


class WorkTables(Tables):
    """The tables of ``work.yaml``."""

    jobs: tuple[Job, ...]
    job_questions: tuple[NonEmpty, ...]
    job_ent: tuple[TaggedLine, ...]
    job_con: tuple[TaggedLine, ...]
    job_neu: tuple[TaggedLine, ...]
    retired_ent: tuple[TaggedLine, ...]
    retired_con: tuple[TaggedLine, ...]
    age_questions: tuple[NonEmpty, ...]
    age_ent: tuple[TaggedLine, ...]
    age_con: tuple[TaggedLine, ...]
    age_con_old: tuple[TaggedLine, ...]  # said by someone young: contradicts an older age
    age_con_young: tuple[TaggedLine, ...]  # said by someone old: contradicts a young age
    age_neu: tuple[TaggedLine, ...]
    subjects: tuple[Subject, ...]
    edu_questions: tuple[NonEmpty, ...]
    edu_neu: tuple[TaggedLine, ...]
    past: tuple[PastEvent, ...]
    past_questions: tuple[NonEmpty, ...]


@cache
def work_tables() -> WorkTables:
    """The work, age, education and past-event tables, read and validated on the first call."""
    return load_tables(WorkTables, data_path("work"))


def __getattr__(name: str) -> object:
    """The former module constants (``JOBS``, ``PAST``, ...), served from the data file."""
    if name.isupper() and name.lower() in WorkTables.model_fields:
        return getattr(work_tables(), name.lower())
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def job(ctx: Ctx) -> Fact:
    """A profession, with paraphrases of the daily work and a different job for contradictions."""
    t = work_tables()
    age = ctx.char.age
    cands = [j for j in t.jobs if j.min_age <= age]
    v = ctx.pick(cands)
    o = ctx.other(t.jobs, v)
    retired = age >= 66 and ctx.chance(0.7)
    n = ctx.years(v.min_age, 40 if retired else 30)
    slots = {
        "v": v.name,
        "vs": v.plural,
        "a_v": with_article(v.name),
        "o": o.name,
        "os": o.plural,
        "a_o": with_article(o.name),
        "n": number_words(n),
        "rel": ctx.rng.choice(("cousin", "neighbour", "friend", "aunt", "uncle")),
    }
    if retired:
        return Fact(
            "job",
            slots,
            sentences=(
                "{S} is a retired {v}.",
                "{S} worked as {a_v} for {n} years before retiring.",
                "{S} spent {his} working life as {a_v} and is now retired.",
            ),
            preds=("is a retired {v}", "worked as {a_v} for {n} years"),
            ent=t.retired_ent,
            con=t.retired_con,
            neu=tuple(x for x in t.job_neu if x[0] != "topic"),
            questions=t.job_questions[:3],
            topic="work",
            nouns=("retired {v}",),
        )
    return Fact(
        "job",
        slots,
        sentences=(
            "{S} is {a_v}.",
            "{S} works as {a_v}.",
            "{S} has been {a_v} for {n} years.",
            "By profession, {S} is {a_v}.",
            "{S} earns {his} living as {a_v}.",
        ),
        preds=("is {a_v}", "works as {a_v}", "has worked as {a_v} for {n} years", "is {a_v} by profession"),
        ent=t.job_ent + retag("para", lines("p", *v.lines)),
        con=t.job_con + retag("para", lines("p", *o.lines)),
        neu=t.job_neu,
        questions=t.job_questions,
        topic="work",
        nouns=("{v}",),
    )


def age(ctx: Ctx) -> Fact:
    """The character's age (the latent age every family respects)."""
    t = work_tables()
    v = ctx.char.age
    o = v
    while abs(o - v) < 12:
        o = ctx.rng.randint(16, 92)
    slots = {
        "v": str(v),
        "vw": number_words(v),
        "v1w": number_words(v + 1),
        "dec": decade_phrase(v),
        "o": str(o),
        "ow": number_words(o),
        "o1w": number_words(min(o + 1, 99)),
        "odec": decade_phrase(o),
        "rel": ctx.rng.choice(("cousin", "neighbour", "friend", "old school friend")),
    }
    con = t.age_con
    if v >= 40:
        con += t.age_con_old
    if v <= 30:
        con += t.age_con_young
    return Fact(
        "age",
        slots,
        sentences=("{S} is {v} years old.", "{S} is {v}.", "{S} turned {v} this year.", "{S} is aged {v}."),
        preds=("is {v} years old", "is {v}"),
        ent=t.age_ent,
        con=con,
        neu=t.age_neu,
        questions=t.age_questions,
        topic="age",
        adjs=("{v}-year-old",),
    )


def education(ctx: Ctx) -> Fact:
    """Schooling: a degree, a doctorate, or leaving school early."""
    t = work_tables()
    v = ctx.pick(t.subjects)
    o = ctx.other(t.subjects, v)
    rel = ctx.rng.choice(("cousin", "neighbour", "friend", "godson", "goddaughter"))
    slots = {"v": v.name, "o": o.name, "rel": rel}
    kind = ctx.rng.random()
    if kind < 0.2:
        return Fact(
            "education",
            slots,
            sentences=(
                "{S} left school at sixteen and never went to university.",
                "{S} never went to university.",
                "{S} left school at sixteen to start working.",
            ),
            preds=("left school at sixteen", "never went to university"),
            ent=lines(
                "direct",
                "I left school at sixteen and went straight to work.",
                "I never went to university.",
                "para|No degree for me; I learned on the job.",
                "para|I was out of the classroom and earning a wage at sixteen.",
            ),
            con=lines(
                "world",
                "When I was at university, I barely slept.",
                "I did my degree in {o}.",
                "I stayed on at school until eighteen and then did a degree.",
                "neg|I didn't leave school early at all; I went all the way to a doctorate.",
            ),
            neu=t.edu_neu[:2] + t.edu_neu[5:7] + lines("related", "My {rel} is studying {o} at the moment."),
            questions=t.edu_questions,
            topic="school",
        )
    if ctx.char.age < 24:
        return Fact(
            "education",
            slots,
            sentences=("{S} is a university student studying {v}.", "{S} is studying {v} at university."),
            preds=("is studying {v} at university", "is a {v} student"),
            ent=lines(
                "direct", "I'm studying {v} at university.", "I'm a {v} student.", "I've got a {v} exam next week."
            ),
            con=lines(
                "value",
                "I'm studying {o} at university.",
                "neg|I've never studied {v}.",
                "world|I'm not at university; I never went.",
                "value|My course is {o}, not {v}.",
            ),
            neu=t.edu_neu,
            questions=t.edu_questions,
            topic="school",
            nouns=("{v} student",),
        )
    phd = ctx.char.age >= 28 and ctx.chance(0.3)
    if phd:
        sentences: tuple[str, ...] = ("{S} has a PhD in {v}.", "{S} holds a doctorate in {v}.")
        preds: tuple[str, ...] = ("has a PhD in {v}", "holds a doctorate in {v}")
        direct = ("I have a PhD in {v}.", "I did my doctorate in {v}.", "My PhD was in {v}, years ago now.")
    else:
        sentences = ("{S} studied {v} at university.", "{S} has a degree in {v}.")
        preds = ("studied {v} at university", "has a degree in {v}")
        direct = ("I studied {v} at university.", "I did a degree in {v}.", "My degree was in {v}.")
    return Fact(
        "education",
        slots,
        sentences=sentences,
        preds=preds,
        ent=lines("direct", *direct) + retag("para", lines("p", v.line)),
        con=lines(
            "value",
            "My degree was in {o}.",
            "I studied {o}, not {v}.",
            "neg|I've never studied {v}.",
            "world|I never went to university.",
            "world|I left school at sixteen and never went back.",
            "para|" + o.line,
        ),
        neu=t.edu_neu,
        questions=t.edu_questions,
        topic="school",
    )


def past(ctx: Ctx) -> Fact:
    """A past event in the character's life."""
    t = work_tables()
    cands = [p for p in t.past if p.min_age <= ctx.char.age]
    v = ctx.pick(cands)
    o = ctx.other(cands, v)
    n = ctx.years(v.min_age, 15)
    slots = {"n": number_words(n), "rel": ctx.rng.choice(("cousin", "neighbour", "friend", "aunt", "uncle"))}
    pred = v.predicate
    sentences: tuple[str, ...] = ("{S} " + pred + ".",)
    if not pred.startswith(("has ", "is ")):
        sentences += ("Years ago, {S} " + pred + ".", "{S} " + pred + ", something {he} still talks about.")
    neu = lines("related", *v.neutral) + lines("topic", "The past is the past.", "I try not to dwell on old times.")
    if "travel_never" not in (v.key, o.key):
        neu += lines("other", o.confirm[0])
    return Fact(
        "past",
        slots,
        sentences=sentences,
        preds=(pred,),
        ent=lines("direct", *v.confirm),
        con=lines("neg", *v.contradict),
        neu=neu,
        questions=t.past_questions,
        topic="the past",
    )
