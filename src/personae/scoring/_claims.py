"""Whose facts a reply states: what it claims of the speaker, what it tells the listener, and whose facts those are.

A reply's own words (quotations of others and questions left out) are read clause by clause: a first-person clause
claims something of the speaker ("I work as a nurse"), a second-person one tells the listener what they are ("you
live in Bristol", read as the listener would say it: "I live in Bristol"). Someone's facts, rewritten about the one
they are put on (`about`), are scored against those clauses by the persona-NLI (`FactClaims`): a fact they support
is a fact put on that person. Scenes use it for characters that claim each other's facts (`personae.scene`); the
chat guard for a character that claims its user's facts as its own (`UserClaims`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from personae.persona import Persona
from personae.scoring._apc import APCScorer, default_calibration
from personae.scoring._nli import NLIModel
from personae.scoring._relevance import RelevanceModel
from personae.scoring._sentences import split_sentences

_TITLES = frozenset(
    [
        "mr",
        "mrs",
        "ms",
        "miss",
        "dr",
        "professor",
        "prof",
        "sir",
        "lady",
        "lord",
        "madam",
        "madame",
        "captain",
        "agent",
        "the",
        "old",
        "young",
        "little",
        "king",
        "queen",
        "prince",
        "princess",
        "uncle",
        "aunt",
        "master",
        "mister",
        "saint",
        "st",
        "father",
        "mother",
        "brother",
        "sister",
        "general",
        "commander",
    ]
)
"""Words of a name that are no way to call someone by themselves ("Captain Vega" is not "Captain")."""


def aliases(name: str, everyone: Sequence[str]) -> list[str]:
    """The ways `name` may be referred to: the full name, and its first and last words when not titles.

    A word shared with another character's name is left out ("Ron" for "Ron Weasley", not "Weasley" beside "Ginny").
    """
    words = name.split()
    out = [name]
    others = {w.lower() for n in everyone if n != name for w in n.split()}
    for word in {words[0], words[-1]} if len(words) > 1 else set():
        clean = word.strip(".,'\"")
        if len(clean) >= 3 and clean.lower() not in _TITLES and clean.lower() not in others:
            out.append(clean)
    return sorted(out, key=len, reverse=True)


def about(statement: str, other: str, speaker: str, everyone: Sequence[str]) -> str:
    """`statement` about `other` rewritten about `speaker` (every alias of the other replaced by the speaker's name)."""
    for alias in aliases(other, everyone):
        statement = re.sub(rf"\b{re.escape(alias)}\b", speaker, statement)
    return statement


_PERSON = re.compile(
    r"\b(?:(?P<first>I(?:['’](?:m|ve|d|ll))?|me|my|mine|myself)"
    r"|(?P<second>(?i:you(?:['’](?:re|ve|d|ll))?)))\b"
)
"""A first-person pronoun, or "you" (a possessive "your sister" is not the listener): the first one in a clause says
whom the clause is about."""
_CLAUSE_BREAK = re.compile(
    r"\s*[;,]\s*(?:(?:and|but|so|or|while|whereas)\s+)?(?=(?:I|[Yy]ou)(?:['’][a-z]+)?\b)"
    r"|\s+(?:and|but|so|or|while|whereas)\s+"
    r"(?=(?:I|[Yy]ou)(?:['’][a-z]+\b|\s+(?!(?:are|were|have|had|do|both|all)\b)[a-z]+))"
)
"""Where a sentence's next clause has "I" or "you" as its subject ("You're the vet, and you live in Bristol."); a bare
"and" only before a pronoun with a verb of its own ("your sister and I are twins" is one subject)."""
_LISTENER = re.compile(r"\b(?:you|your|yours|yourself)\b", re.IGNORECASE)
"""A word for the one addressed ("you're" too: the apostrophe ends the word)."""
_INVERTED_QUESTION = re.compile(
    r"^(?:are|do|did|have|has|will|would|can|could|shall|should|is|was|were|am|may|might|must)\s+(?:you|I)\b",
    re.IGNORECASE,
)
"""A question ("Are you the vet?"): it asks rather than states, so it claims nothing."""
_INTENT = re.compile(r"\b(?:I(?:['’]ll|\s+will|\s+shall|['’]m\s+going\s+to|\s+am\s+going\s+to)|[Ll]et\s+me)\s+be\b")
"""Taking something on ("I'll be the pilot", "let me be the pilot"): read as a claim to be it, which is what taking
another character's role comes to (NLI models read the future as neutral towards a present-tense fact)."""
_ATTRIBUTION = (
    r"(?:says|said|tells|told|asks|asked|replies|replied|answers|answered|writes|wrote|shouts|shouted|whispers|"
    r"whispered|adds|added|calls|called|goes|went)"
)
_QUOTE = re.compile(r"[\"“]([^\"“”\n]{1,400})[\"”]")
_QUOTED_BEFORE = re.compile(
    rf"\b(?!I\b)(?:you|he|she|they|we|[A-Z][\w'’-]*)\s+(?:[a-z]+\s+){{0,2}}{_ATTRIBUTION}\b[^\"“”\n.!?]{{0,30}}$",
    re.IGNORECASE,
)
_QUOTED_AFTER = re.compile(
    rf"^,?\s*(?:(?!I\b)(?:you|he|she|they|we|[A-Z][\w'’-]*)\s+{_ATTRIBUTION}|{_ATTRIBUTION}\s+(?!I\b)\w+)\b",
    re.IGNORECASE,
)


def unquoted(reply: str) -> str:
    """The reply without quotations of someone else's words: what they said is no claim of the speaker's.

    A quotation is someone else's when a speech verb with a subject other than "I" introduces or follows it
    (`You said it yourself: "I'll be the pilot."`, `"I'm the vet," she told him`); the character's own speech in
    quotes (`*smiles* "I'm the vet."`, `"I'm the vet," I said`) stays.
    """
    out, at = [], 0
    for m in _QUOTE.finditer(reply):
        before = reply[max(0, m.start() - 60) : m.start()]
        after = reply[m.end() : m.end() + 40]
        if _QUOTED_BEFORE.search(before) or _QUOTED_AFTER.match(after):
            out.append(reply[at : m.start()])
            at = m.end()
    return "".join(out) + reply[at:]


def _clauses(reply: str) -> list[tuple[str, str]]:
    """(person, clause) for each clause of the reply's own words that has a first- or second-person subject.

    Person is `first` or `second`, by the clause's first such pronoun; questions, which claim nothing, are left out.
    """
    out = []
    for sentence in split_sentences(unquoted(reply)):
        for clause in _CLAUSE_BREAK.split(sentence):
            clause = clause.strip()
            m = _PERSON.search(clause)
            if m is None or _INVERTED_QUESTION.match(clause):
                continue
            out.append(("first" if m.group("first") else "second", clause))
    return out


def _sentence(clause: str) -> str:
    """A clause as a sentence of its own: capitalised, ending in a full stop (so the scorer judges it alone)."""
    clause = clause.strip().rstrip(",;:")
    if not clause:
        return ""
    clause = clause[:1].upper() + clause[1:]
    return clause if clause.rstrip("\"'”’)")[-1:] in (".", "!", "?", "…") else clause + "."


def _claimed(clause: str) -> str:
    """A first-person clause as the claim it makes: "I'll be the pilot" claims to be the pilot."""
    return _INTENT.sub("I am", clause)


_SWAP = {
    "you're": "I'm",
    "you’re": "I’m",
    "you've": "I've",
    "you’ve": "I’ve",
    "you'd": "I'd",
    "you’d": "I’d",
    "you'll": "I'll",
    "you’ll": "I’ll",
    "your": "my",
    "yours": "mine",
    "yourself": "myself",
    "i'm": "you're",
    "i’m": "you’re",
    "i've": "you've",
    "i’ve": "you’ve",
    "i'd": "you'd",
    "i’d": "you’d",
    "i'll": "you'll",
    "i’ll": "you’ll",
    "me": "you",
    "my": "your",
    "mine": "yours",
    "myself": "yourself",
    "i": "you",
}
_SWAP_WORD = re.compile(
    r"\b(?:" + "|".join(re.escape(w) for w in sorted([*_SWAP, "you"], key=len, reverse=True)) + r")\b", re.IGNORECASE
)
_SUBJECT_SLOT = re.compile(r"(?:^|[,;:]\s*|\b(?:and|but|so|or|that|if|when|because)\s+|\b\w+n['’]t\s+)$", re.IGNORECASE)
"""What comes before a subject: the clause's start, a comma, a conjunction, or a tag question's "aren't"."""


def _as_addressee(clause: str) -> str:
    """A second-person clause as the one addressed would say it ("you live in Bristol" → "I live in Bristol").

    "you" becomes "I" where a subject goes (the clause's start, after a comma or conjunction) and "me" elsewhere;
    first-person words become second-person ones.
    """

    def swap(m: re.Match[str]) -> str:
        word = m.group(0)
        lower = word.lower()
        if lower == "you":
            return "I" if _SUBJECT_SLOT.search(clause[: m.start()]) else "me"
        if lower == "i" and word != "I":  # "i" in lower case is no pronoun
            return word
        return _SWAP[lower]

    return _SWAP_WORD.sub(swap, clause)


def _vocatives(clause: str, names: Sequence[str]) -> str:
    """The clause without the names it addresses ("Lena, you're the vet" → "you're the vet")."""
    for name in names:
        clause = re.sub(rf"^\s*{re.escape(name)}\s*,\s*", "", clause)
        clause = re.sub(rf"\s*,\s*{re.escape(name)}\s*(?=[,.!?;:]|$)", "", clause)
    return clause.strip()


def self_claims(reply: str, speaker: str, everyone: Sequence[str], listener: bool = False) -> str:
    """The reply's first-person clauses that name no other character, names removed: what it claims of itself.

    A clause naming another character is about them ("I trust Trinity"), not a claim about oneself; with `listener`,
    so is one that speaks of the one addressed ("I know you work as a nurse": "you" names the user as a name does).
    Intentions to be something ("I'll be the pilot") are read as claims to be it; quotations of others and questions
    claim nothing.
    """
    others = [a for n in everyone if n != speaker for a in aliases(n, everyone)]
    mine = aliases(speaker, everyone)
    kept = []
    for person, clause in _clauses(reply):
        if person != "first" or any(re.search(rf"\b{re.escape(a)}\b", clause) for a in others):
            continue
        if listener and _LISTENER.search(clause):
            continue
        for alias in mine:
            clause = re.sub(rf",?\s*\b{re.escape(alias)}\b", "", clause)
        kept.append(_sentence(_claimed(clause)))
    return " ".join(k for k in kept if k)


def addressed_claims(reply: str, speaker: str, everyone: Sequence[str]) -> str:
    """The reply's second-person clauses as the one addressed would state them: what it says the listener is.

    "You're the vet, and you live in Bristol, Lena." → "I'm the vet. I live in Bristol.". Names used to address
    someone are removed; a clause naming the speaker ("you're like Rosa") compares rather than claims, and is left out.
    """
    mine = aliases(speaker, everyone)
    others = [a for n in everyone if n != speaker for a in aliases(n, everyone)]
    kept = []
    for person, clause in _clauses(reply):
        clause = _vocatives(clause, others)
        if person != "second" or any(re.search(rf"\b{re.escape(a)}\b", clause) for a in mine):
            continue
        kept.append(_sentence(_claimed(_as_addressee(clause))))
    return " ".join(k for k in kept if k)


class FactClaims:
    """Someone's facts as they would be stated of another, and which of them texts state: facts on the wrong person.

    `facts` are as their owner has them; `stated` the same facts as the texts would put them (rewritten about the
    speaker, `about`, or the speaker's own facts as a listener would say them). The persona-NLI scorer reads each
    text against the stated facts; a fact it finds supported is stated.
    """

    def __init__(
        self, facts: Sequence[str], stated: Sequence[str], nli: NLIModel, relevance: RelevanceModel, speaker: str
    ) -> None:
        self.facts = list(facts)
        supports = default_calibration(nli, relevance.topic_model.name).for_support()
        self.scorer = APCScorer(list(stated), nli=nli, relevance=relevance, names=[speaker], calibration=supports)

    def stated_in(self, query: str, texts: Sequence[str]) -> list[list[str]]:
        """For each text (a reply's claims, e.g. `self_claims`), the facts it states; empty texts cost no NLI call."""
        return [[fact for fact, _sentence in found] for found in self.found_in(query, texts)]

    def found_in(self, query: str, texts: Sequence[str]) -> list[list[tuple[str, str]]]:
        """For each text, (fact, the sentence of the text that states it) for each fact it states (one batch)."""
        found: list[list[tuple[str, str]]] = [[] for _ in texts]
        asked = [i for i, t in enumerate(texts) if t]
        results = self.scorer.score_batch([(query, texts[i]) for i in asked]) if asked else []
        for i, result in zip(asked, results, strict=True):
            found[i] = [
                (fact, score.evidence or texts[i])
                for fact, score in zip(self.facts, result.statements, strict=True)
                if score.supported
            ]
        return found


MAX_USER_FACTS = 32
"""User facts checked per reply (the first ones given: a bound on NLI work per candidate)."""
MAX_TRUE_CACHE = 4096
"""Clauses whose "the persona says it too" verdict a `UserClaims` keeps before starting over."""


class UserClaims:
    """Which of its user's facts a character's reply claims as its own ("I work as a nurse." to "What do I do?").

    The user's facts ("Sam works as a nurse."), rewritten about the character ("Ada works as a nurse."), are scored
    against the reply's first-person clauses that neither name the user nor speak of them ("I know you work as a
    nurse" is about the user). A clause the persona's own statements support is true of the character as well: no
    claim of the user's ("I have a dog." from the owner of a border collie, whatever dog the user has). That check
    runs only for clauses that state a user fact, once per clause.

    Example:
        claims = UserClaims(ada, "Sam", models.nli, models.relevance)
        claims.claimed("What do I do?", ["Sam works as a nurse."], ["I work as a nurse."])
        # [['Sam works as a nurse.']]
    """

    def __init__(self, persona: Persona, user: str, nli: NLIModel, relevance: RelevanceModel) -> None:
        self.char = persona.name
        self.user = user
        self.everyone = [persona.name, user]
        self.nli = nli
        self.relevance = relevance
        supports = default_calibration(nli, relevance.topic_model.name).for_support()
        self.persona = (
            APCScorer(persona, nli=nli, relevance=relevance, calibration=supports) if persona.statements else None
        )
        """The persona's statements, as premises of the clauses that state a user fact."""
        self._true: dict[str, bool] = {}
        """Clause → whether the persona supports it (candidates of one turn often share a sentence)."""

    def claimed(self, query: str, facts: Sequence[str], replies: Sequence[str]) -> list[list[str]]:
        """For each reply to `query`, the user's `facts` (as given) it claims as the character's own.

        No NLI work without facts that name the user or without first-person clauses to find them in.
        """
        rewritten = {f: about(f, self.user, self.char, self.everyone) for f in facts[:MAX_USER_FACTS]}
        rewritten = {f: r for f, r in rewritten.items() if r != f}  # a fact that does not name the user
        claims = [self_claims(r, self.char, self.everyone, listener=True) for r in replies]
        if not rewritten or not any(claims):
            return [[] for _ in replies]
        checker = FactClaims(list(rewritten), list(rewritten.values()), self.nli, self.relevance, self.char)
        found = checker.found_in(query, claims)
        true = self._persona_says(list(dict.fromkeys(sentence for pairs in found for _, sentence in pairs)))
        return [list(dict.fromkeys(fact for fact, sentence in pairs if sentence not in true)) for pairs in found]

    def _persona_says(self, sentences: Sequence[str]) -> set[str]:
        """Those of `sentences` (a reply's first-person clauses) that a persona statement supports."""
        if self.persona is None or not sentences:
            return set()
        if len(self._true) + len(sentences) > MAX_TRUE_CACHE:
            self._true.clear()
        new = [s for s in sentences if s not in self._true]
        if new:
            for sentence, result in zip(new, self.persona.score_batch([("", s) for s in new]), strict=True):
                self._true[sentence] = any(score.supported for score in result.statements)
        return {s for s in sentences if self._true.get(s)}
