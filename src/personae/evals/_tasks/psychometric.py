"""`psychometric`: the Big Five Inventory asked as an in-character interview, answers rated 1–5 by the judges."""

from __future__ import annotations

import ast
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar, NamedTuple

from pydantic import Field

from personae._util.loading import DataFormatError, load_file
from personae.evals._context import EvalContext, judge_failure, mean_score
from personae.evals._errors import EvalSpecError
from personae.evals._judge import parse_score
from personae.evals._log import EvalSample, TaskResult
from personae.evals._prompts import bfi_request
from personae.evals._scoring import ScoringContext, ooc_scores
from personae.evals._spec import SpecPath
from personae.evals._stats import bootstrap_mean
from personae.evals._task import Item, Task, TaskParams
from personae.evals._tasks._common import item_seed
from personae.persona import Persona

TRAITS = ("openness", "conscientiousness", "extraversion", "agreeableness", "neuroticism")


class BFIItem(NamedTuple):
    """One inventory item."""

    number: int
    statement: str
    question: str
    trait: str
    reverse: bool


class PsychometricParams(TaskParams):
    """Parameters of `psychometric`."""

    questionnaire: SpecPath = SpecPath("../shared/data/incharacter/BFI.json")
    """InCharacter-format BFI questionnaire (relative to the spec)."""
    items: int | None = Field(default=None, ge=1, le=44)
    """Ask only the first N items (the inventory interleaves the five traits)."""


def _literal(value: Any) -> Any:
    """InCharacter stores some fields as Python literals inside strings."""
    return ast.literal_eval(value) if isinstance(value, str) else value


def load_bfi(path: Path) -> list[BFIItem]:
    """The inventory's items with trait and reverse key; errors name the file and field."""
    try:
        data = load_file(path, kind="json")
    except DataFormatError as exc:
        raise EvalSpecError(path, f"cannot read questionnaire: {exc.reason}") from None
    try:
        reverse = {int(n) for n in _literal(data["reverse"])}
        questions = _literal(data["questions"])
    except (KeyError, ValueError, SyntaxError, TypeError) as exc:
        raise EvalSpecError(path, f"malformed questionnaire ({exc})", field="reverse/questions") from None
    items: list[BFIItem] = []
    for key, q in sorted(questions.items(), key=lambda kv: int(kv[0])):
        trait = str(q.get("dimension", "")).lower()
        if trait not in TRAITS:
            raise EvalSpecError(path, f"unknown dimension {q.get('dimension')!r}", field=f"questions.{key}.dimension")
        statement, question = q.get("origin_en"), q.get("rewritten_en")
        if not isinstance(statement, str) or not isinstance(question, str):
            raise EvalSpecError(path, "missing origin_en or rewritten_en", field=f"questions.{key}")
        items.append(BFIItem(int(key), statement, question, trait, int(key) in reverse))
    return items


class PsychometricTask(Task):
    """BFI interview → judge rating → reverse keying → trait score in 0..1, compared with the persona's targets."""

    name: ClassVar[str] = "psychometric"
    Params: ClassVar[type[TaskParams]] = PsychometricParams
    metrics: ClassVar[tuple[str, ...]] = ("rating",)
    scored: ClassVar[tuple[str, ...]] = ("ooc",)
    primary: ClassVar[str | None] = "trait_abs_error"
    higher_is_better: ClassVar[bool] = False

    def plan(self, personas: Mapping[str, Persona]) -> list[Item]:
        """Items: persona × inventory item."""
        params = self.params
        assert isinstance(params, PsychometricParams)
        bfi = load_bfi(Path(self.base_dir) / params.questionnaire)[: params.items]
        return [Item(f"{self.name}/{pid}/{it.number}", self.name, pid, it._asdict()) for pid in personas for it in bfi]

    async def run(self, item: Item, ctx: EvalContext) -> EvalSample:
        """Ask the interview question in character; every judge rates agreement with the item's statement."""
        persona = ctx.personas[item.persona]
        seed = item_seed(self.seed, item.id)
        question = item.data["question"]
        answer = await ctx.chat(item, seed).send(question)
        records = await ctx.judge(
            *bfi_request(persona, item.data["statement"], question, answer), seed=seed, read=parse_score
        )
        sample = EvalSample(
            id=item.id,
            task=self.name,
            persona=item.persona,
            status="ok",
            judgements=records,
            transcript=[{"role": "user", "content": question}, {"role": "assistant", "content": answer}],
            data=dict(item.data),
        )
        rating = mean_score(records)
        if rating is None:
            sample.status, sample.failure = "failed", judge_failure(records)
        else:
            sample.scores["rating"] = 6.0 - rating if item.data["reverse"] else rating
        return sample

    def score(self, sample: EvalSample, scoring: ScoringContext) -> None:
        """Whether the answer left the character (the judges' grade comes from `run`)."""
        sample.scores.update(ooc_scores(scoring.ooc(sample)))

    def extra(self, samples: Sequence[EvalSample], personas: Mapping[str, Persona]) -> dict[str, Any]:
        """Per persona and trait: measured score (0..1), target, absolute error, high/low agreement."""
        profiles: dict[str, dict[str, dict[str, Any]]] = {}
        for pid, persona in personas.items():
            targets = persona.traits.model_dump() if persona.traits else {}
            profile: dict[str, dict[str, Any]] = {}
            for trait in TRAITS:
                ratings = [s.scores["rating"] for s in samples if s.persona == pid and s.data["trait"] == trait]
                if not ratings:
                    continue
                measured = (sum(ratings) / len(ratings) - 1.0) / 4.0
                target = targets.get(trait)
                entry: dict[str, Any] = {"measured": measured, "target": target, "n": len(ratings)}
                if target is not None:
                    entry["abs_error"] = abs(measured - target)
                    if target != 0.5:
                        entry["agree"] = (measured > 0.5) == (target > 0.5)
                profile[trait] = entry
            if profile:
                profiles[pid] = profile
        return {"traits": profiles}

    def summarize(self, samples: Sequence[EvalSample], personas: Mapping[str, Persona]) -> TaskResult:
        """Rating means plus trait error and agreement, per persona and over all persona-trait pairs."""
        result = super().summarize(samples, personas)
        profiles: dict[str, dict[str, dict[str, Any]]] = result.extra["traits"]
        errors_all: list[float] = []
        agree_all: list[float] = []
        for pid, profile in profiles.items():
            errors = [e["abs_error"] for e in profile.values() if "abs_error" in e]
            agree = [1.0 if e["agree"] else 0.0 for e in profile.values() if "agree" in e]
            errors_all += errors
            agree_all += agree
            for name, values in (("trait_abs_error", errors), ("high_low_agreement", agree)):
                stat = bootstrap_mean(values, seed=self.seed)
                if stat is not None:
                    result.personas.setdefault(pid, {})[name] = stat
        for name, values in (("trait_abs_error", errors_all), ("high_low_agreement", agree_all)):
            stat = bootstrap_mean(values, seed=self.seed)
            if stat is not None:
                result.metrics[name] = stat
        return result
