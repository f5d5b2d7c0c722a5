"""Finding providers by name: built-ins and plugins register through the same hook (see `personae.plugins`).

Registration is lazy: a provider's module (and its optional SDK) is imported only when first used,
so `import personae` works with no SDK installed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Literal, NamedTuple

from personae.backends._api import BackendAPI
from personae.backends._backend import Backend, BackendSettings
from personae.backends._cache import RequestCache
from personae.backends._errors import BackendNotFoundError
from personae.plugins import Registry

ENTRY_POINT_GROUP = "personae.backends"
"""The older entry-point group of backend plugins: each entry names a `register_backends(register)` function.
New plugins use the `personae` group (`personae.plugins`), which also takes tasks, NLI models and importers."""
ProviderLoader = Callable[[], type[BackendAPI]]
RegisterFn = Callable[[str, ProviderLoader], None]


def register_backend(name: str, loader: ProviderLoader) -> None:
    """Register a provider under `name`; `loader` imports and returns its `BackendAPI` class on first use."""
    _providers.add(name, loader)


def _register_builtin(register: RegisterFn) -> None:
    from personae.backends._providers import register_builtin

    register_builtin(register)


_providers: Registry[ProviderLoader] = Registry(
    "backend",
    "register_backends",
    builtins=_register_builtin,
    callback=register_backend,
    legacy_group=ENTRY_POINT_GROUP,
)


def reset_registry() -> None:
    """Forget every provider registration; the next lookup loads the built-ins and entry points again (for tests)."""
    _providers.reset()


def list_backends() -> list[str]:
    """Names of the registered providers."""
    return _providers.names()


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
    provider, addr_model = parse_address(address)
    loader = _providers.get(provider)
    if loader is None:
        known = ", ".join(_providers.names()) or "none"
        raise BackendNotFoundError(f"unknown backend '{provider}' (known: {known})")
    return _Resolved(provider, loader(), model or addr_model)
