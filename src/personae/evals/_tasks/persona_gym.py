"""`persona-gym`: situational questions for PersonaGym's five tasks, answered in character, graded 1–5 by rubric."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

from pydantic import Field, field_validator

from personae._util.loading import DataFormatError, load_file
from personae.evals._context import EvalContext, judge_failure, mean_score
from personae.evals._errors import EvalSpecError, JudgeParseError
from personae.evals._judge import parse_anchors, parse_score
from personae.evals._log import EvalSample, JudgeRecord
from personae.evals._prompts import PG_CRITERIA, anchors_request, question_request, rubric_request
from personae.evals._scoring import ScoringContext, ooc_scores
from personae.evals._spec import SpecPath
from personae.evals._task import Item, Task, TaskParams
from personae.evals._tasks._common import item_seed, slug
from personae.persona import Persona

PG_TASKS: tuple[str, ...] = tuple(PG_CRITERIA)
"""PersonaGym's five task names."""

FALLBACK_ENVIRONMENTS = (
    "Village Hall Meeting",
    "Train Station",
    "Hospital Waiting Room",
    "Job Interview",
    "Family Dinner",
    "Public Library",
    "Street Market",
    "Community Protest",
)
"""Settings used when no environment list is given."""

_WORD = re.compile(r"[a-z]+")


class PersonaGymParams(TaskParams):
    """Parameters of `persona-gym`."""

    questions_per_task: int = Field(default=2, ge=1, le=50)
    """Questions per PersonaGym task and persona."""
    tasks: list[str] = Field(default_factory=lambda: list(PG_TASKS))
    """Which of the five tasks to run."""
    environments: SpecPath | None = None
    """PersonaGym's `tasks_and_environments.json` (relative to the spec); default: a small built-in list."""
    environments_per_persona: int = Field(default=3, ge=1, le=100)
    """How many of the most relevant environments each persona's questions are set in."""
    use_benchmark_questions: bool = True
    """Use a benchmark persona's own questions (PersonaGym JSONL) instead of generating them."""

    @field_validator("tasks")
    @classmethod
    def _known(cls, value: list[str]) -> list[str]:
        unknown = [t for t in value if t not in PG_CRITERIA]
        if unknown:
            raise ValueError(f"unknown PersonaGym task(s) {unknown}; known: {list(PG_CRITERIA)}")
        return value


def load_environments(path: Path) -> list[str]:
    """Environment names from PersonaGym's `tasks_and_environments.json`."""
    try:
        data = load_file(path, kind="json")
    except DataFormatError as exc:
        raise EvalSpecError(path, f"cannot read environments: {exc.reason}") from None
    envs = data.get("environments") if isinstance(data, dict) else None
    if not isinstance(envs, list) or not all(isinstance(e, str) for e in envs) or not envs:
        raise EvalSpecError(path, "expected a non-empty list of strings", field="environments")
    return envs


def relevant_environments(persona: Persona, environments: Sequence[str], k: int, seed: int) -> list[str]:
    """The `k` environments sharing most words with the persona's profile (ties broken by a seeded hash)."""
    text = " ".join([persona.name, persona.summary or "", *persona.statements, *persona.goals]).lower()
    words = {w for w in _WORD.findall(text) if len(w) > 3}
    stems = {w[:5] for w in words}

    def key(env: str) -> tuple[int, int]:
        env_words = [w for w in _WORD.findall(env.lower()) if len(w) > 3]
        overlap = sum(1 for w in env_words if w in words or w[:5] in stems)
        return (-overlap, item_seed(seed, persona.name + env))

    return sorted(environments, key=key)[:k]


def _benchmark_questions(persona: Persona, task: str) -> list[str]:
    record: Any = persona.extensions.get("personagym", {})
    questions = record.get("questions", {}) if isinstance(record, dict) else {}
    found = questions.get(task, []) if isinstance(questions, dict) else []
    return [q for q in found if isinstance(q, str)]


class PersonaGymTask(Task):
    """Questions per task and environment → in-character answer → per-question anchors → 1–5 rubric grade."""

    name: ClassVar[str] = "persona-gym"
    Params: ClassVar[type[TaskParams]] = PersonaGymParams
    metrics: ClassVar[tuple[str, ...]] = tuple(slug(t) for t in PG_TASKS)
    scored: ClassVar[tuple[str, ...]] = ("ooc",)
    primary: ClassVar[str | None] = "persona_score"

    def plan(self, personas: Mapping[str, Persona]) -> list[Item]:
        """Items: persona × task × question number, each with its environment (or benchmark question)."""
        params = self.params
        assert isinstance(params, PersonaGymParams)
        envs = (
            load_environments(Path(self.base_dir) / params.environments)
            if params.environments
            else list(FALLBACK_ENVIRONMENTS)
        )
        items: list[Item] = []
        for pid, persona in personas.items():
            chosen = relevant_environments(persona, envs, params.environments_per_persona, self.seed)
            for task in params.tasks:
                bench = _benchmark_questions(persona, task) if params.use_benchmark_questions else []
                for k in range(params.questions_per_task):
                    data: dict[str, Any] = {"pg_task": task, "number": k, "environment": chosen[k % len(chosen)]}
                    if k < len(bench):
                        data["question"] = bench[k]
                    items.append(Item(f"{self.name}/{pid}/{slug(task)}/{k}", self.name, pid, data))
        return items

    async def run(self, item: Item, ctx: EvalContext) -> EvalSample:
        """Question (given or written), answer through the runtime, anchors, then every judge's grade."""
        persona = ctx.personas[item.persona]
        task, seed = item.data["pg_task"], item_seed(self.seed, item.id)
        question = item.data.get("question") or await ctx.generate_text(
            *question_request(persona, task, item.data["environment"], item.data["number"]), seed=seed
        )
        answer = await ctx.chat(item, seed).send(question)
        sample = EvalSample(
            id=item.id,
            task=self.name,
            persona=item.persona,
            status="ok",
            transcript=[{"role": "user", "content": question}, {"role": "assistant", "content": answer}],
            data={**item.data, "question": question},
        )
        raw_anchors = await ctx.generate_text(*anchors_request(persona, task, question), seed=seed)
        try:
            anchors = parse_anchors(raw_anchors)
        except JudgeParseError as exc:
            sample.judgements.append(JudgeRecord(judge="anchors", raw=raw_anchors, error=f"anchors: {exc.reason}"))
            sample.status, sample.failure = "failed", f"anchors: {exc.reason}"
            return sample
        sample.data["anchors"] = {str(k): v for k, v in anchors.items()}
        sample.judgements = await ctx.judge(
            *rubric_request(persona, task, question, answer, anchors), seed=seed, read=parse_score
        )
        score = mean_score(sample.judgements)
        if score is None:
            sample.status, sample.failure = "failed", judge_failure(sample.judgements)
        else:
            sample.scores[slug(task)] = score
        return sample

    def score(self, sample: EvalSample, scoring: ScoringContext) -> None:
        """Whether the answer left the character (the judges' grade comes from `run`)."""
        sample.scores.update(ooc_scores(scoring.ooc(sample)))

    def extra(self, samples: Sequence[EvalSample], personas: Mapping[str, Persona]) -> dict[str, Any]:
        """PersonaScore: the mean of the task means, per persona and overall."""
        keys = {slug(t) for t in PG_TASKS}

        def persona_score(subset: Sequence[EvalSample]) -> float | None:
            means = []
            for key in keys:
                values = [s.scores[key] for s in subset if key in s.scores]
                if values:
                    means.append(sum(values) / len(values))
            return sum(means) / len(means) if means else None

        per = {pid: persona_score([s for s in samples if s.persona == pid]) for pid in personas}
        return {"persona_score": persona_score(samples), "persona_scores": per}
