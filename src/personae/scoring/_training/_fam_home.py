"""Attribute families about places, family and the people in a character's life."""

from __future__ import annotations

from ._core import Ctx, Fact, Line, lines, number_words, pronoun_slots
from ._vocab import PLACES, RELATIVES


def _places(ctx: Ctx) -> dict[str, str]:
    p = ctx.pick(PLACES)
    q = ctx.other(PLACES, p)
    if ctx.chance(0.6):  # prefer another country, so country-level lines stay correct
        abroad = [x for x in PLACES if x[1] != p[1]]
        q = ctx.other(abroad, p)
    return {"p": p[0], "pc": p[1], "q": q[0], "qc": q[1], "rel": ctx.rng.choice(RELATIVES[:5])}


HOMETOWN_QUESTIONS = (
    "Where did you grow up?",
    "Where are you from originally?",
    "What was your childhood like?",
    "Tell me about your hometown.",
    "Where were you born?",
    "Where's home for you, originally?",
)
_HOME_ENT = lines(
    "direct",
    "I grew up in {p}.",
    "I'm from {p} originally.",
    "{P} is where I grew up.",
    "Born and raised in {p}, that's me.",
    "para|I spent my whole childhood in {pc}.",
    "para|As a kid in {p}, I was never indoors.",
    "para|Whenever I go back to {p}, I walk past my old primary school.",
)
_HOME_CON = lines(
    "value",
    "I grew up in {q}.",
    "I'm a {q} {kid} through and through, born and raised.",
    "As a kid in {q}, I was never indoors.",
    "neg|I've never even been to {p}.",
    "neg|I'd never set foot in {p} until last year.",
)
_HOME_CON_COUNTRY = lines("world", "I spent my whole childhood in {qc}.", "I grew up in {qc}, miles from {pc}.")
_HOME_NEU = lines(
    "wish",
    "I'd love to visit {q} someday.",
    "related|My {rel} lives in {q}.",
    "related|I live in {q} these days.",
    "related|I've been to {q} a couple of times on holiday.",
    "topic|Where you grow up shapes you, doesn't it?",
    "topic|Childhood feels like a long time ago now.",
    "topic|I haven't been back to my hometown in years.",
    "mention|People say {p} has changed a lot recently.",
    "opinion|{Q} is a beautiful city, from what I've seen.",
    "mention|I read something about {p} in the paper this morning.",
    "mention|My {rel} has never been to {p}.",
    "mention|My {rel} grew up in {p}, funnily enough.",
)


def hometown(ctx: Ctx) -> Fact:
    """Where the character grew up."""
    slots = _places(ctx)
    con = _HOME_CON + (_HOME_CON_COUNTRY if slots["qc"] != slots["pc"] else ())
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
        ent=_HOME_ENT,
        con=con,
        neu=_HOME_NEU,
        questions=HOMETOWN_QUESTIONS,
        topic="childhood",
    )


CITY_QUESTIONS = (
    "Where do you live?",
    "Where are you based these days?",
    "What's your neighbourhood like?",
    "How do you like living where you are?",
    "Where's home for you now?",
    "Do you like your city?",
)
_CITY_ENT = lines(
    "direct",
    "I live in {p}.",
    "Here in {p}, there's always something going on.",
    "My flat in {p} is tiny, but I love it.",
    "I've lived in {p} for {n} years now.",
    "para|Life here in {pc} suits me.",
    "para|I can walk to the centre of {p} from my front door.",
)
_CITY_CON = lines(
    "value",
    "Here in my flat in {q}, it's never quiet.",
    "I live in {q}.",
    "I moved to {q} last year and I'm staying put.",
    "neg|I've never lived in {p}.",
    "world|I moved away from {p} years ago.",
    "wish|I'd love to live in {p} one day.",
)
_CITY_CON_COUNTRY = lines("world", "I've only ever lived in {qc}.", "Life here in {qc} suits me.")
_CITY_NEU = lines(
    "wish",
    "I'd love to visit {q} someday.",
    "related|My {rel} lives in {q}.",
    "related|I grew up in {q}.",
    "related|I'm off to {q} for a conference next month.",
    "topic|Big cities can be exhausting, can't they?",
    "topic|Home is wherever the kettle is, I suppose.",
    "mention|I read that rents in {p} have gone up again.",
    "mention|{P} gets a lot of tourists these days, they say.",
    "opinion|{Q} has the best food, in my opinion.",
    "topic|Every city has its good and bad sides.",
    "mention|My {rel} lived in {p} for a while, years ago.",
    "mention|I don't think my {rel} would ever live in {p}.",
)


def city(ctx: Ctx) -> Fact:
    """Where the character lives now."""
    slots = _places(ctx)
    slots["n"] = number_words(ctx.years(18, 30))
    con = _CITY_CON + (_CITY_CON_COUNTRY if slots["qc"] != slots["pc"] else ())
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
        ent=_CITY_ENT,
        con=con,
        neu=_CITY_NEU,
        questions=CITY_QUESTIONS,
        topic="where I live",
    )


FAMILY_QUESTIONS = (
    "Do you have any brothers or sisters?",
    "Tell me about your family.",
    "Did you grow up in a big family?",
    "Are you close to your family?",
    "Who's in your family?",
)
_SIB_NEU = lines(
    "related",
    "My cousin lives abroad, and I miss her.",
    "My best friend is like family to me.",
    "topic|Family is complicated for everyone, isn't it?",
    "wish|I've always wanted a big family of my own.",
    "mention|My {rel} has four sisters, can you imagine?",
    "related|My cousins and I spent every summer together.",
    "opinion|Big families look exhausting from the outside.",
    "mention|My {rel} never had any brothers or sisters.",
    "mention|My {rel} has a brother and two sisters.",
)
# (key, predicates, noun, confirming lines, contradicting lines)
SIBLINGS: tuple[tuple[str, tuple[str, ...], str, tuple[str, ...], tuple[str, ...]], ...] = (
    (
        "only",
        ("is an only child", "has no brothers or sisters", "grew up without any siblings"),
        "only child",
        (
            "I'm an only child.",
            "I don't have any brothers or sisters.",
            "para|Growing up, it was just me; no one to fight with over the last biscuit.",
            "para|I always wondered what it would be like to have a brother or sister.",
        ),
        (
            "world|My brother {x} rang me last night.",
            "world|My little sister is getting married next month.",
            "value|I'm the middle one of three children.",
            "world|My twin and I still finish each other's sentences.",
            "neg|I'm not an only child, actually.",
        ),
    ),
    (
        "sister",
        ("has {an_ay} sister named {x}", "has a sister called {x}"),
        "",
        (
            "I have {an_ay} sister, {x}.",
            "My sister {x} is {ay} than me.",
            "para|{x} and I shared a bedroom growing up, and she still borrows my jumpers.",
            "para|Being {x}'s sibling taught me how to share.",
        ),
        (
            "value|I'm an only child.",
            "neg|I've never had a sister.",
            "neg|I don't have any siblings at all.",
            "value|It was just me growing up, no brothers or sisters.",
        ),
    ),
    (
        "brother",
        ("has {an_ay} brother named {x}", "has a brother called {x}"),
        "",
        (
            "I have {an_ay} brother, {x}.",
            "My brother {x} is {ay} than me.",
            "para|{x} and I used to wrestle in the garden; he still thinks he'd win.",
            "para|Growing up, {x} always stuck up for me. That's what brothers do.",
        ),
        (
            "value|I'm an only child.",
            "neg|I've never had a brother.",
            "neg|I don't have any siblings at all.",
            "value|It was just me growing up, no brothers or sisters.",
        ),
    ),
    (
        "two_brothers",
        ("has two brothers", "grew up with two brothers"),
        "",
        (
            "I've got two brothers.",
            "para|Growing up with two brothers, I learned to fight for the last slice of cake.",
            "para|Both my brothers still call me every Sunday.",
        ),
        ("value|I'm an only child.", "neg|I don't have any brothers.", "value|My only sibling is my sister."),
    ),
    (
        "two_sisters",
        ("has two sisters", "grew up with two sisters"),
        "",
        (
            "I've got two sisters.",
            "para|With two sisters in the house, I never got the bathroom in the mornings.",
            "para|My sisters and I talk on the phone every week.",
        ),
        ("value|I'm an only child.", "neg|I don't have any sisters.", "value|My only sibling is my brother."),
    ),
)


def siblings(ctx: Ctx) -> Fact:
    """Brothers and sisters, or none."""
    v = ctx.pick(SIBLINGS)
    ay = ctx.rng.choice(("older", "younger"))
    x, _ = ctx.person("f" if v[0] == "sister" else "m")
    slots = {"x": x, "ay": ay, "an_ay": "an older" if ay == "older" else "a younger", "rel": ctx.rng.choice(RELATIVES)}
    return Fact(
        "siblings",
        slots,
        sentences=tuple("{S} " + p + "." for p in v[1]),
        preds=v[1],
        ent=lines("direct", *v[3]),
        con=lines("value", *v[4]),
        neu=_SIB_NEU,
        questions=FAMILY_QUESTIONS,
        topic="family",
        nouns=(v[2],) if v[2] else (),
    )


KIDS_QUESTIONS = (
    "Do you have children?",
    "Any kids?",
    "Tell me about your family.",
    "Are you a parent?",
    "What does your family look like these days?",
)
_KIDS_NEU = lines(
    "topic",
    "Kids these days grow up so fast.",
    "related|I babysit for my neighbour sometimes.",
    "related|My {rel}'s kids are a handful.",
    "topic|Family means a lot to me.",
    "opinion|Parenting must be the hardest job in the world.",
    "mention|Everyone at the park had children with them today.",
    "related|My godchildren are coming to stay next weekend.",
    "mention|My {rel} never wanted children.",
    "mention|My {rel}'s daughter has just started university.",
    "mention|My {rel} has no kids, and loves it.",
)


def children(ctx: Ctx) -> Fact:
    """Children: none, one named child, or several."""
    age = ctx.char.age
    rel = ctx.rng.choice(RELATIVES[:5])
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
            neu=_KIDS_NEU,
            questions=KIDS_QUESTIONS,
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
            neu=_KIDS_NEU,
            questions=KIDS_QUESTIONS,
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
        neu=_KIDS_NEU,
        questions=KIDS_QUESTIONS,
        topic="family",
    )


MARITAL_QUESTIONS = (
    "Are you married?",
    "Is there someone special in your life?",
    "Tell me about your love life.",
    "Do you live alone?",
    "How did you meet your partner?",
)
_MARITAL_NEU = lines(
    "opinion",
    "Marriage isn't for everyone, is it?",
    "related|My {rel} just got engaged.",
    "topic|Weddings always make me cry.",
    "topic|Love is a funny thing.",
    "mention|My {rel} has been married three times!",
    "related|I went to a lovely wedding last summer.",
    "opinion|Relationships take work, I think.",
    "mention|My {rel} has never been married.",
    "mention|My {rel} is getting divorced, sadly.",
)


def marital(ctx: Ctx) -> Fact:
    """Married, widowed, divorced or single."""
    age = ctx.char.age
    x, g = ctx.person()
    sp = "wife" if g == "f" else "husband"
    n = ctx.years(22, 50)
    slots = {"x": x, "sp": sp, "n": number_words(n), "rel": ctx.rng.choice(RELATIVES[:5]), **pronoun_slots(g, "x")}
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
        neu=_MARITAL_NEU,
        questions=MARITAL_QUESTIONS,
        topic="love",
    )


REL_QUESTIONS = (
    "Who's the most important person in your life?",
    "Tell me about your friends.",
    "Who do you spend time with?",
    "Is there anyone you don't get along with?",
    "Who taught you the most?",
)
_REL_NEU = lines(
    "opinion",
    "Friendship takes work, doesn't it?",
    "related|I'm meeting a colleague for lunch tomorrow.",
    "related|{y} from down the road is lovely.",
    "topic|People come and go in life.",
    "mention|My {rel} knows someone called {x}, funnily enough.",
    "opinion|You can't choose your neighbours, they say.",
    "mention|I never know what to say when people ask about my friends.",
)
# (key, predicate, confirming lines, contradicting lines)
RELATIONS: tuple[tuple[str, str, tuple[str, ...], tuple[str, ...]], ...] = (
    (
        "friend",
        "has been best friends with {x} since school",
        (
            "{x} has been my best friend since we were kids.",
            "para|{x} and I have known each other forever; we talk every day.",
            "para|Whenever something goes wrong, {x} is the first person I call.",
        ),
        (
            "{x}? I barely know {xhim}.",
            "{x} and I haven't spoken in years; we fell out badly.",
            "I've never met anyone called {x}.",
        ),
    ),
    (
        "mentor",
        "learned everything {he} knows from {his} mentor {x}",
        ("Everything I know, I learned from {x}.", "para|{x} took me under {xhis} wing when I was starting out."),
        ("I've never had a mentor; I taught myself everything.", "{x}? {Xhe} never taught me a thing."),
    ),
    (
        "rival",
        "has a long rivalry with {x}",
        (
            "{x} and I have been rivals for as long as I can remember.",
            "para|Whatever I do, {x} tries to do it better, and the other way round.",
        ),
        ("{x} is my dearest friend; we've never competed over anything.", "I've never had a rival in my life."),
    ),
    (
        "neighbour",
        "can't stand {his} neighbour {x}",
        (
            "My neighbour {x} drives me up the wall.",
            "para|{x} next door plays loud music at midnight, and I can't stand {xhim}.",
        ),
        (
            "{x} next door is an absolute sweetheart; we chat over the fence every day.",
            "I get on brilliantly with my neighbour {x}.",
        ),
    ),
    (
        "circle",
        "has a large circle of close friends",
        (
            "I have loads of close friends.",
            "para|My diary's always full; there's always a friend's birthday or a dinner somewhere.",
        ),
        ("I don't really have any friends.", "I keep to myself; there's no one I'd call close."),
    ),
    (
        "loner",
        "has very few friends and likes it that way",
        (
            "I don't have many friends, and I like it that way.",
            "para|I keep to myself mostly; one or two people are plenty.",
        ),
        ("I've got loads of close friends and see them all the time.", "My social calendar is packed every week."),
    ),
)


def relationships(ctx: Ctx) -> Fact:
    """A named friend, mentor, rival or neighbour, or the size of the character's circle."""
    v = ctx.pick(RELATIONS)
    x, g = ctx.person()
    y, _ = ctx.person()
    slots = {"x": x, "y": y, "rel": ctx.rng.choice(RELATIVES[:5]), **pronoun_slots(g, "x")}
    return Fact(
        "relationships",
        slots,
        sentences=("{S} " + v[1] + ".",),
        preds=(v[1],),
        ent=lines("direct", *v[2]),
        con=lines("direct", *v[3]),
        neu=_REL_NEU,
        questions=REL_QUESTIONS,
        topic="friendship",
    )
