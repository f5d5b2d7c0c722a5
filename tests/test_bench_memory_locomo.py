"""bench/memory_locomo.py on a tiny synthetic conversation in LoCoMo's layout, rule-based models and a mock
answering backend: evidence recall and answer F1 for the memory and every baseline, and LoCoMo's answer scoring.

No LoCoMo data is used here (CC BY-NC, measure only): the conversation below is made up.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from conftest import REPO
from helpers.scripts import load_script
from personae.backends import GenerateConfig, Message, get_backend

BENCH = REPO / "bench" / "memory_locomo.py"


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    return load_script(BENCH, "memory_locomo_bench")


def conversation() -> dict[str, Any]:
    """Two dated sessions between Ines and Tomas, and one question of each category with its evidence turn."""
    return {
        "speaker_a": "Ines",
        "speaker_b": "Tomas",
        "session_1_date_time": "1:56 pm on 8 May, 2023",
        "session_1": [
            {"speaker": "Ines", "dia_id": "D1:1", "text": "Yesterday I adopted a grey kitten called Pepper!"},
            {"speaker": "Tomas", "dia_id": "D1:2", "text": "Lovely. My brother Luis is training for a marathon."},
            {"speaker": "Ines", "dia_id": "D1:3", "text": "I work as a nurse at the city hospital."},
            {"speaker": "Tomas", "dia_id": "D1:4", "text": "I repaired an old violin last week."},
        ],
        "session_2_date_time": "7:00 pm on 20 June, 2023",
        "session_2": [
            {"speaker": "Ines", "dia_id": "D2:1", "text": "Pepper knocked my tea over this morning, the rascal."},
            {"speaker": "Tomas", "dia_id": "D2:2", "text": "Luis finished the marathon in Porto in four hours."},
        ],
        "qa": [
            {"question": "What is the name of Ines's kitten?", "answer": "Pepper", "evidence": ["D1:1"], "category": 4},
            {
                "question": "When did Ines adopt the kitten?",
                "answer": "7 May 2023",
                "evidence": ["D1:1"],
                "category": 2,
            },
            {
                "question": "What did Tomas's brother do, and where?",
                "answer": "a marathon, Porto",
                "evidence": ["D1:2", "D2:2"],
                "category": 1,
            },
            {
                "question": "Would Ines like a job in a hospital?",
                "answer": "yes; she is a nurse",
                "evidence": ["D1:3"],
                "category": 3,
            },
            {
                "question": "What did Ines repair?",
                "adversarial_answer": "a violin",
                "evidence": ["D1:4"],
                "category": 5,
            },
        ],
    }


def test_answer_scoring_follows_locomo(bench: ModuleType) -> None:
    assert bench.normalize_answer("The Grey, kitten!") == "grey kitten"
    assert bench.token_f1("Pepper the kitten", "Pepper") == pytest.approx(2 / 3)
    assert bench.token_f1("no", "Pepper") == 0.0
    multi = {"answer": "a marathon, Porto", "category": 1}
    assert bench.answer_score("marathon, Porto", multi) == 1.0
    assert bench.answer_score("marathon", multi) == 0.5  # part by part
    assert bench.answer_score("yes", {"answer": "yes; she is a nurse", "category": 3}) == 1.0  # the first part
    assert bench.answer_score("No information available.", {"adversarial_answer": "x", "category": 5}) == 1.0
    assert bench.answer_score("a violin", {"adversarial_answer": "a violin", "category": 5}) == 0.0
    assert bench.within_budget(["abcdefg", "abcdefg", "abcdefg"], 4) == ["abcdefg", "abcdefg"]


def test_the_bench_reports_recall_and_answer_f1_for_memory_and_every_baseline(
    bench: ModuleType, tmp_path: Path
) -> None:
    (tmp_path / "1.json").write_text(json.dumps(conversation()), encoding="utf-8")
    asked: list[str] = []

    def answerer(messages: list[Message], config: GenerateConfig, index: int) -> str:
        prompt = messages[-1].content
        asked.append(prompt)
        memories = prompt.split("Answer the question")[0]
        return "Pepper" if "Pepper" in memories else "No information available"

    backend = get_backend("mock/answers", fn=answerer, cache=None)
    result = bench.main(tmp_path, 10, "fake", None, backend, questions=3)
    methods = {"no_memory_recent", "bm25_turns", "embedding_turns", "full_context_truncated"}
    assert set(result["baselines"]) == methods
    assert result["questions"] == 5
    assert result["evidence_recall"]["memory"]["@10"] == 1.0  # six turns: everything fits in ten items
    assert set(result["per_category"]["memory"]) == {
        "single_hop",
        "temporal",
        "multi_hop",
        "open_domain",
        "adversarial",
    }
    assert result["per_conversation"]["1"]["memory"] == 1.0
    assert result["messages_kept"] == 6
    f1 = result["answer_f1"]
    assert f1["backend"] == "mock/answers"
    assert f1["questions"] == 3
    assert f1["failed"] == {}
    assert set(f1["scores"]) == {"memory", *methods}
    assert f1["scores"]["memory"]["single_hop"] == 1.0  # Pepper, from the items
    assert set(f1["scores"]["memory"]) == {"single_hop", "temporal", "multi_hop", "overall"}
    assert len(asked) == 3 * 5  # three questions, five methods
    assert all("(08 May 2023)" in p or "08 May 2023" in p for p in asked if "adopted" in p)  # items are dated
