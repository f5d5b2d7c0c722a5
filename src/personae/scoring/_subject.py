"""Whom a reply sentence is about: a sentence about someone else establishes nothing about the character.

The NLI model reads "My sister, Anne, is a Benedictine abbess and a scribe." as entailing "Brother Anselm works as a
scribe" (0.97) and "Abbot William, who is the abbot of Bury St Edmunds, …" as entailing "lives at the abbey of Bury
St Edmunds" (0.98): what is said of another person is taken as said of the character. Training on such replies did
not teach it otherwise (stage 8 in the model card), so the scorer reads the subject itself: a sentence whose subject is
another person (a name, or a possessive with a word for a person) and that has no first-person pronoun is about that
person, unless the statement names them too ("Callum died in 2015." does support "her husband Callum died in 2015").
Such a sentence can still rule a fact out ("My sister is a nun." against "has no siblings"), so only its entailment
is set aside.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

_PEOPLE = (
    r"sister|brother|mother|father|mum|mom|mam|ma|dad|da|pa|papa|mama|husband|wife|son|daughter|family|friend|parents?"
    r"|children|child|kids?|sons|daughters|sisters|brothers|friends|grand(?:mother|father|ma|pa|son|daughter|children)"
    r"|uncle|aunt|auntie|cousin|nephew|niece|abbot|abbess|prior|master|mistress|boss|neighbou?r|neighbou?rs|teacher"
    r"|mentor|partner|fianc[eé]e?|girlfriend|boyfriend|lover|crew|captain|king|queen|lord|lady|lads?|men|folk|people"
    r"|colleagues?|apprentice|servant|students?|customers?|passengers?|guests?|parishioners?|brethren|flock|sweetheart"
    r"|(?:border\s+)?collies?|sheepdogs?|dogs?|puppy|hounds?|cats?|kittens?|horses?|pony|ponies|mare|parrots?|goats?"
    r"|pets?|donkeys?|mules?"
)
"""Words for someone other than the speaker: people, and the animals characters keep ("my border collie, who rode
the ferry with me for six years" is about the dog)."""
_OTHER_NOUN = re.compile(
    rf"^(?:(?:my|our|his|her|their|the|a|an|that|this)\s+)(?:(?:old|late|dear|young|little|eldest|elder|younger|"
    rf"youngest|own|poor|best)\s+)*(?P<head>{_PEOPLE})\b",
    re.IGNORECASE,
)
"""A sentence opening with a person other than the speaker: "My sister, …", "Our abbot …", "The old captain …"."""
_TITLES = (
    r"Abbot|Abbess|Brother|Sister|Father|Mother|Prior|Captain|Mr|Mrs|Ms|Miss|Dr|Lady|Lord|Sir|King|Queen|Master|"
    r"Mistress|Uncle|Aunt|Old|Young"
)
_NOT_NAMES = frozenset(
    re.findall(
        r"\w+",
        "he she it they this that these those there here what who which everyone everybody nobody nothing "
        "everything something someone somebody anybody another none each every all both neither either life "
        "god gods lord aye yes no well oh ah so now then today tomorrow tonight never not always sure "
        "certainly indeed maybe perhaps",
    )
)
"""Capitalised sentence openers that name no one."""
_NAMED = re.compile(
    rf"^(?:(?P<title>{_TITLES})\.?\s+)?(?P<head>[A-Z][a-z'’-]+)(?:\s+[A-Z][a-z'’-]+)?"
    r"(?P<rest>\s*,\s*who\b|\s+(?:is|was|has|had|says|said|lives|lived|works|worked|keeps|kept|died|never|always)\b)?"
)
"""A sentence opening with a name: "Abbot William …" (with a title), "Callum died …", "Mairi, who …"; a name alone
("Milan, born and raised.") is a self-introduction's answer as often as another person."""
_FIRST_PERSON = re.compile(r"\b(?:I|I['’](?:m|ve|d|ll)|me|myself|we|we['’](?:re|ve|d|ll)|us|ourselves)\b")
"""A first-person pronoun (not the possessive "my": "my sister is a scribe" is about the sister)."""
_OPENING = re.compile(r"^[\s\"'“‘(\[*_-]+")


def other_subject(sentence: str, names: Sequence[str] = ()) -> str | None:
    """The word for the other person `sentence` is about ("sister", "William"), or None: about the character.

    `names` are the character's own names (a sentence opening with one of their words is about the character).
    """
    text = _OPENING.sub("", sentence)
    if _FIRST_PERSON.search(text):
        return None
    found = _OTHER_NOUN.match(text)
    if found is not None:  # "my brother" is someone else, even for Brother Anselm
        return found.group("head").lower()
    named = _NAMED.match(text)
    if named is None or not (named.group("title") or named.group("rest")):
        return None
    head = named.group("head").lower()
    if head in _NOT_NAMES or head in {w.lower() for n in names for w in n.split()}:
        return None
    return head


_PRONOUN = re.compile(r"^(?:she|he|they|her|his|their)\b(?![-'’])", re.IGNORECASE)
_PERSON_WORD = re.compile(rf"^(?:{_PEOPLE})$", re.IGNORECASE)


def subjects_in(sentences: Sequence[str], names: Sequence[str] = ()) -> list[str | None]:
    """`other_subject` of each sentence of one reply, with a pronoun carrying on the sentence before it.

    "My daughter is a biologist. She phones every Sunday." makes the second sentence about the daughter too. A
    pronoun opening a reply or following a sentence about the character stays the character's: role-play narration
    speaks of the character in the third person ("*She wipes the soot from her brow.*").
    """
    out: list[str | None] = []
    for sentence in sentences:
        subject = other_subject(sentence, names)
        text = _OPENING.sub("", sentence)
        if subject is None and out and out[-1] is not None and _PRONOUN.match(text) and not _FIRST_PERSON.search(text):
            subject = out[-1]
        out.append(subject)
    return out


def is_person_word(subject: str) -> bool:
    """Whether an `other_subject` is a word for a person or animal ("daughter"), not a name (which may be a place's)."""
    return _PERSON_WORD.match(subject) is not None


def _without_names(statement: str, names: Sequence[str]) -> str:
    """`statement` with the character's own names blanked out, longest first ("Brother Anselm" before "Anselm")."""
    for name in sorted(names, key=len, reverse=True):
        statement = statement.replace(name, " ")
    return statement


def names_subject(statement: str, subject: str, names: Sequence[str] = ()) -> bool:
    """Whether `statement` names the person `subject` stands for ("her husband Callum" names "callum", "husband").

    The character's own names are not read as naming anyone ("Brother Anselm" does not name a brother).
    """
    statement = _without_names(statement, names)
    stem = subject.rstrip("s") if len(subject) > 3 else subject
    return re.search(rf"\b{re.escape(stem)}", statement, re.IGNORECASE) is not None


_RELATIONS = re.compile(
    rf"\b(?:{_PEOPLE}|siblings?|only\s+child|married|marry|marriage|wed|wedding|widow(?:ed|er)?|single|unmarried"
    r"|bachelor|spinster|celibate|orphan(?:ed)?|twins?|engaged|betrothed|divorced|childless|famil(?:y|ies)|alone"
    r"|relatives?|grandchild(?:ren)?|pregnant|adopted|kin)\b",
    re.IGNORECASE,
)
"""Words by which a statement speaks of the character's ties to others (family, marriage, pets, company)."""
_CAPITALISED = re.compile(
    r"(?<!^)(?<![.!?]\s)\b(?!(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday|January|February|March|April"
    r"|May|June|July|August|September|October|November|December|English|French|Latin|God)\b)[A-Z][a-z'’-]+"
)
"""A capitalised word inside a statement (a name, perhaps of someone else), days, months and languages aside."""


def concerns_others(statement: str, names: Sequence[str] = ()) -> bool:
    """Whether `statement` speaks of others: a word for a person or animal, a tie to one, or a name not the character's.

    Only such a statement can be ruled out by a sentence about someone else ("My sister is a nun." against "is an only
    child"); "She phones every Sunday on the landline." says nothing of whether the character distrusts smartphones.
    """
    statement = _without_names(statement, names)
    return _RELATIONS.search(statement) is not None or _CAPITALISED.search(statement.strip()) is not None


def about_someone_else(sentence: str, statement: str, names: Sequence[str] = ()) -> bool:
    """Whether `sentence` is about a person other than the character, one `statement` does not name."""
    subject = other_subject(sentence, names)
    return subject is not None and not names_subject(statement, subject, names)


_ADJECTIVES = r"old|late|dear|young|little|eldest|elder|younger|youngest|own|poor|best|close|good|only"
_RELATIVE = re.compile(
    rf"(?P<person>\b(?:(?:my|our|his|her|their|the|a|an)\s+)?(?:(?:{_ADJECTIVES})\s+)*"
    rf"(?P<noun>{_PEOPLE})(?:-in-law)?\b|\b(?:(?:{_TITLES})\.?\s+)?(?P<name>[A-Z][a-z'’-]+)(?:\s+[A-Z][a-z'’-]+)?)"
    r"(?P<comma>\s*,)?\s+who\s+[^,.;:!?—–()]*(?P<end>,|(?=[.;:!?—–()])|$)"
)
"""A relative clause about a person: "my brother-in-law, who is a monk," "Abbot William, who lives nearby",
"friends who work at the library"."""


def without_others(sentence: str, statement: str, names: Sequence[str] = ()) -> str | None:
    """`sentence` without its relative clauses about people `statement` does not name; None when it has none.

    "I have friends at the abbey, including my brother-in-law, who is a monk." says of the brother-in-law that he is
    a monk; without the clause it still says what it says of the speaker ("… including my brother-in-law.").
    """
    if "who" not in sentence:
        return None
    mine = {w.lower() for n in names for w in n.split()}
    changed = False

    def strip(m: re.Match[str]) -> str:
        nonlocal changed
        noun, name = m.group("noun"), m.group("name")
        word = (noun or name or "").lower()
        if name and (word in mine or word in _NOT_NAMES):
            return m.group(0)
        if not word or names_subject(statement, word, names):
            return m.group(0)
        changed = True
        # "Morag, who is a biologist, phones" -> "Morag phones"; "friends who work there, and" keeps its comma
        return m.group("person") + ("," if m.group("end") == "," and not m.group("comma") else "")

    out = _RELATIVE.sub(strip, sentence)
    return " ".join(out.split()) if changed else None
