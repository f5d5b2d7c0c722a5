"""Benchmark: does a character remember its user across sessions? The `personalization` eval task on a real model.

The example personas each meet `--users` simulated users over four sessions a week apart (home, job and pet told, then
changed), each followed by a neighbour's session with the same character; then the probes, with user memory and
without. Prints one JSON line: current-fact recall with memory and without (the baseline), stale-fact, invented-fact,
misattributed-fact (the user's value claimed as the character's own) and cross-user leakage rates, recall per slot,
items and wall time. The run folder (samples.jsonl, report.html) is kept for reading the replies.
Reference (issue 21): current-fact recall ≥ 0.8 with memory against the no-memory baseline, stale-fact rate ≤ 0.1,
leakage 0. `--run DIR` records a finished run of the task with these settings (e.g. `personae eval` of a spec like
examples/evals/personalization.yaml with the backend set) without running it again, after `personae eval --rescore`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _results import record
from personae.evals import EvalSpec, run_eval, spec_from_data

REPO = Path(__file__).resolve().parents[1]
REFERENCE = "current_fact_recall >= 0.8 with memory (baseline without); stale_fact_rate <= 0.1; cross_user_leakage 0"


def spec(backend: str, users: int) -> EvalSpec:
    """The example personas, guard off, shipped scoring models; the task's own scripted users."""
    data = {
        "name": "personalization-bench",
        "personas": [str(REPO / "examples" / "personas")],
        "agent": {"backend": backend, "guard": "off"},
        "roles": {"judge": [{"backend": "mock/evals-judge"}]},
        "tasks": {"personalization": {"users": users, "baseline": True}},
        "concurrency": 1,
        "seed": 0,
    }
    return spec_from_data(data, "bench", base_dir=REPO)


def figures(run: Path) -> dict[str, Any]:
    """The task's metrics and per-slot recall from a finished run folder's results.json."""
    results = json.loads((run / "results.json").read_text(encoding="utf-8"))
    task = results["tasks"]["personalization"]
    agent = results["spec"]["agent"]
    metrics = {name: round(m["mean"], 4) for name, m in task["metrics"].items()}
    recall = metrics.get("current_fact_recall", 0.0)
    return {
        "bench": "personalization",
        "spec": results["spec"]["name"],
        "backend": agent["backend"],
        "users_per_persona": results["spec"]["tasks"]["personalization"]["users"],
        "items": results["finished"],
        "failed": results["failed"],
        **metrics,
        "per_slot": task["extra"]["per_slot"],
        "run_revision": results.get("git_revision", "")[:7],
        "seconds": round(results["seconds"], 1),
        "run": str(run),
        "reference": REFERENCE,
        "meets_reference": recall >= 0.8
        and metrics.get("stale_fact_rate", 1.0) <= 0.1
        and metrics.get("cross_user_leakage", 1.0) == 0.0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", default="embedded", help="the character's backend (e.g. an OpenAI-compatible URL)")
    parser.add_argument("--users", type=int, default=2, help="simulated users per persona")
    parser.add_argument("--out", type=Path, default=Path("/tmp/personalization-bench"), help="run folder")
    parser.add_argument("--resume", action="store_true", help="continue an interrupted run in --out")
    parser.add_argument("--run", type=Path, help="record a finished run folder instead of running")
    parser.add_argument(
        "--record", action="store_true", help="append the figures to bench/results/personalization.jsonl"
    )
    args = parser.parse_args()
    if args.run is None:
        started = time.perf_counter()
        asyncio.run(run_eval(spec(args.backend, args.users), args.out, resume=args.resume))
        print(f"ran in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    result = figures(args.run or args.out)
    if args.record:
        record("personalization", result)
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
