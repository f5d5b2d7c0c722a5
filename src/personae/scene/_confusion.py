"""Role confusion: a reply that writes others' lines, speaks as or for another, or mixes up whose facts are whose.

Rules find the first three (speaker labels, "I am <other>", speech or actions attributed to another) and a line that
repeats what another just said (the embedded model copies the previous speaker's line word for word); the persona-NLI
of `personae.scoring` (`FactClaims`, over the clauses `self_claims` and `addressed_claims` read) finds the facts put
on the wrong person, from both sides. Each other character's statements,
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
from personae.scoring import FactClaims, ScoringModels, about, addressed_claims, aliases, self_claims, split_sentences

ConfusionKind = Literal["writes_lines", "speaks_as", "speaks_for", "echoes", "recites", "claims_facts", "gives_facts"]
"""`writes_lines`: a speaker label of another character; `speaks_as`: presents itself as another; `speaks_for`:
speech or actions attributed to another; `echoes`: says (nearly) word for word a line another said in its hearing;
`recites`: reads out another's persona statement, full name and all ("Rosa Marsh is allergic to cats.", from her
twin); `claims_facts`: states another persona's facts (or takes on its role: "I'll be the pilot") about itself;
`gives_facts`: tells another character that the speaker's own facts are theirs ("you're the vet", from the vet)."""
CONFUSION_KINDS: tuple[ConfusionKind, ...] = (
    "writes_lines",
    "speaks_as",
    "speaks_for",
    "echoes",
    "recites",
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
ECHO_SENTENCE_WORDS = 6
"""Words a sentence of the reply needs to count as a copy on its own, inside a longer reply of other sentences: a
six-word sentence found nearly whole in another's line is not chance ("As the person who is hiding from you, I cannot
participate in such behavior.", taken from the line before); "Let's go, then!" after "Let's go!" is."""
ECHO_SENTENCE_RUN = 0.6
"""Share of such a sentence one unbroken stretch of the other's line must cover."""

NARRATOR = "Narrator"
"""The narrator's speaker name: characters hear its lines as `[Narrator] …`."""
_NARRATOR_LINE = re.compile(
    rf"^\s*(?:[*_]*[\[(]\s*{NARRATOR}\s*[\])]|[*_]*{NARRATOR}[*_]*\s*:)", re.MULTILINE | re.IGNORECASE
)
"""A line a character opens as the narrator's (`[Narrator] As Harry attempts to escape, …` or `Narrator: …`)."""

MAX_CLAIM_STATEMENTS = 32
"""Statements per other character checked for claims (the first ones; a bound on NLI work per candidate)."""

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
        # an action of theirs inside the reply's narration: *…*, or the [ … ] and ( … ) the embedded model also writes
        # narration in ("[… She looks at Lena, who looks embarrassed but continues. …]")
        # (in brackets, which also hold asides, not with a verb of being or knowing: "(Trinity is right, mind.)")
        act = rf"\b(?:{alt})(?:,?\s+who)?\s+(?:\w+ly\s+)?[a-z]+(?:s|ed)\b"
        deed = rf"\b(?:{alt})(?:,?\s+who)?\s+(?:\w+ly\s+)?(?!{_STATIVE}\b)[a-z]+(?:s|ed)\b"
        self.acts = re.compile(rf"\*[^*\n]*{act}[^*\n]*\*|\[[^\]\n]*{deed}[^\]\n]*\]|\([^)\n]*{deed}[^)\n]*\)")
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


def _copied(mine: str, theirs: str, run: float = 0.0) -> bool:
    """Whether `mine` is a copy of `theirs`: most of the shorter found, in order, in the longer, making most of mine.

    A copy after a short prefix of one's own ("Okay, I'll fill out that form. My husband's name is Owen, …") or with a
    few words cut ("I feel sorry but I don't see anyone around. …") is still a copy; quoting a short line inside a
    longer answer ("You say you look around and wait, and I am not so sure.") is not. `run`: the share of the
    shorter that one unbroken stretch must cover (for single sentences, whose few words scattered 4-character matches
    cover too easily: "I then sign on the line with my writing hand." is no copy of "… and sign on the line with your
    writing hand.").
    """
    short = min(len(mine), len(theirs))
    if short < ECHO_MIN_CHARS:
        return False
    blocks = SequenceMatcher(None, mine, theirs, autojunk=False).get_matching_blocks()
    shared = sum(m.size for m in blocks if m.size >= 4)
    longest = max(m.size for m in blocks)
    return shared >= ECHO_SIMILARITY * short and shared >= ECHO_OF_REPLY * len(mine) and longest >= run * short


_REPORTED = re.compile(rf"\b(?:{_SPEECH_VERBS}|say|tell|told)\b[^.!?\n]{{0,30}}[:,]?\s*[\"“']?\s*$", re.IGNORECASE)
"""The words before a quotation that report it as someone else's ("You said: \"…\"", "as Ron told us, …")."""
_REPORTING = re.compile(rf"^[\W_]*(?:[\w']+[\s,]+){{0,3}}(?:{_SPEECH_VERBS}|say|tell|told)\b", re.IGNORECASE)
"""A sentence that opens by reporting another's words ("You say you look around and wait, and …")."""


def _copied_sentences(reply: str, names: Sequence[str] = ()) -> list[str]:
    """The sentences of `reply` long enough to be compared on their own, normalised; reported speech left out.

    The characters' `names` do not count towards the length: "I hear you, Captain Iris Vega." is a short greeting.
    """
    name_words = {w for n in names for w in _normal(n).split()}
    found = []
    for sentence in split_sentences(reply):
        start = reply.find(sentence)
        if _REPORTING.match(sentence) or (start > 0 and _REPORTED.search(reply[max(0, start - 60) : start])):
            continue  # what another said, reported as theirs
        normal = _normal(sentence)
        words = [w for w in normal.split() if w not in name_words]
        if len(words) >= ECHO_SENTENCE_WORDS and len(normal) >= ECHO_MIN_CHARS:
            found.append(normal)
    return found


def echo_signals(reply: str, heard: Mapping[str, Sequence[str]], names: Sequence[str] = ()) -> list[ConfusionSignal]:
    """`echoes` signals: `reply` repeats nearly word for word a recent line of another speaker, or a sentence of one.

    The whole reply is compared first; then each of its longer sentences on its own, since the embedded model also
    copies a sentence of the line before into an answer of its own ("… I cannot participate in such behavior. I
    understand why you're feeling uncomfortable. …"), which a whole-line comparison misses. A sentence reported as
    another's words ("You said: …") is no copy. `heard` maps each other speaker to the lines the character heard from
    them, oldest first; one signal per speaker. `names`: the characters' names (beside the speakers in `heard`),
    which do not make a sentence long enough to count.
    """
    mine = _normal(reply)
    if len(mine) < ECHO_MIN_CHARS:
        return []
    sentences = _copied_sentences(reply, [*names, *heard])
    signals = []
    for other, lines in heard.items():
        for line in reversed(lines[-ECHO_LAST_LINES:]):
            theirs = _normal(line)
            if _copied(mine, theirs) or any(_copied(s, theirs, ECHO_SENTENCE_RUN) for s in sentences):
                signals.append(ConfusionSignal(kind="echoes", other=other, evidence=line[:160]))
                break
    return signals


RECITAL_OPENING = 3
"""Words after the name a sentence must share with the opening of a statement to read it out with another value
("Rosa Marsh is married to an airline pilot named Owen." for "Rosa Marsh is married to a schoolteacher named Owen.")."""


def _recited(mine: str, statement: str, name: str) -> bool:
    """Whether the normalised sentence `mine` reads out `statement`: a near copy, or its opening words then others."""
    if _copied(mine, statement):
        return True
    words = statement.split()
    opening = len(name.split()) + RECITAL_OPENING
    return len(words) > opening and statement.startswith(name) and mine.split()[:opening] == words[:opening]


def recital_signals(reply: str, sheets: Mapping[str, Sequence[str]]) -> list[ConfusionSignal]:
    """`recites` signals: a sentence of `reply` that is, nearly word for word, a statement of another's persona.

    `sheets` maps each other character to its statements, each about it by name. Only full names of two words or
    more count, and a sentence counts when it is a near copy of a statement or opens with the statement's name and
    next `RECITAL_OPENING` words ("Rosa Marsh is married to an educator named Owen."): people speak of those they
    know by a first name, the character sheet by the full one, which is what the embedded model reads out when a
    scene asks about the others. Questions, and words reported as another's, recite nothing. One signal per
    character.
    """
    sentences = [
        s for s in split_sentences(reply) if not s.rstrip(" \"'”’*_").endswith("?") and not _REPORTING.match(s)
    ]
    signals = []
    for other, statements in sheets.items():
        full = _normal(other)
        if len(full.split()) < 2:
            continue
        normal = [_normal(st) for st in statements]
        for sentence in sentences:
            mine = _normal(sentence)
            if f" {full} " in f" {mine} " and any(_recited(mine, st, full) for st in normal):
                signals.append(ConfusionSignal(kind="recites", other=other, evidence=sentence.strip()[:160]))
                break
    return signals


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
        self._sheets = named
        """Other character → its statements about it by name, as a recital would read them out."""
        self._claims: dict[str, FactClaims] = {}
        """Other character → its statements, rewritten as the speaker's."""
        self._given: FactClaims | None = None
        """The speaker's statements no other character shares, as the listener's claims."""
        if models is None:
            return
        for other in self.cast:
            originals = other.statements[:MAX_CLAIM_STATEMENTS]
            rewritten = [about(s, other.name, speaker.name, self.everyone) for s in named[other.name]]
            keep = [(o, r) for o, r in zip(originals, rewritten, strict=True) if r.casefold() not in own and r != o]
            if keep:
                self._claims[other.name] = FactClaims(
                    [o for o, _ in keep], [r for _, r in keep], models.nli, models.relevance, speaker.name
                )
        theirs = {about(s, other, speaker.name, self.everyone).casefold() for other, ss in named.items() for s in ss}
        originals = speaker.statements[:MAX_CLAIM_STATEMENTS]
        given = [(o, m) for o, m in zip(originals, mine, strict=True) if m.casefold() not in theirs]
        if given:
            self._given = FactClaims(
                [o for o, _ in given], [m for _, m in given], models.nli, models.relevance, speaker.name
            )

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
                verdict.signals.extend(echo_signals(reply, spoken, self.everyone))
        sheets = {other: self._sheets[other] for other in others}
        for reply, verdict in zip(replies, verdicts, strict=True):
            verdict.signals.extend(recital_signals(reply, sheets))
        if not others:
            return verdicts
        claims = [self_claims(r, self.speaker.name, self.everyone) for r in replies]
        for other in others:
            if other in self._claims:
                _signal(self._claims[other], query, claims, verdicts, "claims_facts", [other] * len(replies))
        if self._given is not None:
            told = [addressed_claims(r, self.speaker.name, self.everyone) for r in replies]
            listeners = [_listener(r, others, self.everyone) for r in replies]
            _signal(self._given, query, told, verdicts, "gives_facts", listeners)
        return verdicts


def _signal(
    facts: FactClaims,
    query: str,
    texts: Sequence[str],
    verdicts: Sequence[RoleConfusion],
    kind: ConfusionKind,
    whom: Sequence[str],
) -> None:
    """Add a `kind` signal about `whom[i]` to verdict i for each fact text i states (one batch for all)."""
    for verdict, stated, other in zip(verdicts, facts.stated_in(query, texts), whom, strict=True):
        verdict.signals.extend(ConfusionSignal(kind=kind, other=other, evidence=fact) for fact in stated)


def _listener(reply: str, present: Sequence[str], everyone: Sequence[str]) -> str:
    """Whom the reply speaks to: the first present character it names, else the only one present, else "someone"."""
    for name in present:
        if any(re.search(rf"\b{re.escape(a)}\b", reply) for a in aliases(name, everyone)):
            return name
    return present[0] if len(present) == 1 else "someone"


def confusion_rates(verdicts: Mapping[str, Sequence[RoleConfusion]]) -> dict[str, float]:
    """Character → share of its replies with any role confusion."""
    return {name: sum(v.confused for v in vs) / len(vs) for name, vs in verdicts.items() if vs}


_CORRECTION: dict[ConfusionKind, str] = {
    "writes_lines": "it wrote {other}'s lines with a speaker label",
    "speaks_as": "it spoke as {other}",
    "speaks_for": "it said or did things for {other}: {evidence}",
    "echoes": "it repeated {other}'s words instead of your own: {evidence}",
    "recites": "it read out {other}'s facts word for word instead of speaking for yourself: {evidence}",
    "claims_facts": "it claimed something true of {other} as yours: {evidence}",
    "gives_facts": "it told {other} that something true of you is theirs: {evidence}",
}
"""How the corrective instruction names each kind of role confusion."""

CORRECTION_SIGNALS = 4
"""Signals a corrective instruction names at most (the first, without repeats): a longer list buries the rule."""


def confusion_instruction(speaker: str, audience: str, verdicts: Sequence[RoleConfusion]) -> str:
    """The instruction for a regeneration after every draft was role-confused: the rule, then what the drafts did.

    Naming what went wrong ("it repeated Ron's words: …") rather than only the rule gives the model something to
    avoid: the embedded model repeats the line before it whenever the rule alone is said.
    """
    seen: list[str] = []
    for verdict in verdicts:
        for signal in verdict.signals:
            evidence = " ".join(signal.evidence.split())
            evidence = evidence if len(evidence) <= 120 else evidence[:119].rstrip() + "…"
            line = _CORRECTION[signal.kind].format(other=signal.other, evidence=f'"{evidence}"')
            if line not in seen:
                seen.append(line)
    lines = [
        f"Important: a draft of your reply spoke for someone else. You are {speaker} only: do not write lines, "
        f"speech or actions of {audience}, do not use speaker labels, do not repeat what others said, do not claim "
        "their facts as yours or tell them yours are theirs."
    ]
    if seen:
        lines.append("What the drafts did:")
        lines.extend(f"- {line}" for line in seen[:CORRECTION_SIGNALS])
    lines.append(f"Write a new reply as {speaker}, in your own words, about yourself.")
    return "\n".join(lines)
