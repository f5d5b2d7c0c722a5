"""The scene spec: who is in the scene, where, who speaks when, what happens, and when it ends.

Every field is bounded (counts, lengths, turns): a scene file is untrusted input and a scene must end.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from personae._util.errors import LocatedError
from personae._util.loading import DataFormatError, load_text
from personae.guard import GuardPolicy
from personae.interop import read_limited
from personae.persona import Persona, PersonaError, format_location

SCENE_VERSION = 1
"""Format version of scene specs and scene logs."""
MAX_SCENE_BYTES = 4 * 1024 * 1024
"""Scene YAML files larger than this are refused before parsing."""
MAX_TURNS = 500
"""Upper bound on the turns of one scene."""
MAX_TEXT = 4000
"""Upper bound on the characters of a setting, an event or a position."""

TurnPolicy = Literal["round-robin", "addressed", "director", "natural"]
"""How the next speaker is chosen: in turn; whoever was named or addressed last; a backend decides and says why;
or SillyTavern's natural order (characters mentioned in the last line first, then by talkativeness)."""
TURN_POLICIES: tuple[TurnPolicy, ...] = ("round-robin", "addressed", "director", "natural")


class SceneError(Exception):
    """Base class of scene problems reported to users."""


class SceneSpecError(LocatedError, SceneError):
    """A scene file (or a persona it names) is malformed: the message names the file and the field."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)


class CharacterSpec(_Strict):
    """One character of the scene: its persona, where it stands, how talkative it is, when it is present."""

    persona: str | dict[str, Any]
    """A persona file in any format `personae import` reads (path relative to the scene file), or an inline persona
    mapping (`name`, `statements`, ...)."""
    backend: str | None = Field(default=None, max_length=200)
    """Backend address of this character (default: the scene's `backend`)."""
    position: str | None = Field(default=None, max_length=MAX_TEXT)
    """Where the character is and what it is doing when the scene opens (told to the character only)."""
    talkativeness: float = Field(default=0.5, ge=0.0, le=1.0)
    """How readily the character speaks unprompted under the `natural` policy (SillyTavern's talkativeness)."""
    enters: int = Field(default=0, ge=0, le=MAX_TURNS)
    """Turn at which the character enters; before it, it neither speaks nor hears."""
    leaves: int | None = Field(default=None, ge=1, le=MAX_TURNS)
    """Turn at which the character leaves (None: stays to the end)."""


class EventSpec(_Strict):
    """A scripted event: narration at a given turn, characters entering or leaving, or the end of the scene."""

    turn: int = Field(ge=0, le=MAX_TURNS)
    """The turn before which the event happens (0: the opening)."""
    text: str = Field(default="", max_length=MAX_TEXT)
    """What happens, as narration every character present hears."""
    name: str | None = Field(default=None, max_length=200)
    """A label, which a stop condition can name."""
    ends: bool = False
    """Whether the scene ends with this event."""


class NarratorSpec(_Strict):
    """A narrator backend that describes events and the consequences of what the characters do."""

    backend: str | None = Field(default=None, max_length=200)
    """Backend address (default: the scene's `backend`)."""
    every: int = Field(default=3, ge=1, le=MAX_TURNS)
    """The narrator speaks after every this many character turns."""
    can_end: bool = True
    """Whether the narrator may end the scene (by writing `THE END`)."""
    direction: str | None = Field(default=None, max_length=MAX_TEXT)
    """Where the story should go (e.g. a CharacterBox scene's plot); told to the narrator only."""


class UserSpec(_Strict):
    """The user as a participant: a name, and whether they type in the terminal or stay absent."""

    name: str = Field(default="User", min_length=1, max_length=100)
    """The user's name in the scene."""
    mode: Literal["terminal", "interactive", "absent"] = "absent"
    """`terminal`: the user types their lines when their turn comes; `interactive`: the same, the lines coming from
    the caller (the server's `POST /v1/scenes/{id}/messages`; the CLI reads the terminal); `absent`: the scene runs
    without them."""
    first: bool = False
    """Whether the user takes the first turn (a group chat the user opens); otherwise they speak after the
    characters."""

    @property
    def takes_part(self) -> bool:
        """Whether the user speaks in the scene (their lines are asked for when their turn comes)."""
        return self.mode != "absent"


class StopSpec(_Strict):
    """When the scene ends: after `turns`, at a named event, or when the narrator ends it (whichever comes first)."""

    turns: int = Field(default=12, ge=1, le=MAX_TURNS)
    """Character (and user) turns at most."""
    event: str | None = Field(default=None, max_length=200)
    """End right after the scripted event of this name."""


class SceneSpec(_Strict):
    """A whole scene, as written in a scene file."""

    version: int = SCENE_VERSION
    """Scene format version."""
    name: str = Field(default="scene", max_length=200)
    """A label for reports."""
    setting: str = Field(default="", max_length=MAX_TEXT)
    """Where and when the scene takes place, as every character knows it."""
    characters: list[CharacterSpec] = Field(min_length=2, max_length=8)
    """The 2–8 characters."""
    backend: str = Field(default="embedded", max_length=200)
    """Backend address of every role without its own (`--backend` overrides them all)."""
    policy: TurnPolicy = "round-robin"
    """Turn-taking policy."""
    director: str | None = Field(default=None, max_length=200)
    """Backend address of the director under the `director` policy (default: the scene's `backend`)."""
    narrator: NarratorSpec | None = None
    """The narrator, if any."""
    events: list[EventSpec] = Field(default_factory=list, max_length=200)
    """Scripted events."""
    user: UserSpec | None = None
    """The user as a participant (None: absent)."""
    stop: StopSpec = Field(default_factory=StopSpec)
    """When the scene ends."""
    exits: Literal["narrated", "scripted"] = "narrated"
    """`narrated`: a character whose line narrates its own departure ("*grabs her coat and walks out*") leaves the
    scene after that line, as well as at its scripted `leaves` turn; `scripted`: only at its `leaves` turn."""
    guard: GuardPolicy = "best-of-n"
    """Guard policy of every character's replies."""
    n: int = Field(default=3, ge=1, le=16)
    """Candidates per turn under best-of-n and threshold."""
    temperature: float = Field(default=0.8, ge=0.0, le=2.0)
    """Sampling temperature of the characters' replies."""
    max_tokens: int = Field(default=160, ge=1, le=4096)
    """Upper bound on tokens per reply."""
    seed: int = 0
    """Seed of sampling and of the `natural` policy's draws."""
    nli: str = Field(default="shipped", max_length=300)
    """NLI binding for APC, self-contradiction and role confusion: `shipped`, `fake`, `onnx:DIR`, ..."""
    embedder: Literal["shipped", "fake"] = "shipped"
    """Sentence embedder: the shipped MiniLM, or hashed bag-of-words (offline tests)."""
    base_dir: str = Field(default=".", exclude=True)
    """Folder that relative persona paths are resolved against; not part of the scene's identity."""
    source: str | None = Field(default=None, exclude=True)
    """The file the scene was read from, named in errors about the personas it names; not part of its identity."""

    @model_validator(mode="after")
    def _consistent(self) -> SceneSpec:
        for i, c in enumerate(self.characters):
            if c.leaves is not None and c.leaves <= c.enters:
                raise ValueError(f"characters[{i}]: leaves ({c.leaves}) must come after enters ({c.enters})")
        if self.stop.event is not None and self.stop.event not in {e.name for e in self.events}:
            raise ValueError(f"stop.event names no event: {self.stop.event!r}")
        return self

    def resolve(self, path: str) -> Path:
        """A path from the spec, made absolute relative to the scene file's folder."""
        p = Path(path).expanduser()
        return p if p.is_absolute() else (Path(self.base_dir) / p).resolve()

    def with_backend(self, address: str) -> SceneSpec:
        """This scene with every role (characters, narrator, director) bound to `address`."""
        characters = [c.model_copy(update={"backend": address}) for c in self.characters]
        narrator = self.narrator.model_copy(update={"backend": address}) if self.narrator else None
        director = address if self.director is not None else None
        return self.model_copy(
            update={"backend": address, "characters": characters, "narrator": narrator, "director": director}
        )


def scene_from_data(data: Any, source: Path | str | None = None, base_dir: Path | None = None) -> SceneSpec:
    """Validate parsed data into a `SceneSpec`; errors name the source and the field."""
    if not isinstance(data, dict):
        raise SceneSpecError(source, "expected a mapping at the top level")
    try:
        spec = SceneSpec.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        raise SceneSpecError(source, err["msg"], field=format_location(tuple(err["loc"])) or None) from None
    if spec.version != SCENE_VERSION:
        raise SceneSpecError(source, f"unsupported scene version {spec.version} (this personae reads {SCENE_VERSION})")
    if base_dir is not None:
        spec = spec.model_copy(update={"base_dir": str(base_dir)})
    if source is not None:
        spec = spec.model_copy(update={"source": str(source)})
    return spec


def load_scene_yaml(path: Path) -> SceneSpec:
    """Read a scene spec from a YAML (or JSON) file, bounded in size."""
    try:
        text = read_limited(path, MAX_SCENE_BYTES).decode("utf-8")
    except PersonaError as exc:
        raise SceneSpecError(None, str(exc)) from None
    except UnicodeDecodeError:
        raise SceneSpecError(path, "not UTF-8 text") from None
    try:  # the bounded parser: depth, aliases and duplicate keys limited like every persona and spec
        data = load_text(text, path, kind="yaml")
    except DataFormatError as exc:
        raise SceneSpecError(path, exc.reason) from None
    return scene_from_data(data, path, base_dir=path.resolve().parent)


def persona_of(spec: SceneSpec, index: int) -> Persona:
    """The persona of character `index`: read from its file (any importable format) or validated inline."""
    from personae.interop import read_file
    from personae.persona import load_persona, persona_from_data

    entry = spec.characters[index].persona
    where = f"characters[{index}].persona"
    if isinstance(entry, dict):
        try:
            return persona_from_data(entry, where)
        except PersonaError as exc:
            raise SceneSpecError(spec.source, str(exc), field=where) from None
    path = spec.resolve(entry)
    try:
        if path.suffix.lower() in (".yaml", ".yml"):
            return load_persona(path)
        try:
            imported = read_file(path)
        except PersonaError:
            if path.suffix.lower() != ".json":
                raise
            return load_persona(path)  # a persona file in JSON rather than a card
    except PersonaError as exc:
        raise SceneSpecError(spec.source, str(exc), field=where) from None
    if not imported.personas:
        raise SceneSpecError(path, "holds no persona", field=where)
    return imported.personas[0]
