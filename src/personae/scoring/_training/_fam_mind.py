"""Attribute families about the inner life: beliefs, fears, personality and goals."""

from __future__ import annotations

from ._core import Ctx, Fact, lines
from ._vocab import RELATIVES

# (key, predicates, confirming lines, contradicting lines)
BELIEFS: tuple[tuple[str, tuple[str, ...], tuple[str, ...], tuple[str, ...]], ...] = (
    (
        "catholic",
        ("is a devout Catholic", "goes to Mass every Sunday"),
        (
            "I go to Mass every Sunday.",
            "I'm Catholic, and proud of it.",
            "para|My faith means everything to me; I say the rosary every night.",
        ),
        (
            "I don't believe in God.",
            "I'm an atheist, always have been.",
            "I haven't set foot in a church in thirty years.",
        ),
    ),
    (
        "muslim",
        ("is a practising Muslim", "prays five times a day"),
        (
            "I pray five times a day.",
            "para|During Ramadan I fast from dawn until sunset.",
            "My faith is the centre of my life.",
        ),
        ("I don't believe in God.", "I've never prayed in my life.", "Religion has never meant anything to me."),
    ),
    (
        "jewish",
        ("is an observant Jew", "keeps the Sabbath every week"),
        ("I keep the Sabbath every week.", "para|Friday night dinner with the candles lit is sacred in our family."),
        ("I'm not religious at all.", "I don't observe any religion."),
    ),
    (
        "buddhist",
        ("is a Buddhist", "meditates every morning as part of {his} Buddhist practice"),
        ("I meditate every morning.", "para|I follow the Buddha's teachings as best I can."),
        ("I don't hold with any religion.", "Meditation? I've never tried it and I never will."),
    ),
    (
        "hindu",
        ("is a devout Hindu", "prays at {his} home shrine every morning"),
        (
            "I do puja at my little shrine every morning.",
            "para|Diwali is the most important festival of the year for me.",
        ),
        ("I'm not religious at all.", "I've never been inside a temple in my life."),
    ),
    (
        "atheist",
        ("is an atheist", "doesn't believe in God"),
        (
            "I don't believe in God.",
            "I'm not religious at all.",
            "para|When people talk about heaven and hell, I just don't buy it.",
        ),
        (
            "I pray every night before bed.",
            "My faith in God gets me through hard times.",
            "I never miss Sunday service.",
        ),
    ),
    (
        "honesty",
        ("values honesty above everything", "never tells lies, not even small ones"),
        ("Honesty matters more to me than anything.", "para|I'd rather tell a hard truth than a kind lie."),
        ("A little white lie never hurt anyone; I tell them all the time.", "I lie whenever it suits me."),
    ),
    (
        "ghosts",
        ("believes in ghosts", "is convinced that ghosts are real"),
        ("I believe in ghosts.", "para|I've seen things in my old house that no one can explain."),
        ("Ghosts? Utter nonsense.", "I don't believe in anything supernatural, ghosts least of all."),
    ),
    (
        "climate",
        ("refuses to fly because of climate change", "has given up flying for the sake of the planet"),
        (
            "I don't fly any more, for the planet's sake.",
            "para|I haven't been on a plane in years; I take the train because of the climate.",
        ),
        (
            "I fly somewhere for the weekend every month.",
            "I just got back from a long-haul flight; I fly all the time.",
        ),
    ),
)
_BELIEF_NEU = lines(
    "opinion",
    "Religion is a personal thing, I think.",
    "related|The old church in town has beautiful windows.",
    "related|My {rel} is very spiritual.",
    "opinion|Everyone should be free to believe what they like.",
    "topic|Big questions, those. I don't have all the answers.",
    "related|I read a book about world religions once.",
    "mention|My {rel} has never been religious.",
    "mention|My {rel} goes to church every Sunday.",
    "mention|I never discuss religion or politics at the dinner table.",
)
BELIEF_QUESTIONS = (
    "Are you religious?",
    "What do you believe in?",
    "What matters most to you?",
    "Do you have any strong principles?",
    "What gets you through hard times?",
)


def beliefs(ctx: Ctx) -> Fact:
    """A faith, a lack of one, or a strongly held value."""
    v = ctx.pick(BELIEFS)
    slots = {"rel": ctx.rng.choice(RELATIVES[:5])}
    return Fact(
        "beliefs",
        slots,
        sentences=tuple("{S} " + p + "." for p in v[1]),
        preds=v[1],
        ent=lines("direct", *v[2]),
        con=lines("neg", *v[3]),
        neu=_BELIEF_NEU,
        questions=BELIEF_QUESTIONS,
        topic="belief",
    )


# (fear, confirming lines, contradicting lines)
FEARS: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...] = (
    (
        "heights",
        (
            "I'm terrified of heights.",
            "para|I can't even stand on a chair without my knees shaking.",
            "para|Glass lifts? I take the stairs, thank you.",
        ),
        (
            "world|I love rock climbing; the higher the better.",
            "world|I went skydiving last summer and loved every second.",
            "Heights don't bother me one bit.",
        ),
    ),
    (
        "spiders",
        ("Spiders scare me to death.", "para|If there's a spider in the bath, I call someone to deal with it."),
        ("world|I keep a pet tarantula and let her crawl up my arm.", "Spiders don't bother me at all."),
    ),
    (
        "flying",
        ("I'm scared of flying.", "para|I'd rather take a three-day train than get on a plane."),
        ("world|I fly every few weeks and I love take-off.", "Flying doesn't bother me in the slightest."),
    ),
    (
        "deep water",
        ("Deep water terrifies me.", "para|I won't go anywhere in the sea where my feet can't touch the bottom."),
        ("world|I go scuba diving whenever I can.", "Deep water doesn't scare me at all."),
    ),
    (
        "the dark",
        ("I'm afraid of the dark.", "para|I still sleep with a light on."),
        ("world|I love long walks at night with no torch.", "The dark has never scared me."),
    ),
    (
        "crowds",
        ("Crowds frighten me.", "para|Packed trains and festivals make my chest tighten."),
        ("world|The busier the festival, the happier I am.", "Crowds don't bother me."),
    ),
    (
        "dogs",
        ("I'm frightened of dogs.", "para|I cross the street when I see a big dog coming."),
        (
            "world|I volunteer at the dog shelter every weekend and roll around with the puppies.",
            "Dogs have never scared me.",
        ),
    ),
    (
        "needles",
        ("I'm terrified of needles.", "para|I nearly faint whenever I need a blood test."),
        ("world|I give blood every few months; needles don't bother me at all.",),
    ),
    (
        "public speaking",
        ("Public speaking terrifies me.", "para|My hands shake whenever I have to give a talk."),
        (
            "world|I love being on stage in front of hundreds of people.",
            "I could give a speech to a thousand people without breaking a sweat.",
        ),
    ),
    (
        "snakes",
        ("I'm terrified of snakes.", "para|I won't even look in the snake house at the zoo."),
        ("world|I keep two pet snakes and handle them every day.", "Snakes don't scare me at all."),
    ),
    (
        "thunderstorms",
        ("Thunderstorms frighten me.", "para|When the thunder starts, I hide under the duvet."),
        ("world|I love sitting out on the porch watching a storm roll in.", "Thunderstorms don't bother me at all."),
    ),
)
FEAR_QUESTIONS = (
    "What are you afraid of?",
    "What scares you?",
    "Is there anything you avoid?",
    "Would you come climbing with me?",
    "Do you have any phobias?",
)


def fears(ctx: Ctx) -> Fact:
    """Something the character is afraid of."""
    v = ctx.pick(FEARS)
    o = ctx.other(FEARS, v)
    slots = {"f": v[0], "o": o[0], "rel": ctx.rng.choice(RELATIVES[:5])}
    calm_o = next((t for t in o[2] if not t.startswith("world|")), o[2][0])
    return Fact(
        "fears",
        slots,
        sentences=("{S} is afraid of {f}.", "{S} has a terrible fear of {f}.", "{S} is terrified of {f}."),
        preds=("is afraid of {f}", "has a terrible fear of {f}"),
        ent=lines("direct", *v[1]),
        con=lines("neg", *v[2]),
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
        questions=FEAR_QUESTIONS,
        topic="fear",
    )


# Personality: (cluster, pole A, pole B); a pole is (adjective, predicates, confirming lines).
Trait = tuple[str, tuple[str, ...], tuple[str, ...]]
TRAITS: tuple[tuple[str, Trait, Trait], ...] = (
    (
        "social",
        (
            "introverted",
            ("is introverted", "prefers quiet evenings at home to parties"),
            (
                "I'm quite introverted.",
                "para|A quiet night in with a book beats any party.",
                "para|After a day with people, I need time alone to recharge.",
                "para|Big gatherings drain me; I'd rather see one friend at a time.",
            ),
        ),
        (
            "outgoing",
            ("is outgoing", "loves being around people"),
            (
                "I'm a real people person.",
                "para|I'm the life and soul of every party.",
                "para|I get restless if I spend an evening alone.",
                "para|I love meeting new people; the more the merrier.",
            ),
        ),
    ),
    (
        "social",
        (
            "shy",
            ("is shy", "is painfully shy with strangers"),
            (
                "I'm a bit shy, honestly.",
                "para|I go bright red when strangers talk to me.",
                "para|I'd rather sit at the back and not be noticed.",
            ),
        ),
        (
            "confident",
            ("is very self-confident", "is never nervous around strangers"),
            (
                "I'm very confident.",
                "para|I'll strike up a conversation with anyone, anywhere.",
                "para|Walking into a room full of strangers doesn't faze me at all.",
            ),
        ),
    ),
    (
        "patience",
        (
            "patient",
            ("is very patient", "never minds waiting"),
            (
                "I'm a patient person.",
                "para|I don't mind waiting; things come when they come.",
                "para|You could keep me in a queue all day and I wouldn't complain.",
            ),
        ),
        (
            "impatient",
            ("is impatient", "hates waiting for anything"),
            (
                "I'm terribly impatient.",
                "para|Queues drive me mad; I can't stand waiting.",
                "para|If the kettle takes more than a minute, I'm tapping my foot.",
            ),
        ),
    ),
    (
        "temper",
        (
            "even-tempered",
            ("is calm and even-tempered", "rarely loses {his} temper"),
            (
                "I rarely lose my temper.",
                "para|It takes a lot to rattle me.",
                "para|Shouting never solved anything, so I don't.",
            ),
        ),
        (
            "hot-tempered",
            ("has a quick temper", "loses {his} temper easily"),
            (
                "I lose my temper far too easily.",
                "para|Little things make me see red.",
                "para|I've been known to slam a door or two.",
            ),
        ),
    ),
    (
        "order",
        (
            "tidy",
            ("is very tidy and organised", "keeps everything neat and in its place"),
            (
                "I'm very organised.",
                "para|Everything in my house has its place.",
                "para|My spice rack is alphabetised.",
            ),
        ),
        (
            "messy",
            ("is hopelessly messy", "lives in cheerful chaos"),
            (
                "I'm hopelessly messy.",
                "para|My desk is buried under papers and old mugs.",
                "para|I can never find my keys in all the clutter.",
            ),
        ),
    ),
    (
        "outlook",
        (
            "optimistic",
            ("is an optimist", "always looks on the bright side"),
            (
                "I'm an optimist.",
                "para|I always think things will work out in the end.",
                "para|Every cloud has a silver lining, that's what I say.",
            ),
        ),
        (
            "pessimistic",
            ("is a pessimist", "always expects the worst"),
            (
                "I'm a pessimist, I'm afraid.",
                "para|I always expect the worst; that way I'm never disappointed.",
                "para|If something can go wrong, it will, in my experience.",
            ),
        ),
    ),
    (
        "risk",
        (
            "adventurous",
            ("is adventurous", "loves taking risks"),
            (
                "I'll try anything once.",
                "para|I love the thrill of not knowing what comes next.",
                "para|Playing it safe bores me to tears.",
            ),
        ),
        (
            "cautious",
            ("is very cautious", "never takes risks"),
            (
                "I'm a cautious sort.",
                "para|I like to know exactly what's going to happen before I commit.",
                "para|I read the small print three times before I sign anything.",
            ),
        ),
    ),
    (
        "money",
        (
            "generous",
            ("is generous", "would give {his} last penny to a friend"),
            (
                "I'm a generous person, I think.",
                "para|I'd give my last penny to a friend in need.",
                "para|I always pick up the bill; I like treating people.",
            ),
        ),
        (
            "frugal",
            ("is careful with money", "hates spending money"),
            (
                "I'm very careful with money.",
                "para|I never spend money I don't have to.",
                "para|I've had the same coat for years; why buy another?",
            ),
        ),
    ),
)
PERSONALITY_QUESTIONS = (
    "How would you describe yourself?",
    "What are you like as a person?",
    "What would your friends say about you?",
    "Are you a people person?",
    "How do you handle stress?",
    "What's your worst habit?",
)


def personality(ctx: Ctx) -> Fact:
    """A personality trait with its opposite for contradictions and an unrelated trait for neutrals."""
    cluster, a, b = ctx.pick(TRAITS)
    mine, theirs = (a, b) if ctx.chance(0.5) else (b, a)
    others = [t for t in TRAITS if t[0] != cluster]
    _, oa, ob = ctx.other(others)
    other = oa if ctx.chance(0.5) else ob
    slots = {"t": mine[0], "ot": theirs[0], "x": other[0], "rel": ctx.rng.choice(RELATIVES[:5])}
    return Fact(
        "personality",
        slots,
        sentences=tuple("{S} " + p + "." for p in mine[1]),
        preds=mine[1],
        ent=lines("direct", *mine[2]),
        con=lines("direct", *theirs[2]),
        neu=lines(
            "mention",
            "Everyone's a bit {t} sometimes, I think.",
            "related|My {rel} is really {ot}.",
            "compat|" + other[2][0],
            "compat|" + other[2][1].removeprefix("para|"),
            "opinion|People are complicated, aren't they?",
            "topic|I'm not sure anyone really knows themselves.",
            "mention|My {rel} says I'm hard to read.",
            "mention|People say {t} people make the best friends.",
            "mention|My {rel} has never been {t} in {rel_his} life.",
        ),
        questions=PERSONALITY_QUESTIONS,
        topic="personality",
        adjs=(mine[0],),
    )


# (infinitive, gerund, past, a confirming line, a related neutral line)
GOALS: tuple[tuple[str, str, str, str, str], ...] = (
    (
        "open a bakery",
        "opening a bakery",
        "opened a bakery",
        "I can already picture the smell of fresh bread in my own little shop.",
        "I had a lovely croissant this morning.",
    ),
    (
        "climb Everest",
        "climbing Everest",
        "climbed Everest",
        "One day I'll stand on the roof of the world, I swear it.",
        "I watched a documentary about mountaineers.",
    ),
    (
        "write a novel",
        "writing a novel",
        "wrote a novel",
        "I've got three chapters drafted, and one day my book will be on a shop shelf.",
        "I read a great novel last week.",
    ),
    (
        "sail around the world",
        "sailing around the world",
        "sailed around the world",
        "One day I'll cast off and not come back until I've crossed every ocean.",
        "My {rel} has a little boat.",
    ),
    (
        "retire to the countryside",
        "retiring to the countryside",
        "retired to the countryside",
        "I dream of a cottage with roses round the door, far from the city.",
        "I had a lovely weekend in the country.",
    ),
    (
        "run for mayor",
        "running for mayor",
        "ran for mayor",
        "One day this town will see my name on the ballot for mayor's office, you'll see.",
        "The council elections are coming up.",
    ),
    (
        "start a charity",
        "starting a charity",
        "started a charity",
        "I want to set up something that helps homeless people properly, with my name on it.",
        "I helped out at the food bank last month.",
    ),
    (
        "travel around the world",
        "travelling around the world",
        "travelled around the world",
        "I've got a map on my wall with pins in all the places I'm going to see.",
        "I've got a holiday coming up.",
    ),
    (
        "learn to fly a plane",
        "learning to fly",
        "learned to fly",
        "One day I'll have my pilot's licence and take off on my own.",
        "Airports are so stressful.",
    ),
    (
        "buy a farm",
        "buying a farm",
        "bought a farm",
        "Someday I'll have my own fields, a few goats and a tractor.",
        "The farm shop down the road sells lovely eggs.",
    ),
    (
        "open a bookshop",
        "opening a bookshop",
        "opened a bookshop",
        "I can just see it: my own little shop, shelves to the ceiling, a cat asleep in the window.",
        "I spent an hour browsing in a second-hand shop yesterday.",
    ),
    (
        "learn to paint portraits",
        "painting portraits",
        "learned to paint portraits",
        "One day people will sit for me and I'll capture their faces in oils.",
        "The gallery has a new exhibition on.",
    ),
)
GOAL_QUESTIONS = (
    "What's your dream?",
    "Where do you see yourself in ten years?",
    "What do you want out of life?",
    "Is there something you've always wanted to do?",
    "What are you working towards?",
)


def goals(ctx: Ctx) -> Fact:
    """An aspiration the character has not yet achieved."""
    v = ctx.pick(GOALS)
    o = ctx.other(GOALS, v)
    slots = {"g": v[0], "ging": v[1], "gp": v[2], "o": o[0], "rel": ctx.rng.choice(RELATIVES[:5])}
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
            "para|" + v[3],
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
            "related|" + v[4],
            "topic|Everyone needs something to aim for.",
            "related|My {rel} wants to {o}.",
            "opinion|Dreams keep you going, don't they?",
            "mention|My {rel} has never wanted to {g}.",
            "mention|No one in my family has ever managed to {g}.",
        ),
        questions=GOAL_QUESTIONS,
        topic="dreams",
    )
