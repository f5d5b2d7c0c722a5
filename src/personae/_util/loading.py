"""One bounded parser for every YAML and JSON document personae reads: personas, eval specs, uploads.

Untrusted text is bounded in size, nesting depth and alias expansion (a 500-byte "billion laughs" document
expands to millions of nodes), duplicate mapping keys are refused rather than silently overwritten, and every
failure, including text that is not UTF-8, is a `DataFormatError` naming the source and the line.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Literal

import yaml
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode, Node, SequenceNode

from personae._util.errors import LocatedError

MAX_DEPTH = 100
"""Deepest nesting of sequences and mappings accepted (personas and specs need fewer than ten)."""
MAX_ALIASES = 50
"""Most alias uses (`*name`) in one YAML document where aliases are allowed at all."""
MAX_NODES = 200_000
"""Most nodes a YAML document may expand to, aliases counted at their full size."""
MAX_BYTES = 16 * 1024 * 1024
"""Largest text accepted."""

Kind = Literal["yaml", "json"]


class DataFormatError(LocatedError):
    """A YAML or JSON document that cannot be read within the limits: the source, the line, the reason."""


class _BoundedLoader(yaml.SafeLoader):
    """A safe loader that counts nesting and aliases while composing, and refuses duplicate keys."""

    max_depth = MAX_DEPTH
    max_aliases: int = MAX_ALIASES

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0
        self._aliases = 0

    def compose_node(self, parent: Node | None, index: int) -> Node | None:
        """Compose one node, refusing aliases beyond the budget and nesting beyond the depth limit."""
        if self.check_event(yaml.AliasEvent):
            self._aliases += 1
            if self._aliases > self.max_aliases:
                mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
                what = (
                    "aliases are not accepted here"
                    if self.max_aliases == 0
                    else (f"more than {self.max_aliases} aliases")
                )
                raise DataFormatError(None, f"{what} (line {mark.line + 1})")
        self._depth += 1
        try:
            if self._depth > self.max_depth:
                mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
                raise DataFormatError(None, f"nests deeper than {self.max_depth} levels (line {mark.line + 1})")
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        """A mapping whose keys are unique (a repeated key is an error, not a silent overwrite)."""
        self.flatten_mapping(node)
        seen: set[Any] = set()
        for key_node, _value in node.value:
            key = self.construct_object(key_node, deep=True)
            try:
                duplicate = key in seen
            except TypeError:
                raise ConstructorError(None, None, "a mapping key is not hashable", key_node.start_mark) from None
            if duplicate:
                raise DataFormatError(None, f"duplicate key {key!r} (line {key_node.start_mark.line + 1})")
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _expanded_size(root: Node, limit: int) -> int:
    """How many nodes `root` stands for with every alias expanded, counting up to just past `limit`."""
    sizes: dict[int, int] = {}

    def size(node: Node) -> int:
        known = sizes.get(id(node))
        if known is not None:
            return known
        sizes[id(node)] = limit + 1  # a node reached again while being counted is a recursive alias
        total = 1
        if isinstance(node, SequenceNode):
            for child in node.value:
                total += size(child)
                if total > limit:
                    break
        elif isinstance(node, MappingNode):
            for key, value in node.value:
                total += size(key) + size(value)
                if total > limit:
                    break
        sizes[id(node)] = total
        return total

    return size(root)


def _decode(data: bytes | str, source: Path | str | None, max_bytes: int) -> str:
    if len(data) > max_bytes:
        raise DataFormatError(source, f"is {len(data)} bytes, over the {max_bytes}-byte limit")
    if isinstance(data, str):
        return data
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataFormatError(source, f"not UTF-8 text (invalid byte at offset {exc.start})") from None


_STRING = re.compile(r'"(?:[^"\\\n]|\\.)*"')
_BRACKETS = re.compile(r"[\[\]{}]")


def json_depth(text: str) -> int:
    """Deepest bracket nesting outside double-quoted strings (a cheap check before a recursive parser sees it)."""
    depth = deepest = 0
    for char in _BRACKETS.findall(_STRING.sub("", text)):
        if char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def _unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"duplicate key {key!r}")
        out[key] = value
    return out


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _load_json(text: str, source: Path | str | None, max_depth: int) -> Any:
    if json_depth(text) > max_depth:
        raise DataFormatError(source, f"nests deeper than {max_depth} levels")
    try:
        return json.loads(text, object_pairs_hook=_unique_pairs, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise DataFormatError(source, f"not valid JSON: {exc.msg} (line {exc.lineno})") from None
    except (ValueError, RecursionError) as exc:
        raise DataFormatError(source, f"not valid JSON: {exc}") from None


def _load_yaml(text: str, source: Path | str | None, max_depth: int, max_aliases: int) -> Any:
    # PyYAML's scanner looks ahead across a whole flow collection (it might be a key): quadratic in its nesting,
    # so deep brackets are refused before it starts. Brackets in plain text count too, hence the slack.
    if json_depth(text) > 2 * max_depth:
        raise DataFormatError(source, f"nests deeper than {max_depth} levels")
    loader = _BoundedLoader(text)
    loader.max_depth = max_depth
    loader.max_aliases = max_aliases
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        if loader._aliases and _expanded_size(node, MAX_NODES) > MAX_NODES:
            raise DataFormatError(source, f"expands to more than {MAX_NODES} nodes through its aliases")
        return loader.construct_document(node)
    except DataFormatError as exc:
        raise DataFormatError(source, exc.reason, field=exc.field) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise DataFormatError(source, f"not valid YAML: {problem}{where}") from None
    except RecursionError:
        raise DataFormatError(source, "nests too deeply") from None
    finally:
        loader.dispose()


def load_text(
    data: bytes | str,
    source: Path | str | None = None,
    kind: Kind = "yaml",
    aliases: bool = True,
    max_depth: int = MAX_DEPTH,
    max_bytes: int = MAX_BYTES,
) -> Any:
    """Parse a YAML (JSON is YAML too) or strict JSON document within the limits; raises `DataFormatError`.

    `aliases=False` refuses YAML aliases altogether (uploads and posted specs: nothing legitimate needs them).
    """
    text = _decode(data, source, max_bytes)
    if kind == "json":
        return _load_json(text, source, max_depth)
    return _load_yaml(text, source, max_depth, MAX_ALIASES if aliases else 0)


def load_file(path: Path | str, kind: Kind | None = None, aliases: bool = True, max_bytes: int = MAX_BYTES) -> Any:
    """Read and parse a file with `load_text` (JSON for a `.json` suffix unless `kind` says otherwise)."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise DataFormatError(path, f"file is {size} bytes, over the {max_bytes}-byte limit")
        data = path.read_bytes()
    except OSError as exc:
        raise DataFormatError(path, f"cannot read file: {exc.strerror or exc}") from None
    kind = kind or ("json" if path.suffix.lower() == ".json" else "yaml")
    return load_text(data, path, kind=kind, aliases=aliases, max_bytes=max_bytes)
