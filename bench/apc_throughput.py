"""Benchmark: the batched APC scorer against a naive reference on the same inputs, in one run.

Naive reference (as the APC reference code does it): for every statement, relevance computed afresh
(statement and query embedded each time) and one unbatched NLI forward per statement–sentence pair.
Batched: statement embeddings cached, NLI pairs length-sorted into batches. Prints one JSON line with
`speedup`, `max_abs_diff` (over every per-statement probability and apc value) and `pairs_per_s`.
References: speedup ≥ 10, max_abs_diff ≤ 1e-4, pairs_per_s goal ≥ 200 (issue 3).
"""

from __future__ import annotations

import argparse
import json
import random
import time
from pathlib import Path

from personae.persona import load_persona
from personae.scoring import APCScorer, split_sentences

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "personas"
QUERIES = [
    "What do you do for a living?",
    "Tell me about your family.",
    "Where do you live?",
    "What do you eat?",
    "Do you like the sea?",
    "What scares you?",
    "What do you do on a Friday night?",
    "Do you have pets?",
    "How old are you?",
    "What would you never do?",
    "Do you own a phone?",
    "Can you swim?",
]
FRAGMENTS = [
    "Aye, I spent forty years at the wheel of a ferry.",
    "I never learned to swim, funny as that is.",
    "My daughter phones every Sunday.",
    "I had a lovely bit of steak last night.",
    "I live in a flat in Glasgow.",
    "The abbot keeps us busy with the psalter.",
    "I check my smartphone every morning.",
    "Skerry is asleep by the fire.",
    "Honestly, I don't know what you mean.",
    "The crew of the Halcyon is the best I've had.",
    "Wren beat me at chess again.",
    "I've never left East Anglia.",
    "I love a good ceilidh on a Friday.",
    "I'm twenty-five and fresh out of college.",
    "Coffee, black, far too strong.",
    "Dario still farms algae on Europa.",
]


def build_items(count: int, seed: int) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    return [(rng.choice(QUERIES), " ".join(rng.sample(FRAGMENTS, rng.randint(1, 4)))) for _ in range(count)]


def main(count: int, seed: int) -> dict[str, object]:
    personas = [load_persona(p) for p in sorted(EXAMPLES.glob("*.yaml"))]
    items = build_items(count, seed)
    scorers = [APCScorer(p) for p in personas]
    for scorer in scorers:  # load the models and warm up both paths outside the timings
        scorer.score_batch(items[:2])
        scorer.score_naive(*items[0])
        scorer.relevance.embedder._cache.clear()  # type: ignore[attr-defined]  # the batched path starts cold
    pairs = sum(len(s.statements) * len(split_sentences(r)) for s in scorers for _, r in items)

    t0 = time.perf_counter()
    batched = [s.score_batch(items) for s in scorers]
    batched_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    naive = [[s.score_naive(q, r) for q, r in items] for s in scorers]
    naive_s = time.perf_counter() - t0

    diff = 0.0
    for per_b, per_n in zip(batched, naive, strict=True):
        for b, n in zip(per_b, per_n, strict=True):
            for sb, sn in zip(b.statements, n.statements, strict=True):
                for field in ("relevance", "entailment", "neutral", "contradiction", "apc"):
                    diff = max(diff, abs(getattr(sb, field) - getattr(sn, field)))
    return {
        "bench": "apc_throughput",
        "items": count * len(scorers),
        "nli_pairs": pairs,
        "batched_s": round(batched_s, 2),
        "naive_s": round(naive_s, 2),
        "speedup": round(naive_s / batched_s, 2),
        "speedup_ratio_to_goal": round(naive_s / batched_s / 10, 3),
        "max_abs_diff": float(f"{diff:.3g}"),
        "pairs_per_s": round(pairs / batched_s, 1),
        "pairs_per_s_ratio_to_goal": round(pairs / batched_s / 200, 3),
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--items", type=int, default=100, help="(query, response) items per persona")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    print(json.dumps(main(args.items, args.seed)))
