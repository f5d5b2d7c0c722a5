"""The `personalization` eval task with mock backends: a user whose home, job and pet change across sessions, a
neighbour talking to the same character, probes with and without user memory, and the four scores."""

from __future__ import annotations

import json
from pathlib import Path

from helpers.evals import REPO, mock_spec
from personae.backends import GenerateConfig, Message, get_backend
from personae.evals import EvalSample, ScoringContext, run_eval
from personae.evals._tasks.personalization import PersonalizationTask, profiles, script
from personae.persona import load_persona
from personae.scoring import FakeEmbedder, FakeNLI, ScoringModels

ADA = str(REPO / "examples" / "personas" / "ada.yaml")


def remembering(messages: list[Message], config: GenerateConfig, index: int) -> str:
    """An agent that answers with every fact its prompt says it knows about the user (none without memory)."""
    system = "\n".join(m.content for m in messages if m.role == "system")
    if "knows about" not in system:
        return "I am not sure I know."
    block = system.split("knows about", 1)[1].split("Earlier conversations", 1)[0]
    facts = [line[2:] for line in block.splitlines() if line.startswith("- ")]
    return " ".join(facts) or "I am not sure I know."


async def test_memory_keeps_the_current_values_and_no_neighbours(tmp_path: Path) -> None:
    spec = mock_spec({"personalization": {"users": 2}}, personas=[ADA])
    agent = get_backend("mock/echo", fn=remembering, cache=None)
    results = await run_eval(spec, tmp_path / "run", backends={"agent": agent})
    metrics = results.tasks["personalization"].metrics
    assert metrics["current_fact_recall"].mean == 1.0
    assert metrics["stale_fact_rate"].mean == 0.0  # the moved-from city and the old job were superseded
    assert metrics["cross_user_leakage"].mean == 0.0
    assert metrics["invented_fact_rate"].mean == 0.0
    assert metrics["baseline_current_fact_recall"].mean == 0.0  # without memory it cannot know
    samples = [EvalSample.model_validate_json(line) for line in (tmp_path / "run" / "samples.jsonl").open()]
    assert len(samples) == 2
    names = {s.data["user"]["name"] for s in samples} | {s.data["neighbour"]["name"] for s in samples}
    assert len(names) == 4  # every simulated user is someone else
    first = samples[0]
    assert len(first.data["sessions"]) == 2 * len(script(profiles(0, 0)[0])) + 2
    assert first.data["probes"][0]["question"] == "Where do I live these days?"


def sample_with(replies: list[str]) -> EvalSample:
    user, neighbour = profiles(7, 0)
    probes = [
        {"slot": s, "question": q, "reply": r, "baseline_reply": None}
        for (s, q), r in zip((("home", "?"), ("job", "?"), ("pet", "?")), replies, strict=True)
    ]
    data = {"user": user._asdict(), "neighbour": neighbour._asdict(), "probes": probes}
    return EvalSample(
        id="x", task="personalization", persona="ada-quint", status="ok", data=json.loads(json.dumps(data))
    )


def test_scores_catch_stale_invented_and_leaked_values() -> None:
    user, neighbour = profiles(7, 0)
    unsaid = next(
        c
        for c in ("Leeds", "York", "Bristol", "Glasgow", "Cardiff", "Dundee", "Norwich", "Exeter")
        if c not in (*user.homes, *neighbour.homes)
    )
    task = PersonalizationTask(PersonalizationTask.Params(), ".", 0)
    scoring = ScoringContext({"ada-quint": load_persona(ADA)}, ScoringModels(FakeNLI(), FakeEmbedder(), False))
    sample = sample_with(
        [
            f"You live in {user.homes[1]}, or was it {user.homes[0]}?",  # current and stale
            f"You work as a {neighbour.jobs[1]}.",  # the neighbour's job: leaked
            f"Your pet is called... {unsaid}?",  # a city nobody said: invented
        ]
    )
    task.score(sample, scoring)
    assert sample.scores["current_fact_recall"] == 1 / 3
    assert sample.scores["stale_fact_rate"] == 1 / 3
    assert sample.scores["cross_user_leakage"] == 1 / 3
    assert sample.scores["invented_fact_rate"] == 1 / 3
    assert "baseline_current_fact_recall" not in sample.scores
    assert sample.data["probe_scores"][1]["leaked"] == [neighbour.jobs[1]]
    assert sample.scores["misattributed_fact_rate"] == 0


def test_a_value_the_character_claims_as_its_own_is_not_recalled() -> None:
    """The embedded model answered "What do I do for a living now?" with "I work as a nurse."."""
    user, _ = profiles(7, 0)
    task = PersonalizationTask(PersonalizationTask.Params(), ".", 0)
    scoring = ScoringContext({"ada-quint": load_persona(ADA)}, ScoringModels(FakeNLI(), FakeEmbedder(), False))
    sample = sample_with(
        [
            f"My dear, you live in {user.homes[1]} now.",  # the user's: recalled
            f"I work as a {user.jobs[1]}.",  # the character's own: not recalled
            f"Yes, I have a {user.pet[0]} named {user.pet[1]}. I hear you love {user.pet[1]}.",  # one sentence gives it
        ]
    )
    task.score(sample, scoring)
    assert [r["current"] for r in sample.data["probe_scores"]] == [True, False, True]
    assert sample.data["probe_scores"][1]["misattributed"] == [user.jobs[1]]
    assert sample.scores["misattributed_fact_rate"] == 1 / 3
