"""Preference pairs from the guard's stored candidates, in TRL's conversational DPO format.

For each stored turn, candidates are compared by normalised APC: chosen = higher, rejected = lower, kept when the
gap exceeds the margin. The prompt is the one the first round of candidates was generated from.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, Literal

from pydantic import BaseModel

from personae.guard import Candidate
from personae.store import SessionRecord

PairStrategy = Literal["best-vs-rest", "all"]
"""`best-vs-rest`: the top candidate against each clearly worse one; `all`: every pair with a large enough gap."""


class PreferencePair(BaseModel):
    """One DPO record: `prompt` messages, `chosen` and `rejected` assistant messages, and where it came from."""

    prompt: list[dict[str, str]]
    """The conversation up to the user's message (system prompt included)."""
    chosen: list[dict[str, str]]
    """The preferred assistant reply, as a one-message list."""
    rejected: list[dict[str, str]]
    """The dispreferred assistant reply, as a one-message list."""
    meta: dict[str, Any]
    """Session, turn, candidate indices and both scores."""


def _scored(candidates: Iterable[Candidate]) -> list[Candidate]:
    return [c for c in candidates if c.apc_normalized is not None and c.text.strip()]


def preference_pairs(
    sessions: Iterable[SessionRecord], margin: float = 0.2, strategy: PairStrategy = "best-vs-rest"
) -> Iterator[PreferencePair]:
    """Yield pairs from every turn of `sessions` whose candidates differ in normalised APC by more than `margin`."""
    for session in sessions:
        for turn in session.turns:
            ranked = sorted(_scored(turn.candidates), key=lambda c: -(c.apc_normalized or 0.0))
            if len(ranked) < 2:
                continue
            prompt = [m.model_dump() for m in turn.prompt.messages]
            winners = ranked[:1] if strategy == "best-vs-rest" else ranked
            for i, better in enumerate(winners):
                for worse in ranked[i + 1 :]:
                    gap = (better.apc_normalized or 0.0) - (worse.apc_normalized or 0.0)
                    if gap <= margin:
                        continue
                    yield PreferencePair(
                        prompt=prompt,
                        chosen=[{"role": "assistant", "content": better.text}],
                        rejected=[{"role": "assistant", "content": worse.text}],
                        meta={
                            "session": session.id,
                            "persona": session.persona.name,
                            "turn": turn.index,
                            "chosen_index": better.index,
                            "rejected_index": worse.index,
                            "chosen_apc_normalized": better.apc_normalized,
                            "rejected_apc_normalized": worse.apc_normalized,
                            "chosen_violations": len(better.violations),
                            "rejected_violations": len(worse.violations),
                            "gap": gap,
                        },
                    )
