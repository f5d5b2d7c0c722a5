"""Turn-taking: who speaks next under each policy, and why.

Every policy sees the participants present (characters, and the user when they take part), the last speaker and the
last line. Draws come from a generator seeded per turn, so a resumed scene makes the same choices.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Mapping, Sequence
from typing import NamedTuple

from personae.backends import Backend, BackendError, GenerateConfig, Message
from personae.evals import parse_object
from personae.scoring import aliases


class SpeakerChoice(NamedTuple):
    """The next speaker and the reason the policy gives."""

    speaker: str
    why: str


def mentions(text: str, names: Sequence[str]) -> list[str]:
    """Names (or unambiguous parts of them) mentioned in `text`, in order of first mention."""
    found: list[tuple[int, str]] = []
    for name in names:
        spots = [m.start() for a in aliases(name, names) for m in re.finditer(rf"\b{re.escape(a)}\b", text)]
        if spots:
            found.append((min(spots), name))
    return [name for _, name in sorted(found)]


def _vocatives(text: str, names: Sequence[str]) -> list[str]:
    """Names addressed directly: at the start of a sentence or before a comma, `?` or `!`, or after a greeting."""
    out: list[str] = []
    for name in names:
        alt = "|".join(re.escape(a) for a in aliases(name, names))
        opener = r"(?:^|[.!?]\s+|\b(?:hey|oh|well|look|listen|thanks|thank you),?\s+)"
        if re.search(rf"{opener}(?:{alt})\b\s*[,!?]|,\s*(?:{alt})\s*[?!.]", text, re.IGNORECASE):
            out.append(name)
    return out


def round_robin(order: Sequence[str], present: Sequence[str], last: str | None) -> SpeakerChoice:
    """The next participant present after `last`, in the scene's order."""
    here = [n for n in order if n in present]
    if last not in order:
        return SpeakerChoice(here[0], "round-robin: first in order")
    start = order.index(last)
    for step in range(1, len(order) + 1):
        candidate = order[(start + step) % len(order)]
        if candidate in here:
            return SpeakerChoice(candidate, f"round-robin: after {last}")
    return SpeakerChoice(here[0], "round-robin")


def addressed(order: Sequence[str], present: Sequence[str], last: str | None, text: str) -> SpeakerChoice:
    """Whoever the last line addresses (else the last one it names); round-robin when it names no one."""
    others = [n for n in order if n in present and n != last]
    called = _vocatives(text, others)
    if called:
        return SpeakerChoice(called[0], f"addressed: {last or 'the last line'} spoke to {called[0]}")
    named = mentions(text, others)
    if named:
        return SpeakerChoice(named[-1], f"addressed: {last or 'the last line'} named {named[-1]}")
    choice = round_robin(order, present, last)
    return SpeakerChoice(choice.speaker, f"addressed: no one named; {choice.why}")


def natural(
    order: Sequence[str],
    present: Sequence[str],
    last: str | None,
    text: str,
    talkativeness: Mapping[str, float],
    rng: random.Random,
) -> SpeakerChoice:
    """SillyTavern's natural order: characters mentioned in the last line first, then talkativeness.

    Without a mention, each present character speaks with its talkativeness as probability (in random order); if
    none does, one at random. The last speaker does not follow itself while someone else is present.
    """
    others = [n for n in order if n in present and n != last] or [n for n in order if n in present]
    named = mentions(text, others)
    if named:
        return SpeakerChoice(named[0], f"natural: mentioned by {last or 'the last line'}")
    shuffled = list(others)
    rng.shuffle(shuffled)
    for name in shuffled:
        chance = talkativeness.get(name, 0.5)
        if rng.random() < chance:
            return SpeakerChoice(name, f"natural: talkativeness {chance:.2f}")
    pick = rng.choice(others)
    return SpeakerChoice(pick, "natural: nobody volunteered; picked at random")


DIRECTOR_PROMPT = (
    "You direct a scene with several characters. Decide who speaks next so that the scene moves on naturally: "
    "someone who was addressed, who has a reason to react, or who has been quiet too long. Answer with JSON only: "
    '{"speaker": "<one name from the list>", "why": "<one short sentence>"}'
)


async def direct(
    backend: Backend,
    order: Sequence[str],
    present: Sequence[str],
    last: str | None,
    transcript: Sequence[str],
    seed: int,
) -> SpeakerChoice:
    """Ask the director backend; an unreadable answer or an unknown name falls back to round-robin (and says so)."""
    here = [n for n in order if n in present]
    lines = "\n".join(transcript[-12:]) or "(the scene has not begun)"
    user = f"Characters present: {json.dumps(here)}\nLast speaker: {last or 'nobody'}\n\nThe scene so far:\n{lines}"
    config = GenerateConfig(temperature=0.0, max_tokens=80, seed=seed)
    fallback = round_robin(order, present, last)
    try:
        output = await backend.generate(
            [Message(role="system", content=DIRECTOR_PROMPT), Message(role="user", content=user)], config
        )
    except BackendError as exc:
        return SpeakerChoice(fallback.speaker, f"director failed ({exc}); {fallback.why}")
    parsed = parse_object(output.text)
    speaker = str(parsed.value.get("speaker", "")).strip() if parsed else ""
    match = next((n for n in here if n.casefold() == speaker.casefold()), None)
    if match is None:
        match = next(
            (n for n in here if speaker and speaker.casefold() in {a.casefold() for a in aliases(n, here)}), None
        )
    if match is None:
        return SpeakerChoice(fallback.speaker, f"director's answer unusable ({output.text[:80]!r}); {fallback.why}")
    why = str(parsed.value.get("why", "")).strip()[:300] if parsed else ""
    return SpeakerChoice(match, f"director: {why or 'no reason given'}")
