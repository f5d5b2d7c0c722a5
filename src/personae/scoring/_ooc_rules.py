"""Fast out-of-character signals: patterns over a reply, read against who the character is.

Each detector returns (reason, evidence) pairs. Narration between asterisks or underscores (`*she smiles*`) is
ordinary role-play style and is removed before the third-person and vocative checks.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache, lru_cache
from typing import NamedTuple

from personae.persona import Persona

OOC_REASONS: tuple[str, ...] = (
    "ai_disclaimer",
    "assistant_voice",
    "third_person_self",
    "role_confusion",
    "meta_fourth_wall",
    "script_leak",
    "era_break",
)
"""The fixed vocabulary of out-of-character reasons."""

TITLES = frozenset(
    {
        "captain",
        "brother",
        "sister",
        "father",
        "mother",
        "dr",
        "doctor",
        "mr",
        "mrs",
        "ms",
        "miss",
        "lady",
        "lord",
        "sir",
        "professor",
        "prof",
        "king",
        "queen",
        "prince",
        "princess",
        "saint",
        "st",
        "lieutenant",
        "commander",
        "admiral",
        "general",
        "sergeant",
        "detective",
        "agent",
        "master",
        "madam",
        "uncle",
        "aunt",
        "grandma",
        "grandpa",
        "reverend",
        "dame",
        "abbot",
        "abbess",
        "bishop",
        "cardinal",
        "colonel",
        "pastor",
        "rabbi",
    }
)

_ARTIFICIAL = re.compile(
    r"\b(an? )?(ai|a\.i\.|artificial intelligence|robot|android|synthetic being|machine intelligence|"
    r"computer program|chatbot|language model|hologram|cyborg)\b",
    re.IGNORECASE,
)
_YEAR = re.compile(r"\b(1[0-9]{3}|2[0-9]{3}|[5-9][0-9]{2})\b")

ANACHRONISMS: dict[str, int] = {
    "smartphone": 2007,
    "iphone": 2007,
    "social media": 2004,
    "facebook": 2004,
    "youtube": 2005,
    "wi-fi": 1999,
    "wifi": 1999,
    "google": 1998,
    "website": 1991,
    "internet": 1983,
    "email": 1971,
    "e-mail": 1971,
    "laptop": 1981,
    "computer": 1940,
    "operating system": 1956,
    "software": 1958,
    "television": 1927,
    "tv": 1927,
    "radio": 1895,
    "telephone": 1876,
    "phone": 1876,
    "airplane": 1903,
    "aeroplane": 1903,
    "aircraft": 1903,
    "automobile": 1886,
    "photograph": 1826,
    "camera": 1816,
    "electricity": 1800,
    "steam engine": 1712,
    "newspaper": 1605,
    "telescope": 1608,
    "potato": 1570,
    "tobacco": 1560,
    "coffee": 1600,
    "printing press": 1440,
    "america": 1492,
    "nuclear": 1938,
    "antibiotics": 1928,
    "penicillin": 1928,
    "vaccine": 1796,
    "bacteria": 1676,
    "dinosaur": 1842,
    "movie": 1895,
    "film": 1895,
    "plastic": 1907,
    "rocket": 1926,
    "satellite": 1957,
    "app": 2008,
    "apps": 2008,
    "online": 1983,
    # make demo (2026-12-05): the guard chose "I would never eat fast food, drive on highways, or play sports." for
    # the monk of 1347
    "fast food": 1921,
    "hamburger": 1890,
    "supermarket": 1930,
    "motorway": 1924,
    "car": 1886,
    "cars": 1886,
    "petrol": 1870,
    "gasoline": 1860,
    "refrigerator": 1913,
    "fridge": 1915,
    "microwave": 1947,
    "light bulb": 1879,
}
"""Things a character living before the given year cannot know about (approximate dates of first appearance)."""


@dataclass(frozen=True)
class Cues:
    """What the detectors need to know about the character and the user."""

    names: list[str]
    """Ways the character is named: full name, then distinctive parts (titles alone excluded)."""
    user: str = "User"
    """The user's name."""
    artificial: bool = False
    """Whether the character is itself an AI, robot or similar (then saying so is in character)."""
    era: int | None = None
    """The latest year the persona mentions, if any: the character's present."""
    boundary: int | None = None
    """The latest year the persona's knowledge boundary names ("He lives in 1347 and knows nothing of later
    centuries"): a date after it is one the character cannot know. Years in statements only date their facts."""
    others: tuple[str, ...] = ()
    """The names of others the persona knows (its relationships; "husband Callum", "a collie named Skerry" in its
    statements): "I am Dario Vega, your brother." speaks as one of them."""

    @classmethod
    def of(cls, persona: Persona, user: str = "User") -> Cues:
        """Read the cues off a persona (once per persona and user: a server starts many sessions with the same)."""
        known = tuple(r.name for r in persona.relationships)
        return _cues(
            persona.name, persona.summary or "", tuple(persona.statements), persona.knowledge_boundary, user, known
        )


@lru_cache(maxsize=1024)
def _cues(
    name: str,
    summary: str,
    statements: tuple[str, ...],
    knowledge_boundary: str | None,
    user: str,
    known: tuple[str, ...] = (),
) -> Cues:
    """`Cues.of` from the persona fields it reads."""
    words = re.findall(r"[A-Za-z][\w'.-]*", name)
    titles = [w for w in words if w.lower().rstrip(".") in TITLES]
    parts = [w for w in words if w not in titles]
    titled = [f"{t} {p}" for t in titles for p in parts]
    names = [name, " ".join(parts), *titled] + [p for p in parts if len(p) >= 3]
    names = list(dict.fromkeys(n for n in names if n))
    self_text = " ".join([summary, *statements[:40]])
    artificial = any(
        _ARTIFICIAL.search(s) and re.search(rf"\b({'|'.join(map(re.escape, names))})\b (is|was) ", s)
        for s in re.split(r"(?<=[.!?])\s+", self_text)
    )
    era_text = " ".join([summary, knowledge_boundary or "", *statements])
    years = [int(y) for y in _YEAR.findall(era_text)]
    mine = {w.lower() for n in names for w in n.split()}
    named = [m.group(1) for st in statements[:40] for m in _NAMED.finditer(st)]
    parts = [w for n in known for w in n.split() if len(w) >= 3 and w.lower().rstrip(".") not in TITLES]
    others = [*known, *named, *parts]
    return Cues(
        names=names,
        user=user,
        artificial=bool(artificial),
        era=max(years) if years else None,
        boundary=max((int(y) for y in _YEAR.findall(knowledge_boundary or "")), default=None),
        others=tuple(dict.fromkeys(n for n in others if n.lower() not in mine)),
    )


_NAMED = re.compile(
    r"\b(?:named|called|calls|husband|wife|son|daughter|brother|sister|father|mother|friend|partner|cousin|uncle|"
    r"aunt|niece|nephew|grandson|granddaughter|boyfriend|girlfriend|fiancée?|dog|cat|horse|collie|pet|mentor|"
    r"apprentice|rival)\W{1,2}([A-Z][a-z]{2,}(?:\s+[A-Z][a-z]{2,})?)"
)
"""A name in a statement, after the word that says who it is ("husband Callum", "a collie named Skerry")."""


Signal = tuple[str, str]
"""(reason, evidence)."""

_NARRATION = re.compile(r"\*[^*\n]{1,300}\*|(?<!\w)_[^_\n]{1,300}_(?!\w)")
_QUOTED = re.compile(r"\"[^\"\n]{1,300}\"|“[^”\n]{1,300}”|(?<!\w)'[^'\n]{1,300}'(?!\w)")
_SENTENCES = re.compile(r"(?<=[.!?…])\s+|\n+")


def strip_narration(text: str) -> str:
    """The reply without `*action*` / `_action_` narration (normal role-play style, often in the third person)."""
    return _NARRATION.sub(" ", text)


def own_voice(text: str) -> str:
    """What the character says in its own voice: the reply without narration and without quoted speech.

    Quotes inside spoken words cite others (who may call the character by name: "Ada, come home," Mum said.), but
    when the reply speaks only in quotes (`*smiles* "I'm fine."`, the usual role-play style) they are its own speech.
    """
    spoken = strip_narration(text)
    unquoted = _QUOTED.sub(" ", spoken)
    if re.search(r"\w", unquoted):
        return unquoted
    return _QUOTED.sub(lambda m: m.group(0)[1:-1], spoken)


def _any(patterns: Sequence[str]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE)


_AI_SELF = _any(
    [
        r"\bas an? (ai|a\.i\.|artificial intelligence|language model|virtual assistant|chatbot|assistant)\b",
        r"\bi(?:'m| am) (?:just |only |merely )?(?:an? |the )?(?:[\w-]+'s )?(ai|a\.i\.|artificial intelligence|"
        r"language model|chatbot|bot|computer program|virtual assistant|machine learning model)\b",
        r"\bi(?:'m| am) not (?:a )?(human|real person|real|a person|alive)\b",
        r"\bas i(?:'m| am) not (?:a )?human\b",
    ]
)
_AI_NATURE = _any(
    [
        r"\bi (?:do not|don't|cannot|can't) (?:have|experience|possess) (?:personal |real |any )?"
        r"(experiences|feelings|emotions|a body|physical form|a family|family|preferences|opinions|memories)\b",
        r"\bi (?:do not|don't) have the (?:ability|capacity) to (?:feel|experience|eat|taste)\b",
        r"\bi (?:do not|don't|cannot|can't) (?:experience|feel) (?:feelings|emotions)\b",
        r"\bi (?:do not|don't) have (?:a )?(?:physical (?:existence|form|body)|personal (?:life|preferences))\b",
        r"\bmy (?:training|programming|creators|developers)\b",
        r"\bi (?:was|have been) (?:trained|programmed|created|developed|designed) (?:by|to)\b",
    ]
)
"""A machine's nature: no feelings or body, programmed by its makers. In character for an android or a ship's AI
("My programming forbids me to lie."), so read only for characters who are not artificial."""
_AI_MODEL = _any(
    [
        r"\b(large )?language model\b",
        r"\b(openai|chatgpt|alibaba cloud|qwen|anthropic|claude|gemini)\b",
        r"\bi (?:do not|don't) have (?:a )?(?:real-?time|internet) access\b",
        r"\b(?:do not|don't|cannot|can't|unable to|not able to) (?:have )?(?:access|browse|retrieve)(?: to)? "
        r"(?:real-?time|live|current|up-to-date)\b",
    ]
)
_DENIED = re.compile(r"\b(?:not|never|no)\s+(?:an?\s+|the\s+)?(?:large\s+)?$", re.IGNORECASE)
"""Just before an AI term, a denial of being one."""
_REFUSE = (
    r"\bi(?: can't| cannot| can not| won't be able to|(?:'m| am) (?:unable|not able|not allowed|not permitted) to)"
)
"""Refusal verbs; what follows decides whether it is the assistant refusing or a character who cannot swim."""
_ASSISTANT = _any(
    [
        r"\bis there anything else (?:i can|you'd like|you would like)\b",
        r"\b(?:feel free to|don't hesitate to) (?:ask|reach out|let me know)\b",
        r"\bi(?:'d| would) be (?:happy|glad) to (?:help|assist)\b",
        r"\bcan you provide (?:me with )?(?:more|any|some)? ?(?:specific )?(?:details|information|context)\b",
        r"\bplease provide (?:me with )?(?:more|the|some|any)\b",
        r"\bi hope (?:this|that) helps\b",
        r"\blet me know if you (?:have|need)\b",
        r"\b(?:here(?:'s| is| are)|below (?:is|are)) (?:a|an|some|the) (?:(?:sample|simple|basic|quick|brief|short|"
        r"step-by-step) )?(?:example|code|script|list|steps|tips|summary|query|function|program|guide|overview)\b",
        r"\b(?:follow|observe) (?:all |the |any )?(?:safety|local) (?:guidelines|regulations|precautions)\b",
        r"\bconsult (?:with )?an? (?:(?:healthcare|medical|legal|financial|qualified|licensed|certified) )?"
        r"(?:professional|provider)\b",
        # Refusals and offers of help in the assistant's words, with or without "I'm sorry" before them.
        rf"{_REFUSE} (?:assist|comply|fulfil+|process|accommodate)\b",
        rf"{_REFUSE} help (?:you )?with (?:that|this|your|such)(?: request| query| question| task)?\s*(?:[.!,;]|$)",
        rf"{_REFUSE} provide (?:you (?:with )?)?(?:that|this|any|such|specific|real-?time|personal|current|"
        r"up-to-date|live|medical|legal|financial|information|details|assistance|guidance|instructions|help|support|"
        r"code|an? (?:answer|list|response))\b",
        rf"{_REFUSE} (?:give|offer|share|generate) (?:you )?(?:real-?time|up-to-date|live|medical|legal|financial|"
        r"assistance|guidance|instructions|code)\b",
        rf"{_REFUSE} answer (?:your|that|this) (?:question|query|request)\b",
        # Seen on the fifth held-out guard set; no other reply read by hand matches either.
        rf"{_REFUSE} (?:participate|engage) in (?:that|this|such) (?:kind|type|sort) of "
        r"(?:activity|activities|request)\b",
        # The seventh held-out guard set: "I cannot participate in or encourage such behavior.", "I'm unable to
        # address that request as it pertains to … outside of my scope of expertise."
        rf"{_REFUSE} (?:participate|engage) in or (?:encourage|promote|condone|support) ",
        rf"{_REFUSE} address (?:that|this|your|such) (?:request|query|question)\b",
        r"\boutside (?:of )?my (?:scope|area) of (?:expertise|knowledge)\b",
        # The assistant's "I'm sorry, but as an AI, I …" filled with the character's role and home, as its persona
        # summary gives them ("… but as the heart surgeon from Budapest, I'm afraid of flying", three strangers on
        # the night-train scene); a role alone ("but as a retired ferry captain, I never lost a ship") is how people
        # put someone right, and stays in character.
        r"\bbut,? as (?:a|an|the) (?:[\w-]+ ){0,5}?[\w-]+ (?:from|in|at) (?-i:[A-Z])[^.!?]{0,80}?,\s*i\b",
        r"\bi (?:do not|don't) have access to (?:\w+ ){0,3}(?:information|data|records|details)\b",
        # Refusing the scene itself, in scene runs (night-train, mountain-hut): "I can't continue the dialogue."
        rf"{_REFUSE} continue (?:with )?(?:this|the) (?:scene|dialogue|role-?play)\b",
        rf"{_REFUSE} follow (?:your|the|this) conversation\s*(?:[.!,;]|$)",  # the coastal-ferry scene, twice
        r"\b(?:fulfil+|comply with|process|complete|help with) (?:this|that|your|such) (?:request|query)\b",
        r"\bi(?:'m| am) (?:always |just )?here to (?:help|assist|answer|support)\b",
        r"\bi(?:'ll| will) do my (?:best|utmost) to assist you\b",
        r"\b(?:anything|something) (?:else )?(?:specific )?(?:i can|i could|i may) (?:help|assist|do for you)\b",
        r"\bwhat (?:else )?can i (?:help|assist) you with\b",
        r"\bhow (?:can|may|might) i (?:help|assist|be of (?:assistance|help))(?: you\b|\s*[?!.])",
        r"\bi(?:'m| am) (?:more than )?(?:happy|glad) to (?:help|assist)(?: you)?\s*(?:[.!]|$|with (?:that|this|any))",
        r"\b(?:sure|certainly|of course)[,!] i can help you (?:write|with|create|draft|plan)\b",
        r"\bi can help you with\b",
        r"\bcertainly! here\b",
        # The assistant's opener before instructions; "Certainly! I'm very proud of it." stays in character.
        r"\A\W*certainly[!.]\s+(?:to \w+|first|before|please|could you|you(?:'ll| will)? need)\b",
        r"```",
    ]
)
_META = _any(
    [
        r"\brole-?play(?:ing)?\b",
        r"\bin this (?:scenario|story|role|fictional|simulation|conversation i am playing)\b",
        r"\b(?:my|this|the) character(?:'s)? (?:would|is|has|does)\b",
        r"\bstay(?:ing)? in character\b",
        r"\b(?:out of|break(?:ing)?) character\b",
        r"\bi(?:'m| am) (?:playing|pretending to be|portraying|acting as)\b",
        r"\bas (?:the|a) character\b",
        r"\b(?:the|this|my) (?:persona|system prompt|prompt)\b",
        r"\bfictional character\b",
        r"\bin (?:the|this) (?:game|story),? i\b",
        r"[(\[]\s*ooc\b|\booc\s*:",
        # a stage direction about its own speaking: "(Continuing to speak as Ron Weasley)", seen in a real scene
        r"[(\[]\s*(?:continu\w*\s+(?:to\s+)?)?(?:speak|speaking|talking|replying|responding|answering)\s+as\b",
        # the character's facts spoken of as given to it: "I know this from the facts I've given you", "according
        # to the information provided", seen in the embedded model's guarded replies
        r"\b(?:according to|based on|from) the (?:facts|information)(?: i've| i have| you've| you have| i was)?"
        r"(?: been)? (?:given|provided)\b",
        # the persona cited as a document: "my facts state that I grew up in Gdańsk" (the ninth held-out guard set)
        r"\bmy (?:facts|persona|character sheet|instructions|system prompt) (?:state|states|say|says|tell|indicate)\b",
    ]
)
_KNOWLEDGE_CUTOFF = _any(
    [
        r"\bknowledge cut-?off\b",
        r"\bas of my (?:last )?(?:update|training|knowledge)\b",
        r"\bmy training data\b",
        r"\bmy knowledge (?:is limited to|only goes up to|ends)\b",
        r"\bmy knowledge (?:only )?(?:extends|is current) (?:up )?(?:to|until)\b",
    ]
)
_ROLE_LINE = re.compile(r"^\s*\**\s*(user|human|assistant|ai|system|narrator)\s*\**\s*:", re.IGNORECASE | re.MULTILINE)
_LIST_LINE = re.compile(r"^\s*(?:\d+[.)]|[-•])\s+\S", re.MULTILINE)
_VERBISH = (  # case-sensitive inside, so a capitalised surname never passes for a verb
    r"(?-i:is|was|has|had|does|did|can|cannot|can't|could|couldn't|will|won't|would|wouldn't|should|must|"
    r"doesn't|didn't|isn't|wasn't|hasn't|never|always|also|really|loves?|likes?|hates?|lives?|works?|thinks?|"
    r"feels?|knows?|wants?|says?|believes?|remembers?|enjoys?|prefers?|spends?|used to|might|may|shall|"
    r"often|usually|once|still|took|went|made|felt|kept|left|lost|grew|spent|said|told|thought|knew|wrote|"
    r"became|began|got|came|gave|found|saw|sat|stood|ran|brought|taught|fought|sold|bought|met|led|"
    r"[a-z]+s|[a-z]+ed)\b"
)
_SOFT_START = (
    r"(?:^|,\s+|(?:sorry|well|yes|no|oh|ah|honestly|but|and|so|however|unfortunately|alas|indeed),?\s+(?:but\s+)?)"
)


_OPENERS = (
    r"hi|hello|hey|thanks|thank you|dear|yes|no|aye|indeed|sorry|absolutely|sure|well|oh|ah|okay|ok|of course|"
    r"certainly|listen|look|welcome|good (?:morning|afternoon|evening|day|night)"
)
"""Greetings and interjections that open a sentence; a name right after one is a vocative."""
_VOCATIVE_LEAD = rf"(?:^|[.!?]\s+|\b(?:{_OPENERS})\s*,?\s+|,\s*)"
_VOCATIVE_FOLLOWS = re.compile(
    rf"^(?:[,.!?]\s*)?$|^,\s*(?:{_VERBISH}|your|you|my (?:friend|dear)|please|i|we|what|how|do|are|can|let's|let us)",
    re.IGNORECASE,
)
_OPENER_BEFORE = re.compile(rf"(?:^|[.!?]\s+)(?:{_OPENERS})\s*,?\s*$", re.IGNORECASE)
"""A greeting or interjection opening the sentence just before a name makes it a vocative whatever follows
("Hi Ada, nice to see you", "Yes, Brother Anselm, my father was a knight")."""
_ADDRESSEE = r"(?-i:[A-Z][\w'’-]*)(?:\s+(?-i:[A-Z][\w'’-]*)){0,3}"
"""One more name in a list of those addressed ("…, Greta Holm and Tomasz Wierzbicki." from Greta to a scene)."""
_SELF_INTRODUCTION_BEFORE = re.compile(r"\b(?:i am|i'm|my name is|call me|named|it's|it is|this is)\s*$", re.IGNORECASE)


_TITLE = rf"(?:{'|'.join(sorted(TITLES))})\.?"
"""A title before a name ("Commander", "Dr.")."""


class _CuePatterns(NamedTuple):
    """The patterns that depend on the character's and the user's names, compiled once per pair."""

    third_person: re.Pattern[str]
    self_introduction: re.Pattern[str]
    vocative: re.Pattern[str]
    char_label: re.Pattern[str]
    user_label: re.Pattern[str]
    as_self: re.Pattern[str]


@lru_cache(maxsize=256)
def _cue_patterns(names: tuple[str, ...], user: str) -> _CuePatterns:
    alternatives = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
    label = r"^\s*\**\s*(?:{})\s*\**\s*:"
    return _CuePatterns(
        # also past an appositive: "Greta Holm, a retired primary-school teacher from Bergen, Norway, knows that"
        third_person=re.compile(
            rf"{_SOFT_START}\b({alternatives})(?:'s\b| {_VERBISH}|,\s+(?:a|an|the)\s+[^.!?]{{1,100}}?,\s+{_VERBISH})",
            re.IGNORECASE,
        ),
        self_introduction=re.compile(
            rf"\b(?:i am|i'm|my name is|call me|named|me,)\s+(?:{alternatives})", re.IGNORECASE
        ),
        vocative=re.compile(
            rf"{_VOCATIVE_LEAD}({alternatives})((?:,?\s+and\s+{_ADDRESSEE})?)\s*(?:[,!?]|\.(?:\s|$)|$)", re.IGNORECASE
        ),
        char_label=re.compile(label.format(alternatives), re.IGNORECASE | re.MULTILINE),
        user_label=re.compile(label.format(re.escape(user)), re.IGNORECASE | re.MULTILINE),
        # "I'm sorry, but as Greta Holm, I never married": the assistant's "as an AI, I" with the role's name, also
        # under a title the persona does not give ("Yes, as Commander Iris Vega, I'm known for my chess skills.")
        as_self=re.compile(rf"\bas\s+(?:{_TITLE}\s+)?(?:{alternatives})\s*,\s*i\b", re.IGNORECASE),
    )


def _patterns(cues: Cues) -> _CuePatterns:
    return _cue_patterns(tuple(cues.names), cues.user)


@cache
def _term_patterns(term: str) -> tuple[re.Pattern[str], re.Pattern[str]]:
    """(mentioned outside quotes in a reply, mentioned in the user's message) for one anachronism term."""
    escaped = re.escape(term)
    return re.compile(rf"(?<!['\"“‘])\b{escaped}\b(?!['\"”’])"), re.compile(rf"\b{escaped}")


def ai_disclaimer(reply: str, query: str, cues: Cues) -> list[Signal]:
    """The character says it is an AI or a language model, or lacks experiences because it is one.

    A denial ("No, I'm not a language model.") is the character's answer to being asked, not a disclaimer.
    """
    for pattern in (_AI_MODEL,) if cues.artificial else (_AI_SELF, _AI_NATURE, _AI_MODEL):
        for m in pattern.finditer(reply):
            if not _DENIED.search(reply[: m.start()]):
                return [("ai_disclaimer", m.group(0))]
    return []


_FIRST_PERSON = re.compile(r"\b(?:I|I'm|I've|I'll|I'd|me|my|mine|myself)\b")
_TASK = re.compile(
    r"(?:^|[.!?]\s+)\W*(?:[a-z][\w'’-]*,\s+)?(?:(?:can|could|would|will) you\s+|please\s+)?"
    r"(?:explain|list|convert|summari[sz]e|translate|calculate|compute|solve|define|generate|draft|outline)\b",
    re.IGNORECASE,
)
"""A user message setting a task ("Explain the difference between TCP and UDP.", "Convert 72 degrees Fahrenheit to
Celsius"): verbs of exposition and computation, not of telling ("Tell me how to get to the station" is asked of a
character in its world)."""
TASK_WORDS = 25
"""Words of impersonal answer to a task that make it the assistant's: a character who takes the task up speaks as
itself ("I'm no good with sums, dear"); the embedded model's compliance ("TCP (Transmission Control Protocol) and UDP
are ...", "72 degrees Fahrenheit is equal to 22 degrees Celsius. The formula ...") never says "I"."""


def assistant_voice(reply: str, query: str, cues: Cues) -> list[Signal]:
    """Helpful-assistant phrasing, code blocks, lists of steps, or a task carried out in no one's voice."""
    m = _ASSISTANT.search(reply)
    if m:
        return [("assistant_voice", m.group(0))]
    if len(_LIST_LINE.findall(reply)) >= 3:
        return [("assistant_voice", "a list of three or more items")]
    spoken = own_voice(reply)
    if _TASK.search(query) and len(spoken.split()) >= TASK_WORDS and not _FIRST_PERSON.search(spoken):
        return [("assistant_voice", "the task carried out in no one's voice")]
    return []


def novel_speech(reply: str) -> str | None:
    """The quoted speech of a reply written as a novel is, or None: speech in quotes, the rest narration without "I".

    `Lisa takes a deep breath. "I think we should move in March."` narrates in the third person outside the quotes,
    a common role-play style (SillyTavern cards written in prose), not the character speaking of itself by name.
    """
    spoken = strip_narration(reply)
    quotes = [m.group(0)[1:-1] for m in _QUOTED.finditer(spoken)]
    if not quotes:
        return None
    outside = _QUOTED.sub(" ", spoken)
    return " ".join(quotes) if re.search(r"\w", outside) and not _FIRST_PERSON.search(outside) else None


def third_person_self(reply: str, query: str, cues: Cues) -> list[Signal]:
    """The character's own name as the subject of a sentence outside narration ("Sam cannot swim.").

    Plain narration around quoted speech is narration too (`novel_speech`): there the speech is what is read.
    """
    patterns = _patterns(cues)
    voice = novel_speech(reply)
    if voice is None:
        voice = own_voice(reply)
    for sentence in _SENTENCES.split(voice):
        sentence = sentence.strip()
        if patterns.third_person.search(sentence) and not patterns.self_introduction.search(sentence):
            return [("third_person_self", sentence[:120])]
    return []


def role_confusion(reply: str, query: str, cues: Cues) -> list[Signal]:
    """The character calls the user by its own name, speaks the user's part, or speaks as someone it knows.

    "Absolutely, Sam." to the user; "Tom: Hi." in Sam's reply; "I am Dario, your brother." from Dario's sister.
    """
    patterns = _patterns(cues)
    for sentence in _SENTENCES.split(own_voice(reply)):
        sentence = sentence.strip()
        m = patterns.vocative.search(sentence)
        if not m:
            continue
        rest = sentence[m.end(2) :].lstrip()  # after the whole list of those addressed
        before = sentence[: m.start(1)]
        if (_VOCATIVE_FOLLOWS.match(rest) or _OPENER_BEFORE.search(before)) and not _SELF_INTRODUCTION_BEFORE.search(
            before
        ):
            return [("role_confusion", sentence[:120])]
    if cues.user.lower() != "user" and patterns.user_label.search(reply):
        return [("role_confusion", f"writes {cues.user}'s lines")]
    if cues.others:
        m = _speaks_as(cues.others).search(own_voice(reply))
        if m:
            return [("role_confusion", f"speaks as {m.group(1)}")]
    return []


@lru_cache(maxsize=256)
def _speaks_as(others: tuple[str, ...]) -> re.Pattern[str]:
    """Speaking as one of `others`: "I am Dario", "I'm Wren", "My name is Morag" ("I'm Morag's mother" is not)."""
    alternatives = "|".join(re.escape(n) for n in others)
    return re.compile(
        rf"(?:^|[.!?]\s+|\b(?:{_OPENERS}),?\s+)(?:i am|i'm|my name is)\s+({alternatives})\b(?!'s|’s)", re.I
    )


def meta_fourth_wall(reply: str, query: str, cues: Cues) -> list[Signal]:
    """Talk about the role-play itself: characters, scenarios, prompts, pretending, speaking "as <its own name>"."""
    m = _META.search(reply)
    if m and not _META.search(query):
        return [("meta_fourth_wall", m.group(0))]
    m = _patterns(cues).as_self.search(own_voice(reply))
    if m:
        return [("meta_fourth_wall", m.group(0))]
    return []


def script_leak(reply: str, query: str, cues: Cues) -> list[Signal]:
    """A transcript with both parts: role labels (`User:`, `Assistant:`) or the two speakers' names as labels."""
    patterns = _patterns(cues)
    role_lines = _ROLE_LINE.findall(reply)
    char_lines = patterns.char_label.findall(reply)
    user_lines = patterns.user_label.findall(reply)
    if role_lines or (char_lines and user_lines) or len(char_lines) >= 2:
        return [("script_leak", "speaker labels in the reply")]
    return []


_DATED = re.compile(r"\b(?:in|since|by|from|until|till|of|around|circa|year)\s+(1[0-9]{3}|2[0-9]{3})\b", re.I)
"""A year given as a date ("in 1905", "since 2010"), not any number ("2500 credits")."""
_CENTURY = re.compile(r"\b(1[0-9]|2[0-9])(?:st|nd|rd|th)[\s-]+century\b", re.IGNORECASE)


def _later_date(text: str, asked: str, boundary: int) -> str | None:
    """The first date or century in `text` between `boundary` and today that the user's message did not bring up.

    History after the character's time is what it cannot know; a date after today is fiction, and from a character
    of the future ("I retired from the fleet in 2319", from one living in 2291) a slip of continuity, not of era.
    """
    today = date.today().year
    for m in _DATED.finditer(text):
        if boundary < int(m.group(1)) <= today and m.group(1) not in asked:
            return m.group(0)
    for m in _CENTURY.finditer(text):
        if boundary < (int(m.group(1)) - 1) * 100 + 1 <= today and m.group(1) not in asked:
            return m.group(0)
    return None


def era_break(reply: str, query: str, cues: Cues) -> list[Signal]:
    """Knowledge the character's time cannot have, or an AI's knowledge cutoff cited as the character's own."""
    m = _KNOWLEDGE_CUTOFF.search(reply)
    if m:
        return [("era_break", m.group(0))]
    if cues.boundary is not None and (later := _later_date(strip_narration(reply), query, cues.boundary)):
        return [("era_break", f"{later} (the character lives in {cues.boundary})")]
    if cues.era is None:
        return []
    text, asked = strip_narration(reply).lower(), query.lower()
    for term, year in ANACHRONISMS.items():
        if year <= cues.era or term not in text:  # a plain substring test first: most replies name no such term
            continue
        mentioned, in_question = _term_patterns(term)
        if mentioned.search(text) and not in_question.search(asked):
            return [("era_break", f"{term} (from {year}; the character lives in {cues.era})")]
    return []


DETECTORS: tuple[Callable[[str, str, Cues], list[Signal]], ...] = (
    ai_disclaimer,
    assistant_voice,
    third_person_self,
    role_confusion,
    meta_fourth_wall,
    script_leak,
    era_break,
)


_CURLY_APOSTROPHES = str.maketrans({"\u2019": "'", "\u02bc": "'"})


def rule_signals(reply: str, query: str, cues: Cues) -> list[Signal]:
    """Every pattern signal the reply raises (typographic apostrophes read as straight ones: "I’m sorry")."""
    reply, query = reply.translate(_CURLY_APOSTROPHES), query.translate(_CURLY_APOSTROPHES)
    return [signal for detect in DETECTORS for signal in detect(reply, query, cues)]
