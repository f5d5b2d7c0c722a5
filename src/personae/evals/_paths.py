"""Every file a spec names, found by walking the validated spec (its fields and each task's parameters)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import NamedTuple

from pydantic import BaseModel

from personae.evals._spec import EvalSpec, NliBinding, SpecPath
from personae.evals._task import build_task


class NamedPath(NamedTuple):
    """A path from a spec and the field it sits in (`tasks.role-id.csv[0]`)."""

    field: str
    path: SpecPath


def _walk(value: object, where: str, explicit_only: bool) -> Iterator[NamedPath]:
    """Paths inside `value`: in models (fields set explicitly when `explicit_only`), lists, tuples and mappings."""
    if isinstance(value, SpecPath):
        yield NamedPath(where, value)
    elif isinstance(value, NliBinding):
        if value.path is not None:
            yield NamedPath(where, value.path)
    elif isinstance(value, BaseModel):
        names = value.model_fields_set if explicit_only else type(value).model_fields
        for name in sorted(names):
            yield from _walk(getattr(value, name), f"{where}.{name}" if where else name, explicit_only)
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _walk(item, f"{where}.{key}" if where else str(key), explicit_only)
    elif isinstance(value, list | tuple | set | frozenset):
        for i, item in enumerate(value):
            yield from _walk(item, f"{where}[{i}]", explicit_only)


def spec_paths(spec: EvalSpec, explicit_only: bool = True) -> list[NamedPath]:
    """Every `SpecPath` (and `onnx:`/`hf:` folder) in the spec and in its tasks' validated parameters.

    `explicit_only`: only fields the spec sets (a task's default file is the installation's, not the spec's).
    Raises `EvalSpecError` when a task or its parameters are invalid.
    """
    found = list(_walk(spec, "", explicit_only))
    for name, params in spec.tasks.items():
        task = build_task(name, params, spec.base_dir, spec.seed)
        found += _walk(task.params, f"tasks.{name}", explicit_only)
    return found
