"""Attribute families about the material world: possessions, appearance, and the era a character lives in."""

from __future__ import annotations

from ._core import Ctx, Fact, lines, number_words, with_article
from ._vocab import RELATIVES

# (key, predicates, confirming lines, contradicting lines, neutral lines)
POSSESSIONS: tuple[tuple[str, tuple[str, ...], tuple[str, ...], tuple[str, ...], tuple[str, ...]], ...] = (
    (
        "car",
        ("owns a {c} vintage {m}", "drives an old {c} {m}"),
        ("I drive my old {m} everywhere.", "para|My {c} {m} is my pride and joy; I polish it every Sunday."),
        ("neg|I don't own a car.", "world|I sold my car years ago and never bought another."),
        ("Parking round here is a nightmare.", "My {rel} wants to buy a {m}.", "Old cars have so much character."),
    ),
    (
        "flat",
        ("rents a tiny flat above a shop", "lives in a small rented flat"),
        ("I rent a tiny flat above a shop.", "para|My landlord still hasn't fixed the boiler."),
        (
            "world|I own my house outright; no landlord for me.",
            "world|My big house has five bedrooms and a huge garden.",
        ),
        ("House prices are mad these days.", "My {rel} just bought a house.", "Moving house is so stressful."),
    ),
    (
        "house",
        ("owns a big house with a garden", "owns a large family house with a garden"),
        ("I own a big house with a garden.", "para|I spend hours in the garden behind my house."),
        ("world|I live in a tiny rented flat with no garden.", "neg|I've never owned a house."),
        ("Gardens are a lot of work.", "My {rel} has an allotment.", "The housing market is crazy right now."),
    ),
    (
        "records",
        ("owns over a thousand vinyl records", "has a huge collection of vinyl records"),
        ("I've got over a thousand records.", "para|My shelves are packed with old vinyl, floor to ceiling."),
        ("neg|I don't own a single record; I just stream everything.",),
        ("Vinyl's making a comeback, apparently.", "My {rel} collects old comics.", "Music sounds better loud."),
    ),
    (
        "motorbike",
        ("owns a motorbike", "rides a big motorbike"),
        (
            "I ride my motorbike to work.",
            "para|There's nothing like the open road on two wheels with the engine roaring.",
        ),
        ("neg|I've never owned a motorbike; they terrify me.",),
        ("Motorbikes are so loud.", "My {rel} rides a scooter.", "The roads round here are lovely in summer."),
    ),
    (
        "boat",
        ("owns a small sailing boat", "keeps a little sailing boat in the harbour"),
        ("I've got a little sailing boat.", "para|Every weekend I take my boat out and trim the sails."),
        ("neg|I've never owned a boat.", "world|Boats? I've never even been on one."),
        ("The harbour is lovely at sunset.", "My {rel} is learning to sail.", "Boats cost a fortune to keep."),
    ),
    (
        "no_phone",
        ("doesn't own a smartphone", "refuses to get a smartphone"),
        ("I don't have a smartphone.", "para|My old phone only makes calls; none of that internet nonsense."),
        ("world|Let me look it up on my smartphone.", "world|I'm always scrolling on my phone, I'm addicted."),
        (
            "Everyone's glued to their screens these days.",
            "My {rel} just got a new phone.",
            "Technology moves so fast.",
        ),
    ),
    (
        "watch",
        ("wears {his} grandfather's gold watch every day", "owns {his} grandfather's gold pocket watch"),
        ("I wear my grandfather's gold watch every day.", "para|This watch was my grandad's; I never take it off."),
        ("neg|I don't own a watch; never have.",),
        ("Watches are so expensive.", "My {rel} collects clocks.", "Time flies, doesn't it?"),
    ),
)
CARS = ("Beetle", "Mini", "Morris Minor", "Jaguar", "Land Rover", "Citroen 2CV")
CAR_COLOURS = ("red", "green", "cream", "sky-blue", "yellow", "silver")
POSS_QUESTIONS = (
    "What's your most treasured possession?",
    "Tell me about your home.",
    "Do you own a car?",
    "What would you save in a fire?",
    "What do you spend your money on?",
)


def possessions(ctx: Ctx) -> Fact:
    """Something the character owns, or pointedly does not own."""
    v = ctx.pick(POSSESSIONS)
    o = ctx.other(POSSESSIONS, v)
    slots = {"m": ctx.rng.choice(CARS), "c": ctx.rng.choice(CAR_COLOURS), "rel": ctx.rng.choice(RELATIVES[:5])}
    neu = lines("related", *v[4])
    if {v[0], o[0]} not in ({"flat", "house"}, {"car", "motorbike"}, {"no_phone", "records"}):
        neu += lines("other", o[2][0])
    return Fact(
        "possessions",
        slots,
        sentences=tuple("{S} " + p + "." for p in v[1]),
        preds=v[1],
        ent=lines("direct", *v[2]),
        con=lines("neg", *v[3]),
        neu=neu,
        questions=POSS_QUESTIONS,
        topic="possessions",
    )


HAIR_COLOURS = ("red", "blonde", "black", "dark brown", "grey", "silver-white", "auburn", "light brown")
HAIR_STYLES = ("long curly", "short", "long straight", "cropped", "wavy shoulder-length", "braided")
EYE_COLOURS = ("blue", "green", "brown", "grey", "hazel")
TATTOOS = ("swallow", "rose", "compass", "anchor", "dragon", "lighthouse", "snake", "moth")
BODY_PARTS = ("wrist", "shoulder", "forearm", "ankle", "back")
LOOK_QUESTIONS = (
    "What do you look like?",
    "How would I recognise you in a crowd?",
    "Tell me about your style.",
    "Can you describe your hair and eyes?",
    "Do you have any tattoos?",
    "What do you usually wear?",
)
_LOOK_NEU = lines(
    "topic",
    "Looks aren't everything, are they?",
    "related|My {rel} has {oh} hair.",
    "related|I need a haircut, honestly.",
    "mention|People always comment on my {part}, for some reason.",
    "opinion|Fashion changes so fast.",
    "evasive|My looks are nothing special, really.",
    "related|I bought a new coat last week.",
)


def appearance(ctx: Ctx) -> Fact:
    """Hair, eyes, height, tattoos, beards and clothes."""
    hc = ctx.pick(HAIR_COLOURS)
    ohc = ctx.other(HAIR_COLOURS, hc)
    slots = {
        "hc": hc,
        "oh": ohc,
        "st": ctx.rng.choice(HAIR_STYLES),
        "rel": ctx.rng.choice(RELATIVES[:5]),
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
            neu=_LOOK_NEU,
            questions=LOOK_QUESTIONS,
            topic="hair",
        )
    if kind == "eyes":
        e = ctx.pick(EYE_COLOURS)
        slots.update(e=e, oe=ctx.other(EYE_COLOURS, e))
        return Fact(
            "appearance",
            slots,
            sentences=("{S} has {e} eyes.", "{S} has striking {e} eyes."),
            preds=("has {e} eyes",),
            ent=lines("direct", "My eyes are {e}.", "para|People always comment on my {e} eyes."),
            con=lines("value", "My eyes are {oe}.", "I've got {oe} eyes, like my mother."),
            neu=_LOOK_NEU + lines("related", "My {rel} has {oe} eyes."),
            questions=LOOK_QUESTIONS,
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
        neu = _LOOK_NEU + lines(
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
                questions=LOOK_QUESTIONS,
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
            questions=LOOK_QUESTIONS,
            topic="looks",
            adjs=("short",),
        )
    if kind == "tattoo":
        t = ctx.pick(TATTOOS)
        slots.update(t=t, a_t=with_article(t), ot=with_article(ctx.other(TATTOOS, t)), bp=ctx.rng.choice(BODY_PARTS))
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
            neu=_LOOK_NEU
            + lines("related", "My {rel} has a tattoo of {ot}.", "opinion|Tattoos are everywhere these days."),
            questions=LOOK_QUESTIONS,
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
            neu=_LOOK_NEU + lines("opinion", "Beards are very fashionable now."),
            questions=LOOK_QUESTIONS,
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
            neu=_LOOK_NEU,
            questions=LOOK_QUESTIONS,
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
        neu=_LOOK_NEU,
        questions=LOOK_QUESTIONS,
        topic="clothes",
    )


# (key, year, role, place, gender ("" for any), title, lines that show the role)
ERAS: tuple[tuple[str, int, str, str, str, str, tuple[str, ...]], ...] = (
    (
        "monk",
        1347,
        "monk",
        "in an abbey in England",
        "m",
        "Brother",
        ("The abbot has us at prayer long before dawn.", "I copy manuscripts by candlelight in the scriptorium."),
    ),
    (
        "nun",
        1347,
        "nun",
        "in a convent in France",
        "f",
        "Sister",
        ("The bell calls us sisters to prayer seven times a day.", "I tend the herb garden behind the cloister."),
    ),
    (
        "blacksmith",
        1520,
        "blacksmith",
        "in a village in Bavaria",
        "",
        "",
        ("I shoe the horses and mend ploughs at my forge.", "My arms ache from the hammer and anvil every night."),
    ),
    (
        "farmer",
        1650,
        "farmer",
        "in a hamlet in Yorkshire",
        "",
        "",
        ("I plough my fields behind the oxen.", "We pray for rain and a good harvest every week."),
    ),
    (
        "sailor",
        1790,
        "sailor",
        "aboard a merchant ship bound for the Indies",
        "",
        "",
        ("We've been three months at sea, and the biscuit's full of weevils.", "I climb the rigging in all weathers."),
    ),
    (
        "weaver",
        1850,
        "mill worker",
        "in a cotton town in Lancashire",
        "",
        "",
        (
            "The looms in the mill never stop, twelve hours a day.",
            "The noise of the weaving shed rings in my ears at night.",
        ),
    ),
    (
        "lamplighter",
        1888,
        "lamplighter",
        "in London",
        "",
        "",
        ("Every evening I climb my ladder and light the gas lamps along the street.",),
    ),
    (
        "telegraph",
        1912,
        "telegraph operator",
        "in Boston",
        "",
        "",
        ("I tap out messages in Morse code all day at the telegraph office.",),
    ),
    (
        "scribe",
        1215,
        "scribe",
        "in a castle in Aragon",
        "",
        "",
        ("I write out the lord's letters in my best hand, with a goose quill.",),
    ),
)
# (an anachronistic line, the year from which it would be plausible)
ANACHRONISMS: tuple[tuple[str, int], ...] = (
    ("I just checked my smartphone.", 2007),
    ("I'll send you an email about it.", 1990),
    ("I saw it on television last night.", 1950),
    ("I drove my car to the market this morning.", 1905),
    ("I'll look it up on the internet.", 1995),
    ("I flew here on a plane last week.", 1925),
    ("Let me switch on the electric light.", 1900),
    ("I'll ring you on the telephone tonight.", 1900),
    ("We took the train up to town yesterday.", 1840),
    ("I had my photograph taken at the studio.", 1850),
    ("I heard it on the radio this morning.", 1925),
    ("Let me heat this up in the microwave.", 1975),
    ("I watched a film at the cinema last night.", 1915),
    ("I played video games all evening.", 1980),
    ("My computer crashed again this morning.", 1980),
    ("I'll text you the address.", 2000),
    ("I printed off a copy at the library.", 1985),
)
# Timeless lines that say nothing about the era (safe neutral replies for a historical character).
TIMELESS = lines(
    "other",
    "The bread at the market was dear today.",
    "My neighbour's children are always up to mischief.",
    "I pray the winter will be kind to us.",
    "Times are hard for everyone.",
    "There's talk of a great fair coming.",
    "My old mother always said patience is a virtue.",
    "The river flooded again this spring.",
    "I have a cousin who lives by the sea.",
    "I've always been fond of a good story by the fire.",
    "My knees ache when the weather turns.",
    "I'm not one for gossip, but I do hear things.",
    "I walked a long way today, and my feet are sore.",
)
ERA_QUESTIONS = (
    "What is your life like?",
    "What year is it?",
    "Do you have a phone I could borrow?",
    "What do you do all day?",
    "Have you heard the latest news?",
    "How do you get around?",
    "What do you do in the evenings?",
    "Could you look something up for me?",
)


def era(ctx: Ctx) -> Fact:
    """A character living in a past century, with anachronisms for contradictions."""
    cands = [e for e in ERAS if e[4] in ("", ctx.char.gender)]
    v = ctx.pick(cands)
    year = v[1]
    later = ctx.rng.randint(year + 150, 2090)
    slots = {"y": str(year), "r": v[2], "a_r": with_article(v[2]), "pl": v[3], "ly": str(later)}
    ent = lines(
        "direct",
        "It is the year {y}, and times are hard.",
        "I've been {a_r} all my life.",
        "I've been {a_r} for many years now.",
    ) + lines("para", *v[6])
    if year < 1870:
        ent += lines(
            "world",
            "A 'telephone'? I've never heard of such a thing.",
            "A machine that flies through the air? You jest.",
        )
    con = lines("world", *(a for a, since in ANACHRONISMS if since > year + 20)) + lines(
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
        neu=TIMELESS + lines("mention", "Some say the world will change beyond recognition one day."),
        questions=ERA_QUESTIONS,
        topic="daily life",
        timeless=True,
    )
    if v[5]:
        fact.extra["title"] = v[5]
    return fact
