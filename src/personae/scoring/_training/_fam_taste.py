"""Attribute families about skills and tastes: languages, instruments, music, sport, colours, seasons, hobbies.

The tables live in ``data/taste.yaml``.
"""

from __future__ import annotations

from functools import cache
from typing import Annotated, NamedTuple

from pydantic import Field

from ._core import Ctx, Fact, lines, number_words, with_article
from ._tables import NonEmpty, Tables, data_path, load_tables
from ._vocab import vocab


class Language(NamedTuple):
    """A language, a country where it is spoken, and a greeting in it."""

    name: NonEmpty
    country: NonEmpty
    greeting: NonEmpty


class Instrument(NamedTuple):
    """An instrument and lines that show playing it without naming it (possibly none)."""

    name: NonEmpty
    lines: tuple[NonEmpty, ...]


class Genre(NamedTuple):
    """A music genre, some of its artists, and a genre close to it."""

    name: NonEmpty
    artists: Annotated[tuple[NonEmpty, ...], Field(min_length=1)]
    close: NonEmpty


class Sport(NamedTuple):
    """A sport and lines of a fan."""

    name: NonEmpty
    lines: tuple[NonEmpty, ...]


class Season(NamedTuple):
    """A season and a line about loving it."""

    name: NonEmpty
    line: NonEmpty


class Hobby(NamedTuple):
    """A hobby as a gerund phrase and a line that shows it without naming it."""

    name: NonEmpty
    line: NonEmpty


class TasteTables(Tables):
    """The tables of ``taste.yaml``."""

    languages: tuple[Language, ...]
    lang_questions: tuple[NonEmpty, ...]
    instruments: tuple[Instrument, ...]
    players: dict[NonEmpty, NonEmpty]  # instrument -> player noun where "<instrument> player" is wrong
    instr_questions: tuple[NonEmpty, ...]
    genres: tuple[Genre, ...]
    music_questions: tuple[NonEmpty, ...]
    sports: tuple[Sport, ...]
    sport_questions: tuple[NonEmpty, ...]
    colours: tuple[NonEmpty, ...]
    colour_questions: tuple[NonEmpty, ...]
    seasons: tuple[Season, ...]
    season_questions: tuple[NonEmpty, ...]
    hobbies: tuple[Hobby, ...]
    hobby_questions: tuple[NonEmpty, ...]


@cache
def taste_tables() -> TasteTables:
    """The language, instrument, music, sport, colour, season and hobby tables, read and validated once."""
    return load_tables(TasteTables, data_path("taste"))


def __getattr__(name: str) -> object:
    """The former module constants (``LANGUAGES``, ``HOBBIES``, ...), served from the data file."""
    if name.isupper() and name.lower() in TasteTables.model_fields:
        return getattr(taste_tables(), name.lower())
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def languages(ctx: Ctx) -> Fact:
    """A language the character speaks fluently, or only English."""
    t = taste_tables()
    v = ctx.pick(t.languages)
    o = ctx.other(t.languages, v)
    slots = {
        "l": v.name,
        "c": v.country,
        "g": v.greeting,
        "o": o.name,
        "oc": o.country,
        "rel": ctx.rng.choice(vocab().relatives[:5]),
    }
    neu = lines(
        "wish",
        "I've always wanted to learn {o}.",
        "opinion|Learning a language as an adult is hard, they say.",
        "related|My {rel} speaks four languages.",
        "wish|I'd love to visit {oc} one day.",
        "topic|Languages open up the world, don't they?",
        "mention|My {rel} doesn't speak a word of {l}.",
        "mention|My {rel} has never been to {c}.",
    )
    if ctx.chance(0.2):
        return Fact(
            "languages",
            slots,
            sentences=("{S} speaks only English.", "{S} has never learned a second language."),
            preds=("speaks only English", "has never learned a second language"),
            ent=lines(
                "direct",
                "English is the only language I speak.",
                "para|I never managed to learn another language; I'm hopeless at them.",
            ),
            con=lines(
                "world",
                "I speak fluent {l}.",
                "I chatted away in {l} with the waiter last night.",
                "I read {l} novels in the original.",
            ),
            neu=neu + lines("mention", "My {rel} is learning {l}."),
            questions=t.lang_questions,
            topic="languages",
        )
    return Fact(
        "languages",
        slots,
        sentences=("{S} speaks fluent {l}.", "{S} speaks {l} fluently.", "{S} is fluent in {l}."),
        preds=("speaks fluent {l}", "is fluent in {l}"),
        ent=lines(
            "direct",
            "I speak {l} fluently.",
            "I can chat away in {l} without a second thought.",
            "para|I read {l} novels in the original.",
            "para|{g}! Sorry, I slip into {l} sometimes.",
            "para|I lived in {c} for years and picked up the language completely.",
        ),
        con=lines(
            "neg",
            "I don't speak a word of {l}.",
            "{L}? I only know how to say hello.",
            "value|I only speak English, I'm afraid.",
            "wish|I've always wanted to learn {l}.",
            "wish|I'm starting {l} lessons next week; I can't say a thing yet.",
        ),
        neu=neu + lines("compat", "I get by in a bit of {o} too.", "mention|My {rel} is learning {l}."),
        questions=t.lang_questions,
        topic="languages",
    )


def instrument(ctx: Ctx) -> Fact:
    """An instrument the character plays, or none."""
    t = taste_tables()
    v = ctx.pick(t.instruments)
    o = ctx.other(t.instruments, v)
    k = ctx.rng.randint(5, max(5, min(ctx.char.age - 1, 30)))
    slots = {
        "i": v.name,
        "o": o.name,
        "k": number_words(k),
        "rel": ctx.rng.choice(vocab().relatives[:5]),
        "genre": ctx.rng.choice(("jazz", "classical music", "folk songs", "old soul records", "opera")),
    }
    neu = lines(
        "topic",
        "Music? It's a big part of life for a lot of people.",
        "opinion|I love listening to {genre}.",
        "related|My {rel} plays the {o}.",
        "mention|The {i} is supposed to be hard to learn.",
        "related|I went to a concert last night; the band was wonderful.",
        "wish|I'd love to learn the {o} someday.",
        "mention|My {rel} has never played the {i}.",
        "mention|My {rel} can't stand the sound of the {i}.",
    )
    if ctx.chance(0.2):
        return Fact(
            "instrument",
            slots,
            sentences=("{S} doesn't play any musical instrument.", "{S} can't play a single instrument."),
            preds=("doesn't play any instrument", "can't play a note of music"),
            ent=lines("direct", "I don't play any instruments.", "para|I can't play a note, sadly; I just listen."),
            con=lines("world", "I play the {i}.", "I've played the {i} since I was {k}.") + lines("para", *v.lines),
            neu=neu,
            questions=t.instr_questions,
            topic="music",
        )
    return Fact(
        "instrument",
        slots,
        sentences=(
            "{S} plays the {i}.",
            "{S} has played the {i} since {he} was {k}.",
            "{S} plays the {i} in a local orchestra.",
            "{S} is a talented {i} player.",
        ),
        preds=("plays the {i}", "has played the {i} since {he} was {k}", "plays the {i} in a local band"),
        ent=lines(
            "direct", "I play the {i}.", "I've played the {i} since I was {k}.", "generic|I play an instrument, yes."
        )
        + lines("para", *v.lines),
        con=lines(
            "neg",
            "I've never played the {i}.",
            "I can't play a note on the {i}.",
            "value|I don't play any instruments.",
            "world|I've never touched a musical instrument in my life.",
            "wish|I've always wanted to learn the {i}.",
        ),
        neu=neu + lines("compat", "I play the {o} too, a little."),
        questions=t.instr_questions,
        topic="music",
        nouns=(t.players.get(v.name, v.name + " player"),),
    )


def music(ctx: Ctx) -> Fact:
    """A music genre the character loves, hates, or names as a favourite."""
    t = taste_tables()
    v = ctx.pick(t.genres)
    o = ctx.other(t.genres, v)
    while o.name == v.close:
        o = ctx.other(t.genres, v)
    slots = {
        "g": v.name,
        "a": ctx.rng.choice(v.artists),
        "cg": v.close,
        "o": o.name,
        "a_o": with_article(o.name),
        "rel": ctx.rng.choice(vocab().relatives[:5]),
    }
    love = lines(
        "direct",
        "I love {g}.",
        "para|Nothing beats {a} on a rainy evening.",
        "para|I've got every {a} record ever made.",
        "direct|{G} is my favourite kind of music.",
    )
    hate = lines(
        "direct", "I can't stand {g}.", "para|{G}? Just noise to me.", "para|Put {a} on and I'm out of the room."
    )
    neu = lines(
        "compat",
        "I also enjoy a bit of {cg} now and then.",
        "topic|Music? It's a big part of life for a lot of people.",
        "related|My {rel} is mad about {o}.",
        "related|I went to {a_o} concert with a friend once; it was all right.",
        "mention|They say {g} is making a comeback.",
        "opinion|Everyone's taste in music is different.",
        "mention|My {rel} can't stand {g}.",
        "mention|There's a {g} festival in town next month.",
        "mention|My {rel} has never listened to {g} in {rel_his} life.",
    )
    mode = ctx.rng.choice(("love", "love", "favourite", "hate"))
    if mode == "hate":
        return Fact(
            "music",
            slots,
            sentences=("{S} hates {g}.", "{S} can't stand {g}."),
            preds=("hates {g}", "can't stand {g}"),
            ent=hate,
            con=love[:3],
            neu=neu,
            questions=t.music_questions,
            topic="music",
        )
    if mode == "favourite":
        return Fact(
            "music",
            slots,
            sentences=("{S}'s favourite music is {g}.", "{S}'s favourite kind of music is {g}."),
            preds=("loves {g} above all other music",),
            ent=love,
            con=hate + lines("value", "My favourite music is {o}.", "Nothing compares to {o} for me."),
            neu=neu,
            questions=t.music_questions,
            topic="music",
        )
    return Fact(
        "music",
        slots,
        sentences=("{S} loves {g}.", "{S} is a big fan of {g}.", "{S} listens to {g} all day."),
        preds=("loves {g}", "is a big fan of {g}", "listens to {g} all day"),
        ent=love[:3],
        con=hate,
        neu=neu,
        questions=t.music_questions,
        topic="music",
    )


def sport(ctx: Ctx) -> Fact:
    """A sport the character follows, or no interest in sport."""
    t = taste_tables()
    v = ctx.pick(t.sports)
    o = ctx.other(t.sports, v)
    slots = {"v": v.name, "o": o.name, "rel": ctx.rng.choice(vocab().relatives[:5])}
    fan = lines("direct", "I'm a huge {v} fan.", "I love watching {v}.") + lines("para", *v.lines)
    neu = lines(
        "related",
        "My {rel} is mad about {o}.",
        "topic|Sport brings people together, I suppose.",
        "mention|Everyone in town was talking about the {v} last night.",
        "opinion|Sportspeople get paid far too much, if you ask me.",
        "mention|My {rel} never misses {v} on the telly.",
        "mention|My {rel} can't stand {v}.",
    )
    if ctx.chance(0.25):
        return Fact(
            "sport",
            slots,
            sentences=("{S} has no interest in sport at all.", "{S} hates watching sport."),
            preds=("has no interest in sport", "hates watching sport"),
            ent=lines(
                "direct",
                "Sport bores me to tears.",
                "para|I couldn't name a single famous athlete.",
                "para|When the big match is on, I go for a walk.",
            ),
            con=fan,
            neu=neu,
            questions=t.sport_questions,
            topic="sport",
        )
    return Fact(
        "sport",
        slots,
        sentences=("{S} is a huge {v} fan.", "{S} loves watching {v}.", "{S} follows {v} closely."),
        preds=("is a huge {v} fan", "loves watching {v}", "follows {v} religiously"),
        ent=fan,
        con=lines(
            "neg",
            "I can't stand {v}.",
            "{V} bores me to tears.",
            "I've never watched {v} in my life.",
            "value|Sport bores me to tears, all of it.",
        ),
        neu=neu + lines("compat", "I watch a bit of {o} too."),
        questions=t.sport_questions,
        topic="sport",
    )


def colour(ctx: Ctx) -> Fact:
    """A favourite colour."""
    t = taste_tables()
    v = ctx.pick(t.colours)
    o = ctx.other(t.colours, v)
    slots = {"c": v, "o": o, "rel": ctx.rng.choice(vocab().relatives[:5])}
    return Fact(
        "colour",
        slots,
        sentences=("{S}'s favourite colour is {c}.", "{S} loves the colour {c}."),
        preds=("loves the colour {c}", "has {c} as {his} favourite colour"),
        ent=lines(
            "direct",
            "My favourite colour is {c}.",
            "I love {c}.",
            "para|Half my wardrobe is {c}.",
            "para|If it comes in {c}, I'll buy it.",
        ),
        con=lines(
            "value",
            "My favourite colour is {o}.",
            "neg|I can't stand {c}.",
            "world|I don't really have a favourite colour.",
            "value|I'd pick {o} over any other colour.",
        ),
        neu=lines(
            "related",
            "I bought a {o} scarf yesterday.",
            "mention|{C} is very fashionable this year, apparently.",
            "topic|Colours can change your mood, they say.",
            "related|My {rel} painted the kitchen {o}.",
            "mention|The door on my street was painted {c} last week.",
            "mention|My {rel} hates {c}, funnily enough.",
        ),
        questions=t.colour_questions,
        topic="colours",
    )


def season(ctx: Ctx) -> Fact:
    """A favourite or hated season."""
    t = taste_tables()
    v = ctx.pick(t.seasons)
    o = ctx.other(t.seasons, v)
    slots = {"s": v.name, "o": o.name, "rel": ctx.rng.choice(vocab().relatives[:5])}
    love = lines("direct", "My favourite season is {s}.", "I love {s}.", "para|" + v.line)
    hate = lines("direct", "I can't stand {s}.", "I dread {s} every year.")
    neu = lines(
        "topic",
        "Each season has its charms, I suppose.",
        "related|The weather's been so strange this year.",
        "related|My {rel} always goes away in {o}.",
        "mention|They say this {s} will be a long one.",
        "mention|My {rel} hates {s}.",
        "mention|My {rel} loves {s}, for some reason.",
    )
    if ctx.chance(0.3):
        return Fact(
            "season",
            slots,
            sentences=("{S} hates {s}.", "{S} dreads {s} every year."),
            preds=("hates {s}", "dreads {s} every year"),
            ent=hate,
            con=love,
            neu=neu,
            questions=t.season_questions,
            topic="the weather",
        )
    return Fact(
        "season",
        slots,
        sentences=("{S}'s favourite season is {s}.", "{S} loves {s} more than any other season."),
        preds=("loves {s} more than any other season",),
        ent=love,
        con=hate + lines("value", "My favourite season is {o}."),
        neu=neu,
        questions=t.season_questions,
        topic="the weather",
    )


def hobbies(ctx: Ctx) -> Fact:
    """A hobby the character loves."""
    t = taste_tables()
    v = ctx.pick(t.hobbies)
    o = ctx.other(t.hobbies, v)
    slots = {"h": v.name, "o": o.name, "rel": ctx.rng.choice(vocab().relatives[:5])}
    return Fact(
        "hobbies",
        slots,
        sentences=(
            "{S} loves {h}.",
            "{S} spends {his} weekends {h}.",
            "{S}'s favourite hobby is {h}.",
            "In {his} spare time, {S} enjoys {h}.",
        ),
        preds=("loves {h}", "spends {his} free time {h}", "enjoys {h}"),
        ent=lines("direct", "I love {h}.", "{H} is how I unwind.", "para|" + v.line),
        con=lines(
            "neg",
            "I've never had the patience for {h}.",
            "{H}? Boring as anything, if you ask me.",
            "I've never tried {h} in my life.",
            "I gave up {h} years ago; I can't stand it now.",
        ),
        neu=lines(
            "related",
            "My {rel} is really into {o}.",
            "mention|{H} is getting popular again, apparently.",
            "compat|I've also started {o} lately.",
            "wish|I'd like to try {o} one day.",
            "topic|Everyone needs a hobby, don't they?",
            "other|" + o.line,
            "mention|My {rel} has never had the patience for {h}.",
            "mention|My {rel} loves {h}.",
        ),
        questions=t.hobby_questions,
        topic="hobbies",
    )
