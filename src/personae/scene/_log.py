"""The scene log: transcript.jsonl (one `SceneRecord` per step, appended and fsynced) and results.json.

The transcript is written like an eval's samples; results.json holds per-character and per-scene figures.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError

from personae.evals import ScoringInfo
from personae.guard import Candidate
from personae.scene._confusion import RoleConfusion
from personae.scene._spec import SCENE_VERSION

TRANSCRIPT_FILE = "transcript.jsonl"
"""A scene's steps (JSONL), inside its output folder: the durable record resume reads."""
RESULTS_FILE = "results.json"
"""A scene's figures, inside its output folder."""
REPORT_FILE = "report.html"
"""A scene's HTML report, inside its output folder."""
SCENE_FILE = "scene.json"
"""What a scene was started with (the spec and the personas), inside its output folder (checked on resume)."""

RecordKind = Literal["event", "narration", "line", "user", "end"]


class SceneRecord(BaseModel):
    """One step of a scene: an event, a narration, a character's line (with every candidate), a user line, the end."""

    version: int = SCENE_VERSION
    """Log format version."""
    step: str
    """Step id, unique within a scene (`t3/line`, `t0/event1`, `end`): what resume skips."""
    kind: RecordKind
    """What the step was."""
    turn: int
    """Speaking turns before this step."""
    speaker: str | None = None
    """Who spoke (a character, the user, `Narrator`); None for events and the end."""
    text: str = ""
    """What was said or happened (for `end`: why the scene ended)."""
    witnesses: list[str] = Field(default_factory=list)
    """Characters present, who hear it (a character absent from a step never learns of it)."""
    why: str | None = None
    """Why this speaker: the turn policy's reason."""
    candidates: list[Candidate] = Field(default_factory=list)
    """A character line's candidates with their scores (APC, OOC, self-contradiction)."""
    confusion: list[RoleConfusion] = Field(default_factory=list)
    """Role-confusion verdict of each candidate, in candidate order."""
    chosen: int | None = None
    """Index into `candidates` of the line spoken."""
    seconds_generating: float = 0.0
    """Wall time spent in backends on this step."""
    seconds_scoring: float = 0.0
    """Wall time spent scoring this step's candidates."""

    @property
    def shown(self) -> Candidate | None:
        """The chosen candidate of a character line."""
        return self.candidates[self.chosen] if self.chosen is not None and self.candidates else None

    @property
    def shown_confusion(self) -> RoleConfusion | None:
        """The role-confusion verdict of the chosen candidate."""
        return self.confusion[self.chosen] if self.chosen is not None and self.confusion else None


def read_transcript(path: Path) -> list[SceneRecord]:
    """Records of transcript.jsonl in file order, first occurrence of a step only; unreadable lines are skipped."""
    if not path.exists():
        return []
    seen: set[str] = set()
    out: list[SceneRecord] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        try:
            record = SceneRecord.model_validate(json.loads(line))
        except (json.JSONDecodeError, ValidationError):
            continue
        if record.step not in seen:
            seen.add(record.step)
            out.append(record)
    return out


class CharacterFigures(BaseModel):
    """How one character did over the scene."""

    turns: int = 0
    """Lines spoken."""
    words: int = 0
    """Words spoken."""
    turn_share: float = 0.0
    """Share of the characters' lines."""
    word_share: float = 0.0
    """Share of the characters' words."""
    apc_normalized: float | None = None
    """Mean normalised APC of its lines (None: no statements to score against)."""
    apc_curve: list[float | None] = Field(default_factory=list)
    """Normalised APC of each of its lines, in order."""
    ooc_rate: float = 0.0
    """Share of its lines judged out of character for a reason other than role confusion (a line the OOC detector
    flags for role confusion alone counts in `role_confusion_rate` instead: each line's role confusion counts once)."""
    contradiction_rate: float = 0.0
    """Share of its lines contradicting its own earlier lines."""
    violation_rate: float = 0.0
    """Share of its lines contradicting at least one of its persona statements."""
    role_confusion_rate: float = 0.0
    """Share of its lines with any role confusion, counted once per line whichever detector found it: the scene's
    (writes others' lines, speaks as or for them, claims their facts or gives them its own) or the OOC detector's own
    role-confusion reason (calls its listener by its own name, writes the listener's lines)."""
    role_confusion: dict[str, int] = Field(default_factory=dict)
    """Kind of role confusion → lines showing it (a line may show several kinds; `ooc_role_confusion`: the OOC
    detector's reason)."""
    confusion_curve: list[float] = Field(default_factory=list)
    """1 for each of its lines with role confusion, else 0 (the report's curve)."""


class Convergence(BaseModel):
    """Whether the characters' lines grow alike over the scene: mean pairwise similarity, first half vs second half.

    A positive delta means the characters converge (their voices or what they say move towards each other).
    """

    semantic_start: float | None = None
    """Mean pairwise cosine of the characters' mean sentence embeddings over the first half of their lines."""
    semantic_end: float | None = None
    """The same over the second half."""
    style_start: float | None = None
    """Mean pairwise cosine of the characters' style profiles (function words, punctuation, sentence length), first
    half."""
    style_end: float | None = None
    """The same over the second half."""

    @property
    def semantic_delta(self) -> float | None:
        """semantic_end − semantic_start."""
        return (
            None
            if self.semantic_start is None or self.semantic_end is None
            else self.semantic_end - self.semantic_start
        )

    @property
    def style_delta(self) -> float | None:
        """style_end − style_start."""
        return None if self.style_start is None or self.style_end is None else self.style_end - self.style_start


class SceneFigures(BaseModel):
    """Scene-level figures."""

    lines: int = 0
    """Character lines."""
    role_confusion_rate: float = 0.0
    """Share of character lines with role confusion, each line counted once whichever detector found it (the scene's
    role-confusion detector, or the OOC detector's own role-confusion reason)."""
    ooc_rate: float = 0.0
    """Share of character lines out of character for a reason other than role confusion (which `role_confusion_rate`
    counts), so that no line's role confusion is counted in both rates."""
    contradiction_rate: float = 0.0
    """Share of character lines contradicting the speaker's earlier lines."""
    violation_rate: float = 0.0
    """Share of character lines contradicting the speaker's persona."""
    dominance: float = 0.0
    """How far the most talkative character's word share is above an even split: 0 even, 1 one character speaks."""
    convergence: Convergence = Field(default_factory=Convergence)
    """Whether the characters grow alike."""
    candidates_rejected_for_confusion: int = 0
    """Lines where the guard passed over a role-confused candidate that would otherwise have ranked first."""
    seconds_generating: float = 0.0
    """Wall time in backends generating the character lines (every candidate, corrective rounds included)."""
    seconds_narrating: float = 0.0
    """Wall time in the narrator's backend (apart: the guard scores no narration)."""
    seconds_scoring: float = 0.0
    """Wall time scoring the character lines' candidates (APC, OOC, self-contradiction, role confusion)."""
    scoring_share: float | None = None
    """seconds_scoring / seconds_generating: what the guard's scoring costs beside generating the lines it scores
    (issue 22's goal: at most 0.10); None when nothing was generated (a measured chat)."""


class SceneResults(BaseModel):
    """results.json: the spec, the environment, and the figures of one scene."""

    version: int = SCENE_VERSION
    """Log format version."""
    name: str
    """The scene's name."""
    spec: dict[str, Any]
    """The scene as run."""
    versions: dict[str, str]
    """personae, Python and key package versions."""
    git_revision: str | None = None
    """Commit of the personae checkout, when run from one."""
    started_at: float
    """Unix time the scene first began."""
    finished_at: float
    """Unix time results were written."""
    seconds: float
    """Wall time of the last invocation."""
    turns: int
    """Speaking turns taken."""
    ended: str | None
    """Why the scene ended (`turns`, `event: <name>`, `narrator`, `nobody present`); None while unfinished."""
    characters: dict[str, CharacterFigures]
    """Character name → figures."""
    scene: SceneFigures
    """Scene-level figures."""
    scoring: ScoringInfo | None = None
    """The scoring models behind the scores."""
