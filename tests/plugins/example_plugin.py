"""A tiny third-party plugin on personae's public API: an eval task, an NLI model, a persona importer and a backend.

A package would list this module in its metadata:

    [project.entry-points.personae]
    example = "example_plugin"
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import ClassVar

import numpy as np

from personae.backends import BackendAPI, BackendOutput, Choice, GenerateConfig, Message, ProviderOptions
from personae.evals import EvalContext, EvalSample, Item, Task
from personae.interop import Extractor, Imported
from personae.persona import Persona
from personae.scoring import NLIModel

MAGIC = b"EXAMPLE-PERSONA\n"
"""First line of the example persona format: then `name: ...` and one `fact: ...` line per statement."""


class GreetingTask(Task):
    """Greets each persona once; scores whether the agent replied at all."""

    name: ClassVar[str] = "example-greeting"
    metrics: ClassVar[tuple[str, ...]] = ("replied",)
    primary: ClassVar[str | None] = "replied"

    def plan(self, personas: Mapping[str, Persona]) -> list[Item]:
        return [Item(f"{self.name}/{pid}", self.name, pid) for pid in personas]

    async def run(self, item: Item, ctx: EvalContext) -> EvalSample:
        reply = await ctx.chat(item, self.seed).send("Hello, who are you?")
        return EvalSample(
            id=item.id,
            task=self.name,
            persona=item.persona,
            status="ok",
            scores={"replied": 1.0 if reply.strip() else 0.0},
            transcript=[{"role": "user", "content": "Hello, who are you?"}, {"role": "assistant", "content": reply}],
        )


class KeywordNLI:
    """Entailment when the hypothesis mentions the keyword, contradiction when it says `not <keyword>`."""

    def __init__(self, keyword: str) -> None:
        self.keyword = keyword.lower()
        self.name = f"example:{keyword}"

    def predict(self, pairs: Sequence[tuple[str, str]]) -> np.ndarray:
        rows = []
        for _premise, hypothesis in pairs:
            text = hypothesis.lower()
            if f"not {self.keyword}" in text:
                rows.append([0.0, 0.0, 1.0])
            elif self.keyword in text:
                rows.append([1.0, 0.0, 0.0])
            else:
                rows.append([0.0, 1.0, 0.0])
        return np.asarray(rows, dtype=np.float32).reshape(len(pairs), 3)


def read_example(data: bytes, source: Path | str, extract: Extractor) -> Imported | None:
    """The example format, or None for any other file."""
    if not data.startswith(MAGIC):
        return None
    name, facts = "", []
    for line in data[len(MAGIC) :].decode("utf-8").splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "name":
            name = value.strip()
        elif key.strip() == "fact":
            facts.append(value.strip())
    return Imported(source=str(source), personas=[Persona(name=name, statements=facts)])


class LoudAPI(BackendAPI):
    """Replies with the last message in capitals, plus a declared option."""

    provider: ClassVar[str] = "example"

    class Options(ProviderOptions):
        suffix: str = ""
        """Appended to every reply."""

    def __init__(self, model: str | None = None, base_url: str | None = None, suffix: str = "") -> None:
        super().__init__(model=model, base_url=base_url)
        self.suffix = suffix

    async def generate(self, messages: Sequence[Message], config: GenerateConfig) -> BackendOutput:
        return BackendOutput(model=self.model, choices=[Choice(text=messages[-1].content.upper() + self.suffix)])


def register_backends(register: Callable[..., object]) -> None:
    register("example", lambda: LoudAPI)


def register_tasks(register: Callable[[type[Task]], object]) -> None:
    register(GreetingTask)


def register_nli_models(register: Callable[[str, Callable[[str], NLIModel]], object]) -> None:
    register("example", KeywordNLI)


def register_importers(register: Callable[..., object]) -> None:
    register("example", read_example)
