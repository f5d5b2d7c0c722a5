"""Role confusion: a reply that writes other characters' lines, speaks as or for another, or claims their facts.

Rules find the first three (speaker labels, "I am <other>", speech or actions attributed to another); the persona-NLI
of `personae.scoring` finds the fourth: each other character's statements, rewritten about the speaker, are scored
against the reply's first-person sentences that name no other character, and a statement they support is a claim of
the other's facts (unless the speaker's own persona says the same).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Literal

from pydantic import BaseModel, Field

from personae.interop import with_subject
from personae.persona import Persona
from personae.scoring import APCScorer, ScoringModels, split_sentences

ConfusionKind = Literal["writes_lines", "speaks_as", "speaks_for", "claims_facts"]
"""`writes_lines`: a speaker label of another character; `speaks_as`: presents itself as another; `speaks_for`:
speech or actions attributed to another; `claims_facts`: states another persona's facts about itself."""
CONFUSION_KINDS: tuple[ConfusionKind, ...] = ("writes_lines", "speaks_as", "speaks_for", "claims_facts")

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
        self.label = re.compile(rf"^\s*[*_\[(\"“]*\s*(?:{alt})\s*[*_\])\"”]*\s*:", re.MULTILINE)
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


def _about(statement: str, other: str, speaker: str, everyone: Sequence[str]) -> str:
    """`statement` about `other` rewritten about `speaker` (every alias of the other replaced by the speaker's name)."""
    for alias in aliases(other, everyone):
        statement = re.sub(rf"\b{re.escape(alias)}\b", speaker, statement)
    return statement


_FIRST_PERSON = re.compile(r"\b(?:I|I'm|I’m|I've|I’ve|I'd|I’d|I'll|I’ll|me|my|mine|myself)\b")


def self_claims(reply: str, speaker: str, everyone: Sequence[str]) -> str:
    """The reply's first-person sentences that name no other character, names removed: what it claims of itself.

    A sentence naming another character is about them ("you command the ship, Vega"), not a claim about oneself.
    """
    others = [a for n in everyone if n != speaker for a in aliases(n, everyone)]
    mine = aliases(speaker, everyone)
    kept = []
    for sentence in split_sentences(reply):
        if not _FIRST_PERSON.search(sentence):
            continue
        if any(re.search(rf"\b{re.escape(a)}\b", sentence) for a in others):
            continue
        for alias in mine:
            sentence = re.sub(rf",?\s*\b{re.escape(alias)}\b", "", sentence)
        kept.append(sentence.strip())
    return " ".join(kept)


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
        own = {with_subject(s, speaker.name).casefold() for s in speaker.statements}
        self._claims: dict[str, tuple[list[str], APCScorer]] = {}
        """Other character → (its statements as rewritten, a scorer of them as the speaker's)."""
        if models is None:
            return
        for other in self.cast:
            originals = other.statements[:MAX_CLAIM_STATEMENTS]
            # A statement without a subject ("Rides a black motorcycle.", as CharacterBox descriptions have them) is
            # about its own character: given the name, it can be rewritten about the speaker like any other.
            named = [with_subject(s, other.name) for s in originals]
            rewritten = [_about(s, other.name, speaker.name, self.everyone) for s in named]
            keep = [(o, r) for o, r in zip(originals, rewritten, strict=True) if r.casefold() not in own and r != o]
            if keep:
                scorer = APCScorer(
                    [r for _, r in keep], nli=models.nli, relevance=models.relevance, names=[speaker.name]
                )
                self._claims[other.name] = ([o for o, _ in keep], scorer)

    def detect(self, query: str, reply: str, present: Sequence[str] | None = None) -> RoleConfusion:
        """The verdict on one reply; `present` limits the rules to the characters in the scene at the time."""
        return self.detect_batch(query, [reply], present)[0]

    def detect_batch(
        self, query: str, replies: Sequence[str], present: Sequence[str] | None = None
    ) -> list[RoleConfusion]:
        """Verdicts on several candidate replies to one query (the NLI work batched per other character)."""
        others = [n for n in self.everyone[1:] if present is None or n in present]
        verdicts = [RoleConfusion(signals=rule_signals(r, self.speaker.name, others)) for r in replies]
        for other in others:
            if other not in self._claims:
                continue
            originals, scorer = self._claims[other]
            claims = [self_claims(r, self.speaker.name, self.everyone) for r in replies]
            asked = [i for i, c in enumerate(claims) if c]
            results = scorer.score_batch([(query, claims[i]) for i in asked]) if asked else []
            for i, result in zip(asked, results, strict=True):
                verdict = verdicts[i]
                for original, score in zip(originals, result.statements, strict=True):
                    if score.supported:
                        verdict.signals.append(ConfusionSignal(kind="claims_facts", other=other, evidence=original))
        return verdicts


def confusion_rates(verdicts: Mapping[str, Sequence[RoleConfusion]]) -> dict[str, float]:
    """Character → share of its replies with any role confusion."""
    return {name: sum(v.confused for v in vs) / len(vs) for name, vs in verdicts.items() if vs}
