"""Value types of the guard: a scored candidate reply and the outcome of one guarded turn."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from personae.guard._diversity import Diversity
from personae.scoring import APCResult, Contradiction, OOCResult, StatementScore

GuardPolicy = Literal["off", "best-of-n", "threshold"]
"""`off`: one reply, scored; `best-of-n`: n candidates, keep the most faithful; `threshold`: best-of-n, then one
corrective regeneration if the best still contradicts the persona, leaves the role, or goes along with a false premise
of the user's message."""

GUARD_POLICIES: tuple[GuardPolicy, ...] = ("off", "best-of-n", "threshold")


class Candidate(BaseModel):
    """One generated reply with its faithfulness scores (a swipe)."""

    index: int
    """Position within its turn, counting across rounds and regenerations."""
    round: int = 0
    """0 for the first sampling; each corrective or user-requested regeneration adds one."""
    text: str
    """The reply text."""
    finish_reason: str | None = None
    """Why generation stopped (`stop`, `length`, ...), as the backend reported it."""
    result: APCResult | None = None
    """APC score and per-statement explanation; None when no scorer was available."""
    contradictions: list[Contradiction] = Field(default_factory=list)
    """Sentences contradicting the character's own earlier replies in the session."""
    ooc: OOCResult | None = None
    """Out-of-character verdict; None when no detector was available."""
    claimed_user_facts: list[str] = Field(default_factory=list)
    """Facts about the user, as remembered ("Sam works as a nurse."), that the reply claims as the character's own
    ("I work as a nurse."); empty when none or when no user facts were checked."""
    guard_skipped: str | None = None
    """Why the guard never judged this reply (e.g. fields passed through to the upstream): it is the upstream's reply
    as given, neither scored nor chosen among others. None when the guard ran, whatever its policy."""

    @property
    def violations(self) -> list[StatementScore]:
        """Persona statements this reply contradicts."""
        return self.result.violations if self.result else []

    @property
    def apc_normalized(self) -> float | None:
        """Normalised APC in [0, 1], if scored."""
        return self.result.apc_normalized if self.result else None

    @property
    def problems(self) -> int:
        """Persona violations, self-contradictions and user facts claimed: what the guard minimises after OOC.

        A user fact the character claims as its own misleads as much as a broken persona fact, so each counts as one.
        """
        return len(self.violations) + len(self.contradictions) + len(self.claimed_user_facts)

    @property
    def out_of_character(self) -> bool:
        """Whether the OOC detector judged the reply out of character."""
        return bool(self.ooc and self.ooc.ooc)

    def rank_key(self) -> tuple[bool, bool, int, float]:
        """Sort key, best first: non-empty, in character, fewest `problems`, then highest normalised APC."""
        return (not self.text.strip(), self.out_of_character, self.problems, -(self.apc_normalized or 0.0))


class Judgement(BaseModel):
    """Every candidate of one guarded generation, which one was chosen, and what it cost."""

    policy: GuardPolicy
    """The policy that produced it."""
    candidates: list[Candidate]
    """All candidates, in generation order."""
    chosen: int
    """Index into `candidates` of the reply shown."""
    corrective_instruction: str | None = None
    """The instruction added for the corrective round, if one ran."""
    corrective_opening: str | None = None
    """The words the corrective round's replies began with (a wrongly assumed fact as the character says it), if any."""
    seconds_generating: float = 0.0
    """Wall time spent in the backend."""
    seconds_scoring: float = 0.0
    """Wall time spent scoring candidates."""
    diversity: Diversity | None = None
    """How alike the candidates were (all rounds together: what the guard chose among); None if not measured."""

    @property
    def best(self) -> Candidate:
        """The chosen candidate."""
        return self.candidates[self.chosen]
