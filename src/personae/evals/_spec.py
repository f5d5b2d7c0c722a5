"""The eval spec: which personas, which agent, which roles and tasks; loaded from YAML into typed models."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, GetCoreSchemaHandler, ValidationError, field_validator
from pydantic_core import core_schema

from personae._util.loading import DataFormatError, load_file
from personae.evals._errors import EvalSpecError
from personae.guard import GuardPolicy

SPEC_VERSION = 1
"""Format version of eval specs; bumped on incompatible changes."""


class SpecPath(str):
    """A file or folder named by an eval spec (relative to the spec's folder).

    Every spec field that names a file is of this type, wherever it sits (a list, a mapping, a task's parameters),
    so that `spec_paths` finds them all by walking the validated spec, not by guessing from field names.
    """

    __slots__ = ()

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        """Validated as a string, kept as a `SpecPath`; serialized as a plain string."""
        return core_schema.no_info_after_validator_function(
            cls, core_schema.str_schema(), serialization=core_schema.to_string_ser_schema()
        )


NLI_PATH_KINDS = ("onnx", "hf")
"""NLI bindings whose argument may be a local folder (`onnx:DIR`, `hf:MODEL-OR-DIR`)."""


class NliBinding(str):
    """The `nli` role's binding (`shipped`, `onnx:DIR`, ...); `path` is the folder it names, if any."""

    __slots__ = ()

    @property
    def path(self) -> SpecPath | None:
        """The local folder of an `onnx:`/`hf:` binding (an `hf:` hub id is checked like a path, too)."""
        kind, sep, arg = self.partition(":")
        return SpecPath(arg) if sep and kind in NLI_PATH_KINDS else None

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        """Validated as a string, kept as an `NliBinding`; serialized as a plain string."""
        return core_schema.no_info_after_validator_function(
            cls, core_schema.str_schema(), serialization=core_schema.to_string_ser_schema()
        )


class _Strict(BaseModel):
    # Field docstrings become schema descriptions: the generated spec reference shows them.
    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)


class RoleSpec(_Strict):
    """One model role: a backend address plus how to call it and what to generate."""

    backend: str
    """Backend address, e.g. `embedded`, `openai/gpt-4o-mini`, `mock/evals`."""
    options: dict[str, Any] = Field(default_factory=dict)
    """Provider options (e.g. `base_url`, or `delay` for mocks)."""
    max_concurrency: int = Field(default=8, ge=1)
    """Requests in flight at once through this role's backend."""
    max_retries: int = Field(default=4, ge=0)
    """Retries of transient backend failures."""
    temperature: float = Field(default=0.0, ge=0.0, le=2.0)
    """Sampling temperature (0 for judges: greedy and cacheable)."""
    max_tokens: int = Field(default=256, ge=1)
    """Upper bound on generated tokens per request."""
    cache: bool = True
    """Use the request cache (only for temperature 0 requests)."""


class AgentSpec(RoleSpec):
    """The agent under test: a backend plus the runtime settings it is run with."""

    guard: GuardPolicy = "off"
    """Guard policy of the runtime (`off`, `best-of-n`, `threshold`)."""
    n: int = Field(default=4, ge=1, le=16)
    """Candidates per turn under best-of-n and threshold."""
    temperature: float = Field(default=0.7, ge=0.0, le=2.0)
    """Sampling temperature of replies."""
    max_tokens: int = Field(default=200, ge=1)
    """Upper bound on reply tokens."""


class Roles(_Strict):
    """Models bound to roles: one or two judges, the simulated user, the question writer and the NLI model."""

    judge: list[RoleSpec] = Field(min_length=1, max_length=2)
    """Judges; with two, every score of both is recorded and an item's score is their mean."""
    user: RoleSpec | None = None
    """The simulated user of multi-turn conversations (default: the first judge)."""
    generator: RoleSpec | None = None
    """Writes questions, probes and score anchors (default: the first judge)."""
    nli: NliBinding = NliBinding("shipped")
    """NLI binding for APC and self-contradiction: `shipped`, `fake`, `onnx:DIR`, `hf:MODEL`, `llm:BACKEND`."""
    embedder: Literal["shipped", "fake"] = "shipped"
    """Sentence embedder for retrieval and relevance: the shipped MiniLM, or hashed bag-of-words (offline tests)."""

    @field_validator("judge", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, dict) else value


class EvalSpec(_Strict):
    """A whole evaluation, as written in an eval spec file."""

    version: int = SPEC_VERSION
    """Spec format version."""
    name: str = "eval"
    """A label for reports."""
    personas: list[SpecPath] = Field(min_length=1)
    """Persona files, folders of them, or a PersonaGym benchmark `.jsonl` (paths relative to the spec)."""
    persona_limit: int | None = Field(default=None, ge=1)
    """Use at most this many personas from each benchmark file."""
    agent: AgentSpec
    """The agent under test."""
    roles: Roles
    """Judges, simulated user, question writer, NLI."""
    tasks: dict[str, dict[str, Any]] = Field(min_length=1)
    """Task name → its parameters (an empty mapping for the defaults)."""
    concurrency: int = Field(default=16, ge=1)
    """Items in progress at once."""
    seed: int = 0
    """Seed of sampling, environment choice and bootstrap resampling."""
    executor: Literal["asyncio", "ray"] = "asyncio"
    """How items run: in this process's event loop, or as Ray tasks (`pip install 'personae[ray]'`)."""
    ray_address: str | None = None
    """Ray cluster to join (None: `RAY_ADDRESS`, a running local instance, or a new local one)."""
    base_dir: str = Field(default=".", exclude=True)
    """Folder that relative paths are resolved against (the spec's folder); not part of the spec's identity."""

    @field_validator("tasks", mode="before")
    @classmethod
    def _none_means_defaults(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {k: (v if v is not None else {}) for k, v in value.items()}
        if isinstance(value, list):
            return {str(k): {} for k in value}
        return value

    def resolve(self, path: str) -> Path:
        """A path from the spec, made absolute relative to the spec's folder."""
        p = Path(path).expanduser()
        return p if p.is_absolute() else (Path(self.base_dir) / p).resolve()

    @property
    def generator(self) -> RoleSpec:
        """The role that writes questions and anchors."""
        return self.roles.generator or self.roles.judge[0]

    @property
    def user(self) -> RoleSpec:
        """The simulated user's role."""
        return self.roles.user or self.roles.judge[0]


def _location(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def spec_from_data(data: Any, source: Path | str | None = None, base_dir: Path | None = None) -> EvalSpec:
    """Validate a parsed spec; errors name the source and the field."""
    if not isinstance(data, dict):
        raise EvalSpecError(source, "expected a mapping at the top level")
    try:
        spec = EvalSpec.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        raise EvalSpecError(source, err["msg"], field=_location(tuple(err["loc"])) or None) from None
    if spec.version != SPEC_VERSION:
        raise EvalSpecError(source, f"unsupported spec version {spec.version} (this personae reads {SPEC_VERSION})")
    if base_dir is not None:
        spec = spec.model_copy(update={"base_dir": str(base_dir)})
    return spec


def load_spec(path: Path | str) -> EvalSpec:
    """Read an eval spec from a YAML (or JSON) file, with the bounded loader (depth, aliases, duplicate keys)."""
    path = Path(path)
    try:
        data = load_file(path, kind="yaml")
    except DataFormatError as exc:
        raise EvalSpecError(path, exc.reason, field=exc.field) from None
    return spec_from_data(data, path, base_dir=path.resolve().parent)
