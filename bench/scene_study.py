"""A study of 100 short scenes (4 scenarios × 25 seeds) on the mock backends through Ray, one scene per task, with a
worker killed midway: every scene must be recorded exactly once (nothing lost, nothing duplicated).

Prints one JSON line: scenes planned and recorded, lost and duplicated, the worker killed, wall time and scenes per
second, and the study's mean figures (summary.json). `--record` appends it to bench/results/scene_study.jsonl.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

from _results import record
from personae.scene import STUDY_FILE, SceneSpec, SceneStudy, load_scene, read_study, scene_from_data

ROOT = Path(__file__).resolve().parents[1]


def scenarios(turns: int) -> list[SceneSpec]:
    """Four short scenes: the example harbour scene (clean and confused mocks), a duo, and a trio by address."""
    harbour = load_scene(ROOT / "examples" / "scenes" / "harbour.yaml")
    people = [
        {"name": "Mara Holt", "statements": ["I am a baker.", "I live in Leeds.", "I hate the sea."]},
        {"name": "Jon Pike", "statements": ["I am a sailor.", "I have a parrot.", "I love storms."]},
        {"name": "Ines Abar", "statements": ["I am a doctor.", "I grew up in Porto."]},
    ]
    common = {"n": 2, "nli": "fake", "embedder": "fake"}
    duo = scene_from_data({"name": "duo", "characters": [{"persona": p} for p in people[:2]], **common})
    trio = scene_from_data(
        {"name": "trio-addressed", "characters": [{"persona": p} for p in people], "policy": "addressed", **common}
    )
    specs = [
        harbour.with_backend("mock/scene"),
        harbour.model_copy(update={"name": "harbour-confused"}).with_backend("mock/scene-confused"),
        duo.with_backend("mock/scene"),
        trio.with_backend("mock/scene-confused"),
    ]
    return [s.model_copy(update={"stop": s.stop.model_copy(update={"turns": turns})}) for s in specs]


def scene_workers() -> list[int]:
    """Processes running a scene task (Ray titles a worker after the task it runs)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if b"ray::run_scene_in_worker" in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, default=25, help="seeds per scenario (4 scenarios)")
    parser.add_argument("--turns", type=int, default=6)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--cpus", type=int, default=2, help="CPUs of the local Ray instance")
    parser.add_argument("--delay", type=float, default=0.05, help="seconds each mock request takes")
    parser.add_argument("--no-kill", action="store_true", help="do not kill a worker midway")
    parser.add_argument("--out", type=Path, default=None, help="study folder (default: a temporary one)")
    parser.add_argument("--record", action="store_true")
    args = parser.parse_args()

    import ray

    ray.init(num_cpus=args.cpus, include_dashboard=False, log_to_driver=False)
    out = args.out or Path(tempfile.mkdtemp(prefix="scene-study-"))
    specs = scenarios(args.turns)
    study = SceneStudy(
        specs, range(args.seeds), out, executor="ray", concurrency=args.concurrency,
        backend_options={"delay": args.delay}, name="scene_study",
    )  # fmt: skip
    planned = len(study.plan)
    outcome: list[Any] = []
    failure: list[BaseException] = []

    def run() -> None:
        try:
            outcome.append(asyncio.run(study.run()))
        except BaseException as exc:  # reported below
            failure.append(exc)

    started = time.perf_counter()
    thread = threading.Thread(target=run)
    thread.start()
    killed: int | None = None
    recorded_at_kill = 0
    while thread.is_alive():
        if not args.no_kill and killed is None:
            recorded_at_kill = len(read_study(out))
            workers = scene_workers()
            if recorded_at_kill >= planned // 2 and workers:
                killed = workers[0]
                os.kill(killed, signal.SIGKILL)
        time.sleep(0.05)
    thread.join()
    seconds = time.perf_counter() - started
    ray.shutdown()
    if failure:
        print(f"the study failed: {failure[0]!r}", file=sys.stderr)
        raise SystemExit(1)
    summary = outcome[0]
    lines = [json.loads(line)["id"] for line in (out / STUDY_FILE).read_text().splitlines() if line.strip()]
    counts = Counter(lines)
    figures = {
        "scenes": planned,
        "recorded": len(counts),
        "lost": len(set(study.plan) - set(counts)),
        "duplicated": sum(c - 1 for c in counts.values()),
        "worker_killed": killed is not None,
        "recorded_when_killed": recorded_at_kill if killed is not None else None,
        "seconds": round(seconds, 1),
        "scenes_per_second": round(planned / seconds, 2),
        "concurrency": args.concurrency,
        "ray_cpus": args.cpus,
        "turns": args.turns,
        "mock_delay": args.delay,
        "means": {k: None if v.mean is None else round(v.mean, 4) for k, v in summary.figures.items()},
        "goal": "100 scenes, each recorded exactly once with a worker killed midway",
        "met": len(counts) == planned and sum(counts.values()) == planned and (killed is not None or args.no_kill),
    }
    print(json.dumps(figures))
    if args.record:
        record("scene_study", figures)


if __name__ == "__main__":
    main()
