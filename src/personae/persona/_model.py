"""The persona value types: what a character is, independent of where it is stored."""

from __future__ import annotations

import re
from typing import Any, Literal

import regex
from pydantic import BaseModel, ConfigDict, Field, StrictStr, field_validator, model_validator

from personae._util.hashing import content_hash
from personae._util.regexes import InvalidPatternError, UnsafePatternError, compile_safe


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


_REGEX_KEY = re.compile(r"^/(.+)/([imsx]*)$", re.DOTALL)
"""A key written `/pattern/flags` is a regular expression."""
KEPT_BY_IMPORT = ("chara_card", "world_info")
"""Where `personae import` keeps card (V2/V3) and SillyTavern World Info fields that have no persona field."""


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

    @model_validator(mode="after")
    def _safe_regex_keys(self) -> LorebookEntry:
        """Refuse a regular-expression key that could backtrack for ever (a broken one just never matches)."""
        for key in [*self.keys, *self.secondary_keys]:
            try:
                self.key_pattern(key)
            except UnsafePatternError as exc:
                label = f"entry {self.name!r}" if self.name else "entry"
                raise ValueError(f"{label}: key {key[:80]!r} is refused: {exc}") from None
        return self

    def option(self, *names: str) -> Any:
        """The first of `names` set in the entry's extensions, or where an import kept card / World Info fields."""
        scopes = [self.extensions] + [self.extensions.get(k) for k in KEPT_BY_IMPORT]
        for scope in scopes:
            if isinstance(scope, dict):
                for name in names:
                    if scope.get(name) is not None:
                        return scope[name]
        return None

    def key_pattern(self, key: str) -> regex.Pattern[str] | None:
        """The compiled matcher of one key (None: it can never match); search it with `search_safe`.

        Raises `UnsafePatternError` for a key whose regular expression could take exponential time.
        """
        case = 0 if self.case_sensitive else re.IGNORECASE
        try:
            if self.option("use_regex") is True:
                return compile_safe(key, case)
            written = _REGEX_KEY.match(key)
            if written:
                flags = case
                for letter in written.group(2):
                    flags |= {"i": re.IGNORECASE, "m": re.MULTILINE, "s": re.DOTALL, "x": re.VERBOSE}[letter]
                return compile_safe(written.group(1), flags)
        except InvalidPatternError:
            return None  # a broken regex never matches rather than breaking the chat
        key = key.strip()
        if not key:
            return None
        escaped = re.escape(key)
        if self.option("match_whole_words", "matchWholeWords") is not False:
            escaped = rf"(?<!\w){escaped}(?!\w)"
        return compile_safe(escaped, case)


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
