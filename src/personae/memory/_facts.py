"""Facts about the user, read from what they say: one third-person fact per first-person sentence, with a topic.

The rules work offline and without a model: a sentence in which the user speaks of themselves ("I moved to Berlin
last month") becomes a fact in the third person with its relative time resolved ("Sam moved to Berlin in April
2023."). Known patterns (name, age, home, job, employer, relationship, family, pets, favourites, likes) give the
fact a topic; a topic that holds one value at a time (`SINGLE_VALUED`) is how a newer fact supersedes an older one.
With a backend, `extract_with_backend` asks the model for the facts instead (JSON lines), falling back to the rules.
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from typing import Literal, NamedTuple

from pydantic import BaseModel, Field

from personae.backends import Backend, BackendError, GenerateConfig, Message
from personae.memory._dates import resolve_relative_dates
from personae.scoring import split_sentences

FactSource = Literal["rules", "backend", "user"]
"""Who wrote a fact: the offline rules, the model, or the user correcting it."""

SINGLE_VALUED = ("name", "age", "home", "job", "employer", "relationship", "study", "children")
"""Topics that hold one value at a time (plus every `favorite:*` and `likes:*`): a new value supersedes the old."""

MAX_FACT_CHARS = 300
"""Longer sentences are not kept as facts: they are rarely one fact, and the prompt pays for every character."""

MESSAGE_TOPIC = "said"
"""The topic of a user's message kept verbatim (dates resolved) beside the facts read from it: an episodic item.

What a user says is more than the first-person statements the extractor turns into facts (what happened to others,
questions, plans, opinions); memory systems keep the raw message for that. A message is never superseded by a
newer fact on its own, only retired when a fact read from it is (see `UserMemory.plan`), and it is not listed
among the facts (`MemoryRepository.facts(messages=False)`)."""

MAX_MESSAGE_CHARS = 1500
"""A longer message is kept cut to this many characters."""


class MemoryScope(NamedTuple):
    """Whose memory: an API key (None: the local user of the CLI), the user's name, and the character."""

    key_id: str | None
    """The server key that owns it; None for memory kept by the local CLI."""
    user: str
    """The user's name ({{user}})."""
    persona_id: str | None
    """The character it belongs to; None: every character of this key and user (reading and forgetting only)."""


class UserFact(BaseModel):
    """One thing a character knows about its user, with where and when it was learnt."""

    id: int | None = None
    """Row id once stored."""
    text: str = Field(min_length=1, max_length=2000)
    """The fact in the third person ("Sam lives in Berlin.")."""
    topic: str = Field(default="misc", max_length=200)
    """What it is about (`home`, `job`, `likes:coffee`, `misc:…`); facts on one single-valued topic supersede."""
    persona_id: str = ""
    """The character that was told."""
    session_id: str | None = None
    """The session it was said in."""
    turn: int | None = None
    """The turn it was said in."""
    said_at: datetime | None = None
    """When it was said (the session's time)."""
    refers_to: date | None = None
    """The date it speaks of, when the user gave one ("last week" → that week's Monday)."""
    source: FactSource = "rules"
    """Who wrote it."""
    superseded_by: int | None = None
    """The fact that replaced it (history is kept; only current facts reach the prompt)."""
    superseded_at: datetime | None = None
    """When it was replaced."""

    @property
    def current(self) -> bool:
        """Whether it is still believed."""
        return self.superseded_by is None and self.superseded_at is None

    def dated(self) -> str:
        """The fact as the prompt shows it: with the day it was told."""
        told = f" (told {self.said_at:%d %b %Y})" if self.said_at else ""
        return f"{self.text}{told}"


def _words(text: str) -> frozenset[str]:
    """A word list written as one string."""
    return frozenset(text.split())


_OCCUPATION = re.compile(
    r"(?:er|or|ist|ian|ant|ent|eer|man|woman|person|nurse|chef|cook|doctor|medic|pilot|clerk|coach|model|"
    r"developer|engineer|barista|student|nanny|vet|judge|poet|artist|analyst|scientist|architect|"
    r"mechanic|plumber|electrician|firefighter|officer|guard|agent|consultant|dentist|surgeon|priest)$"
)
_NOT_OCCUPATION = {"fan", "lover", "member", "beginner", "mother", "father", "brother", "sister", "daughter"}
_FAMILY = (
    "wife|husband|partner|girlfriend|boyfriend|fiancée?|sister|brother|mother|mom|mum|father|dad|son|daughter|"
    "grandmother|grandma|grandfather|grandpa|aunt|uncle|cousin|best friend|roommate|boss"
)
_PETS = "dog|cat|puppy|kitten|parrot|rabbit|hamster|horse|fish|turtle|snake|bird|guinea pig|lizard|ferret"
_NAME = r"((?-i:[A-Z][\w'-]+(?:\s+[A-Z][\w'-]+)?))"
_PLACE = r"((?:the\s+)?[A-Z][\w.'-]*(?:[\s,]+(?:(?:of|upon|on|de|la|the)\s+)*[A-Z][\w.'-]*)*)"
"""A place: capitalised words, joined by "of", "upon", "de"… only when a capitalised word follows ("Isle of Skye",
"Stratford upon Avon"); "Leeds, lately with my sister" is "Leeds", not "Leeds, la"."""

# Ordered (pattern, topic template, fact template). Groups are read from the pattern; `{u}` is the user's name.
_RULES: tuple[tuple[re.Pattern[str], str, str], ...] = tuple(
    (re.compile(p, re.IGNORECASE if flags else 0), topic, fact)
    for p, topic, fact, flags in (
        (r"(?i:\b(?:my name is|call me|i'?m called|i am called)\s+)" + _NAME, "name", "{u}'s name is {0}.", False),
        (
            r"\bi(?:'m| am)\s+(\d{1,3})(?:\s+years?\s+old|\b(?!\s*(?:%|percent|minutes|hours|km|miles)))",
            "age",
            "{u} is {0} years old.",
            True,
        ),
        (
            r"(?i:\bi(?:'ve| have)?\s*(?:just\s+|recently\s+|finally\s+)?(?:moved|relocated)\s+(?:back\s+)?to\s+)"
            + _PLACE,
            "home",
            "{u} moved to {0}.",
            False,
        ),
        (r"(?i:\bi\s+(?:now\s+|currently\s+|still\s+)?live\s+in\s+)" + _PLACE, "home", "{u} lives in {0}.", False),
        (r"(?i:\bi(?:'m| am)\s+(?:originally\s+)?from\s+)" + _PLACE, "hometown", "{u} is from {0}.", False),
        (
            r"\bi\s+(?:now\s+)?work\s+as\s+(?:an?\s+)?([\w -]{2,40}?)(?=[.,!;]|\s+(?:at|for|in|and|but|since)\b|$)",
            "job",
            "{u} works as {a}{0}.",
            True,
        ),
        (r"(?i:\bi\s+(?:now\s+)?work\s+(?:at|for)\s+)" + _PLACE, "employer", "{u} works at {0}.", False),
        (
            r"\bi(?:'m| am)\s+(?:now\s+)?(married|single|divorced|engaged|widowed|dating someone|in a relationship)\b",
            "relationship",
            "{u} is {0}.",
            True,
        ),
        (
            r"(?i:\bmy\s+(" + _FAMILY + r")(?:'s name| is called| is named|, who is called)?\s+(?:is\s+)?)" + _NAME,
            "family:{0}",
            "{u}'s {0} is called {1}.",
            False,
        ),
        (
            r"(?i:\bmy\s+(" + _PETS + r")(?:'s name is| is called| is named)\s+)" + _NAME,
            "pet:{0}",
            "{u} has a {0} named {1}.",
            False,
        ),
        (
            r"\bi\s+(?:have|'ve got|got|adopted)\s+(?:an?|one|two|three|\d)?\s*(?:new\s+)?("
            + _PETS
            + r")s?(?:\s+(?:named|called)\s+"
            + _NAME
            + r")?",
            "pet:{0}",
            "{u} has a {0}{named}.",
            True,
        ),
        (
            r"\bmy\s+favou?rite\s+([\w -]{2,30}?)\s+is\s+([^.,!?;]{2,60})",
            "favorite:{0}",
            "{u}'s favourite {0} is {1}.",
            True,
        ),
        (
            r"\bi\s+(?:have|'ve got)\s+(no|one|two|three|four|five|six|\d{1,2})\s+(kids|children|sons|daughters|"
            r"child|son|daughter)\b",
            "children",
            "{u} has {0} {1}.",
            True,
        ),
        (
            r"\bi(?:'m| am)\s+(?:a\s+student\s+at|studying(?:\s+at)?)\s+([^.,!?;]{2,60})",
            "study",
            "{u} studies at {0}.",
            True,
        ),
        (
            r"\bi\s+(?:really\s+|absolutely\s+)?(love|like|enjoy|adore|hate|dislike|can't stand|don't like|"
            r"do not like)\s+([^.,!?;]{2,50})",
            "likes:{1}",
            "{u} {verb} {1}.",
            True,
        ),
    )
)
_LIKE_VERBS = {
    "love": "loves",
    "like": "likes",
    "enjoy": "enjoys",
    "adore": "adores",
    "hate": "hates",
    "dislike": "dislikes",
    "can't stand": "cannot stand",
    "don't like": "does not like",
    "do not like": "does not like",
}

_FIRST_PERSON = re.compile(r"\b(?:i|i'm|i've|i'd|i'll|my|me|mine|myself)\b", re.IGNORECASE)
_REQUEST = (
    # A request to the character, the user only its object: "Tell me about your week", "Please show me the harbour".
    r"^\s*(?:please\s+)?(?:tell|give|show|remind|send|bring|teach|ask|text|read|sing|pass|get|make|"
    r"describe|explain|call|wake|take|guide|lend|pour|hand|fetch|play)\s+(?:me|us)\b"
)
_SKIP = re.compile(
    r"^\s*(?:if|would|could|should|can|do|does|did|is|are|what|why|how|when|where|who|which|may|shall|let's|"
    r"lol|haha|hi|hey|hello|thanks|thank you|ok|okay|yes|no|sure)\b|\?\s*$|\b(?:if i|i wonder|i guess|"
    rf"i think you|i hope you|do you)\b|{_REQUEST}",
    re.IGNORECASE,
)
_ASKS = re.compile(rf"\?[\s\"”)]*$|{_REQUEST}", re.IGNORECASE)
"""A sentence that asks the character for something (a question or a request) and tells nothing about the user."""
_PAST = _words(
    "was were went got saw made took had bought ran met found began came did felt gave kept knew left "
    "lost paid put read said sent sold spent told thought won wrote became brought built caught chose "
    "drove ate fell flew forgot grew heard held hurt let lit meant rode rose sang sat slept spoke stood "
    "swam taught threw understood woke wore just also never always really still recently finally already "
    "usually often sometimes love can could will would should must might may cannot"
)


def _third_person_verb(verb: str) -> str:
    lower = verb.lower()
    if lower in _PAST or lower.endswith("ed") or not lower.isalpha():
        return "loves" if lower == "love" else verb
    if lower in ("have",):
        return "has"
    if lower in ("do", "go"):
        return verb + "es"
    if re.search(r"(s|sh|ch|x|z)$", lower):
        return verb + "es"
    if re.search(r"[^aeiou]y$", lower):
        return verb[:-1] + "ies"
    return verb + "s"


_SUBJECT = re.compile(
    r"\b(?:i'm|i am)\b|\b(?:i've|i have)\b|\bi was\b|\b(?:i'll|i will)\b|\b(?:i'd|i would)\b|\b(?:i don't|i do not)\b"
    r"|\b(?:i didn't|i did not)\b|\bi can't\b|\bi\s+([a-z]+)\b",
    re.IGNORECASE,
)
_FIXED = {
    "i'm": "{u} is",
    "i am": "{u} is",
    "i've": "{u} has",
    "i have": "{u} has",
    "i was": "{u} was",
    "i'll": "{u} will",
    "i will": "{u} will",
    "i'd": "{u} would",
    "i would": "{u} would",
    "i don't": "{u} does not",
    "i do not": "{u} does not",
    "i didn't": "{u} did not",
    "i did not": "{u} did not",
    "i can't": "{u} cannot",
}


def third_person(sentence: str, user: str, char: str | None = None) -> str:
    """`sentence` as said about `user`: I → the user's name (with the verb agreeing), my → user's, you → char."""

    def subject(match: re.Match[str]) -> str:
        whole = re.sub(r"\s+", " ", match.group(0).lower())
        if whole in _FIXED:
            return _FIXED[whole].format(u=user)
        verb = match.group(1)
        return f"{user} {_third_person_verb(verb)}"

    text = _SUBJECT.sub(subject, sentence)
    text = re.sub(r"\bmy\b", f"{user}'s", text, flags=re.IGNORECASE)
    text = re.sub(r"\bmine\b", f"{user}'s", text, flags=re.IGNORECASE)
    text = re.sub(r"\b(?:me|myself)\b", user, text, flags=re.IGNORECASE)
    text = re.sub(r"\bI\b", user, text)
    if char:
        text = re.sub(r"\byour\b", f"{char}'s", text, flags=re.IGNORECASE)
        text = re.sub(r"\byou\b", char, text, flags=re.IGNORECASE)
    text = text.strip()
    text = text[0].upper() + text[1:] if text else text
    return text if text.endswith((".", "!", "…")) else f"{text.rstrip(' ,;:')}."


_SLUG_SKIP = _words(
    "a an the my some s on in of is has was week weekend january february march april may june july august "
    "september october november december monday tuesday wednesday thursday friday saturday sunday"
)


def _slug(text: str) -> str:
    words = [w for w in re.findall(r"[a-z]+", text.lower()) if w not in _SLUG_SKIP]
    return "-".join(words[:4]) or "x"


class _Found(NamedTuple):
    text: str
    topic: str


def _rule_fact(sentence: str, user: str) -> _Found | None:
    """The first known pattern in `sentence`, as a fact with its topic."""
    for pattern, topic, template in _RULES:
        match = pattern.search(sentence)
        if match is None:
            continue
        groups = [(g or "").strip(" ,.") for g in match.groups()]
        if topic == "job":
            head = groups[0].split()[-1].lower() if groups[0] else ""
            if not groups[0] or head in _NOT_OCCUPATION:
                continue
        if topic.startswith("likes") and len(groups[1].split()) > 6:
            continue
        named = f" named {groups[1]}" if topic.startswith("pet") and len(groups) > 1 and groups[1] else ""
        if "{named}" not in template:
            named = ""
        article = "an " if groups and groups[0][:1].lower() in "aeiou" else "a "
        lowered = topic.startswith(("pet", "family", "relationship"))
        values = [g.lower() if lowered and i == 0 else g for i, g in enumerate(groups)]
        text = template.format(
            *values,
            u=user,
            a=article,
            named=named,
            verb=_LIKE_VERBS.get(groups[0].lower(), groups[0]) if topic.startswith("likes") else "",
        )
        topic_values = [_slug(v) for v in values]
        return _Found(text, topic.format(*topic_values))
    return None


def _is_occupation(sentence: str) -> str | None:
    """`I'm a nurse` / `I am an engineer now`: the occupation, if the noun looks like one."""
    match = re.search(
        r"\bi(?:'m| am)\s+(?:now\s+)?an?\s+([a-z -]{2,40}?)(?:\s+(?:now|at|in|by)\b|[.,!;]|$)", sentence, re.IGNORECASE
    )
    if match is None:
        return None
    phrase = match.group(1).strip()
    head = phrase.split()[-1].lower()
    return phrase if _OCCUPATION.search(head) and head not in _NOT_OCCUPATION else None


_CLAUSE = re.compile(r"\s*;\s*|,?\s+(?:and|but|so|while)\s+(?=(?:i|i'm|i've|i'd|my)\b)", re.IGNORECASE)
"""Where one sentence holds two statements about the speaker ("I moved to Leeds, and I work as a baker")."""


class ExtractedFact(NamedTuple):
    """A fact the extractor found in one sentence, before it is stored."""

    text: str
    """Third-person text with dates resolved."""
    topic: str
    """Its topic."""
    refers_to: date | None
    """The date it speaks of, if any."""


def extract_facts(message: str, user: str, char: str | None = None, today: date | None = None) -> list[ExtractedFact]:
    """Facts about `user` in `message`, one per first-person statement; relative times resolved against `today`.

    Example:
        extract_facts("I moved to Berlin last month. Do you like trains?", "Sam", today=date(2023, 5, 8))
        # [ExtractedFact(text='Sam moved to Berlin in April 2023.', topic='home', refers_to=date(2023, 4, 1))]
    """
    found: list[ExtractedFact] = []
    clauses = (c for s in split_sentences(message[:10_000]) for c in _CLAUSE.split(s) if c and c.strip())
    for raw in clauses:
        sentence = raw.strip().strip('"“”')
        if len(sentence) > MAX_FACT_CHARS or len(sentence.split()) < 2 or not _FIRST_PERSON.search(sentence):
            continue
        if _SKIP.search(sentence):
            continue
        resolved = resolve_relative_dates(sentence, today) if today else None
        sentence_dated = resolved.text if resolved else sentence
        rule = _rule_fact(sentence_dated, user)
        if rule is None:
            occupation = _is_occupation(sentence_dated)
            if occupation is not None:
                article = "an" if occupation[:1].lower() in "aeiou" else "a"
                rule = _Found(f"{user} works as {article} {occupation}.", "job")
        if rule is not None:
            text = rule.text
            if resolved and resolved.refers_to and rule.topic in ("home", "employer", "job"):
                text = text.rstrip(".") + f" ({resolved.refers_to:%B %Y})."
            found.append(ExtractedFact(text, rule.topic, resolved.refers_to if resolved else None))
            continue
        text = third_person(sentence_dated, user, char)
        found.append(
            ExtractedFact(text, f"misc:{_slug(text.replace(user, ''))}", resolved.refers_to if resolved else None)
        )
    return found


_LLM_PROMPT = """Read what {user} said to {char} and list the facts it tells about {user}: who they are, where they \
live, their work, family, pets, likes, plans and what happened to them. One JSON object a line: \
{{"fact": "<one fact in the third person, naming {user}>", "topic": "<one of name, age, home, hometown, job, \
employer, relationship, study, children, pet:<animal>, family:<relation>, favorite:<thing>, likes:<thing>, \
misc:<two words>>"}}. Write dates instead of relative times; today is {today}. If it tells nothing about {user}, \
reply NONE.

{user} said: {message}"""


async def extract_with_backend(
    backend: Backend, message: str, user: str, char: str, today: date
) -> list[ExtractedFact]:
    """Facts about `user` in `message` written by the model; the rules' facts if the model fails or says nothing."""
    prompt = _LLM_PROMPT.format(user=user, char=char, today=f"{today:%A %d %B %Y}", message=message[:4000])
    try:
        output = await backend.generate(
            [Message(role="user", content=prompt)], GenerateConfig(temperature=0.0, max_tokens=300)
        )
    except BackendError:
        return extract_facts(message, user, char, today)
    facts: list[ExtractedFact] = []
    for line in output.text.splitlines()[:20]:
        line = line.strip().strip(",")
        if not line.startswith("{"):
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError:
            continue
        if not isinstance(item, dict) or not isinstance(item.get("fact"), str) or not item["fact"].strip():
            continue
        text = item["fact"].strip()[:MAX_FACT_CHARS]
        topic = str(item.get("topic") or f"misc:{_slug(text.replace(user, ''))}")[:200].lower().strip()
        dated = resolve_relative_dates(text, today)
        facts.append(ExtractedFact(dated.text, topic, dated.refers_to))
    if facts or output.text.strip().upper().startswith("NONE"):
        return facts
    return extract_facts(message, user, char, today)


def message_item(message: str, user: str, today: date | None = None) -> ExtractedFact | None:
    """`message` as an episodic item, `Sam said: "…"` with relative times resolved.

    None for a message that tells nothing to remember: under three words, or only questions and requests.

    Example:
        message_item("Yesterday my sister called.", "Sam", date(2023, 5, 8)).text
        # 'Sam said: "On 7 May 2023 my sister called."'
    """
    text = " ".join(message.split())[:MAX_MESSAGE_CHARS]
    if len(text.split()) < 3 or all(_ASKS.search(s) for s in split_sentences(text)):
        return None  # a greeting, or only questions and requests ("Tell me about your week."): nothing the user told
    resolved = resolve_relative_dates(text, today) if today else None
    said = resolved.text if resolved else text
    said = said[0].upper() + said[1:]
    return ExtractedFact(f'{user} said: "{said}"', MESSAGE_TOPIC, resolved.refers_to if resolved else None)


_PAST_TENSE = _words(
    "was were went got saw made took had bought ran met found began came did felt gave kept knew left lost paid "
    "said sent sold spent told thought won wrote became brought built caught chose drove ate fell flew forgot grew "
    "heard held hurt lit meant rode rose sang sat slept spoke stood swam taught threw understood woke wore"
)
_NOT_PAST = _words("need needs feed feeds bleed breed seed speed shed bed red")
_MOMENT = _words(
    "will would could should might may thinks feels hopes wishes wonders guesses wants plans means says 'll 'd"
)
"""Verbs of plans, wishes and opinions of the moment: what they say is not a lasting state to contradict."""
_ADVERBS = r"(?:(?:does not|doesn't|no longer|never|always|usually|still|now|also|really|just)\s+)*"


def is_state(text: str, user: str, refers_to: date | None = None) -> bool:
    """Whether a fact states something lasting about the user, the kind a newer fact can contradict.

    "Sam is vegetarian", "Sam does not drink tea", "Sam lives in Leeds": the user is the subject, in the present
    tense. Not a state: an event (dated, or in the past tense: a later event never makes an earlier one untrue),
    something going on ("Sam is feeling hopeful"), a plan, wish or opinion ("Sam will…", "Sam thinks…"), or a
    fact about someone or something else ("Sam's kids loved it"). On LoCoMo, the NLI model read a third of the
    pairs of such statements as contradictions; only states are given to it.
    """
    if refers_to is not None:
        return False
    match = re.match(rf"{re.escape(user)}\s+{_ADVERBS}([a-z']+)(?:\s+([a-z']+))?", text, re.IGNORECASE)
    if match is None:
        return False
    verb, after = match.group(1).lower(), (match.group(2) or "").lower()
    if verb in _PAST_TENSE or (verb.endswith("ed") and verb not in _NOT_PAST) or verb in _MOMENT:
        return False
    return not (verb in ("is", "are", "am") and after.endswith("ing"))


def single_valued(topic: str) -> bool:
    """Whether a topic holds one value at a time, so that a new fact on it replaces the old one."""
    partner = ("family:wife", "family:husband", "family:partner", "family:girlfriend", "family:boyfriend")
    return topic in SINGLE_VALUED or topic.startswith(("favorite:", "likes:", *partner))
