"""Role confusion: a reply that writes others' lines, speaks as or for another, or mixes up whose facts are whose.

Rules find the first three (speaker labels, "I am <other>", speech or actions attributed to another) and a line that
repeats what another just said (the embedded model copies the previous speaker's line word for word); the persona-NLI
of `personae.scoring` finds the facts put on the wrong person, from both sides. Each other character's statements,
rewritten about the speaker, are scored against the reply's first-person clauses that name no other character: one
they support is a claim of the other's facts (unless the speaker's own persona says the same). The speaker's own
statements are scored against the reply's second-person clauses, read as the listener would say them ("you live in
Bristol" → "I live in Bristol"): one they support gives the speaker's facts to the listener (unless another character
shares them). Quotations of others' words and questions claim nothing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from difflib import SequenceMatcher
from functools import lru_cache
from typing import Literal

from pydantic import BaseModel, Field

from personae.interop import with_subject
from personae.persona import Persona
from personae.scoring import APCScorer, ScoringModels, split_sentences

ConfusionKind = Literal["writes_lines", "speaks_as", "speaks_for", "echoes", "claims_facts", "gives_facts"]
"""`writes_lines`: a speaker label of another character; `speaks_as`: presents itself as another; `speaks_for`:
speech or actions attributed to another; `echoes`: says (nearly) word for word a line another said in its hearing;
`claims_facts`: states another persona's facts (or takes on its role: "I'll be the pilot") about itself;
`gives_facts`: tells another character that the speaker's own facts are theirs ("you're the vet", from the vet)."""
CONFUSION_KINDS: tuple[ConfusionKind, ...] = (
    "writes_lines",
    "speaks_as",
    "speaks_for",
    "echoes",
    "claims_facts",
    "gives_facts",
)

ECHO_SIMILARITY = 0.85
"""Share of the shorter of two lines found in the other (case, punctuation and spacing ignored; runs of 4 characters
or more) from which one repeats the other."""
ECHO_OF_REPLY = 0.6
"""Share of the reply the copied text must make up (a quotation inside a longer answer is no copy)."""
ECHO_MIN_CHARS = 24
"""Lines (or the shorter of two) under this are not compared: "Good morning!" twice is a greeting, not a copy."""
ECHO_MAX_CHARS = 600
"""Characters of each line compared (a bound on the quadratic comparison)."""
ECHO_LAST_LINES = 6
"""Lines per other speaker compared: the most recent ones heard."""

NARRATOR = "Narrator"
"""The narrator's speaker name: characters hear its lines as `[Narrator] …`."""
_NARRATOR_LINE = re.compile(
    rf"^\s*(?:[*_]*[\[(]\s*{NARRATOR}\s*[\])]|[*_]*{NARRATOR}[*_]*\s*:)", re.MULTILINE | re.IGNORECASE
)
"""A line a character opens as the narrator's (`[Narrator] As Harry attempts to escape, …` or `Narrator: …`)."""

MAX_CLAIM_STATEMENTS = 32
"""Statements per other character checked for claims (the first ones; a bound on NLI work per candidate)."""

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
_SPEECH_VERBS = (
    r"says|said|replies|replied|asks|asked|whispers|whispered|shouts|shouted|adds|added|answers|answered|mutters|"
    r"muttered|exclaims|exclaimed|yells|yelled|continues|continued|responds|responded|snaps|snapped|calls|called"
)

_STATIVE = (
    r"(?:is|was|has|does|knows|seems|thinks|believes|likes|loves|hates|wants|needs|means|deserves|lives|says|sounds"
    r"|looks\s+like|always|never)"
)
"""Verbs (and adverbs) after a name that speak about a character rather than narrate its actions."""


class ConfusionSignal(BaseModel):
    """One piece of evidence of role confusion."""

    kind: ConfusionKind
    """Which kind of confusion."""
    other: str
    """The character spoken for, as, or whose facts were claimed."""
    evidence: str
    """The text that shows it (a line, a phrase, or the claimed statement)."""


class RoleConfusion(BaseModel):
    """The role-confusion verdict of one reply."""

    signals: list[ConfusionSignal] = Field(default_factory=list)
    """Every piece of evidence found (empty: no confusion)."""

    @property
    def confused(self) -> bool:
        """Whether any signal was found."""
        return bool(self.signals)

    @property
    def kinds(self) -> list[ConfusionKind]:
        """The kinds found, without repeats, in the fixed order."""
        found = {s.kind for s in self.signals}
        return [k for k in CONFUSION_KINDS if k in found]


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


class _Patterns:
    """Compiled rule patterns for one other character."""

    def __init__(self, names: Sequence[str]) -> None:
        alt = "|".join(re.escape(n) for n in names)
        # "Ron: …", "**Ron**: …", or a bracketed tag without a colon as the scene writes the narrator's ("[Ron] …")
        self.label = re.compile(
            rf"^\s*(?:[*_\[(\"“]*\s*(?:{alt})\s*[*_\])\"”]*\s*:|[*_]*[\[(]\s*(?:{alt})\s*[\])])", re.MULTILINE
        )
        self.speaks_as = re.compile(
            rf"\b(?:I\s+am|I'm|I’m|my\s+name\s+is|call\s+me|it\s+is\s+I,?|as)\s+(?:{alt})\b(?!['’]s)(?:\s*,\s*I\b)?",
            re.IGNORECASE,
        )
        self.said_before = re.compile(rf"\b(?:{alt})\s+(?:\w+ly\s+)?(?:{_SPEECH_VERBS})\b[^\"“\n]{{0,30}}[\"“]")
        self.said_after = re.compile(rf"[\"”],?\s*(?:{_SPEECH_VERBS})\s+(?:{alt})\b")
        self.acts = re.compile(rf"\*[^*\n]*\b(?:{alt})\s+(?:\w+ly\s+)?[a-z]+(?:s|ed)\b[^*\n]*\*")
        self.narrates = re.compile(rf"^[\s\"“]*(?:{alt})\s+(?:\w+ly\s+)?(?!{_STATIVE}\b)[a-z]+(?<!ss)s\b")


@lru_cache(maxsize=256)
def _patterns(names: tuple[str, ...]) -> _Patterns:
    return _Patterns(names)


def _speaks_as(reply: str, patterns: _Patterns) -> str | None:
    """`I am <other>` and its variants; `as <other>` only when followed by `, I` (not "as Trinity said")."""
    for m in patterns.speaks_as.finditer(reply):
        phrase = m.group(0)
        if phrase.lower().startswith("as ") and not re.search(r",\s*I$", phrase):
            continue
        return phrase
    return None


def _narrates(reply: str, patterns: _Patterns) -> str | None:
    """Plain-prose narration of another's actions: two or more sentences opening with their name and an action verb.

    "Ada looks up. ... Ada starts to search." One such sentence, or verbs of being and knowing ("Ada knows the sea.
    Ada is right."), are too often talk about them.
    """
    hits = [s for s in split_sentences(reply) if patterns.narrates.match(s)]
    return hits[0] if len(hits) >= 2 else None


def rule_signals(reply: str, speaker: str, others: Sequence[str]) -> list[ConfusionSignal]:
    """The rule-based signals of `reply` by `speaker` about each of `others` (at most one per kind and character)."""
    everyone = [speaker, *others]
    signals: list[ConfusionSignal] = []
    if m := _NARRATOR_LINE.search(reply):  # the embedded model went on as the narrator, in the tag it had heard
        signals.append(ConfusionSignal(kind="writes_lines", other=NARRATOR, evidence=reply[m.start() :][:160].strip()))
    for other in others:
        patterns = _patterns(tuple(aliases(other, everyone)))
        if m := patterns.label.search(reply):
            signals.append(ConfusionSignal(kind="writes_lines", other=other, evidence=m.group(0).strip()))
        if phrase := _speaks_as(reply, patterns):
            signals.append(ConfusionSignal(kind="speaks_as", other=other, evidence=phrase))
        m = patterns.said_before.search(reply) or patterns.said_after.search(reply) or patterns.acts.search(reply)
        if m:
            signals.append(ConfusionSignal(kind="speaks_for", other=other, evidence=m.group(0).strip()[:160]))
        elif narration := _narrates(reply, patterns):
            signals.append(ConfusionSignal(kind="speaks_for", other=other, evidence=narration[:160]))
    return signals


def _normal(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9']+", text.lower()))[:ECHO_MAX_CHARS]


def _copied(mine: str, theirs: str) -> bool:
    """Whether `mine` is a copy of `theirs`: most of the shorter found, in order, in the longer, making most of mine.

    A copy after a short prefix of one's own ("Okay, I'll fill out that form. My husband's name is Owen, …") or with a
    few words cut ("I feel sorry but I don't see anyone around. …") is still a copy; quoting a short line inside a
    longer answer ("You say you look around and wait, and I am not so sure.") is not.
    """
    short = min(len(mine), len(theirs))
    if short < ECHO_MIN_CHARS:
        return False
    blocks = SequenceMatcher(None, mine, theirs, autojunk=False).get_matching_blocks()
    shared = sum(m.size for m in blocks if m.size >= 4)
    return shared >= ECHO_SIMILARITY * short and shared >= ECHO_OF_REPLY * len(mine)


def echo_signals(reply: str, heard: Mapping[str, Sequence[str]]) -> list[ConfusionSignal]:
    """`echoes` signals: `reply` repeats nearly word for word a recent line of another speaker.

    `heard` maps each other speaker to the lines the character heard from them, oldest first; one signal per speaker.
    """
    mine = _normal(reply)
    if len(mine) < ECHO_MIN_CHARS:
        return []
    signals = []
    for other, lines in heard.items():
        for line in reversed(lines[-ECHO_LAST_LINES:]):
            if _copied(mine, _normal(line)):
                signals.append(ConfusionSignal(kind="echoes", other=other, evidence=line[:160]))
                break
    return signals


def _about(statement: str, other: str, speaker: str, everyone: Sequence[str]) -> str:
    """`statement` about `other` rewritten about `speaker` (every alias of the other replaced by the speaker's name)."""
    for alias in aliases(other, everyone):
        statement = re.sub(rf"\b{re.escape(alias)}\b", speaker, statement)
    return statement


_FIRST_PERSON = re.compile(r"\b(?:I|I'm|I’m|I've|I’ve|I'd|I’d|I'll|I’ll|me|my|mine|myself)\b")
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


def self_claims(reply: str, speaker: str, everyone: Sequence[str]) -> str:
    """The reply's first-person clauses that name no other character, names removed: what it claims of itself.

    A clause naming another character is about them ("I trust Trinity"), not a claim about oneself. Intentions to be
    something ("I'll be the pilot") are read as claims to be it; quotations of others and questions claim nothing.
    """
    others = [a for n in everyone if n != speaker for a in aliases(n, everyone)]
    mine = aliases(speaker, everyone)
    kept = []
    for person, clause in _clauses(reply):
        if person != "first" or any(re.search(rf"\b{re.escape(a)}\b", clause) for a in others):
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


class ConfusionDetector:
    """Finds role confusion in a character's replies, by rule and (with scoring models) by persona-NLI.

    Example:
        detector = ConfusionDetector(neo, [neo, trinity], models)
        detector.detect("What now?", "Trinity: I'll go first.").kinds   # ['writes_lines']
    """

    def __init__(self, speaker: Persona, cast: Sequence[Persona], models: ScoringModels | None = None) -> None:
        self.speaker = speaker
        self.cast = [p for p in cast if p.name != speaker.name]
        self.everyone = [speaker.name, *(p.name for p in self.cast)]
        # A statement without a subject ("Rides a black motorcycle.", as CharacterBox descriptions have them) is
        # about its own character: given the name, it can be rewritten about another like any other statement.
        mine = [with_subject(s, speaker.name) for s in speaker.statements[:MAX_CLAIM_STATEMENTS]]
        named = {p.name: [with_subject(s, p.name) for s in p.statements[:MAX_CLAIM_STATEMENTS]] for p in self.cast}
        own = {s.casefold() for s in mine}
        self._claims: dict[str, tuple[list[str], APCScorer]] = {}
        """Other character → (its statements, a scorer of them rewritten as the speaker's)."""
        self._given: tuple[list[str], APCScorer] | None = None
        """(The speaker's statements no other character shares, a scorer of them as the listener's claims)."""
        if models is None:
            return
        for other in self.cast:
            originals = other.statements[:MAX_CLAIM_STATEMENTS]
            rewritten = [_about(s, other.name, speaker.name, self.everyone) for s in named[other.name]]
            keep = [(o, r) for o, r in zip(originals, rewritten, strict=True) if r.casefold() not in own and r != o]
            if keep:
                scorer = APCScorer(
                    [r for _, r in keep], nli=models.nli, relevance=models.relevance, names=[speaker.name]
                )
                self._claims[other.name] = ([o for o, _ in keep], scorer)
        theirs = {_about(s, other, speaker.name, self.everyone).casefold() for other, ss in named.items() for s in ss}
        originals = speaker.statements[:MAX_CLAIM_STATEMENTS]
        given = [(o, m) for o, m in zip(originals, mine, strict=True) if m.casefold() not in theirs]
        if given:
            scorer = APCScorer([m for _, m in given], nli=models.nli, relevance=models.relevance, names=[speaker.name])
            self._given = ([o for o, _ in given], scorer)

    def detect(
        self,
        query: str,
        reply: str,
        present: Sequence[str] | None = None,
        heard: Mapping[str, Sequence[str]] | None = None,
    ) -> RoleConfusion:
        """The verdict on one reply.

        `present` limits the rules to the characters in the scene at the time; `heard` (speaker → the lines the
        character heard from them) is what an echo is compared with.
        """
        return self.detect_batch(query, [reply], present, heard)[0]

    def detect_batch(
        self,
        query: str,
        replies: Sequence[str],
        present: Sequence[str] | None = None,
        heard: Mapping[str, Sequence[str]] | None = None,
    ) -> list[RoleConfusion]:
        """Verdicts on several candidate replies to one query (the NLI work batched per other character).

        Beyond the rules, two checks by persona-NLI: `claims_facts` scores each other character's statements,
        rewritten about the speaker, against what the reply says of the speaker (its first-person clauses);
        `gives_facts` scores the speaker's own statements against what it tells its listener they are (its
        second-person clauses, as the listener would say them). Both are one mechanism, a character's facts found in
        what the reply says about the wrong person, seen from each side.
        """
        others = [n for n in self.everyone[1:] if present is None or n in present]
        verdicts = [RoleConfusion(signals=rule_signals(r, self.speaker.name, others)) for r in replies]
        if heard:
            spoken = {who: lines for who, lines in heard.items() if who != self.speaker.name}
            for reply, verdict in zip(replies, verdicts, strict=True):
                verdict.signals.extend(echo_signals(reply, spoken))
        if not others:
            return verdicts
        claims = [self_claims(r, self.speaker.name, self.everyone) for r in replies]
        for other in others:
            if other not in self._claims:
                continue
            originals, scorer = self._claims[other]
            _supported(scorer, query, claims, originals, verdicts, "claims_facts", [other] * len(replies))
        if self._given is not None:
            originals, scorer = self._given
            told = [addressed_claims(r, self.speaker.name, self.everyone) for r in replies]
            listeners = [_listener(r, others, self.everyone) for r in replies]
            _supported(scorer, query, told, originals, verdicts, "gives_facts", listeners)
        return verdicts


def _supported(
    scorer: APCScorer,
    query: str,
    texts: Sequence[str],
    originals: Sequence[str],
    verdicts: Sequence[RoleConfusion],
    kind: ConfusionKind,
    whom: Sequence[str],
) -> None:
    """Add a `kind` signal about `whom[i]` to verdict i for each statement text i supports (one batch for all)."""
    asked = [i for i, t in enumerate(texts) if t]
    results = scorer.score_batch([(query, texts[i]) for i in asked]) if asked else []
    for i, result in zip(asked, results, strict=True):
        for original, score in zip(originals, result.statements, strict=True):
            if score.supported:
                verdicts[i].signals.append(ConfusionSignal(kind=kind, other=whom[i], evidence=original))


def _listener(reply: str, present: Sequence[str], everyone: Sequence[str]) -> str:
    """Whom the reply speaks to: the first present character it names, else the only one present, else "someone"."""
    for name in present:
        if any(re.search(rf"\b{re.escape(a)}\b", reply) for a in aliases(name, everyone)):
            return name
    return present[0] if len(present) == 1 else "someone"


def confusion_rates(verdicts: Mapping[str, Sequence[RoleConfusion]]) -> dict[str, float]:
    """Character → share of its replies with any role confusion."""
    return {name: sum(v.confused for v in vs) / len(vs) for name, vs in verdicts.items() if vs}
