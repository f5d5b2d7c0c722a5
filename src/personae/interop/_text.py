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


def extract_statements(text: str, name: str, second_person: bool = False) -> list[str]:
    """Split `text` into statements about `name`: one sentence each, pronoun subjects replaced by the name.

    Example-dialogue lines (`{{user}}: ...`, `<START>`) are left out: they are dialogue, not facts. Exact
    duplicates are dropped; the order of first appearance is kept. With `second_person` (text addressed to
    the character, as in TinyTroupe specs) every "you"/"your" is the character too, not only the subject.
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
        if second_person:
            sentence = _YOURSELF.sub(name, _YOUR.sub(f"{name}'s", _YOU.sub(f"{name} is", sentence)))
        if sentence[-1] not in ".!?…\"'”)":
            sentence += "."
        key = sentence.lower()
        if key not in seen:
            seen.add(key)
            statements.append(sentence[:1].upper() + sentence[1:])
    return statements
