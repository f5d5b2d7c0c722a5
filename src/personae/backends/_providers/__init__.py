"""Built-in providers, registered lazily: each loader checks its optional dependency, then imports."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable

from personae.backends._api import BackendAPI
from personae.backends._errors import MissingDependencyError


def _require(provider: str, module: str, package: str, extra: str) -> None:
    if importlib.util.find_spec(module) is None:
        raise MissingDependencyError(provider, package, extra)


def _mock() -> type[BackendAPI]:
    from personae.backends._providers.mock import MockBackendAPI

    return MockBackendAPI


def _openai() -> type[BackendAPI]:
    _require("openai", "openai", "openai", "openai")
    from personae.backends._providers.openai import OpenAIBackendAPI

    return OpenAIBackendAPI


def _embedded() -> type[BackendAPI]:
    _require("embedded", "llama_cpp", "llama-cpp-python", "embedded")
    from personae.backends._providers.embedded import EmbeddedBackendAPI

    return EmbeddedBackendAPI


def register_builtin(register: Callable[[str, Callable[[], type[BackendAPI]]], None]) -> None:
    """Register the built-in providers (the same hook signature third-party plugins implement)."""
    register("mock", _mock)
    register("openai", _openai)
    register("embedded", _embedded)
