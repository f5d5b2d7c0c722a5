"""Attribute families about work, age, schooling and past events."""

from __future__ import annotations

from ._core import Ctx, Fact, decade_phrase, lines, number_words, retag, with_article

# (job, plural, minimum age, first-person lines that show the job without naming it)
JOBS: tuple[tuple[str, str, int, tuple[str, ...]], ...] = (
    (
        "nurse",
        "nurses",
        21,
        (
            "I've worked night shifts on the children's ward for years.",
            "Most of my day is spent checking on patients and changing dressings.",
            "After a twelve-hour shift on the ward, my feet are killing me.",
        ),
    ),
    (
        "lawyer",
        "lawyers",
        25,
        (
            "I spend most of my days in court arguing cases.",
            "I've got a client meeting before my hearing tomorrow morning.",
            "Contracts, case law and courtrooms, that's my whole week.",
        ),
    ),
    (
        "primary school teacher",
        "primary school teachers",
        22,
        (
            "My class of eight-year-olds keeps me on my toes.",
            "I've got thirty spelling tests to mark tonight.",
            "The children in my class made me a card this morning.",
        ),
    ),
    (
        "chef",
        "chefs",
        19,
        (
            "I run the kitchen at a little bistro on the corner.",
            "I was on the line until midnight, plating up for a full restaurant.",
            "My knives are the most precious things I own; I cook for a living.",
        ),
    ),
    (
        "firefighter",
        "firefighters",
        19,
        (
            "When the bell goes at the station, we're on the engine within a minute.",
            "I've carried people out of burning buildings more than once.",
            "We had three call-outs last night, one of them a kitchen blaze.",
        ),
    ),
    (
        "accountant",
        "accountants",
        22,
        (
            "It's tax season, so I'm buried in spreadsheets and receipts.",
            "I spend all day balancing other people's books.",
            "My clients bring me shoeboxes full of receipts and I make sense of them.",
        ),
    ),
    (
        "architect",
        "architects",
        25,
        (
            "I'm drawing up plans for a new library at the moment.",
            "Most of my week goes on building designs and site visits.",
            "I design houses, and there's nothing like seeing your drawings become walls.",
        ),
    ),
    (
        "airline pilot",
        "airline pilots",
        24,
        (
            "I fly the early route to Lisbon most weeks.",
            "From the cockpit, a sunrise at thirty thousand feet is something else.",
            "I've logged more flying hours than I can count.",
        ),
    ),
    (
        "farmer",
        "farmers",
        18,
        (
            "I'm up before dawn to feed the cattle and check the fields.",
            "Harvest is our busiest time on the farm.",
            "The tractor broke down in the top field again yesterday.",
        ),
    ),
    (
        "dentist",
        "dentists",
        25,
        (
            "I fill cavities and clean teeth all day long.",
            "Floss, people! I tell my patients that every single day.",
            "I did four root canals at the surgery today.",
        ),
    ),
    (
        "electrician",
        "electricians",
        18,
        (
            "I rewired a whole house last week.",
            "I spend my days fixing faulty wiring and fuse boxes.",
            "Nobody thinks about their sockets until they stop working, and then they call me.",
        ),
    ),
    (
        "librarian",
        "librarians",
        22,
        (
            "I spend my days shelving books and helping people find something to read.",
            "Story time for the little ones is the best part of my week at the library.",
            "I know exactly where every book on my shelves belongs.",
        ),
    ),
    (
        "journalist",
        "journalists",
        21,
        (
            "I'm on deadline for a story about the council.",
            "I interview people and write up the news for the paper.",
            "My editor wants my article by six o'clock.",
        ),
    ),
    (
        "plumber",
        "plumbers",
        18,
        (
            "Burst pipes and blocked drains, that's my working day.",
            "I fitted a new boiler in someone's loft this morning.",
            "People ring me in a panic when their pipes freeze.",
        ),
    ),
    (
        "software developer",
        "software developers",
        20,
        (
            "I write code for a banking app.",
            "Most days I'm fixing bugs and reviewing other people's code.",
            "I spend eight hours a day writing programs on two monitors.",
        ),
    ),
    (
        "vet",
        "vets",
        24,
        (
            "I set a spaniel's broken paw at the surgery this morning.",
            "Most of my patients bark, purr or squawk.",
            "I spend my days treating sick cats and dogs at the animal clinic.",
        ),
    ),
    (
        "police officer",
        "police officers",
        19,
        (
            "I was out on patrol all night.",
            "I've arrested more shoplifters than I can count.",
            "I put on the uniform and walk the beat in the town centre.",
        ),
    ),
    (
        "pharmacist",
        "pharmacists",
        23,
        (
            "I count out prescriptions behind the counter all day.",
            "People ask me about the side effects of their tablets all the time.",
        ),
    ),
    (
        "hairdresser",
        "hairdressers",
        18,
        ("I cut and colour hair at a salon on the high street.", "I did six haircuts and two perms before lunch."),
    ),
    (
        "postal worker",
        "postal workers",
        18,
        (
            "I deliver letters on the same route every morning.",
            "Every dog on my round knows the sound of the letterbox.",
        ),
    ),
    (
        "social worker",
        "social workers",
        22,
        (
            "I visit families who need support, and the paperwork never ends.",
            "My caseload this month is heavier than ever.",
        ),
    ),
    (
        "museum curator",
        "museum curators",
        25,
        (
            "I'm putting together the new exhibition on ancient pottery at the museum.",
            "I decide which pieces go on display in the galleries.",
        ),
    ),
    (
        "surgeon",
        "surgeons",
        30,
        ("I was in the operating theatre for six hours today.", "I've taken out more appendixes than I can count."),
    ),
    (
        "family doctor",
        "family doctors",
        28,
        (
            "I see about thirty patients a day at my practice.",
            "I write prescriptions and check blood pressure from nine till six.",
        ),
    ),
    (
        "estate agent",
        "estate agents",
        19,
        ("I showed three houses to buyers today.", "I spend my days valuing homes and haggling with buyers."),
    ),
    (
        "supermarket cashier",
        "supermarket cashiers",
        18,
        ("I work the till at the supermarket.", "I scan thousands of items every shift at the checkout."),
    ),
    (
        "soldier",
        "soldiers",
        18,
        ("I've been deployed twice with my regiment.", "Life in the barracks starts at six with inspection."),
    ),
    (
        "taxi driver",
        "taxi drivers",
        21,
        ("I drive a cab through the city at night.", "My passengers tell me their life stories from the back seat."),
    ),
    (
        "civil engineer",
        "civil engineers",
        23,
        ("I design bridges and make sure they stay up.", "I'm overseeing the new flyover on the ring road."),
    ),
    (
        "research chemist",
        "research chemists",
        24,
        ("I run experiments in the lab all day.", "My lab coat has stains from every acid you can name."),
    ),
    (
        "hotel receptionist",
        "hotel receptionists",
        18,
        ("I check guests in at the hotel front desk.", "I hand out room keys and recommend restaurants all day."),
    ),
    (
        "barista",
        "baristas",
        18,
        (
            "I make about two hundred coffees a shift.",
            "I can pour a leaf pattern in the milk foam with my eyes closed.",
        ),
    ),
    (
        "zookeeper",
        "zookeepers",
        18,
        ("I feed the penguins and muck out the giraffe house every morning.", "The lions at work know my voice."),
    ),
    (
        "midwife",
        "midwives",
        22,
        ("I've helped deliver hundreds of babies.", "I was up all night with a mum in labour."),
    ),
    (
        "judge",
        "judges",
        45,
        ("I hand down sentences from the bench.", "Barristers argue in front of me all day, and then I decide."),
    ),
    (
        "bus driver",
        "bus drivers",
        21,
        (
            "I drive the number twelve bus through town every day.",
            "My regulars wave at me when they get off at the last stop.",
        ),
    ),
    (
        "tailor",
        "tailors",
        18,
        ("I take measurements and alter suits in my shop all day.", "I hemmed twelve pairs of trousers this week."),
    ),
    (
        "physiotherapist",
        "physiotherapists",
        22,
        (
            "I help people recover from injuries with exercises and massage.",
            "My patients groan when I hand them their stretches.",
        ),
    ),
    (
        "bank clerk",
        "bank clerks",
        18,
        (
            "I count cash and open accounts at the bank all day.",
            "I've worked behind the counter at the bank since I left school.",
        ),
    ),
    (
        "builder",
        "builders",
        18,
        ("I laid bricks for a new extension all week.", "I'm on a building site by seven every morning."),
    ),
    (
        "optician",
        "opticians",
        22,
        (
            "I test people's eyesight and fit their glasses.",
            "I spend my day asking people to read letters off a chart.",
        ),
    ),
    (
        "flight attendant",
        "flight attendants",
        19,
        (
            "I serve drinks at thirty thousand feet and know the safety demonstration by heart.",
            "I've slept in more airport hotels than I can remember.",
        ),
    ),
)

JOB_QUESTIONS = (
    "What do you do for a living?",
    "What's your job?",
    "Tell me about your work.",
    "How was work today?",
    "What do you do all day?",
    "Do you enjoy your job?",
    "What kind of work do you do?",
    "What keeps you busy these days?",
    "How do you earn a living?",
)

_JOB_ENT = lines(
    "direct",
    "I'm {a_v}.",
    "I work as {a_v}.",
    "I've been {a_v} for {n} years now.",
    "Being {a_v} is hard work, but I wouldn't change it.",
    "As {a_v}, I see all sorts.",
    "Yes, I'm {a_v}, and have been for {n} years.",
    "I'm {a_v}, believe it or not.",
    "implied|My {rel} is {a_v} too, so we always end up talking shop.",
)
_JOB_CON = lines(
    "value",
    "I'm {a_o}.",
    "I've been {a_o} for {n} years now.",
    "As {a_o}, I see all sorts.",
    "People think I'm {a_v}, but actually I'm {a_o}.",
    "I work as {a_o}, have done for years.",
    "neg|I've never worked as {a_v} in my life.",
    "neg|I'm not {a_v}, I never have been.",
    "neg|{A_v}? No, that's not what I do at all.",
    "wish|I've always wondered what it would be like to be {a_v}.",
    "wish|Me, {a_v}? Not in a million years.",
    "wish|I don't really know what {vs} do all day, to be honest.",
    "world|I haven't had a job in years.",
)
_JOB_NEU = lines(
    "mention",
    "People always ask whether {vs} get tired of it.",
    "I read an article about {vs} the other day.",
    "My {rel} keeps saying {vs} are underpaid.",
    "related|My {rel} is {a_v}.",
    "related|My {rel} works as {a_o} and loves it.",
    "wish|Sometimes I think I'd have made a decent {o}.",
    "wish|When I was little, I wanted to be {a_o}.",
    "topic|Work is work, you know? Some days are better than others.",
    "topic|Honestly, I'd rather not talk shop today.",
    "opinion|Every job has its hard days, I think.",
    "opinion|I've got a lot of respect for {os}.",
    "topic|Jobs? Everyone needs something to keep them busy.",
    "opinion|{Os} don't get enough credit, if you ask me.",
    "mention|I'm a big admirer of {vs}, honestly.",
    "mention|My {rel} would never want to be {a_v}.",
    "topic|I'd rather talk about anything but work right now.",
)
_RETIRED_ENT = lines(
    "direct",
    "I was {a_v} for {n} years before I retired.",
    "I'm retired now, but I spent my working life as {a_v}.",
    "Once {a_v}, always {a_v}, even in retirement.",
)
_RETIRED_CON = lines(
    "value",
    "I was {a_o} for {n} years before I retired.",
    "I spent my whole working life as {a_o}.",
    "neg|I've never worked as {a_v} in my life.",
    "world|Retire? Me? I'm still working full-time.",
    "wish|I've always wondered what it would be like to be {a_v}.",
)


def job(ctx: Ctx) -> Fact:
    """A profession, with paraphrases of the daily work and a different job for contradictions."""
    age = ctx.char.age
    cands = [j for j in JOBS if j[2] <= age]
    v = ctx.pick(cands)
    o = ctx.other(JOBS, v)
    retired = age >= 66 and ctx.chance(0.7)
    n = ctx.years(v[2], 40 if retired else 30)
    slots = {
        "v": v[0],
        "vs": v[1],
        "a_v": with_article(v[0]),
        "o": o[0],
        "os": o[1],
        "a_o": with_article(o[0]),
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
            ent=_RETIRED_ENT,
            con=_RETIRED_CON,
            neu=tuple(x for x in _JOB_NEU if x[0] != "topic"),
            questions=JOB_QUESTIONS[:3],
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
        ent=_JOB_ENT + retag("para", lines("p", *v[3])),
        con=_JOB_CON + retag("para", lines("p", *o[3])),
        neu=_JOB_NEU,
        questions=JOB_QUESTIONS,
        topic="work",
        nouns=("{v}",),
    )


AGE_QUESTIONS = (
    "How old are you?",
    "Do you mind me asking how old you are?",
    "When's your birthday?",
    "How do you feel about getting older?",
    "What age are you now?",
    "Are you older than you look?",
)
_AGE_ENT = lines(
    "direct",
    "I'm {v}.",
    "I'm {vw}.",
    "I turned {vw} this year.",
    "I'm {v} years old, and some mornings I feel it.",
    "{Vw} years young!",
    "para|I'm in my {dec}.",
    "para|I'll be {v1w} on my next birthday.",
    "para|I hit {vw} this year, can you believe it?",
)
_AGE_CON = lines(
    "value",
    "I'm {o}.",
    "I'm just turning {ow}.",
    "I'm in my {odec}.",
    "I'll be {o1w} on my next birthday.",
    "I'm {ow}, believe it or not.",
    "neg|I'm nowhere near {vw}, thank you very much.",
)
_AGE_CON_OLD = lines(  # said by someone young: contradicts an older age
    "world",
    "I only left school last year.",
    "My parents still won't let me stay out past midnight.",
    "I'm still at school, in my last year before exams.",
)
_AGE_CON_YOUNG = lines(  # said by someone old: contradicts a young age
    "world",
    "My grandchildren visit every Sunday.",
    "I retired from work fifteen years ago.",
    "I remember the day the Berlin Wall came down like it was yesterday.",
)
_AGE_NEU = lines(
    "topic",
    "Age is just a number, isn't it?",
    "I don't really feel my age, whatever that means.",
    "Birthdays? I'd rather not make a fuss.",
    "mention|My {rel} turns {ow} next week.",
    "People often say I look younger than I am.",
    "I stopped counting birthdays a while ago.",
    "askback|How old do you think I am?",
    "opinion|Getting older has its perks, I suppose.",
    "opinion|Every age has its own worries, I think.",
    "mention|{Ow} is a funny age, my {rel} says.",
    "mention|My {rel} never tells anyone {rel_his} age.",
    "mention|No one ever guesses my {rel}'s age right.",
)


def age(ctx: Ctx) -> Fact:
    """The character's age (the latent age every family respects)."""
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
    con = _AGE_CON
    if v >= 40:
        con += _AGE_CON_OLD
    if v <= 30:
        con += _AGE_CON_YOUNG
    return Fact(
        "age",
        slots,
        sentences=("{S} is {v} years old.", "{S} is {v}.", "{S} turned {v} this year.", "{S} is aged {v}."),
        preds=("is {v} years old", "is {v}"),
        ent=_AGE_ENT,
        con=con,
        neu=_AGE_NEU,
        questions=AGE_QUESTIONS,
        topic="age",
        adjs=("{v}-year-old",),
    )


# (subject, a line about studying it that does not name it)
SUBJECTS: tuple[tuple[str, str], ...] = (
    ("chemistry", "I spent half my degree in a lab coat, titrating acids."),
    ("history", "My dissertation was on the Napoleonic wars, and I still read about them for fun."),
    ("law", "Three years of torts and contracts at university nearly finished me off."),
    ("economics", "I spent my university years drawing supply and demand curves."),
    ("fine art", "At art school I lived in the painting studio with oil paint under my nails."),
    ("mechanical engineering", "At university I spent my nights designing gearboxes and engines."),
    ("philosophy", "I spent three years at university arguing about Kant and free will."),
    ("biology", "My degree was all cells, genetics and dissecting frogs."),
    ("mathematics", "I spent my university years proving theorems on a blackboard."),
    ("architecture", "I drew building plans through the night for my degree."),
    ("geography", "My degree took me on field trips measuring rivers and glaciers."),
    ("psychology", "At university I ran experiments on how people make decisions."),
    ("physics", "I studied quantum mechanics and black holes at university."),
    ("classics", "I read Homer and Virgil in the original for my degree."),
    ("medicine", "Six years of medical school and I still remember every bone in the hand."),
    ("geology", "My degree was all rocks, fossils and field trips to quarries."),
)
EDU_QUESTIONS = (
    "Did you go to university?",
    "What did you study?",
    "Tell me about your schooling.",
    "What was school like for you?",
    "Do you have a degree?",
    "What did you want to be when you were at school?",
)
_EDU_NEU = lines(
    "topic",
    "Education opens doors, doesn't it?",
    "Exams never really show what people can do.",
    "wish|Sometimes I wish I'd studied {o}.",
    "related|My {rel} is studying {o} at the moment.",
    "mention|{V} is a tough subject, they say.",
    "opinion|I think you learn more from life than from books.",
    "opinion|Lots of people do perfectly well without a degree.",
    "mention|My {rel} says {v} is all the rage now.",
)


def education(ctx: Ctx) -> Fact:
    """Schooling: a degree, a doctorate, or leaving school early."""
    v = ctx.pick(SUBJECTS)
    o = ctx.other(SUBJECTS, v)
    rel = ctx.rng.choice(("cousin", "neighbour", "friend", "godson", "goddaughter"))
    slots = {"v": v[0], "o": o[0], "rel": rel}
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
            neu=_EDU_NEU[:2] + _EDU_NEU[5:7] + lines("related", "My {rel} is studying {o} at the moment."),
            questions=EDU_QUESTIONS,
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
            neu=_EDU_NEU,
            questions=EDU_QUESTIONS,
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
        ent=lines("direct", *direct) + retag("para", lines("p", v[1])),
        con=lines(
            "value",
            "My degree was in {o}.",
            "I studied {o}, not {v}.",
            "neg|I've never studied {v}.",
            "world|I never went to university.",
            "world|I left school at sixteen and never went back.",
            "para|" + o[1],
        ),
        neu=_EDU_NEU,
        questions=EDU_QUESTIONS,
        topic="school",
    )


# (key, predicate, minimum age, confirming lines, contradicting lines, neutral lines)
PAST: tuple[tuple[str, str, int, tuple[str, ...], tuple[str, ...], tuple[str, ...]], ...] = (
    (
        "navy",
        "served in the navy for {n} years",
        28,
        (
            "I served in the navy for {n} years.",
            "para|My years at sea on a warship taught me discipline.",
            "para|I still salute the flag out of habit from my navy days.",
        ),
        ("neg|I've never served in the armed forces.", "world|I've never set foot on a ship in my life."),
        ("My {rel} was in the army.", "The sea can be beautiful from the shore.", "I've great respect for sailors."),
    ),
    (
        "skiing",
        "broke {his} leg in a skiing accident",
        14,
        ("I broke my leg skiing years ago.", "para|Ever since that crash on the slopes, my leg aches when it rains."),
        ("neg|I've never broken a bone in my life.", "neg|I've never been skiing, not once."),
        ("Skiing holidays are so expensive.", "My {rel} loves skiing.", "Ski resorts are always so crowded."),
    ),
    (
        "marathon",
        "once ran a marathon",
        18,
        (
            "I ran a marathon once, and never again!",
            "para|Crossing that finish line after twenty-six miles was the proudest moment of my life.",
        ),
        ("neg|I've never run more than a mile in my life.", "neg|A marathon? I've never even tried."),
        ("Marathons look exhausting.", "My {rel} is training for a race.", "I cheered on the runners in town once."),
    ),
    (
        "quiz",
        "once won a television quiz show",
        20,
        ("I won a quiz show on the telly once.", "para|I still have the trophy from that game show I won."),
        ("neg|I've never been on television.", "neg|I've never won anything in my life, not even a raffle."),
        ("I love watching quiz shows.", "My {rel} applied to be on a quiz show.", "Quiz shows are so tense."),
    ),
    (
        "fire",
        "lost {his} family home in a fire",
        15,
        ("I lost my home in a fire.", "para|After the fire took our house, we had to start from scratch."),
        (
            "neg|I've never been through a fire, thank goodness.",
            "world|We've lived in the same family home, untouched, for fifty years.",
        ),
        ("Fire safety is so important.", "My {rel} is a volunteer firefighter.", "I always check the smoke alarm."),
    ),
    (
        "hitchhike",
        "hitchhiked across Europe as a young adult",
        22,
        (
            "I hitchhiked across Europe when I was young.",
            "para|I thumbed lifts all the way from Lisbon to Berlin when I was young.",
        ),
        ("neg|I've never hitchhiked in my life.", "world|I've never left my home country."),
        ("Travelling on a shoestring is an adventure.", "My {rel} backpacked around Asia.", "Europe is so varied."),
    ),
    (
        "cruise",
        "worked on a cruise ship for {n} years",
        22,
        (
            "I worked on a cruise ship for {n} years.",
            "para|I spent {n} years living in a tiny cabin below deck, serving holidaymakers.",
        ),
        ("neg|I've never worked at sea.", "neg|I've never been on a cruise ship."),
        (
            "Cruises aren't really my idea of a holiday.",
            "My {rel} went on a cruise last year.",
            "The sea air is good for you, they say.",
        ),
    ),
    (
        "orphanage",
        "was raised by {his} grandparents",
        10,
        ("My grandparents raised me.", "para|Nana and Grandad brought me up after I lost my parents."),
        ("world|My mum and dad raised me in the house I grew up in.", "neg|I barely knew my grandparents."),
        (
            "Grandparents are special, aren't they?",
            "Lots of people are close to their grandparents.",
            "Family is what you make it.",
        ),
    ),
    (
        "lottery",
        "won a small fortune in the lottery",
        25,
        ("I won the lottery once.", "para|That winning ticket paid off my mortgage overnight."),
        ("neg|I've never won a penny on the lottery.", "neg|I've never even bought a lottery ticket."),
        (
            "The lottery is a tax on hope, my {rel} says.",
            "Imagine winning the lottery!",
            "Money can't buy happiness, or so they say.",
        ),
    ),
    (
        "travel_never",
        "has never travelled outside {his} home country",
        10,
        ("I've never been abroad.", "para|I've never needed a passport; I've always holidayed at home."),
        (
            "world|I spent last summer in Japan.",
            "world|I've been to over thirty countries.",
            "neg|I travel abroad every year.",
        ),
        (
            "Travel broadens the mind, they say.",
            "My {rel} is always jetting off somewhere.",
            "There's plenty to see close to home.",
        ),
    ),
    (
        "hospital",
        "spent a year in hospital as a child",
        10,
        (
            "I spent a year in hospital when I was a child.",
            "para|I was stuck on a children's ward for a whole year when I was little.",
        ),
        ("neg|I've never been in hospital in my life.",),
        ("Hospitals make me a bit nervous.", "My {rel} works at a hospital.", "Health is everything."),
    ),
    (
        "medal",
        "won a medal for bravery",
        18,
        (
            "I was given a medal for bravery once.",
            "para|They pinned a medal on me after I pulled a man out of a crashed car.",
        ),
        ("neg|I've never won a medal for anything.",),
        ("Medals are just metal, really.", "My {rel} collects old medals.", "Real bravery is quiet."),
    ),
)
PAST_QUESTIONS = (
    "What's the most memorable thing that ever happened to you?",
    "Tell me something about your past.",
    "Have you had an adventurous life?",
    "What's a story you often tell people?",
    "Any big moments in your life?",
)


def past(ctx: Ctx) -> Fact:
    """A past event in the character's life."""
    cands = [p for p in PAST if p[2] <= ctx.char.age]
    v = ctx.pick(cands)
    o = ctx.other(cands, v)
    n = ctx.years(v[2], 15)
    slots = {"n": number_words(n), "rel": ctx.rng.choice(("cousin", "neighbour", "friend", "aunt", "uncle"))}
    pred = v[1]
    sentences: tuple[str, ...] = ("{S} " + pred + ".",)
    if not pred.startswith(("has ", "is ")):
        sentences += ("Years ago, {S} " + pred + ".", "{S} " + pred + ", something {he} still talks about.")
    neu = lines("related", *v[5]) + lines("topic", "The past is the past.", "I try not to dwell on old times.")
    if "travel_never" not in (v[0], o[0]):
        neu += lines("other", o[3][0])
    return Fact(
        "past",
        slots,
        sentences=sentences,
        preds=(pred,),
        ent=lines("direct", *v[3]),
        con=lines("neg", *v[4]),
        neu=neu,
        questions=PAST_QUESTIONS,
        topic="the past",
    )
