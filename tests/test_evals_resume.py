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
    rounds = 40  # killed runs; on a loaded machine start-up eats most of each window, so then one run finishes
    for _round in range(rounds + 1):
        before = len(samples.read_text().splitlines()) if samples.exists() else 0
        proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        # Early kills land during start-up; later ones while items are in flight and lines are being written.
        deadline = time.monotonic() + (rng.uniform(1.0, 3.0) if _round < rounds else 300.0)
        while time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.02)
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            after = len(samples.read_text().splitlines()) if samples.exists() else 0
            kills_mid_run += after - before > 0
            continue
        _, err = proc.communicate()
        assert proc.returncode == 0, err.decode()
        break
    else:
        raise AssertionError("the eval did not finish within 300 s after the last kill")
    print(f"rounds={_round + 1} kills_mid_run={kills_mid_run}")
    assert kills_mid_run >= 3, "the test should kill runs while items are being written"
    ids = [json.loads(line)["id"] for line in samples.read_text().splitlines()]
    assert len(ids) == len(set(ids)), "an item was written twice"
    assert set(ids) == planned
    results = json.loads((out / "results.json").read_text())
    assert results["finished"] == results["items"] == len(planned)
