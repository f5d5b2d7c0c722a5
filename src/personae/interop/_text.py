"""Text → atomic statements without a model: sentence splitting plus pronoun-to-name substitution.

Offline and fast, so that import never needs an LLM; `extract_statements_llm` is the better, slower path.
"""

from __future__ import annotations

import re

from personae.scoring import split_sentences

# Sentence-initial pronoun phrases and their third-person replacements ({n} is the name).
_SUBJECT_RULES: tuple[tuple[str, str], ...] = (
    (r"you are|you're|i am|i'm|she is|she's|he is|he's", "{n} is"),
    (r"you were|i was|she was|he was", "{n} was"),
    (r"you have|i have|i've|you've|she has|he has", "{n} has"),
    (r"you do not|you don't|i do not|i don't|she does not|she doesn't|he does not|he doesn't", "{n} does not"),
    (r"you can|i can|she can|he can", "{n} can"),
    (r"you will|i will|i'll|you'll|she will|he will", "{n} will"),
    (r"you would|i would|she would|he would", "{n} would"),
    (r"your|my|her|his", "{n}'s"),
    (r"she|he", "{n}"),
    (r"you|i", "{n}+s"),
)
_SUBJECT = [(re.compile(rf"^(?:{pattern})\b", re.IGNORECASE), repl) for pattern, repl in _SUBJECT_RULES]
# Second-person verbs that need a third-person -s after the name ("You love X" → "Ada loves X").
_BARE_VERB = re.compile(r"^ (?P<verb>[a-z]+)\b")
_NO_S = frozenset(
    {"is", "was", "has", "does", "can", "will", "would", "could", "should", "may", "might", "must", "also", "often"}
    | {"always", "never", "usually", "sometimes", "grew", "went", "became", "began", "met", "made", "took", "got"}
)
_MACRO = re.compile(r"\{\{\s*char\s*\}\}|<bot>|<char>", re.IGNORECASE)
_USER_MACRO = re.compile(r"\{\{\s*user\s*\}\}|<user>", re.IGNORECASE)
_PLIST = re.compile(r"\[\s*([^\[\]=:]{1,80}?)\s*[=:]\s*([^\[\]]*)\]")
_DIALOGUE_LINE = re.compile(r"^\s*(?:<start>|\{\{\s*(?:user|char)\s*\}\}\s*:|<user>\s*:|<bot>\s*:)", re.IGNORECASE)
_YOU = re.compile(r"\byou(?:'re| are)\b", re.IGNORECASE)
_YOUR = re.compile(r"\byour\b", re.IGNORECASE)
_YOURSELF = re.compile(r"\b(?:you|yourself)\b", re.IGNORECASE)
_WIKI_LINK = re.compile(r"\[\[(?:[^\]|]*\|)?([^\]]*)\]\]")
_WIKI_TEMPLATE = re.compile(r"\{\{(?!\s*(?:char|user)\s*\}\})[^{}]*\}\}")
_WIKI_HEADING = re.compile(r"^\s*(=+)[^=]+\1\s*$|^\s*#+\s.*$", re.MULTILINE)


def _third_person(sentence: str, name: str) -> str:
    """Rewrite a sentence that opens with a pronoun so that it opens with the character's name."""
    for pattern, repl in _SUBJECT:
        match = pattern.match(sentence)
        if match is None:
            continue
        replaced = repl.removesuffix("+s").format(n=name)
        rest = sentence[match.end() :]
        if repl == "{n}+s":
            verb = _BARE_VERB.match(rest)
            if verb and verb.group("verb") not in _NO_S and not verb.group("verb").endswith(("ed", "ly")):
                word = verb.group("verb")
                if word.endswith("y") and word[-2:-1] not in "aeiou":
                    word = word[:-1] + "ies"
                else:
                    word += "es" if word.endswith(("s", "sh", "ch", "x", "o")) else "s"
                return f"{name} {word}{rest[verb.end() :]}"
        return replaced + rest
    return sentence


_FINITE = re.compile(
    r"\b(?:is|are|was|were|am|has|have|had|does|do|did|can|could|will|would|shall|should|may|might|must)\b",
    re.IGNORECASE,
)
"""Auxiliaries and forms of "be" and "have": a sentence holding one has a verb (and likely a subject) of its own."""
_POSSESSIVE_OPENING = re.compile(r"^(?:its|their)\b", re.IGNORECASE)
_IT_OPENING = re.compile(r"^it\b(?!['’])", re.IGNORECASE)
_LATE_SUBJECT = re.compile(r"^(?P<lead>[^,;:]{1,80}),\s+(?P<clause>(?:he|she|it)\b.*)$", re.IGNORECASE | re.DOTALL)
"""A phrase, then a clause with a pronoun subject: "Skilled in dueling, he is known for his reflexes."."""
_ADVERBS = frozenset({"always", "never", "often", "sometimes", "rarely", "usually", "still", "also", "secretly"})
_NOT_VERBS_IN_S = ("ss", "ous", "'s", "’s", "is", "us", "ics")
"""Endings of words in -s that are no third-person verb (adjectives in -ous, possessives, "always", "tactics")."""


def _verb_in_s(word: str) -> bool:
    """Whether `word` looks like a third-person verb ("Possesses", "rides"), as a sentence's first word."""
    lower = word.lower().rstrip(".,;:!?")
    return (
        len(lower) > 3
        and lower.isalpha()
        and lower.endswith("s")
        and not lower.endswith(_NOT_VERBS_IN_S)
        and lower not in _ADVERBS
    )


def _names(sentence: str, name: str) -> bool:
    """Whether the sentence names the character (its full name, or a word of it of three letters or more)."""
    words = [w for w in re.findall(r"[^\W\d_][\w'’-]*", name) if len(w) >= 3]
    return any(re.search(rf"\b{re.escape(w)}\b", sentence) for w in [name, *words])


def with_subject(sentence: str, name: str) -> str:
    """The sentence with the character's name as its subject when it has none, else unchanged.

    Character descriptions are often written as phrases about the character, without a subject: CharacterBox's
    "A skilled hacker and elite warrior of the resistance." or "Skilled in dueling, he is known for his reflexes.".
    A statement must say whom it is about (the scorer's NLI reads "<name> is ..." statements, and the scene's
    role-confusion check rewrites another character's statements about the speaker by name), so: a phrase without a
    verb of its own becomes "<name> is a skilled hacker ..."; a verb in -s opening the sentence gets the name before
    it ("Rides a motorcycle." → "<name> rides a motorcycle."); "Its"/"Their" become "<name>'s" and an opening "It"
    the name; a late pronoun subject after an opening phrase becomes the name. A sentence that names the character,
    or has a verb and a subject of its own ("The Matrix is a simulation."), is returned as it is.
    """
    sentence = sentence.strip()
    if not sentence or _names(sentence, name):
        return sentence
    if _POSSESSIVE_OPENING.match(sentence):
        return _POSSESSIVE_OPENING.sub(f"{name}'s", sentence, count=1)
    if _IT_OPENING.match(sentence):
        return _IT_OPENING.sub(name, sentence, count=1)
    late = _LATE_SUBJECT.match(sentence)
    if late and not _FINITE.search(late.group("lead")):
        return f"{late.group('lead')}, {_third_person(late.group('clause'), name)}"
    words = sentence.split()
    if _verb_in_s(words[0]):
        return f"{name} {words[0].lower()}{sentence[len(words[0]) :]}"
    if len(words) > 1 and words[0].lower() in _ADVERBS and _verb_in_s(words[1]):
        return f"{name} {words[0].lower()}{sentence[len(words[0]) :]}"
    if _FINITE.search(sentence):
        return sentence
    first = words[0]
    article = first in ("A", "An")  # "A Metamorphmagus": the article is lower case whatever follows
    proper = first.endswith(("'s", "’s")) or (len(first) > 1 and first.isupper())
    proper = not article and (proper or (len(words) > 1 and words[1][:1].isupper()))  # "The One", "Zion's engineer"
    return f"{name} is {sentence if proper else first[:1].lower() + sentence[1:]}"


def _plist(match: re.Match[str]) -> str:
    """`[Ada's Personality= "kind", "brave"]` → `Ada's personality: kind, brave.` (W++ / PList notation)."""
    label = match.group(1).strip()
    values = [v.strip().strip("\"'").rstrip(".").strip() for v in re.split(r"[,;+]", match.group(2))]
    values = [v for v in values if v]
    if not values:
        return ""
    return f"{label[:1].upper()}{label[1:]}: {', '.join(values)}.\n"


def strip_wiki(text: str) -> str:
    """Plain text from wiki or Markdown markup: links keep their label, templates and headings go."""
    text = _WIKI_LINK.sub(r"\1", text)
    previous = None
    while previous != text:
        previous, text = text, _WIKI_TEMPLATE.sub("", text)
    text = _WIKI_HEADING.sub("", text)
    text = re.sub(r"'{2,}|\*\*|__", "", text)
    return re.sub(r"<ref[^>]*>.*?</ref>|<[^>]+>", "", text, flags=re.DOTALL)


def extract_statements(text: str, name: str, second_person: bool = False, describes: bool = False) -> list[str]:
    """Split `text` into statements about `name`: one sentence each, pronoun subjects replaced by the name.

    Example-dialogue lines (`{{user}}: ...`, `<START>`) are left out: they are dialogue, not facts. Exact
    duplicates are dropped; the order of first appearance is kept. With `second_person` (text addressed to
    the character, as in TinyTroupe specs) every "you"/"your" is the character too, not only the subject. With
    `describes` (every sentence is about the character, as in CharacterBox's character descriptions) a sentence
    without a subject gets the name as one (`with_subject`: "A skilled hacker." → "Trinity is a skilled hacker.").
    """
    lines = [line for line in text.replace("\r\n", "\n").split("\n") if not _DIALOGUE_LINE.match(line)]
    text = _PLIST.sub(_plist, "\n".join(lines))
    text = _USER_MACRO.sub("the user", _MACRO.sub(name, text))
    statements: list[str] = []
    seen: set[str] = set()
    for sentence in split_sentences(text):
        sentence = " ".join(sentence.lstrip("-*•· ").split())
        if len(sentence) < 3 or not any(c.isalpha() for c in sentence):
            continue
        sentence = _third_person(sentence, name)
        if describes:
            sentence = with_subject(sentence, name)
        if second_person:
            sentence = _YOURSELF.sub(name, _YOUR.sub(f"{name}'s", _YOU.sub(f"{name} is", sentence)))
        if sentence[-1] not in ".!?…\"'”)":
            sentence += "."
        key = sentence.lower()
        if key not in seen:
            seen.add(key)
            statements.append(sentence[:1].upper() + sentence[1:])
    return statements
