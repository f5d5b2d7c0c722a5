"""Reading a bare "yes" as the claim it agrees to: the user's yes/no question turned into the character's statement.

"You love a bacon roll, don't you?" answered "Of course, dear!" says "I love a bacon roll" without those words; read
sentence by sentence, the reply contradicts nothing. Dialogue NLI resolves such answers against the question
(question-to-declarative conversion); this is a small rule-based version for English yes/no and tag questions: the
question's subject and auxiliary are put back in statement order and the speakers' pronouns are swapped. Questions it
cannot turn into a statement (wh-questions, several clauses it cannot parse) give no claim: nothing is guessed.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from personae.scoring._sentences import split_sentences

MAX_QUESTION = 400
"""Characters of a message (its end) and of a reply's opening that the rules read."""

_AUX = (
    "do|does|did|is|are|am|was|were|have|has|had|can|could|will|would|should|shall|may|might|must|"
    "don't|doesn't|didn't|isn't|aren't|wasn't|weren't|haven't|hasn't|hadn't|can't|couldn't|won't|wouldn't|shouldn't"
)
_PRONOUN = "you|i|he|she|it|we|they"
_DETERMINER = "your|my|his|her|their|our|the|this|that"

_YES = re.compile(
    r"^(?:(?:oh|ah|well|why|mm+|hmm+),?\s+)?"
    r"(?:yes|yeah|yep|aye|sure|of course|certainly|absolutely|indeed|definitely|naturally|true|"
    r"that's (?:right|true|correct)|you're (?:right|correct)|i agree|i (?:do|did|am|have|can|will)(?=\s*[,.!]|$))\b"
    r"(?![^.!?]*(?:\b(?:not|never|no)\b|n't\b))",
    re.IGNORECASE,
)
"""An answer that opens by agreeing ("Sure!", "Aye, I do.", "Of course, dear."), with no denial in the same sentence
("Of course not", "Yes, I don't", "Sure, but I have no phone")."""

_TAG = re.compile(
    rf",\s*(?:(?:{_AUX})(?:\s+not)?\s+(?:{_PRONOUN}|there)|right|eh|yes|no|surely|isn't (?:it|that) so|"
    r"(?:surely\s+)?(?:you|wouldn't you|don't you|do you)\s+(?:agree|think so|think)|"
    r"(?:wouldn't|don't|do) you (?:agree|think))\s*\?+\s*$",
    re.IGNORECASE,
)
"""A tag closing a statement-question: ", don't you?", ", right?", ", surely you agree?"."""

_INVERTED = re.compile(
    rf"^(?P<aux>{_AUX})\s+(?P<subj>(?:{_PRONOUN})|(?:(?:{_DETERMINER})\s+[\w'-]+(?:'s\s+[\w'-]+)?))\s+(?P<rest>.+?)\s*\?+\s*$",
    re.IGNORECASE,
)
"""A yes/no question: an auxiliary, then its subject (a pronoun or a short noun phrase), then the rest."""

_SWAP = {
    "i": "you",
    "me": "you",
    "my": "your",
    "mine": "yours",
    "myself": "yourself",
    "your": "my",
    "yours": "mine",
    "yourself": "myself",
    "i'm": "you're",
    "you're": "I'm",
    "i've": "you've",
    "you've": "I've",
    "i'll": "you'll",
    "you'll": "I'll",
    "i'd": "you'd",
    "you'd": "I'd",
}
_NARRATION = re.compile(r"\*[^*\n]*\*")
_CLAUSE_START = re.compile(r"(?:^|[,;:]|\b(?:and|but|that|if|when|because|so))\s*$", re.IGNORECASE)
_FOLLOWS_SUBJECT = re.compile(rf"^\s+(?:{_AUX}|'re|'ve|'ll|'d|still|always|never|really|ever)\b", re.IGNORECASE)
_WORD = re.compile(r"[A-Za-z]+(?:'[a-z]+)?")
_AGREE = {("i", "are"): "am", ("i", "is"): "am", ("i", "were"): "was", ("you", "am"): "are", ("you", "is"): "are"}
_AGREE.update({("you", "was"): "were", ("i", "aren't"): "am not", ("you", "isn't"): "aren't"})
_AGREE.update({("i", "weren't"): "wasn't", ("i", "does"): "do", ("i", "doesn't"): "don't"})
_AGREE.update({("you", "does"): "do", ("you", "doesn't"): "don't", ("you", "wasn't"): "weren't"})


def _swap_pronouns(text: str) -> str:
    """Swap the speakers' first and second person; "you" is "I" where it starts a clause or precedes its verb."""

    def one(match: re.Match[str]) -> str:
        word = match.group(0)
        low = word.lower()
        if low == "you":
            subject = _CLAUSE_START.search(text[: match.start()]) or _FOLLOWS_SUBJECT.match(text[match.end() :])
            return "I" if subject else "me"
        swapped = _SWAP.get(low)
        if swapped is None:
            return word
        if swapped.startswith("I"):
            return swapped
        return swapped.capitalize() if word[0].isupper() else swapped

    return _WORD.sub(one, text)


def _subject(text: str) -> str:
    """The swapped subject of a question, agreeing with nothing yet ("you" → "I", "your father" → "my father")."""
    low = text.lower()
    if low == "you":
        return "I"
    if low == "i":
        return "you"
    return _swap_pronouns(text)


def _statement(subject: str, aux: str, rest: str) -> str:
    aux = _AGREE.get((subject.lower(), aux.lower()), aux.lower())
    rest = re.sub(r"^ever\s+", "", rest, flags=re.IGNORECASE)  # "have you ever been" -> "I have been"
    text = f"{subject} {aux} {_swap_pronouns(rest)}".strip()
    return _sentence(text)


def _sentence(text: str) -> str:
    return text[0].upper() + text[1:] + "."


def question_claim(text: str) -> str | None:
    """The statement a "yes" to the yes/no question closing `text` makes, in the answerer's words, or None.

    Only the last `MAX_QUESTION` characters are read: the question closes the message, and the rules stay linear.
    """
    tail = " ".join(text[-MAX_QUESTION:].split())
    if not tail.endswith("?"):
        return None
    body = tail.rstrip("? ")
    question = tail[max(body.rfind(c) for c in ".!?") + 1 :].strip()
    tag = _TAG.search(question)
    if tag and tag.start() > 0:
        clause = re.split(r"[,;:]\s+|\s+-+\s+", question[: tag.start()].rstrip(" ,"))[-1]
        if not clause or _INVERTED.match(clause + "?"):
            return None  # "Do you swim, right?": not a statement with a tag
        return _sentence(_swap_pronouns(clause))
    inverted = _INVERTED.match(question)
    if inverted is None:
        return None
    return _statement(_subject(inverted["subj"]), inverted["aux"], inverted["rest"])


def agreed_claim(query: str, first_sentence: str) -> str | None:
    """The claim a reply makes by agreeing at its start (`first_sentence`) to the yes/no question closing `query`."""
    if not _YES.match(first_sentence[:MAX_QUESTION].strip(" *\"'“")):
        return None
    return question_claim(query)


class ReplySentences(NamedTuple):
    """A reply as the scorer reads it: its sentences, and the claim its opening "yes" makes (`agreed_claim`)."""

    sentences: list[str]
    claim: str | None = None
    opening: str | None = None
    """The spoken sentence whose "yes" made the claim (narration in asterisks is skipped)."""

    @property
    def judged(self) -> list[str]:
        """What the models judge: the sentences, then the claim."""
        return [*self.sentences, self.claim] if self.claim else self.sentences

    @property
    def shown(self) -> list[str]:
        """How an explanation quotes each judged sentence: the claim as the opening that made it."""
        if not self.claim:
            return self.sentences
        return [*self.sentences, f"{self.opening} [agreeing: {self.claim}]"]


def reply_sentences(query: str, reply: str) -> ReplySentences:
    """The reply's sentences, and the claim its first spoken sentence's "yes" to the question closing `query` makes."""
    sentences = split_sentences(reply)
    spoken = split_sentences(_NARRATION.sub(" ", reply))
    claim = agreed_claim(query, spoken[0]) if spoken else None
    return ReplySentences(sentences, claim, spoken[0] if claim else None)
