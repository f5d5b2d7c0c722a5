"""Helpers shared by the built-in tasks."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

from personae.guard import Candidate
from personae.store import TurnRecord


def slug(text: str) -> str:
    """`Expected Action` → `expected_action`."""
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def item_seed(seed: int, item_id: str) -> int:
    """A per-item seed derived from the run's seed, stable across runs and processes."""
    return (seed * 1_000_003 + int(hashlib.sha256(item_id.encode()).hexdigest()[:8], 16)) % 2**31


def shown(turn: TurnRecord) -> Candidate:
    """The candidate the runtime chose to show."""
    candidate = turn.shown
    if candidate is None:
        raise RuntimeError("the runtime returned a turn without a reply")
    return candidate


def ooc_scores(candidates: Sequence[Candidate]) -> dict[str, float]:
    """`ooc`: the share of the agent's shown replies that the OOC detector judged out of character (if it ran)."""
    judged = [c.out_of_character for c in candidates if c.ooc is not None]
    return {"ooc": sum(judged) / len(judged)} if judged else {}
