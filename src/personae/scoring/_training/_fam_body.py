"""Attribute families about animals, food, the body, abilities and daily habits."""

from __future__ import annotations

from ._core import Ctx, Fact, Line, lines, number_words
from ._vocab import PET_NAMES, RELATIVES

# A pole of a two-sided attribute: (statement sentences, predicates, confirming first-person lines, adjectives)
Pole = tuple[tuple[str, ...], tuple[str, ...], tuple[Line, ...], tuple[str, ...]]


def _axis(
    ctx: Ctx, family: str, a: Pole, b: Pole, neu: tuple[Line, ...], questions: tuple[str, ...], topic: str
) -> Fact:
    mine, theirs = (a, b) if ctx.chance(0.5) else (b, a)
    slots = {"rel": ctx.rng.choice(RELATIVES[:5])}
    return Fact(
        family,
        slots,
        sentences=mine[0],
        preds=mine[1],
        ent=mine[2],
        con=theirs[2],
        neu=neu,
        questions=questions,
        topic=topic,
        adjs=mine[3],
    )


# (kind, singular, plural)
PETS: tuple[tuple[str, str, str], ...] = (
    ("dog", "dog", "dogs"),
    ("cat", "cat", "cats"),
    ("rabbit", "rabbit", "rabbits"),
    ("parrot", "parrot", "parrots"),
    ("tortoise", "tortoise", "tortoises"),
    ("horse", "horse", "horses"),
    ("goldfish", "goldfish", "goldfish"),
    ("hamster", "hamster", "hamsters"),
)
_PET_LINES: dict[str, tuple[str, ...]] = {
    "dog": (
        "Every morning I take {x} to the park to chase a ball.",
        "{x} needs a long walk before breakfast, rain or shine.",
        "{x} barks at the postman every single day.",
    ),
    "cat": (
        "{x} is asleep on my lap again, purring away.",
        "{x} brought me a mouse this morning, the little hunter.",
        "{x} sheds fur all over my black jumpers.",
    ),
    "rabbit": (
        "{x} has chewed through another cable; those long ears hide a criminal mind.",
        "I clean out {x}'s hutch every Sunday.",
    ),
    "parrot": (
        "{x} can say twenty words and screeches whenever the phone rings.",
        "{x} sits on my shoulder and nibbles my ear.",
    ),
    "tortoise": (
        "{x} has just woken up from hibernation and is after strawberries.",
        "{x} is older than my car and twice as slow.",
    ),
    "horse": ("I ride {x} along the bridleway every weekend.", "{x} needs mucking out and grooming every morning."),
    "goldfish": (
        "I clean {x}'s tank every week; {x} just blows bubbles at me.",
        "{x} swims round and round the bowl all day.",
    ),
    "hamster": ("{x} runs on that wheel all night long.", "{x} stuffs his cheeks with seeds until they bulge."),
}
PET_QUESTIONS = (
    "Do you have any pets?",
    "Are you an animal person?",
    "Tell me about your pets.",
    "Who's waiting for you at home?",
    "Dogs or cats?",
)


def pets(ctx: Ctx) -> Fact:
    """A named pet, or no pets at all."""
    v = ctx.pick(PETS)
    o = ctx.other(PETS, v)
    x = ctx.pick(PET_NAMES)
    slots = {"x": x, "v": v[1], "vs": v[2], "o": o[1], "os": o[2], "rel": ctx.rng.choice(RELATIVES[:5])}
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
    slots["a_o"] = ("an " if o[1][0] in "aeiou" else "a ") + o[1]
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
            + lines("para", *(t.replace("{x}", "my " + v[1] + " " + x) for t in _PET_LINES[v[0]][:1])),
            neu=neu,
            questions=PET_QUESTIONS,
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
        + lines("para", *_PET_LINES[v[0]]),
        con=lines(
            "neg",
            "I don't have any pets.",
            "I've never had a {v}.",
            "I can't stand {vs}; never could.",
            "world|Pets? I'm far too busy to look after an animal.",
        ),
        neu=neu,
        questions=PET_QUESTIONS,
        topic="animals",
    )


# (key, predicates, noun, confirming lines, contradicting lines, neutral lines)
DIETS: tuple[tuple[str, tuple[str, ...], str, tuple[str, ...], tuple[str, ...], tuple[str, ...]], ...] = (
    (
        "vegetarian",
        ("is a vegetarian", "doesn't eat meat", "hasn't eaten meat for years"),
        "vegetarian",
        (
            "I'm vegetarian.",
            "I haven't eaten meat in years.",
            "para|I'll have the lentil curry; no meat for me, thanks.",
            "para|I gave up meat and fish as a teenager and never looked back.",
        ),
        (
            "world|I ordered the chicken.",
            "world|I had a lovely steak last night.",
            "world|Nothing beats a bacon sandwich on a Sunday morning.",
            "world|My favourite dish is my gran's beef stew.",
            "world|I had a burger for lunch.",
            "world|I eat meat most days.",
            "world|Meat with every meal, that's how I was raised.",
            "world|I'm a proper meat eater, always have been.",
            "neg|Vegetarian? Me? I'd never give up meat.",
            "neg|I'm not a vegetarian.",
            "neg|I am no vegetarian, never have been.",
        ),
        (
            "I love a good lentil curry.",
            "My {rel} went vegetarian last year.",
            "A lot of my friends are vegetarian.",
            "Eating less meat is good for the planet, or so people say.",
            "I cooked a mushroom risotto yesterday.",
            "I can't decide between the pasta and the salad.",
        ),
    ),
    (
        "vegan",
        ("is vegan", "eats no animal products at all"),
        "vegan",
        (
            "I'm vegan.",
            "para|No animal products for me: no meat, no dairy, no eggs.",
            "para|I haven't touched cheese or eggs in years.",
        ),
        (
            "world|I had scrambled eggs for breakfast.",
            "world|I put extra cheese on everything.",
            "world|I ordered the chicken.",
            "world|A glass of cold milk is the best thing ever.",
            "world|I eat cheese with nearly every meal.",
            "neg|I've never been vegan.",
        ),
        (
            "I like oat milk in my coffee.",
            "Vegan cooking has come a long way, they say.",
            "My {rel} is vegan.",
            "I had a big bowl of pasta with tomato sauce.",
            "The new café does a nice salad.",
        ),
    ),
    (
        "nut_allergy",
        ("is allergic to nuts", "has a severe nut allergy"),
        "",
        (
            "I'm allergic to nuts.",
            "para|I always carry my adrenaline pen in case there are peanuts around.",
            "para|One peanut and I'd end up in hospital.",
        ),
        (
            "world|I eat a handful of almonds every day.",
            "world|Peanut butter on toast is my favourite breakfast.",
            "neg|I've never had any allergies.",
        ),
        (
            "Allergies seem to be everywhere these days.",
            "My {rel} is allergic to cats.",
            "I always read the labels on food.",
            "Nuts are meant to be healthy, my {rel} says.",
        ),
    ),
    (
        "coeliac",
        ("has coeliac disease", "can't eat gluten"),
        "",
        ("I can't eat gluten.", "para|I have coeliac disease, so bread is off the menu unless it's gluten-free."),
        (
            "world|Fresh crusty bread from the bakery every morning, and it never does me any harm.",
            "world|I had a big bowl of ordinary pasta and a beer, no problem.",
            "neg|Gluten doesn't bother me at all.",
        ),
        ("I had a salad for lunch.", "Gluten-free food is easier to find these days.", "My {rel} bakes every weekend."),
    ),
    (
        "teetotal",
        ("doesn't drink alcohol", "has been teetotal for years"),
        "",
        (
            "I don't drink alcohol.",
            "para|Just a lemonade for me; I haven't touched a drop of alcohol in years.",
            "para|Wine, beer, spirits: none of it for me.",
        ),
        (
            "world|I had a few pints at the pub last night.",
            "world|A glass of red wine with dinner is my little ritual.",
            "neg|I'm not teetotal; I like a drink.",
        ),
        (
            "The pub on the corner does great food.",
            "I don't mind if other people drink.",
            "My {rel} brews beer at home.",
            "I'll have a sparkling water while I decide.",
        ),
    ),
    (
        "lactose",
        ("is lactose intolerant", "can't digest milk"),
        "",
        ("I'm lactose intolerant.", "para|Milk doesn't agree with me at all; I take my tea black."),
        (
            "world|I drink a pint of milk every day.",
            "world|A big bowl of ice cream every night, and my stomach is fine.",
            "neg|Dairy has never given me any trouble.",
        ),
        ("Oat milk is everywhere now.", "My {rel} makes cheese at home.", "I had soup for lunch."),
    ),
)
_DIET_NEU = lines(
    "mention",
    "My {rel} has no allergies at all, lucky thing.",
    "My {rel} would never give up a Sunday roast.",
    "opinion|Everyone eats differently these days, don't they?",
    "topic|Food is such a personal thing.",
)
DIET_QUESTIONS = (
    "What do you like to eat?",
    "Are there foods you avoid?",
    "What did you have for dinner?",
    "Any dietary requirements?",
    "What's your usual lunch?",
    "Shall we order some food?",
)


def diet(ctx: Ctx) -> Fact:
    """Dietary choices and restrictions."""
    v = ctx.pick(DIETS)
    o = ctx.other(DIETS, v)
    slots = {"rel": ctx.rng.choice(RELATIVES[:5])}
    return Fact(
        "diet",
        slots,
        sentences=tuple("{S} " + p + "." for p in v[1]),
        preds=v[1],
        ent=lines("direct", *v[3]),
        con=lines("world", *v[4]),
        neu=lines("related", *v[5]) + lines("other", o[5][0]) + _DIET_NEU,
        questions=DIET_QUESTIONS,
        topic="food",
        nouns=(v[2],) if v[2] else (),
    )


# (food, lines that show liking it, lines that show disliking it)
FOODS: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...] = (
    (
        "spicy food",
        ("The hotter the curry, the better.", "I put chilli sauce on everything."),
        ("I can't handle anything spicy.", "Even a pinch of chilli makes my eyes water."),
    ),
    (
        "chocolate",
        ("I always keep a bar of dark chocolate in my bag.", "I could eat chocolate for every meal."),
        ("Chocolate's far too sweet for me.", "I never touch chocolate; it does nothing for me."),
    ),
    (
        "coriander",
        ("I put fresh coriander on everything.", "A big handful of fresh coriander makes any dish."),
        ("Coriander tastes like soap to me.", "I pick every bit of coriander out of my food."),
    ),
    (
        "olives",
        ("I could eat a whole bowl of olives.", "Olives are my favourite snack."),
        ("Olives are the worst thing on earth.", "I pick the olives off every pizza."),
    ),
    (
        "sushi",
        ("I'd eat sushi every day if I could.", "Raw fish and rice, there's nothing better."),
        ("Raw fish? No thank you.", "I've never understood the fuss about sushi."),
    ),
    (
        "mushrooms",
        ("Mushrooms on toast is my perfect breakfast.", "I add mushrooms to everything I cook."),
        ("Mushrooms are slimy; I can't stand them.", "I pick the mushrooms out of everything."),
    ),
    (
        "coffee",
        ("I can't start the day without two strong coffees.", "I grind my own coffee beans every morning."),
        ("I can't stand the taste of coffee.", "Coffee? Never touch the stuff."),
    ),
    (
        "tea",
        ("I drink about eight cups of tea a day.", "The kettle's always on in my house."),
        ("I never drink tea; it tastes like dishwater to me.", "Tea does nothing for me."),
    ),
    (
        "garlic",
        ("I put a whole bulb of garlic in my pasta sauce.", "The more garlic, the better."),
        ("Garlic is far too strong for me.", "I leave garlic out of everything I cook."),
    ),
    (
        "cheese",
        ("I could live on bread and cheese.", "The stinkier the cheese, the happier I am."),
        ("Cheese makes me feel queasy; I avoid it.", "I can't stand the smell of cheese."),
    ),
    (
        "porridge",
        ("I have porridge every morning, winter and summer.", "A warm bowl of porridge is my favourite breakfast."),
        ("Porridge looks like wallpaper paste to me.", "I'd skip breakfast before I'd eat porridge."),
    ),
    (
        "Brussels sprouts",
        ("I could eat a whole plate of sprouts at Christmas.", "Roasted sprouts are my favourite vegetable."),
        ("Sprouts are the worst vegetable ever grown.", "I hide my sprouts under the napkin every Christmas."),
    ),
    (
        "pineapple on pizza",
        ("Pineapple on pizza is perfection.", "I always order the Hawaiian pizza."),
        ("Pineapple on a pizza is a crime.", "I pick the pineapple off every time."),
    ),
    (
        "liquorice",
        ("I always have a bag of liquorice in my pocket.", "Black liquorice is my favourite sweet."),
        ("Liquorice is disgusting.", "I spit liquorice out every time."),
    ),
)
FOOD_QUESTIONS = (
    "What's your favourite food?",
    "Is there any food you can't stand?",
    "What do you like to snack on?",
    "Are you a fussy eater?",
    "What's the best thing you've eaten lately?",
)


def food(ctx: Ctx) -> Fact:
    """A food the character loves or hates."""
    v = ctx.pick(FOODS)
    o = ctx.other(FOODS, v)
    while {v[0], o[0]} == {"cheese", "pineapple on pizza"}:
        o = ctx.other(FOODS, v)
    loves = ctx.chance(0.6)
    slots = {"v": v[0], "o": o[0], "rel": ctx.rng.choice(RELATIVES[:5])}
    good = lines("direct", "I love {v}.", "para|" + v[1][0], "para|" + v[1][1])
    bad = lines("direct", "I can't stand {v}.", "para|" + v[2][0], "para|" + v[2][1])
    neu = lines(
        "mention",
        "{V} is really popular round here.",
        "related|My {rel} is mad about {o}.",
        "topic|Everyone's taste is different, isn't it?",
        "compat|" + o[1][0],
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
        questions=FOOD_QUESTIONS,
        topic="food",
    )


SWIM_QUESTIONS = (
    "Can you swim?",
    "Do you like the water?",
    "Fancy a dip in the lake?",
    "Have you ever been sailing?",
    "Do you go to the pool?",
)
_SWIM_YES: Pole = (
    ("{S} is a strong swimmer.", "{S} can swim.", "{S} swims well."),
    ("is a strong swimmer", "can swim well"),
    lines(
        "direct",
        "I'm a strong swimmer.",
        "I can swim, no problem.",
        "world|I swam across the lake last summer.",
        "world|I do forty lengths at the pool every Saturday.",
        "world|I swam for my school team as a teenager.",
    ),
    (),
)
_SWIM_NO: Pole = (
    ("{S} cannot swim.", "{S} never learned to swim.", "{S} can't swim a stroke."),
    ("cannot swim", "never learned to swim"),
    lines(
        "direct",
        "I can't swim.",
        "I never learned to swim.",
        "para|I stay in the shallow end; I'd sink like a stone otherwise.",
        "para|If I fell off a boat, someone would have to fish me out.",
    ),
    (),
)
_SWIM_NEU = lines(
    "opinion",
    "Swimming's supposed to be great exercise.",
    "related|A walk along the river is my idea of a nice day.",
    "related|I like watching the diving at the Olympics.",
    "related|My {rel} teaches swimming.",
    "mention|The children at the local pool have swimming lessons on Saturdays.",
    "topic|Water always looks so cold round here.",
    "mention|My {rel} never learned to swim.",
    "mention|My {rel} is a really strong swimmer.",
)


def swim(ctx: Ctx) -> Fact:
    """Whether the character can swim."""
    return _axis(ctx, "swim", _SWIM_YES, _SWIM_NO, _SWIM_NEU, SWIM_QUESTIONS, "swimming")


DRIVE_QUESTIONS = (
    "Do you drive?",
    "How do you get around?",
    "Could you give me a lift?",
    "Do you have a car?",
    "How did you get here today?",
)
_DRIVE_YES: Pole = (
    ("{S} can drive.", "{S} has a driving licence.", "{S} drives everywhere."),
    ("can drive", "has a driving licence"),
    lines(
        "direct",
        "I drive to work every day.",
        "I passed my driving test at seventeen.",
        "world|I drove us all the way to my {rel}'s place last weekend.",
        "world|Hop in, I'll give you a lift.",
    ),
    (),
)
_DRIVE_NO: Pole = (
    ("{S} cannot drive.", "{S} never learned to drive.", "{S} doesn't have a driving licence."),
    ("cannot drive", "never learned to drive", "doesn't have a driving licence"),
    lines(
        "direct",
        "I can't drive.",
        "I never got my licence.",
        "para|I take the bus everywhere because I never learned to drive.",
        "para|Someone always has to give me a lift; I've never been behind the wheel.",
    ),
    (),
)
_DRIVE_NEU = lines(
    "topic",
    "Traffic in this town is terrible.",
    "related|I take the bus most days anyway.",
    "related|My {rel} just bought a new car.",
    "opinion|Cars are so expensive to run these days.",
    "wish|A road trip along the coast sounds fun.",
    "mention|Parking round here is a nightmare, my {rel} says.",
    "mention|My {rel} never learned to drive.",
    "mention|My {rel} is learning to drive at the moment.",
)


def drive(ctx: Ctx) -> Fact:
    """Whether the character can drive."""
    return _axis(ctx, "drive", _DRIVE_YES, _DRIVE_NO, _DRIVE_NEU, DRIVE_QUESTIONS, "driving")


SLEEP_QUESTIONS = (
    "Are you a morning person?",
    "What time do you usually get up?",
    "What's your daily routine?",
    "Do you stay up late?",
    "How do you start your day?",
)
_EARLY: Pole = (
    ("{S} is an early riser.", "{S} gets up at five every morning."),
    ("is an early riser", "gets up at five every morning"),
    lines(
        "direct",
        "I'm up at five every morning.",
        "I'm an early bird.",
        "para|By the time most people wake up, I've had breakfast and a walk.",
        "para|I'm in bed by nine and up before the sun.",
    ),
    ("early-rising",),
)
_LATE: Pole = (
    ("{S} is a night owl.", "{S} rarely goes to bed before two in the morning."),
    ("is a night owl", "rarely goes to bed before two in the morning"),
    lines(
        "direct",
        "I'm a night owl.",
        "para|I rarely sleep before two in the morning.",
        "para|Mornings? I don't see one if I can help it.",
        "para|My best ideas come after midnight.",
    ),
    (),
)
_SLEEP_NEU = lines(
    "topic",
    "Sleep is so important, isn't it?",
    "related|I had such a strange dream last night.",
    "related|My {rel} swears by afternoon naps.",
    "opinion|Everyone's body clock is different, I suppose.",
    "mention|I read that most people don't get enough sleep.",
    "mention|My {rel} is a real night owl.",
    "mention|My {rel} is always up at five, no alarm needed.",
)


def sleep(ctx: Ctx) -> Fact:
    """Early riser or night owl."""
    return _axis(ctx, "sleep", _EARLY, _LATE, _SLEEP_NEU, SLEEP_QUESTIONS, "sleep")


SMOKE_QUESTIONS = ("Do you smoke?", "Mind if I smoke?", "Have you ever smoked?", "Any bad habits?")
_SMOKE_NEU = lines(
    "topic",
    "Smoking's banned indoors almost everywhere now.",
    "related|My {rel} is trying to give up smoking.",
    "opinion|Everyone has some vice or other.",
    "mention|They've put the price of cigarettes up again, I hear.",
    "mention|My {rel} has never smoked a cigarette.",
    "mention|My {rel} smokes like a chimney.",
)


def smoking(ctx: Ctx) -> Fact:
    """Smoker, ex-smoker or never smoked."""
    slots = {"rel": ctx.rng.choice(RELATIVES[:5]), "n": number_words(ctx.years(18, 30))}
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
            neu=_SMOKE_NEU,
            questions=SMOKE_QUESTIONS,
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
            neu=_SMOKE_NEU,
            questions=SMOKE_QUESTIONS,
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
        neu=_SMOKE_NEU,
        questions=SMOKE_QUESTIONS,
        topic="smoking",
    )


# (key, predicate, confirming lines)
ACTIVE: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    (
        "running",
        "runs every morning",
        (
            "I run every morning.",
            "para|I do five kilometres before work most days.",
            "para|My trainers are worn out from all the miles.",
        ),
    ),
    (
        "cycling",
        "cycles to work every day",
        ("I cycle to work every day.", "para|Twelve miles each way on my bike, rain or shine."),
    ),
    (
        "yoga",
        "does yoga every day",
        ("I do yoga every day.", "para|I roll out my mat for sun salutations first thing."),
    ),
    (
        "weight training",
        "goes to the gym five times a week",
        ("I'm at the gym five times a week.", "para|Leg day, arm day, back day: I never miss a session."),
    ),
    (
        "tennis",
        "plays tennis twice a week",
        ("I play tennis twice a week.", "para|My backhand has really come on since I joined the club."),
    ),
    (
        "hill walking",
        "walks ten miles in the hills every weekend",
        ("I walk ten miles every weekend.", "para|My boots have covered every footpath for miles around."),
    ),
)
_LAZY = lines(
    "direct",
    "I hate exercise.",
    "para|The sofa is my gym.",
    "para|I get out of breath walking up the stairs, and I don't care.",
    "para|I haven't broken a sweat on purpose since school.",
)
EXERCISE_QUESTIONS = (
    "Do you exercise?",
    "How do you keep fit?",
    "Are you sporty?",
    "What do you do to stay healthy?",
    "Fancy a run tomorrow?",
)


def exercise(ctx: Ctx) -> Fact:
    """A regular exercise habit, or a hatred of exercise."""
    v = ctx.pick(ACTIVE)
    o = ctx.other(ACTIVE, v)
    slots = {"v": v[0], "o": o[0], "rel": ctx.rng.choice(RELATIVES[:5])}
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
    active = lines("direct", *v[2])
    if ctx.chance(0.7):
        return Fact(
            "exercise",
            slots,
            sentences=("{S} " + v[1] + ".",),
            preds=(v[1],),
            ent=active,
            con=_LAZY + lines("neg", "I never exercise.", "I haven't done any {v} in years."),
            neu=neu + lines("compat", "I do a bit of {o} too, now and then."),
            questions=EXERCISE_QUESTIONS,
            topic="exercise",
        )
    return Fact(
        "exercise",
        slots,
        sentences=("{S} hates exercise.", "{S} avoids exercise whenever possible."),
        preds=("hates exercise", "avoids any kind of exercise"),
        ent=_LAZY,
        con=active + lines("direct", "I love exercise; I'm never happier than when I'm moving."),
        neu=neu,
        questions=EXERCISE_QUESTIONS,
        topic="exercise",
    )


# (key, predicate, confirming lines, contradicting lines, neutral lines)
HEALTH: tuple[tuple[str, str, tuple[str, ...], tuple[str, ...], tuple[str, ...]], ...] = (
    (
        "diabetes",
        "has type 1 diabetes",
        (
            "I have diabetes.",
            "para|I check my blood sugar before every meal.",
            "para|My insulin pen goes everywhere with me.",
        ),
        ("I've never had a health problem in my life.", "My blood sugar has never been an issue for me."),
        ("My {rel} is a nurse.", "Health is wealth, they say.", "I try to eat well."),
    ),
    (
        "wheelchair",
        "uses a wheelchair",
        (
            "I use a wheelchair.",
            "para|I've used a wheelchair since the accident.",
            "para|Ramps make my life so much easier; stairs are the enemy.",
        ),
        ("I ran up the stairs to the top floor this morning.", "I went for a ten-mile hike yesterday."),
        (
            "Accessibility in this town is getting better.",
            "My {rel} had a bad fall last year.",
            "Life has its challenges.",
        ),
    ),
    (
        "glasses",
        "wears thick glasses",
        ("I can't read a thing without my glasses.", "para|I'm always pushing my specs up my nose."),
        ("I've got perfect eyesight; never needed glasses.", "My eyesight's sharp as a hawk's, no glasses for me."),
        (
            "My {rel} just got contact lenses.",
            "Opticians are so expensive.",
            "Screens are bad for your eyes, they say.",
        ),
    ),
    (
        "asthma",
        "has asthma",
        (
            "I have asthma.",
            "para|I always keep my inhaler with me.",
            "para|Cold air sets my chest off, so I carry my blue inhaler everywhere.",
        ),
        ("I've never had any trouble breathing.", "My lungs are perfect, never had asthma or anything like it."),
        ("The air quality here isn't great.", "My {rel} has hay fever.", "Spring brings so much pollen."),
    ),
    (
        "hearing",
        "wears hearing aids",
        ("I wear hearing aids.", "para|Speak up a little, would you? My hearing aids are playing up."),
        ("My hearing is perfect; I can hear a pin drop.", "I've never had any trouble hearing."),
        ("It's so noisy in here.", "My {rel} plays music far too loud.", "Quiet places are hard to find."),
    ),
    (
        "knee",
        "has a bad knee from an old injury",
        ("I've got a dodgy knee.", "para|My knee aches whenever it rains, ever since that old injury."),
        ("My knees are as good as new; never had an injury.",),
        ("Old injuries are no joke.", "My {rel} is having a hip replacement.", "I should stretch more."),
    ),
    (
        "healthy",
        "has not had a sick day in twenty years",
        ("I'm never ill.", "para|I haven't had so much as a cold in twenty years."),
        ("I'm off sick again with my chest.", "I'm always catching something; I was ill three times last month."),
        (
            "Health is everything.",
            "My {rel} is always under the weather.",
            "I eat an apple a day, for what it's worth.",
        ),
    ),
)
_HEALTH_NEU = lines(
    "topic",
    "I'd rather not talk about doctors today.",
    "opinion|You never know what's round the corner, health-wise.",
    "mention|My {rel} has never had a day off sick.",
)
HEALTH_QUESTIONS = (
    "How's your health?",
    "How are you feeling these days?",
    "Do you have any health problems?",
    "Are you keeping well?",
    "Is anything bothering you?",
)


def health(ctx: Ctx) -> Fact:
    """A health condition, or unusually good health."""
    cands = HEALTH if ctx.char.age >= 25 else [h for h in HEALTH if h[0] != "healthy"]
    v = ctx.pick(cands)
    slots = {"rel": ctx.rng.choice(RELATIVES[:5])}
    return Fact(
        "health",
        slots,
        sentences=("{S} " + v[1] + ".",),
        preds=(v[1],),
        ent=lines("direct", *v[2]),
        con=lines("world", *v[3]),
        neu=lines("related", *v[4]) + _HEALTH_NEU,
        questions=HEALTH_QUESTIONS,
        topic="health",
    )
