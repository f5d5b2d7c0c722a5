"""Crash safety: an eval SIGKILLed at random moments and resumed, again and again, ends with every item once."""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from helpers.evals import REPO
from personae.evals import EvalRun, load_spec

pytestmark = pytest.mark.slow  # kills and resumes a run in subprocesses: about a minute and a half


def _spec_file(tmp_path: Path) -> Path:
    slow = {"delay": 0.25}
    spec = {
        "name": "kill-test",
        "personas": [str(REPO / "examples" / "personas")],
        "agent": {"backend": "mock/evals-agent", "guard": "off", "options": slow},
        "roles": {"judge": [{"backend": "mock/evals-judge", "options": slow}], "nli": "fake", "embedder": "fake"},
        "tasks": {
            "persona-gym": {"questions_per_task": 1},
            "faithfulness": {"stated": 2, "unstated": 1, "break_character": 1},
            "multi-turn": {"turns": 2, "goals": ["small-talk"]},
        },
        "concurrency": 3,
    }
    path = tmp_path / "kill.yaml"
    path.write_text(yaml.safe_dump(spec), encoding="utf-8")
    return path


def test_sigkill_at_random_moments_then_resume_gives_every_item_exactly_once(tmp_path: Path) -> None:
    spec_path = _spec_file(tmp_path)
    out = tmp_path / "out"
    planned = {item.id for item in EvalRun(load_spec(spec_path), tmp_path / "unused").items}
    samples = out / "samples.jsonl"
    command = [sys.executable, "-m", "personae", "eval", str(spec_path), "--out", str(out), "--resume", "--no-progress"]
    rng = random.Random(6)
    kills_mid_run = 0
    rounds = 30  # killed runs, then one that runs to the end

    def lines() -> int:
        return len(samples.read_text().splitlines()) if samples.exists() else 0

    for _round in range(rounds + 1):
        before = lines()
        proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        if _round < rounds and _round % 3 == 0:  # a kill at a random moment, most likely during start-up
            deadline = time.monotonic() + rng.uniform(0.2, 2.0)
            while time.monotonic() < deadline and proc.poll() is None:
                time.sleep(0.02)
        elif _round < rounds:  # a kill while items are in flight: once this run has written, after a random delay
            deadline = time.monotonic() + 300.0  # a hang guard only: a loaded machine just starts up slower
            while time.monotonic() < deadline and proc.poll() is None and lines() == before:
                time.sleep(0.02)
            time.sleep(rng.uniform(0.0, 0.6))
        else:
            proc.wait(timeout=300)
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            kills_mid_run += lines() > before
            continue
        _, err = proc.communicate()
        assert proc.returncode == 0, err.decode()
        break
    else:
        raise AssertionError("the eval did not finish after the last kill")
    print(f"rounds={_round + 1} kills_mid_run={kills_mid_run}")
    assert kills_mid_run >= 3, "the test should kill runs while items are being written"
    ids = [json.loads(line)["id"] for line in samples.read_text().splitlines()]
    assert len(ids) == len(set(ids)), "an item was written twice"
    assert set(ids) == planned
    results = json.loads((out / "results.json").read_text())
    assert results["finished"] == results["items"] == len(planned)
