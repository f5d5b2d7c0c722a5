"""Scene studies: scenarios × seeds, one scene per task, each recorded exactly once (in process and on Ray, with a
worker killed midway), a summary over all scenes, and the CLI's --seeds."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from personae.scene import (
    STUDY_FILE,
    SUMMARY_FILE,
    TRANSCRIPT_FILE,
    SceneError,
    SceneSpec,
    SceneStudy,
    load_scene,
    read_study,
    read_transcript,
    scene_from_data,
)

ROOT = Path(__file__).resolve().parents[1]


def scenarios(turns: int = 4) -> list[SceneSpec]:
    harbour = load_scene(ROOT / "examples" / "scenes" / "harbour.yaml").with_backend("mock/scene")
    duo = scene_from_data(
        {
            "name": "duo",
            "characters": [
                {"persona": {"name": "Mara Holt", "statements": ["I am a baker.", "I live in Leeds."]}},
                {"persona": {"name": "Jon Pike", "statements": ["I am a sailor.", "I have a parrot."]}},
            ],
            "backend": "mock/scene-confused",
            "n": 2,
            "nli": "fake",
            "embedder": "fake",
        }
    )
    return [s.model_copy(update={"stop": s.stop.model_copy(update={"turns": turns})}) for s in (harbour, duo)]


def check_recorded_once(out: Path, expected: int) -> None:
    lines = (out / STUDY_FILE).read_text().splitlines()
    ids = [json.loads(line)["id"] for line in lines]
    assert len(ids) == len(set(ids)) == expected, ids
    for scene_id in ids:
        records = read_transcript(out / "scenes" / scene_id / TRANSCRIPT_FILE)
        raw = (out / "scenes" / scene_id / TRANSCRIPT_FILE).read_text().splitlines()
        assert len(raw) == len(records) > 0  # no step twice
        assert records[-1].kind == "end"
    assert not list(out.glob("scenes/*/*.partial"))


def test_a_study_runs_every_scenario_with_every_seed_once_and_summarises(tmp_path: Path) -> None:
    out = tmp_path / "study"
    summary = asyncio.run(SceneStudy(scenarios(), range(3), out, concurrency=3, name="small").run())
    check_recorded_once(out, 6)
    entries = read_study(out)
    assert sorted((e.scenario, e.seed) for e in entries) == [(n, s) for n in ("duo", "harbour-storm") for s in range(3)]
    assert all(e.worker.startswith("local:") for e in entries)
    assert summary.recorded == summary.scenes == 6
    assert set(summary.by_scenario) == {"duo", "harbour-storm"}
    # The confused mock's first candidate speaks for the other character and the guard passes over it; the mean of
    # a figure is the mean of the scenes' own figures.
    confusion = [e.results.scene.role_confusion_rate for e in entries]
    assert summary.figures["role_confusion_rate"].mean == pytest.approx(sum(confusion) / 6)
    assert summary.figures["turns"].mean == 4
    assert json.loads((out / SUMMARY_FILE).read_text())["recorded"] == 6
    # Seeds change the draws of the natural policy: not every harbour scene is the same.
    harbour = {(out / "scenes" / e.id / TRANSCRIPT_FILE).read_text() for e in entries if e.scenario != "duo"}
    assert len(harbour) > 1

    with pytest.raises(SceneError, match="already holds a study"):
        asyncio.run(SceneStudy(scenarios(), range(3), out).run())
    again = asyncio.run(SceneStudy(scenarios(), range(4), out, resume=True).run())  # one more seed: 2 new scenes
    check_recorded_once(out, 8)
    assert again.recorded == 8


def test_a_failed_scene_is_not_recorded_and_resume_runs_it(tmp_path: Path) -> None:
    bad = scenarios()[1].with_backend("nosuch/model")
    with pytest.raises(SceneError, match="1 scene"):
        asyncio.run(SceneStudy([scenarios()[0], bad], [0], tmp_path).run())
    check_recorded_once(tmp_path, 1)
    asyncio.run(SceneStudy([scenarios()[0], bad.with_backend("mock/scene")], [0], tmp_path, resume=True).run())
    check_recorded_once(tmp_path, 2)


def test_the_scene_command_runs_a_study(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from personae.cli import app

    out = tmp_path / "study"
    scene = str(ROOT / "examples" / "scenes" / "harbour.yaml")
    runner = CliRunner()
    args = ["scene", scene, "--out", str(out), "--backend", "mock/scene", "--turns", "3", "--seeds", "3"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "3/3 scenes recorded" in result.output
    check_recorded_once(out, 3)
    bad = runner.invoke(app, ["scene", scene, "--out", str(tmp_path / "x"), "--executor", "ray"])
    assert bad.exit_code == 2
    assert "--seeds" in bad.output


# ---- Ray ------------------------------------------------------------------------------------------------------------

needs_ray = pytest.mark.skipif(importlib.util.find_spec("ray") is None, reason="ray is not installed")


@pytest.fixture
def local_ray() -> Iterator[Any]:
    import ray

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()


def scene_workers() -> list[int]:
    """Processes running a study's scene task (Ray titles a worker after the task it runs)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if b"ray::run_scene_in_worker" in cmdline:
                found.append(int(entry.name))
    return found


@pytest.mark.slow
@needs_ray
def test_a_study_on_ray_records_every_scene_once_when_a_worker_is_killed(tmp_path: Path, local_ray: Any) -> None:
    out = tmp_path / "study"
    study = SceneStudy(scenarios(), range(5), out, executor="ray", concurrency=2, backend_options={"delay": 0.2})
    outcome: list[Any] = []
    thread = threading.Thread(target=lambda: outcome.append(asyncio.run(study.run())))
    thread.start()
    killed = None
    deadline = time.monotonic() + 180
    while killed is None and time.monotonic() < deadline and thread.is_alive():
        recorded = len(read_study(out))
        workers = scene_workers()
        if recorded >= 1 and workers:  # midway: some scenes recorded, one in flight
            killed = workers[0]
            os.kill(killed, signal.SIGKILL)
        time.sleep(0.05)
    thread.join(timeout=600)
    assert killed is not None, "no worker was caught running a scene"
    assert outcome, "the study did not finish"
    summary = outcome[0]
    check_recorded_once(out, 10)
    assert summary.recorded == 10
    workers = {e.worker for e in read_study(out)}
    assert all(w.startswith("ray:") for w in workers)
    assert all(not w.endswith(f":{os.getpid()}") for w in workers)
