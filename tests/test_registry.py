from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import pytest

from personae.backends import (
    BackendAPI,
    BackendNotFoundError,
    BackendOptionError,
    BackendOutput,
    Choice,
    GenerateConfig,
    Message,
    MockBackendAPI,
    check_backend_options,
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


def test_an_unknown_option_names_the_provider_and_the_options_it_knows() -> None:
    with pytest.raises(BackendOptionError) as caught:
        get_backend("mock/echo", delya=0.5)
    assert (
        str(caught.value) == "mock/echo has no option 'delya' (did you mean 'delay'?); "
        "known options: cut_at_max_tokens, delay, fn, outputs"
    )
    assert (caught.value.address, caught.value.option) == ("mock/echo", "delya")
    with pytest.raises(BackendOptionError) as caught:
        get_backend("openai", temperature=0.2)
    assert str(caught.value) == (
        "openai/gpt-4o-mini has no option 'temperature'; known options: api_key, timeout, transport"
    )


def test_option_values_are_checked_and_converted() -> None:
    with pytest.raises(BackendOptionError, match=r"mock/echo option 'delay' is invalid: .*greater than or equal to 0"):
        get_backend("mock/echo", delay=-1)
    backend = get_backend("mock/echo", delay="0.01", cache=None)  # as a CLI or a JSON config gives it
    assert isinstance(backend.api, MockBackendAPI)
    assert backend.api.delay == 0.01


def test_every_declared_option_still_reaches_its_provider() -> None:
    backend = get_backend(
        "openai/x", base_url="http://127.0.0.1:9/v1", api_key="k", timeout=5.0, transport="sdk", cache=None
    )
    assert backend.api.transport == "sdk"  # type: ignore[attr-defined]
    scripted = get_backend("mock/scripted", outputs=["one"], cache=None)
    assert scripted.generate_sync([{"role": "user", "content": "hi"}]).text == "one"
    assert check_backend_options("mock/echo", {"delay": 1}) == {"delay": 1.0}


def test_a_provider_that_declares_no_options_takes_none() -> None:
    class Quiet(BackendAPI):
        provider: ClassVar[str] = "quiet"

        async def generate(self, messages: Sequence[Message], config: GenerateConfig) -> BackendOutput:
            return BackendOutput(model=self.model, choices=[Choice(text="...")])

    register_backend("quiet", lambda: Quiet)
    with pytest.raises(BackendOptionError, match="quiet/x has no option 'volume'; known options: none"):
        get_backend("quiet/x", volume=3)


def test_building_a_provider_directly_refuses_unknown_options_too() -> None:
    with pytest.raises(BackendOptionError, match="mock/echo has no option 'delya'"):
        MockBackendAPI(delya=1)
