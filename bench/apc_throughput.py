"""Benchmark: the batched APC scorer against a naive reference on the same inputs, in one run.

Naive reference (as the APC reference code does it): for every statement, relevance computed afresh
(statement and query embedded each time) and one unbatched NLI forward per statement–sentence pair.
Batched: statement embeddings cached, the topic gate applied, the remaining NLI pairs length-sorted into batches.
Prints one JSON line with `speedup`, `max_abs_diff` (over every per-statement probability and apc value), the
share of statement–sentence pairs the topic gate keeps from the NLI model, the pairs the batched path ran through the
NLI model (each distinct pair once: the items repeat sentences, so since 2026-12-03 this is fewer than the pairs the
gate opens) and their rate, and the time to score one guarded turn (4 candidates) for a persona with 100 statements.
References (issue 17): max_abs_diff ≤ 1e-4, a 100-statement guarded turn ≤ 2 s. The old "10× the naive
reference" goal is withdrawn (batching an identical cross-encoder computation is bounded on a CPU); speedup stays
as a figure.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _results import record
from personae.persona import Persona, load_persona
from personae.scoring import APCScorer, split_sentences

ROLEPLAY = Path(__file__).resolve().parent / "data" / "roleplay" / "personas.yaml"

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
    shared = scorers[0]
    forget(shared)  # the NLI model remembers no pair of the warm-up

    encoder = type(shared.nli.encoder)  # type: ignore[attr-defined]
    run, ran = encoder.run, [0]

    def counted(self: object, pairs: list[tuple[str, str]], **kwargs: object) -> object:
        ran[0] += len(pairs)
        return run(self, pairs, **kwargs)

    encoder.run = counted
    t0 = time.perf_counter()
    batched = [s.score_batch(items) for s in scorers]
    batched_s = time.perf_counter() - t0
    encoder.run = run
    t0 = time.perf_counter()
    naive = [[s.score_naive(q, r) for q, r in items] for s in scorers]
    naive_s = time.perf_counter() - t0

    gated = sum(st.gated for per in batched for result in per for st in result.statements)
    big = hundred_statement_turn(shared)
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
        "max_abs_diff": float(f"{diff:.3g}"),
        "gate": scorers[0].calibration.topic_gate,
        "gate_skipped_share": round(gated / pairs, 4),
        "pairs_per_s": round(pairs / batched_s, 1),
        "nli_pairs_run": ran[0],
        "nli_pairs_per_s": round(ran[0] / batched_s, 1),
        **big,
        "reference": {"max_abs_diff": 1e-4, "hundred_statement_turn_s": 2.0},
    }


def forget(scorer: APCScorer) -> None:
    """Make the scorer's NLI model forget the pairs it remembers (`OnnxNLI.forget`), so a timing counts every pair."""
    drop = getattr(scorer.nli, "forget", None)
    if drop is not None:
        drop()


def hundred_statement_turn(like: APCScorer) -> dict[str, object]:
    """Seconds to score 4 candidates of one turn against a 100-statement persona (warm models, cold statements)."""
    statements = [s for p in sorted(EXAMPLES.glob("*.yaml")) for s in load_persona(p).statements]
    for persona in yaml.safe_load(ROLEPLAY.read_text(encoding="utf-8")):
        statements.extend(persona["statements"])
    persona = Persona(name="Many Facts", statements=statements[:100])
    scorer = APCScorer(persona, nli=like.nli, relevance=like.relevance)
    candidates = [("Tell me about your week.", " ".join(FRAGMENTS[i : i + 3])) for i in range(0, 12, 3)]
    forget(scorer)  # the batched run scored these sentences against the examples' statements: time the model
    started = time.perf_counter()
    scorer.score_batch(candidates)
    return {"hundred_statement_turn_s": round(time.perf_counter() - started, 3)}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--items", type=int, default=100, help="(query, response) items per persona")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--record", action="store_true", help="append to bench/results/apc_throughput.jsonl")
    args = parser.parse_args()
    result = main(args.items, args.seed)
    if args.record:
        record("apc_throughput", result)
    print(json.dumps(result))
