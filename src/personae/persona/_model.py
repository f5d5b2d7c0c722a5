"""The persona value types: what a character is, independent of where it is stored."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictStr, field_validator, model_validator

from personae._util.hashing import content_hash


class _Value(BaseModel):
    """Base for persona values: strict strings, unknown keys rejected (the top level keeps them instead)."""

    model_config = ConfigDict(extra="forbid", strict=False, validate_assignment=True, use_attribute_docstrings=True)


class Traits(_Value):
    """Big Five personality targets, each in 0..1 (0.5 is the population middle)."""

    openness: float | None = Field(default=None, ge=0.0, le=1.0)
    """Curiosity, imagination, appetite for novelty."""
    conscientiousness: float | None = Field(default=None, ge=0.0, le=1.0)
    """Orderliness, diligence, self-discipline."""
    extraversion: float | None = Field(default=None, ge=0.0, le=1.0)
    """Sociability, assertiveness, energy around others."""
    agreeableness: float | None = Field(default=None, ge=0.0, le=1.0)
    """Warmth, trust, cooperativeness."""
    neuroticism: float | None = Field(default=None, ge=0.0, le=1.0)
    """Tendency to anxiety, moodiness and stress."""


class Relationship(_Value):
    """Someone the character knows."""

    name: StrictStr
    """The other person's name."""
    relation: StrictStr
    """What they are to the character, e.g. "daughter", "rival"."""
    description: StrictStr | None = None
    """Free text about the relationship."""


class DialogueLine(_Value):
    """One line of an example dialogue."""

    role: Literal["user", "char"]
    """Who speaks: the user or the character."""
    content: StrictStr
    """What is said; may use the `{{user}}` and `{{char}}` macros."""


class LorebookEntry(_Value):
    """A piece of world knowledge inserted into the prompt when one of its keys shows up in the chat."""

    keys: list[StrictStr] = Field(default_factory=list)
    """Trigger words; any one of them in the recent turns activates the entry."""
    content: StrictStr
    """The text inserted into the prompt."""
    secondary_keys: list[StrictStr] = Field(default_factory=list)
    """If non-empty, at least one of these must also appear (selective entries)."""
    constant: bool = False
    """Always inserted, whatever the chat says."""
    priority: int = 0
    """When the prompt is over budget, lower-priority entries are dropped first."""
    insertion_order: int = 100
    """Position among inserted entries (lower comes first)."""
    enabled: bool = True
    """Disabled entries are kept but never inserted."""
    case_sensitive: bool = False
    """Whether key matching respects case."""
    name: StrictStr | None = None
    """A label for humans (SillyTavern's `comment`)."""
    extensions: dict[str, Any] = Field(default_factory=dict)
    """Tool-specific data, kept as is."""

    @model_validator(mode="after")
    def _needs_trigger(self) -> LorebookEntry:
        if not self.constant and not self.keys:
            raise ValueError("an entry needs at least one key unless it is constant")
        return self


class Lorebook(_Value):
    """A collection of lorebook entries (a "character book" or "world info")."""

    name: StrictStr | None = None
    """Name of the lorebook."""
    description: StrictStr | None = None
    """What the lorebook covers."""
    scan_depth: int | None = Field(default=None, ge=0)
    """How many recent messages are scanned for keys (None: the runtime default)."""
    token_budget: int | None = Field(default=None, ge=0)
    """Upper bound on tokens spent on entries (None: the runtime default)."""
    entries: list[LorebookEntry] = Field(default_factory=list)
    """The entries, in file order."""
    extensions: dict[str, Any] = Field(default_factory=dict)
    """Tool-specific data, kept as is."""


_KNOWN_FIELDS: frozenset[str] = frozenset()  # filled after Persona is defined


class Persona(BaseModel):
    """A character: a name plus self-contained third-person statements, and optional richer detail.

    Only `name` and `statements` are needed; every other field is optional. Unknown top-level keys are
    moved into `extensions` rather than dropped, so files written by other tools survive a load.
    """

    model_config = ConfigDict(extra="forbid", validate_assignment=True, use_attribute_docstrings=True)

    name: StrictStr = Field(min_length=1)
    """The character's name, as used in statements and prompts."""
    statements: list[StrictStr] = Field(default_factory=list)
    """Self-contained facts about the character, third person, naming it ("Ada is a retired ferry captain.")."""
    id: StrictStr | None = Field(default=None, pattern=r"^[a-z0-9][a-z0-9._-]*$")
    """Stable identifier (lowercase slug); derived from the name when absent."""
    summary: StrictStr | None = None
    """One or two sentences introducing the character."""
    traits: Traits | None = None
    """Big Five targets."""
    speaking_style: StrictStr | None = None
    """How the character talks: register, verbal tics, dialect."""
    knowledge_boundary: StrictStr | None = None
    """What the character does not or cannot know (e.g. nothing after 1850)."""
    relationships: list[Relationship] = Field(default_factory=list)
    """People the character knows."""
    goals: list[StrictStr] = Field(default_factory=list)
    """What the character wants."""
    greetings: list[StrictStr] = Field(default_factory=list)
    """Opening messages; the first is the default greeting."""
    example_dialogues: list[list[DialogueLine]] = Field(default_factory=list)
    """Sample exchanges showing the character's voice."""
    lorebook: Lorebook | None = None
    """World knowledge triggered by keys; a plain list of entries is accepted too."""
    extensions: dict[str, Any] = Field(default_factory=dict)
    """Anything else: tool-specific data and unknown top-level keys, never dropped."""

    @model_validator(mode="before")
    @classmethod
    def _keep_unknown_keys(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        unknown = {k: v for k, v in data.items() if k not in _KNOWN_FIELDS}
        if not unknown:
            return data
        known = {k: v for k, v in data.items() if k in _KNOWN_FIELDS}
        extensions = known.get("extensions")
        if extensions is None:
            extensions = {}
        if not isinstance(extensions, dict):
            return data  # let field validation report `extensions` as the wrong type
        merged = dict(extensions)
        for key, value in unknown.items():
            merged.setdefault(key, value)
        known["extensions"] = merged
        return known

    @field_validator("lorebook", mode="before")
    @classmethod
    def _lorebook_from_list(cls, value: Any) -> Any:
        if isinstance(value, list):
            return {"entries": value}
        return value

    @property
    def slug(self) -> str:
        """The persona id: `id` if set, else a slug of the name."""
        return self.id or slugify(self.name)

    def content_hash(self) -> str:
        """A stable hash of the persona's content, for sessions and caches to refer to this exact version."""
        return content_hash(self.model_dump(mode="json", exclude_none=True))


_KNOWN_FIELDS = frozenset(Persona.model_fields)


def slugify(text: str) -> str:
    """Lowercase ASCII slug: letters, digits and single dashes."""
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug or "persona"
