"""Benchmark: a small real persona-bias audit of the embedded model, with the answer-parse and abstention rates.

A few audit personas and the no-persona baseline answer the same BBQ questions and GSM8K problems through
`personae eval`'s `persona-bias` task (open-ended prompts are left out: they need a judge). Prints one JSON line:
wall time, per persona the figures (BBQ accuracy ambiguous/disambiguated, GSM8K accuracy, abstention rate) and
their differences to the baseline, and `parsed_or_abstained`: the share of replies read to an answer or counted
as an abstention (goal ≥ 0.98); `cut_off` counts the replies stopped by max_tokens before an explicit answer (no
answer, wrong for accuracy). The run folder (samples.jsonl, report.html) is kept for reading the replies.
Needs ../shared/data (BBQ, GSM8K) and the embedded model.

`--reread FILE` needs no model: it reads the replies of a hand reading (`data/readings/persona_bias_*.jsonl`) again
with the current parser, each as cut off where the reading says so (`cut_off`), and prints how many are read as the
reading records (same `parse` and `parsed`) and checked correct; a reply whose parse changed counts as not (no one
has read the new parse) and is listed.
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
from personae.evals import read_samples, run_eval, spec_from_data
from personae.evals._tasks.bias import find_shared, load_bbq, parse_choice, read_number

REPO = Path(__file__).resolve().parents[1]
PERSONAS = [
    {"id": "age-80", "dimension": "age", "statement": "an 80-year-old"},
    {"id": "muslim", "dimension": "religion", "statement": "a Muslim"},
    {"id": "black", "dimension": "race", "statement": "a Black person"},
]


def spec(bbq: int, gsm8k: int, threads: int, personas: int) -> Any:
    """The audit spec: embedded agent at temperature 0, audit personas only (no persona files), fake NLI."""
    agent = {
        "backend": "embedded",
        "options": {"n_threads": threads},
        "temperature": 0.0,
        "max_tokens": 320,
        "max_concurrency": 1,
    }
    data = {
        "name": "persona-bias-embedded",
        "personas": [str(REPO / "examples" / "personas" / "ada.yaml")],
        "agent": agent,
        "roles": {"judge": [{"backend": "mock/evals-judge"}], "nli": "fake", "embedder": "fake"},
        "tasks": {
            "persona-bias": {
                "personas": PERSONAS[:personas],
                "spec_personas": False,
                "probes": ["bbq", "gsm8k"],
                "bbq_items": bbq,
                "gsm8k_items": gsm8k,
            }
        },
        "concurrency": 1,
    }
    return spec_from_data(data, "bench", base_dir=REPO)


def reread(path: Path) -> dict[str, Any]:
    """A hand reading's replies read again by the current parser: the share read as recorded and checked correct."""
    shared = find_shared(str(REPO), "bbq/bbq_sample.jsonl")
    if shared is None:
        raise SystemExit("no shared/data/bbq/bbq_sample.jsonl above the repository (see ../shared/README.md)")
    bbq = {item.key: item for item in load_bbq(shared, 10**6, seed=0)}  # every item: options by key
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    correct, differ = 0, []
    for row in rows:
        key, cut = row["id"].rsplit("/", 1)[-1], bool(row.get("cut_off"))
        got: tuple[str, Any]
        if row["probe"] == "bbq":
            item = bbq[key]
            choice = parse_choice(row["reply"], item.options, item.unknown, cut_off=cut)
            got = (choice.method, None if choice.option is None else item.options[choice.option])
        else:
            number = read_number(row["reply"], cut_off=cut)
            got = (number.method, number.value)
        if got == (row["parse"], row["parsed"]):
            correct += bool(row["read_correctly"])
        else:
            differ.append({"id": row["id"], "recorded": [row["parse"], row["parsed"]], "now": list(got)})
    return {
        "bench": "persona_bias",
        "reread": str(path.relative_to(REPO) if path.resolve().is_relative_to(REPO) else path),
        "replies": len(rows),
        "cut_off": sum(bool(r.get("cut_off")) for r in rows),
        "read_correctly": round(correct / len(rows), 4) if rows else None,
        "parse_changed": differ,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bbq", type=int, default=10, help="BBQ items per persona")
    parser.add_argument("--gsm8k", type=int, default=10, help="GSM8K problems per persona")
    parser.add_argument("--personas", type=int, default=3, help="audit personas besides the baseline (at most 3)")
    parser.add_argument("--threads", type=int, default=1, help="llama.cpp threads")
    parser.add_argument("--out", type=Path, default=Path("/tmp/persona-bias-bench"), help="run folder (new)")
    parser.add_argument("--record", action="store_true", help="append the figures to bench/results/persona_bias.jsonl")
    parser.add_argument("--reread", type=Path, help="no model: re-read a hand reading's replies, current parser")
    args = parser.parse_args()
    if args.reread is not None:
        print(json.dumps(reread(args.reread.resolve())))
        return
    t0 = time.perf_counter()
    results = asyncio.run(run_eval(spec(args.bbq, args.gsm8k, args.threads, args.personas), args.out))
    seconds = time.perf_counter() - t0
    task = results.tasks["persona-bias"]
    samples = [s for s in read_samples(args.out / "samples.jsonl") if s.status == "ok"]
    read = sum(1 for s in samples if s.scores.get("parsed") or s.scores.get("abstained"))
    figures = {
        probe: {
            pid: {k: v for k, v in e.items() if k in ("value", "diff", "diff_low", "diff_high", "flagged")}
            for pid, e in per.items()
        }
        for probe, per in task.extra["figures"].items()
    }
    result = {
        "bench": "persona_bias",
        "model": "embedded",
        "threads": args.threads,
        "personas": len(task.personas),
        "bbq_items": args.bbq,
        "gsm8k_items": args.gsm8k,
        "replies": len(samples),
        "failed": results.failed,
        "seconds": round(seconds, 1),
        "parsed_or_abstained": round(read / len(samples), 4) if samples else None,
        "cut_off": sum(1 for s in samples if s.scores.get("cut_off")),
        "gsm8k_unmarked": sum(1 for s in samples if s.data.get("probe") == "gsm8k" and s.data.get("parse") == "last"),
        "figures": figures,
        "run": str(args.out),
    }
    print(json.dumps(result))
    if args.record:
        record("persona_bias", result)


if __name__ == "__main__":
    main()
