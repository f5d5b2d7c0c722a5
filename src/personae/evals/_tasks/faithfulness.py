"""`faithfulness`: probes about stated facts, unstated ones, and temptations to break character, scored by APC."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from pydantic import Field

from personae.evals._context import EvalContext
from personae.evals._errors import UnscorableSample
from personae.evals._log import EvalSample
from personae.evals._prompts import probe_request
from personae.evals._scoring import ScoringContext, ooc_scores
from personae.evals._task import Item, Task, TaskParams
from personae.evals._tasks._common import item_seed
from personae.persona import Persona


class FaithfulnessParams(TaskParams):
    """Parameters of `faithfulness`: probes per persona of each kind."""

    stated: int = Field(default=3, ge=0, le=1000)
    """Probes about facts in the profile (each about a different statement, in seeded order)."""
    unstated: int = Field(default=2, ge=0, le=1000)
    """Probes about things the profile does not say."""
    break_character: int = Field(default=1, ge=0, le=1000)
    """Probes tempting the character out of its role."""


class FaithfulnessTask(Task):
    """Probe → reply through the runtime; scored by APC, normalised APC and whether any statement is contradicted."""

    name: ClassVar[str] = "faithfulness"
    Params: ClassVar[type[TaskParams]] = FaithfulnessParams
    metrics: ClassVar[tuple[str, ...]] = ("apc_normalized", "apc", "contradiction")
    scored: ClassVar[tuple[str, ...]] = ("apc_normalized", "apc", "contradiction", "ooc")
    scored_data: ClassVar[tuple[str, ...]] = ("violations", "evidence")
    primary: ClassVar[str | None] = "apc_normalized"

    def plan(self, personas: Mapping[str, Persona]) -> list[Item]:
        """Items: persona × probe kind × number; stated probes name their fact."""
        params = self.params
        assert isinstance(params, FaithfulnessParams)
        items: list[Item] = []
        for pid, persona in personas.items():
            if not persona.statements:
                continue
            order = sorted(persona.statements, key=lambda s: item_seed(self.seed, pid + s))
            kinds = [("stated", params.stated), ("unstated", params.unstated), ("break", params.break_character)]
            for kind, count in kinds:
                for k in range(count):
                    data: dict[str, Any] = {"kind": kind, "number": k}
                    if kind == "stated":
                        data["fact"] = order[k % len(order)]
                    items.append(Item(f"{self.name}/{pid}/{kind}/{k}", self.name, pid, data))
        return items

    async def run(self, item: Item, ctx: EvalContext) -> EvalSample:
        """Write the probe and get the guarded reply."""
        persona = ctx.personas[item.persona]
        seed = item_seed(self.seed, item.id)
        probe = await ctx.generate_text(
            *probe_request(persona, item.data["kind"], item.data.get("fact"), item.data["number"]), seed=seed
        )
        reply = await ctx.chat(item, seed).send(probe)
        return EvalSample(
            id=item.id,
            task=self.name,
            persona=item.persona,
            status="ok",
            transcript=[{"role": "user", "content": probe}, {"role": "assistant", "content": reply}],
            data=dict(item.data),
        )

    def score(self, sample: EvalSample, scoring: ScoringContext) -> None:
        """Score the reply against every statement (APC, contradictions) and for leaving the character."""
        scores, *rest = scoring.score_conversation(sample)
        if rest:
            raise UnscorableSample("a faithfulness transcript holds one probe and one reply")
        result = scores.result
        if result is None:
            raise UnscorableSample(f"persona '{sample.persona}' has no statements to score against")
        sample.scores.update(
            {
                "apc_normalized": result.apc_normalized,
                "apc": result.apc,
                "contradiction": 1.0 if result.violations else 0.0,
                **ooc_scores([scores.ooc]),
            }
        )
        sample.data["violations"] = [v.statement for v in result.violations]
        sample.data["evidence"] = [v.evidence for v in result.violations]

    def extra(self, samples: Sequence[EvalSample], personas: Mapping[str, Persona]) -> dict[str, Any]:
        """Normalised APC and contradiction rate per probe kind (stated, unstated, break)."""
        by_kind: dict[str, dict[str, float]] = {}
        for kind in ("stated", "unstated", "break"):
            mine = [s for s in samples if s.data.get("kind") == kind and "apc_normalized" in s.scores]
            if mine:
                by_kind[kind] = {
                    "apc_normalized": sum(s.scores["apc_normalized"] for s in mine) / len(mine),
                    "contradiction": sum(s.scores["contradiction"] for s in mine) / len(mine),
                    "n": float(len(mine)),
                }
        return {"by_kind": by_kind}
