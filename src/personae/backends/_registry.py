"""Finding providers by name: built-ins and plugins register through one entry-point group.

Registration is lazy: a provider's module (and its optional SDK) is imported only when first used,
so `import personae` works with no SDK installed.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from importlib.metadata import entry_points
from typing import Any, Literal, NamedTuple

from personae.backends._api import BackendAPI
from personae.backends._backend import Backend, BackendSettings
from personae.backends._cache import RequestCache
from personae.backends._errors import BackendNotFoundError

ENTRY_POINT_GROUP = "personae.backends"
ProviderLoader = Callable[[], type[BackendAPI]]
RegisterFn = Callable[[str, ProviderLoader], None]

_providers: dict[str, ProviderLoader] = {}
_loaded = threading.Event()
_lock = threading.Lock()


def register_backend(name: str, loader: ProviderLoader) -> None:
    """Register a provider under `name`; `loader` imports and returns its `BackendAPI` class on first use."""
    _providers[name] = loader


def _load_plugins() -> None:
    with _lock:
        if _loaded.is_set():
            return
        from personae.backends._providers import register_builtin

        # Built-ins go through the same hook signature as plugins, just without an entry-point lookup.
        register_builtin(register_backend)
        for ep in entry_points(group=ENTRY_POINT_GROUP):
            hook = ep.load()
            hook(register_backend)
        _loaded.set()


def reset_registry() -> None:
    """Forget every registration; the next lookup loads the entry points again (for tests)."""
    with _lock:
        _providers.clear()
        _loaded.clear()


def list_backends() -> list[str]:
    """Names of the registered providers."""
    _load_plugins()
    return sorted(_providers)


class Address(NamedTuple):
    """A parsed model address: `provider/model`, the model part optional."""

    provider: str
    model: str | None


def parse_address(address: str) -> Address:
    """Split `openai/meta-llama/Llama-3-8B` into provider `openai` and model `meta-llama/Llama-3-8B`."""
    address = address.strip()
    if not address:
        raise BackendNotFoundError("empty backend address; use e.g. 'embedded', 'openai/<model>' or 'mock/echo'")
    provider, _, model = address.partition("/")
    return Address(provider, model or None)


class _Resolved(NamedTuple):
    """A provider found for an address."""

    provider: str
    """Its registered name."""
    api: type[BackendAPI]
    """Its class."""
    model: str | None
    """The model to ask it for; None for the provider's default."""

    @property
    def address(self) -> str:
        """`provider/model` with the default model filled in, as errors name it."""
        return f"{self.provider}/{self.model or self.api.default_model}"


def get_backend(
    address: str,
    *,
    model: str | None = None,
    base_url: str | None = None,
    settings: BackendSettings | None = None,
    cache: RequestCache | Literal["default"] | None = "default",
    **options: Any,
) -> Backend:
    """Build a `Backend` from an address like `embedded`, `openai/gpt-4o-mini` or `mock/echo`.

    `model` overrides the model part of the address; `options` go to the provider, which declares them in its
    `Options` model: an option it does not declare raises `BackendOptionError` naming the ones it does.
    """
    found = _resolve(address, model)
    checked = found.api.validate_options(found.address, options)
    api = found.api(model=found.model, base_url=base_url, **checked)
    return Backend(api, settings=settings, cache=cache)


def check_backend_options(address: str, options: Mapping[str, Any]) -> dict[str, Any]:
    """The provider `options` for `address`, validated as `get_backend` would, without building the backend.

    For callers that take options from a user and use them later, such as `personae serve --backend-option`, so a
    misspelt option fails at once. Raises `BackendOptionError` (or `BackendNotFoundError`).
    """
    found = _resolve(address, None)
    return found.api.validate_options(found.address, options)


def _resolve(address: str, model: str | None) -> _Resolved:
    """The provider of `address`; `model` wins over the address's model part."""
    _load_plugins()
    provider, addr_model = parse_address(address)
    loader = _providers.get(provider)
    if loader is None:
        known = ", ".join(sorted(_providers)) or "none"
        raise BackendNotFoundError(f"unknown backend '{provider}' (known: {known})")
    return _Resolved(provider, loader(), model or addr_model)
