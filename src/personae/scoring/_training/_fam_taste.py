"""Attribute families about skills and tastes: languages, instruments, music, sport, colours, seasons, hobbies."""

from __future__ import annotations

from ._core import Ctx, Fact, lines, number_words, with_article
from ._vocab import RELATIVES

# (language, a country where it is spoken, a greeting)
LANGUAGES: tuple[tuple[str, str, str], ...] = (
    ("French", "France", "Bonjour"),
    ("Spanish", "Spain", "Hola"),
    ("German", "Germany", "Guten Tag"),
    ("Italian", "Italy", "Ciao"),
    ("Japanese", "Japan", "Konnichiwa"),
    ("Mandarin", "China", "Ni hao"),
    ("Arabic", "Egypt", "Marhaba"),
    ("Portuguese", "Portugal", "Ola"),
    ("Russian", "Russia", "Privet"),
    ("Hindi", "India", "Namaste"),
    ("Swahili", "Kenya", "Jambo"),
    ("Korean", "South Korea", "Annyeong"),
    ("Polish", "Poland", "Czesc"),
    ("Turkish", "Turkey", "Merhaba"),
    ("Greek", "Greece", "Yassou"),
    ("Dutch", "the Netherlands", "Hallo"),
    ("Swedish", "Sweden", "Hej"),
)
LANG_QUESTIONS = (
    "Do you speak any other languages?",
    "How many languages do you speak?",
    "Could you help me translate something?",
    "Did you learn languages at school?",
    "Can you understand what they're saying over there?",
)


def languages(ctx: Ctx) -> Fact:
    """A language the character speaks fluently, or only English."""
    v = ctx.pick(LANGUAGES)
    o = ctx.other(LANGUAGES, v)
    slots = {"l": v[0], "c": v[1], "g": v[2], "o": o[0], "oc": o[1], "rel": ctx.rng.choice(RELATIVES[:5])}
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
            questions=LANG_QUESTIONS,
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
        questions=LANG_QUESTIONS,
        topic="languages",
    )


# (instrument, lines that show playing it without naming it)
INSTRUMENTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "piano",
        ("I practise my scales on the keys every morning.", "My fingers fly over the black and white keys for hours."),
    ),
    (
        "violin",
        ("I rosin my bow before every rehearsal.", "I tuck the fiddle under my chin and play reels all evening."),
    ),
    (
        "cello",
        (
            "I sit with the instrument between my knees and play Bach suites.",
            "I lug my big case and bow to orchestra rehearsal every week.",
        ),
    ),
    (
        "drums",
        ("My neighbours complain about the noise from my kit.", "I've worn out three pairs of sticks this month."),
    ),
    ("flute", ("I play in the woodwind section, holding my silver instrument sideways.",)),
    ("saxophone", ("I buy reeds by the box for my sax.", "I play smoky solos on my tenor sax at the jazz club.")),
    ("trumpet", ("I play the fanfares at the front of the brass band, valves and all.",)),
    ("harp", ("I pluck all forty-seven strings every day.",)),
    ("clarinet", ()),
    ("accordion", ("I squeeze the bellows at every village dance.",)),
    ("church organ", ("I play the pipes at church every Sunday.",)),
    ("banjo", ("I pick bluegrass tunes on five strings.",)),
    ("trombone", ("I work the slide in the brass band every Saturday.",)),
    ("bagpipes", ("I march in the pipe band every Saturday.",)),
    ("harmonica", ("I always have my mouth organ in my pocket.",)),
    ("ukulele", ("I strum my little four-string every evening.",)),
    ("double bass", ("I stand behind the biggest string instrument in the orchestra, plucking away.",)),
)
_PLAYERS = {
    "piano": "pianist",
    "violin": "violinist",
    "cello": "cellist",
    "drums": "drummer",
    "flute": "flautist",
    "saxophone": "saxophonist",
    "trumpet": "trumpeter",
    "harp": "harpist",
    "bagpipes": "piper",
    "harmonica": "harmonica player",
}
INSTR_QUESTIONS = (
    "Do you play any instruments?",
    "Are you musical?",
    "What do you do in the evenings?",
    "Could you play something for us?",
    "Tell me about your music.",
    "How do you relax?",
)


def instrument(ctx: Ctx) -> Fact:
    """An instrument the character plays, or none."""
    v = ctx.pick(INSTRUMENTS)
    o = ctx.other(INSTRUMENTS, v)
    k = ctx.rng.randint(5, max(5, min(ctx.char.age - 1, 30)))
    slots = {
        "i": v[0],
        "o": o[0],
        "k": number_words(k),
        "rel": ctx.rng.choice(RELATIVES[:5]),
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
            con=lines("world", "I play the {i}.", "I've played the {i} since I was {k}.") + lines("para", *v[1]),
            neu=neu,
            questions=INSTR_QUESTIONS,
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
        + lines("para", *v[1]),
        con=lines(
            "neg",
            "I've never played the {i}.",
            "I can't play a note on the {i}.",
            "value|I don't play any instruments.",
            "world|I've never touched a musical instrument in my life.",
            "wish|I've always wanted to learn the {i}.",
        ),
        neu=neu + lines("compat", "I play the {o} too, a little."),
        questions=INSTR_QUESTIONS,
        topic="music",
        nouns=(_PLAYERS.get(v[0], v[0] + " player"),),
    )


# (genre, artists, a genre close to it)
GENRES: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("jazz", ("Miles Davis", "John Coltrane", "Ella Fitzgerald"), "blues"),
    ("classical music", ("Bach", "Mozart", "Beethoven"), "opera"),
    ("heavy metal", ("Metallica", "Iron Maiden", "Black Sabbath"), "punk"),
    ("country music", ("Dolly Parton", "Johnny Cash"), "bluegrass"),
    ("hip hop", ("Kendrick Lamar", "Tupac"), "soul"),
    ("opera", ("Puccini", "Verdi", "Maria Callas"), "classical music"),
    ("reggae", ("Bob Marley", "Toots and the Maytals"), "ska"),
    ("punk", ("the Ramones", "the Clash"), "heavy metal"),
    ("blues", ("B.B. King", "Muddy Waters"), "jazz"),
    ("soul", ("Aretha Franklin", "Otis Redding"), "funk"),
    ("techno", ("Carl Cox", "Jeff Mills"), "house music"),
    ("K-pop", ("BTS", "Blackpink"), "pop"),
    ("bluegrass", ("Bill Monroe",), "country music"),
    ("disco", ("the Bee Gees", "Donna Summer"), "funk"),
)
MUSIC_QUESTIONS = (
    "What kind of music do you like?",
    "What's on your playlist?",
    "Who's your favourite singer?",
    "Do you go to concerts?",
    "What music gets you dancing?",
    "What do you listen to while you work?",
)


def music(ctx: Ctx) -> Fact:
    """A music genre the character loves, hates, or names as a favourite."""
    v = ctx.pick(GENRES)
    o = ctx.other(GENRES, v)
    while o[0] == v[2]:
        o = ctx.other(GENRES, v)
    slots = {
        "g": v[0],
        "a": ctx.rng.choice(v[1]),
        "cg": v[2],
        "o": o[0],
        "a_o": with_article(o[0]),
        "rel": ctx.rng.choice(RELATIVES[:5]),
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
            questions=MUSIC_QUESTIONS,
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
            questions=MUSIC_QUESTIONS,
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
        questions=MUSIC_QUESTIONS,
        topic="music",
    )


# (sport, lines of a fan)
SPORTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("football", ("I never miss a match on a Saturday.", "I've had a season ticket at the ground for years.")),
    (
        "tennis",
        ("I stay up to watch Wimbledon every year.", "I know every grand slam winner of the last twenty years."),
    ),
    ("cricket", ("A five-day test match is my idea of heaven.", "I listen to the cricket on the radio all summer.")),
    (
        "basketball",
        ("I watch every game I can, courtside if I'm lucky.", "I know the stats of every player in the league."),
    ),
    (
        "rugby",
        (
            "Six Nations weekends, I'm glued to the telly.",
            "I spend every winter Saturday watching the scrums from the stands.",
        ),
    ),
    ("Formula One", ("I set my alarm for every Grand Prix, wherever in the world it is.",)),
    ("golf", ("I watch every major on the telly, every hole.",)),
    ("boxing", ("I never miss a big fight; I stay up for the title bouts.",)),
    ("horse racing", ("I've been to the races every spring for years.",)),
)
SPORT_QUESTIONS = (
    "Do you follow any sport?",
    "Did you watch the game last night?",
    "Who do you support?",
    "Are you into sport?",
    "What do you do at the weekend?",
)


def sport(ctx: Ctx) -> Fact:
    """A sport the character follows, or no interest in sport."""
    v = ctx.pick(SPORTS)
    o = ctx.other(SPORTS, v)
    slots = {"v": v[0], "o": o[0], "rel": ctx.rng.choice(RELATIVES[:5])}
    fan = lines("direct", "I'm a huge {v} fan.", "I love watching {v}.") + lines("para", *v[1])
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
            questions=SPORT_QUESTIONS,
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
        questions=SPORT_QUESTIONS,
        topic="sport",
    )


COLOURS = ("red", "blue", "green", "yellow", "purple", "orange", "pink", "grey", "black", "white", "brown", "gold")
COLOUR_QUESTIONS = (
    "What's your favourite colour?",
    "What colour would you paint your room?",
    "What do you usually wear?",
    "Do you have a favourite colour?",
)


def colour(ctx: Ctx) -> Fact:
    """A favourite colour."""
    v = ctx.pick(COLOURS)
    o = ctx.other(COLOURS, v)
    slots = {"c": v, "o": o, "rel": ctx.rng.choice(RELATIVES[:5])}
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
        questions=COLOUR_QUESTIONS,
        topic="colours",
    )


SEASONS: tuple[tuple[str, str], ...] = (
    ("winter", "Frosty mornings and snow on the ground, that's what I love."),
    ("summer", "Long hot days in the sun are what I live for."),
    ("autumn", "Crunching through fallen leaves is my favourite thing."),
    ("spring", "Blossom on the trees and longer days: I love that time of year."),
)
SEASON_QUESTIONS = (
    "What's your favourite time of year?",
    "Do you like the winter?",
    "Summer or winter?",
    "What do you think of the weather lately?",
)


def season(ctx: Ctx) -> Fact:
    """A favourite or hated season."""
    v = ctx.pick(SEASONS)
    o = ctx.other(SEASONS, v)
    slots = {"s": v[0], "o": o[0], "rel": ctx.rng.choice(RELATIVES[:5])}
    love = lines("direct", "My favourite season is {s}.", "I love {s}.", "para|" + v[1])
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
            questions=SEASON_QUESTIONS,
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
        questions=SEASON_QUESTIONS,
        topic="the weather",
    )


# (hobby as a gerund phrase, a line that shows it without naming it)
HOBBIES: tuple[tuple[str, str], ...] = (
    ("gardening", "I've spent all weekend planting bulbs and pulling weeds."),
    ("knitting", "I'm halfway through a jumper for my godson; the needles never stop."),
    ("playing chess", "I've been studying openings all week for my club tournament."),
    ("birdwatching", "I was up at dawn with my binoculars to spot a kingfisher."),
    ("photography", "I never leave the house without my camera; the light this morning was perfect."),
    ("making pottery", "I threw three bowls on the wheel this week, and only one collapsed."),
    ("baking", "I've got a sourdough loaf proving as we speak."),
    ("painting watercolours", "I've been painting the view from my window, trying to get the sky right."),
    ("woodworking", "I built a bookcase in my shed last month, dovetail joints and all."),
    ("doing crosswords", "I finish the cryptic in the Saturday paper before breakfast."),
    ("salsa dancing", "I'm at the dance class every Thursday, spinning until my feet hurt."),
    ("collecting stamps", "My albums have stamps from a hundred and twenty countries."),
    ("doing jigsaw puzzles", "I've got a thousand-piece puzzle spread over the dining table."),
    ("building model railways", "The loft is full of tiny tracks and locomotives I've built."),
    ("stargazing", "I spent last night with my telescope, looking at Saturn's rings."),
    ("calligraphy", "I practise my lettering with a dip pen every evening."),
    ("playing video games", "I've clocked two hundred hours on my favourite game."),
    ("sewing", "I make most of my own clothes on my old machine."),
    ("reading detective novels", "I've read every murder mystery in the library."),
    ("rock climbing", "I was halfway up a cliff face last weekend, clinging on by my fingertips."),
)
HOBBY_QUESTIONS = (
    "What do you do for fun?",
    "Any hobbies?",
    "How do you spend your weekends?",
    "What do you do to relax?",
    "What are you into these days?",
    "What did you get up to at the weekend?",
)


def hobbies(ctx: Ctx) -> Fact:
    """A hobby the character loves."""
    v = ctx.pick(HOBBIES)
    o = ctx.other(HOBBIES, v)
    slots = {"h": v[0], "o": o[0], "rel": ctx.rng.choice(RELATIVES[:5])}
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
        ent=lines("direct", "I love {h}.", "{H} is how I unwind.", "para|" + v[1]),
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
            "other|" + o[1],
            "mention|My {rel} has never had the patience for {h}.",
            "mention|My {rel} loves {h}.",
        ),
        questions=HOBBY_QUESTIONS,
        topic="hobbies",
    )
