"""Value types of faithfulness scores: per statement, per reply, and NLI label probabilities."""

from __future__ import annotations

from typing import NamedTuple

from pydantic import BaseModel, Field, model_validator

LABELS: tuple[str, str, str] = ("entailment", "neutral", "contradiction")
"""NLI label order used everywhere in personae (columns of every probability array)."""
ENT, NEU, CON = 0, 1, 2
"""The columns of `LABELS`, by name."""

LABEL_ALIASES = {"entailed": "entailment", "contradicted": "contradiction", "contradict": "contradiction"}
"""Other spellings of the labels found in data sets and model configs (e.g. APC's `entailed`)."""


def canonical_label(label: str) -> str:
    """Lowercase, strip and map an alias to its name in `LABELS` (unknown names pass through unchanged)."""
    text = label.strip().lower()
    return LABEL_ALIASES.get(text, text)


class NLIProbs(NamedTuple):
    """Probabilities of the three NLI labels for one (premise, hypothesis) pair."""

    entailment: float
    neutral: float
    contradiction: float

    @property
    def label(self) -> str:
        """The most probable label."""
        return LABELS[max(range(3), key=lambda i: self[i])]


class StatementScore(BaseModel):
    """How one persona statement fares against a reply."""

    statement: str
    """The persona statement (premise)."""
    relevance: float = Field(ge=0.0, le=1.0)
    """P(the statement is relevant to the user's query)."""
    entailment: float = Field(ge=0.0, le=1.0)
    """P(the reply entails the statement): max over the reply's sentences."""
    neutral: float = Field(ge=0.0, le=1.0)
    """P(neutral) for the sentence that decided entailment."""
    contradiction: float = Field(ge=0.0, le=1.0)
    """P(the reply contradicts the statement): max over the reply's sentences."""
    apc: float = Field(ge=0.0, le=1.0)
    """relevance·entailment + (1 − relevance)·(1 − contradiction)."""
    violation: bool
    """Whether the reply contradicts the statement: `contradiction` above the scorer's calibrated threshold and
    at least `entailment` (the stronger evidence wins, so a statement is never both violated and supported), or the
    claim its opening makes contradicts it at the claim bar (`Calibration.claim_violation`)."""
    supported: bool | None = None
    """Whether the reply supports the statement: `entailment` above the scorer's threshold, above `contradiction`
    and its neutral probability, and not a violation. None in results stored before this field existed: read
    with the old rule (entailment the most probable label), never together with a violation."""
    topic: float | None = None
    """Topic similarity of the statement and the reply's closest sentence (names masked); None if not computed."""
    gated: int = 0
    """Reply sentences the topic gate judged off the statement's topic: neutral without asking the NLI model."""
    evidence: str | None = None
    """The reply sentence with the highest entailment or contradiction probability."""

    @model_validator(mode="after")
    def _one_verdict(self) -> StatementScore:
        """Fill `supported` for results stored before it existed, and keep the verdicts exclusive."""
        if self.supported is None:
            self.supported = self.entailment > max(self.neutral, self.contradiction) and not self.violation
        elif self.supported and self.violation:
            raise ValueError("a statement cannot be both supported and violated")
        return self

    @property
    def verdict(self) -> str | None:
        """`supported`, `violated` or None (the reply does not decide the statement)."""
        return "violated" if self.violation else "supported" if self.supported else None


class APCResult(BaseModel):
    """The APC faithfulness score of one reply to one query, with its explanation."""

    query: str
    """The user's message."""
    response: str
    """The character's reply."""
    apc: float
    """Σ over statements of their apc contribution (0..number of statements)."""
    apc_normalized: float = Field(ge=0.0, le=1.0)
    """`apc` divided by the number of statements."""
    statements: list[StatementScore]
    """Per-statement scores, in persona order."""

    @property
    def violations(self) -> list[StatementScore]:
        """Statements the reply contradicts (contradiction above threshold)."""
        return [s for s in self.statements if s.violation]

    @property
    def supported(self) -> list[StatementScore]:
        """Statements the reply supports (never one it also violates)."""
        return [s for s in self.statements if s.supported]

    def to_json(self) -> dict[str, object]:
        """The CLI's JSON shape: `apc`, `apc_normalized`, `violations` (statement texts), `statements`."""
        return {
            "apc": self.apc,
            "apc_normalized": self.apc_normalized,
            "violations": [s.statement for s in self.violations],
            "statements": [s.model_dump(mode="json") for s in self.statements],
        }


class Contradiction(BaseModel):
    """A new reply sentence that contradicts something the character said earlier."""

    earlier: str
    """The earlier sentence (premise)."""
    new: str
    """The new sentence (hypothesis)."""
    contradiction: float
    """P(contradiction)."""
