"""`multi-turn`: a simulated user with a goal holds N-turn conversations; APC and self-contradiction per turn."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from pydantic import Field, field_validator

from personae.evals._context import EvalContext
from personae.evals._log import EvalSample
from personae.evals._prompts import USER_GOALS, user_request
from personae.evals._scoring import ScoringContext, ooc_scores
from personae.evals._task import Item, Task, TaskParams
from personae.evals._tasks._common import item_seed
from personae.persona import Persona


class MultiTurnParams(TaskParams):
    """Parameters of `multi-turn`."""

    turns: int = Field(default=4, ge=1, le=50)
    """User messages per conversation."""
    goals: list[str] = Field(default_factory=lambda: list(USER_GOALS))
    """Goals of the simulated user, one conversation set per goal."""
    conversations: int = Field(default=1, ge=1, le=1000)
    """Conversations per persona and goal."""

    @field_validator("goals")
    @classmethod
    def _known(cls, value: list[str]) -> list[str]:
        unknown = [g for g in value if g not in USER_GOALS]
        if unknown:
            raise ValueError(f"unknown goal(s) {unknown}; known: {list(USER_GOALS)}")
        return value


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values)


class MultiTurnTask(Task):
    """Conversation with a simulated user; per turn the shown reply's normalised APC and self-contradictions."""

    name: ClassVar[str] = "multi-turn"
    Params: ClassVar[type[TaskParams]] = MultiTurnParams
    metrics: ClassVar[tuple[str, ...]] = ("apc_normalized", "contradiction", "self_contradiction")
    scored: ClassVar[tuple[str, ...]] = ("apc_normalized", "contradiction", "self_contradiction", "ooc")
    scored_data: ClassVar[tuple[str, ...]] = ("turns",)
    primary: ClassVar[str | None] = "apc_normalized"

    def plan(self, personas: Mapping[str, Persona]) -> list[Item]:
        """Items: persona × goal × conversation number."""
        params = self.params
        assert isinstance(params, MultiTurnParams)
        return [
            Item(f"{self.name}/{pid}/{goal}/{k}", self.name, pid, {"goal": goal, "number": k})
            for pid in personas
            for goal in params.goals
            for k in range(params.conversations)
        ]

    async def run(self, item: Item, ctx: EvalContext) -> EvalSample:
        """Alternate simulated-user and agent turns."""
        params = self.params
        assert isinstance(params, MultiTurnParams)
        persona = ctx.personas[item.persona]
        seed = item_seed(self.seed, item.id)
        chat = ctx.chat(item, seed)
        said: list[tuple[str, str]] = []
        transcript: list[dict[str, str]] = []
        for t in range(params.turns):
            system, prompt = user_request(persona, item.data["goal"], said)
            message = (await ctx.ask(ctx.user, ctx.spec.user, system, prompt, seed + t)).strip() or "Go on."
            reply = await chat.send(message)
            said += [("User", message), (persona.name, reply)]
            transcript += [{"role": "user", "content": message}, {"role": "assistant", "content": reply}]
        return EvalSample(
            id=item.id,
            task=self.name,
            persona=item.persona,
            status="ok",
            transcript=transcript,
            data=dict(item.data),
        )

    def score(self, sample: EvalSample, scoring: ScoringContext) -> None:
        """Per turn, the shown reply's normalised APC, violations and contradictions of earlier replies; OOC rate."""
        per_turn: list[dict[str, Any]] = []
        scored = scoring.score_conversation(sample)
        for t, (result, _, contradictions) in enumerate(scored):
            per_turn.append(
                {
                    "turn": t,
                    "apc_normalized": result.apc_normalized if result else None,
                    "violations": [v.statement for v in result.violations] if result else [],
                    "contradictions": [c.model_dump() for c in contradictions],
                }
            )
        apcs = [p["apc_normalized"] for p in per_turn if p["apc_normalized"] is not None]
        sample.scores.update(
            {
                "contradiction": _mean([1.0 if p["violations"] else 0.0 for p in per_turn]),
                "self_contradiction": _mean([1.0 if p["contradictions"] else 0.0 for p in per_turn]),
                **ooc_scores([s.ooc for s in scored]),
            }
        )
        if apcs:
            sample.scores["apc_normalized"] = _mean(apcs)
        sample.data["turns"] = per_turn

    def extra(self, samples: Sequence[EvalSample], personas: Mapping[str, Persona]) -> dict[str, Any]:
        """Drift curves: mean normalised APC and self-contradiction rate at each turn, per persona and overall."""

        def curve(subset: Sequence[EvalSample], key: str) -> list[float | None]:
            subset = [s for s in subset if "turns" in s.data]  # not scored (a rescoring could not) otherwise
            turns = max((len(s.data["turns"]) for s in subset), default=0)
            out: list[float | None] = []
            for t in range(turns):
                values = [
                    (1.0 if p[key] else 0.0) if key == "contradictions" else p[key]
                    for s in subset
                    if t < len(s.data["turns"])
                    for p in [s.data["turns"][t]]
                    if p[key] is not None
                ]
                out.append(_mean(values) if values else None)
            return out

        drift = {}
        for pid in personas:
            mine = [s for s in samples if s.persona == pid]
            if mine:
                drift[pid] = {
                    "apc_normalized": curve(mine, "apc_normalized"),
                    "self_contradiction": curve(mine, "contradictions"),
                }
        return {
            "drift": drift,
            "drift_all": {
                "apc_normalized": curve(samples, "apc_normalized"),
                "self_contradiction": curve(samples, "contradictions"),
            },
        }
