"""Loading the training-data tables: YAML files under ``data/``, validated by pydantic models on first use.

Each attribute-family module declares a model for its file (a field per table, a ``NamedTuple`` per record shape,
so records compare and index like the tuples the generators were written for) and reads it through
`load_tables`; a malformed file raises `TableDataError` naming the file and the path of every bad field.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Annotated, Any, TypeVar

import yaml
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, StringConstraints, ValidationError
from yaml.constructor import ConstructorError

from ._core import Line

try:  # libyaml's parser reads the tables six times faster; the constructor (and so safety) is the same
    from yaml import CSafeLoader as _SafeLoader
except ImportError:  # PyYAML built without libyaml
    from yaml import SafeLoader as _SafeLoader  # type: ignore[assignment]

__all__ = [
    "DATA_DIR",
    "MAX_BYTES",
    "NonEmpty",
    "TableDataError",
    "Tables",
    "TaggedLine",
    "Unique",
    "data_path",
    "load_tables",
]

MAX_BYTES = 1 << 20  # the largest file is ~22 KB: a megabyte is far more than any table needs
DATA_DIR = Path(__file__).with_name("data")
M = TypeVar("M", bound=BaseModel)

NonEmpty = Annotated[str, StringConstraints(min_length=1)]
"""A string that must not be empty (a template, a name, a phrase)."""


class TableDataError(ValueError):
    """A training-data file is missing, too large, not YAML, or does not match its model."""


class Tables(BaseModel):
    """Base of the per-file models: unknown tables are errors, and the loaded tables are read-only."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def _split_tag(value: object) -> object:
    """Turn ``"tag|text"`` into ``(tag, text)``; other values go on to the tuple validation unchanged."""
    if not isinstance(value, str):
        return value
    tag, sep, text = value.partition("|")
    if not sep or not tag.isidentifier() or not text:
        raise ValueError(f"expected 'tag|text' with an identifier tag and a non-empty text, got {value!r}")
    return (tag, text)


TaggedLine = Annotated[Line, BeforeValidator(_split_tag)]
"""A reply template with its tag, written ``"tag|text"`` in the data files (``"para|I run every morning."``)."""


def _unique(items: tuple[str, ...]) -> tuple[str, ...]:
    """Reject repeated entries: a name listed twice would be drawn twice as often."""
    repeated = sorted(x for x, n in Counter(items).items() if n > 1)
    if repeated:
        raise ValueError(f"repeated entries: {', '.join(repeated)}")
    return items


Unique = Annotated[tuple[NonEmpty, ...], AfterValidator(_unique)]
"""A list of distinct non-empty strings (names)."""


class _UniqueKeyLoader(_SafeLoader):
    """A safe YAML loader that rejects a repeated mapping key instead of keeping the last one silently."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        """Build a mapping, failing on the first key that occurs twice."""
        keys: set[object] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in keys:
                raise ConstructorError(
                    "while constructing a mapping", node.start_mark, f"found repeated key {key!r}", key_node.start_mark
                )
            keys.add(key)
        return super().construct_mapping(node, deep=deep)


def data_path(name: str) -> Path:
    """The shipped data file `name` (``"work"`` -> ``.../_training/data/work.yaml``)."""
    return DATA_DIR / f"{name}.yaml"


def _where(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in loc) or "(top level)"


def load_tables(model: type[M], path: Path) -> M:
    """Read `path` (safe YAML, at most `MAX_BYTES`) and validate it as `model`; raise `TableDataError` if bad."""
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise TableDataError(f"{path}: {size} bytes, more than the {MAX_BYTES} a training-data file may have")
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_UniqueKeyLoader)
    except OSError as exc:
        raise TableDataError(f"{path}: cannot read training data: {exc}") from exc
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise TableDataError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise TableDataError(f"{path}: expected a mapping of table names to tables, got {type(raw).__name__}")
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        problems = "\n".join(f"  {_where(err['loc'])}: {err['msg']}" for err in exc.errors())
        raise TableDataError(f"{path}: {exc.error_count()} invalid field(s) for {model.__name__}:\n{problems}") from exc
