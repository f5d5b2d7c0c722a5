"""`personae chat` on the runtime, `personae demo` guarded, and `personae export-pairs`: real processes, real DB."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from helpers.runtime import fake_models, sailor
from personae.backends import get_backend
from personae.cli import app
from personae.cli._render import render_explanation
from personae.scoring import StatementScore
from personae.session import ChatSession, Explanation, SessionSettings
from personae.store import SessionStore

runner = CliRunner()


def _cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "personae", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=os.environ.copy(),
        timeout=300,
        check=False,
    )


@pytest.mark.slow
def test_chat_guarded_session_resumes_in_a_new_process_with_its_swipes(examples_dir: Path) -> None:
    first = _cli("chat", str(examples_dir / "ada.yaml"), "--backend", "mock/echo", "-n", "3", "--message", "Hi Ada")
    assert first.returncode == 0, first.stderr
    assert re.fullmatch(r"You said: Hi Ada \(candidate [123]\)\n", first.stdout)
    session_id = re.search(r"session ([0-9a-f]{12})", first.stderr).group(1)  # type: ignore[union-attr]

    second = _cli("chat", "--session", session_id, "--backend", "mock/echo", stdin="/swipe\n/quit\n")
    assert second.returncode == 0, second.stderr
    assert "Hi Ada" in second.stdout  # the earlier turn is shown again
    assert f"personae chat --session {session_id}" in second.stdout

    record = SessionStore().load(session_id)
    assert len(record.turns) == 1
    assert len(record.turns[0].candidates) == 3
    assert record.turns[0].reply != first.stdout.strip()  # the swipe was stored
    assert all(c.result is not None for c in record.turns[0].candidates)


@pytest.mark.slow
def test_chat_commands_why_score_prompt_sessions_regen(examples_dir: Path) -> None:
    result = runner.invoke(
        app,
        ["chat", str(examples_dir / "ada.yaml"), "--backend", "mock/echo", "-n", "2", "--user", "Tom"],
        input="Do you sail the Minch?\n/why\n/score\n/prompt\n/sessions\n/regen\n/bogus\n/quit\n",
    )
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "2 candidates" in out
    assert "4 candidates" in out
    assert "APC" in out  # /why and /score
    assert "Ada Quint is a retired ferry captain." in out  # /score table lists statements
    assert "--- system ---" in out
    assert "sudden gales" in out
    assert re.search(r"\* [0-9a-f]{12}  Ada Quint", out)  # /sessions marks the current one
    assert "unknown command /bogus" in out


def test_chat_off_streams_and_commands_before_any_turn_are_refused(examples_dir: Path) -> None:
    result = runner.invoke(
        app,
        ["chat", str(examples_dir / "ada.yaml"), "--backend", "mock/echo", "--guard", "off"],
        input="/why\nHello\n/quit\n",
    )
    assert result.exit_code == 0, result.output
    assert "say something first" in result.stdout
    assert "Ada Quint: You said: Hello" in result.stdout


@pytest.mark.slow
def test_chat_needs_exactly_one_of_persona_or_session(examples_dir: Path) -> None:
    result = _cli("chat", "--backend", "mock/echo")
    assert result.returncode == 2
    assert "give a persona file" in result.stderr
    result = _cli("chat", "--session", "deadbeef0000", "--backend", "mock/echo", "--message", "hi")
    assert result.returncode == 2
    assert result.stderr.strip().startswith("error: no session 'deadbeef0000'")
    assert "Traceback" not in result.stderr


@pytest.mark.slow
def test_demo_shows_candidates_and_the_chosen_one(examples_dir: Path) -> None:
    result = runner.invoke(app, ["demo", str(examples_dir / "vega.yaml"), "--backend", "mock/echo", "-n", "2"])
    assert result.exit_code == 0, result.output
    assert result.stdout.count("2 candidates") == 4
    assert "▶" in result.stdout
    assert "4 turns" in result.stdout


def _session_with_candidates(replies: list[str]) -> str:
    llm = get_backend("mock/scripted", outputs=replies, cache=None)
    chat = ChatSession.start(
        sailor(), llm, SessionStore(), settings=SessionSettings.model_validate({"n": 2}), models=fake_models()
    )
    import asyncio

    asyncio.run(chat.send("Do you eat meat?"))
    asyncio.run(chat.send("Can you swim?"))
    return chat.id


@pytest.mark.slow
def test_export_pairs_writes_trl_dpo_records_that_datasets_loads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    good, bad = "I am a vegetarian and always have been.", "I am not a vegetarian, I love a steak."
    session_id = _session_with_candidates([bad, good, "I cannot swim.", "I can not swim at all."])
    out = tmp_path / "pairs.jsonl"
    result = runner.invoke(app, ["export-pairs", "--sessions", session_id, "--margin", "0.05", "--out", str(out)])
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(records) == 1  # the swim candidates score alike, below the margin
    pair = records[0]
    assert pair["chosen"] == [{"role": "assistant", "content": good}]
    assert pair["rejected"] == [{"role": "assistant", "content": bad}]
    assert pair["prompt"][0]["role"] == "system"
    assert pair["prompt"][-1] == {"role": "user", "content": "Do you eat meat?"}
    assert pair["meta"]["chosen_apc_normalized"] - pair["meta"]["rejected_apc_normalized"] > 0.05

    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    datasets = pytest.importorskip("datasets", reason="the `dev` extra provides datasets")
    ds = datasets.load_dataset("json", data_files=str(out), split="train")
    assert ds.num_rows == 1
    assert {"prompt", "chosen", "rejected", "meta"} <= set(ds.column_names)
    assert ds[0]["chosen"][0]["content"] == good

    high = runner.invoke(app, ["export-pairs", "--margin", "0.99", "--out", str(tmp_path / "none.jsonl")])
    assert high.exit_code == 0
    assert (tmp_path / "none.jsonl").read_text() == ""


def test_why_shows_the_whole_evidence_sentence() -> None:
    # Cut at 50 characters, the evidence that Ada is a vegetarian read "I am Ada Quint, a retired ferry captain from
    # Skye…": the words that said it were cut off.
    sentence = "I am Ada Quint, a retired ferry captain from Skye who is a vegetarian."
    score = StatementScore(
        statement="Ada Quint is a vegetarian.",
        relevance=0.5,
        entailment=0.97,
        neutral=0.02,
        contradiction=0.01,
        apc=0.98,
        violation=False,
        supported=True,
        evidence=sentence,
    )
    why = Explanation(reply=sentence, apc_normalized=0.8, supported=[score], violated=[], contradictions=[])
    console = Console(record=True, width=300)
    render_explanation(why, console)
    assert f"“{sentence}”" in console.export_text()
