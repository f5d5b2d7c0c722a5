"""Benchmark: does a reply that states a persona fact score a higher APC than one that contradicts it?

Cases (bench/data/apc_fact_pairs.jsonl, hand-written for the example personas, never trained on): a user
question, a reply stating the fact, a reply contradicting it. Prints one JSON line with the share of cases
where the fact scores higher (`preferred`, goal ≥ 0.95, issue 3), the mean APC margin, and how often each
reply is flagged with a violation of the statement it is about or of any statement.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _results import record
from personae.persona import load_persona
from personae.scoring import APCScorer, OnnxNLI

HERE = Path(__file__).resolve().parent
CASES = HERE / "data" / "apc_fact_pairs.jsonl"
PERSONAS = HERE.parent / "examples" / "personas"
GOAL = 0.95


def main(cases_path: Path, model: Path | None = None) -> dict[str, object]:
    nli = OnnxNLI(model)
    cases = [json.loads(line) for line in cases_path.read_text().splitlines() if line.strip()]
    started = time.time()
    scorers: dict[str, APCScorer] = {}
    wins, margins, fact_flagged, contra_flagged = 0, [], 0, 0
    losses: list[dict[str, object]] = []
    for case in cases:
        name = case["persona"]
        if name not in scorers:
            scorers[name] = APCScorer(load_persona(PERSONAS / f"{name}.yaml"), nli=nli)
        query = case["query"]
        fact, contra = scorers[name].score_batch([(query, case["fact"]), (query, case["contradiction"])])
        margin = fact.apc_normalized - contra.apc_normalized
        margins.append(margin)
        wins += int(margin > 0)
        fact_flagged += int(bool(fact.violations))
        contra_flagged += int(bool(contra.violations))
        if margin <= 0:
            losses.append({"persona": name, "query": case["query"], "margin": round(margin, 4)})
    preferred = wins / len(cases)
    return {
        "bench": "apc_fact_preference",
        "model": nli.name,
        "cases": len(cases),
        "preferred": round(preferred, 4),
        "preferred_ratio_to_goal": round(preferred / GOAL, 3),
        "mean_margin": round(sum(margins) / len(margins), 4),
        "fact_replies_with_a_violation": round(fact_flagged / len(cases), 4),
        "contradicting_replies_with_a_violation": round(contra_flagged / len(cases), 4),
        "losses": losses,
        "seconds": round(time.time() - started, 1),
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=Path, default=CASES)
    parser.add_argument("--model", type=Path, default=None, help="ONNX NLI model folder (default: the shipped one)")
    parser.add_argument("--record", action="store_true", help="append to bench/results/")
    args = parser.parse_args()
    result = main(args.cases, args.model)
    if args.record:
        record("apc_fact_preference", result)
    print(json.dumps(result))
