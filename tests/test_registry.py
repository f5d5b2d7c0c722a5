from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import pytest

from personae.backends import (
    BackendAPI,
    BackendNotFoundError,
    BackendOutput,
    Choice,
    GenerateConfig,
    Message,
    get_backend,
    list_backends,
    parse_address,
    register_backend,
)


def test_parse_address_keeps_slashes_in_model_names() -> None:
    assert parse_address("openai/meta-llama/Llama-3-8B") == ("openai", "meta-llama/Llama-3-8B")
    assert parse_address("embedded") == ("embedded", None)
    with pytest.raises(BackendNotFoundError):
        parse_address("  ")


def test_builtins_are_registered_and_unknown_names_fail() -> None:
    assert {"embedded", "mock", "openai"} <= set(list_backends())
    with pytest.raises(BackendNotFoundError, match="unknown backend 'nope'"):
        get_backend("nope/x")


def test_a_plugin_provider_is_one_class_and_one_registration() -> None:
    class Shout(BackendAPI):
        provider: ClassVar[str] = "shout"

        async def generate(self, messages: Sequence[Message], config: GenerateConfig) -> BackendOutput:
            return BackendOutput(model=self.model, choices=[Choice(text=messages[-1].content.upper())])

    register_backend("shout", lambda: Shout)
    backend = get_backend("shout/loud", cache=None)
    assert backend.address == "shout/loud"
    out = backend.generate_sync([{"role": "user", "content": "hi"}], GenerateConfig(n=2, seed=1))
    # n=2 on a provider without native n: the wrapper asks twice.
    assert out.texts == ["HI", "HI"]


def test_missing_openai_key_says_how_to_fix() -> None:
    with pytest.raises(Exception, match="OPENAI_API_KEY"):
        get_backend("openai/gpt-4o-mini")
