"""LLM backends: one async interface to the embedded offline model, OpenAI-compatible servers and a mock.

Typical use:

    backend = get_backend("mock/echo")
    output = await backend.generate([Message(role="user", content="Hi")], GenerateConfig(n=2))
"""

from personae.backends._api import BackendAPI, ProviderOptions, approx_tokens
from personae.backends._backend import Backend, BackendSettings, EventSubscriber
from personae.backends._cache import (
    RequestCache,
    cache_clear,
    cache_key,
    cache_prune,
    cache_size,
    default_cache_path,
)
from personae.backends._errors import (
    BackendError,
    BackendNotFoundError,
    BackendOptionError,
    MissingDependencyError,
    ModelUnavailableError,
    RejectedRequestError,
    RetryableBackendError,
)
from personae.backends._events import JsonlEventLog, ModelEvent
from personae.backends._providers.mock import MockBackendAPI, MockExhaustedError
from personae.backends._registry import (
    Address,
    check_backend_options,
    get_backend,
    list_backends,
    parse_address,
    register_backend,
    reset_registry,
)
from personae.backends._types import (
    BackendOutput,
    Choice,
    GenerateConfig,
    Message,
    ModelCall,
    StreamChunk,
    Usage,
)

__all__ = [
    "Address",
    "Backend",
    "BackendAPI",
    "BackendError",
    "BackendNotFoundError",
    "BackendOptionError",
    "BackendOutput",
    "BackendSettings",
    "Choice",
    "EventSubscriber",
    "GenerateConfig",
    "JsonlEventLog",
    "Message",
    "MissingDependencyError",
    "MockBackendAPI",
    "MockExhaustedError",
    "ModelCall",
    "ModelEvent",
    "ModelUnavailableError",
    "ProviderOptions",
    "RejectedRequestError",
    "RequestCache",
    "RetryableBackendError",
    "StreamChunk",
    "Usage",
    "approx_tokens",
    "cache_clear",
    "cache_key",
    "cache_prune",
    "cache_size",
    "check_backend_options",
    "default_cache_path",
    "get_backend",
    "list_backends",
    "parse_address",
    "register_backend",
    "reset_registry",
]
