"""Diagnostic: why does the scorer miss the contradictions a reader found in real replies?

For every reply of the read set (bench/data/readings/, as scorer_quality.py reads it) the reply is
scored with every statement–sentence pair open, then the calibrated gate is applied as the scorer applies it. Each read
contradiction lands in one class: `caught` (the scorer flags it), `gate` (the NLI model is over the violation threshold
on a pair the topic gate closes), `sub_threshold` (the best contradiction is between 0.5 and the threshold) or `unseen`
(no pair reaches 0.5: the NLI model does not see it). Replies read as faithful count as `false_flags` when flagged.
Prints one JSON line; `--verbose` lists each miss and false flag with its best pair. Not a goal: a map of where to work.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import scorer_quality as sq
from personae.scoring import APCScorer, RelevanceModel, default_calibration
from personae.scoring._nli import OnnxNLI


def classify(scorer: APCScorer, every_pair: APCScorer, query: str, reply: str) -> tuple[str, bool, dict[str, Any]]:
    """(class of the best contradiction, whether `scorer` flags the reply, the best pair) of one reply.

    `every_pair` opens every pair (its gate is below every topic score), so the NLI model judges the pairs `scorer`'s
    gate closes too; whether the reply is flagged is `scorer`'s own verdict.
    """
    cal = scorer.calibration
    flagged = bool(scorer.score(query, reply).violations)
    scorer = every_pair
    read = scorer.read_replies([(query, reply)])[0]
    sentences = read.judged
    query_topics = scorer.relevance.similarity(scorer.statements, [query], scorer.names)
    grid, topic, _ = scorer.grids([sentences], query_topics, [query])[0]
    assert topic is not None
    open_ = cal.open_pairs(topic, query_topics[0], read.claim is not None)
    contra = grid[:, :, 2]
    i, j = np.unravel_index(int(np.argmax(contra)), contra.shape)
    best = float(contra[i, j])
    if flagged:
        kind = "caught"
    elif best > cal.violation and not open_[i, j]:
        kind = "gate"
    elif best > 0.5:
        kind = "sub_threshold"
    else:
        kind = "unseen"
    pair = {"statement": scorer.statements[i], "sentence": sentences[j], "contradiction": round(best, 2)}
    return kind, flagged, pair


def main(args: argparse.Namespace) -> dict[str, Any]:
    nli = OnnxNLI(args.model)
    relevance = RelevanceModel()
    cal = default_calibration(nli, relevance.topic_model.name)
    personas = sq.load_personas(sq.DATA / "personas.yaml")
    every_pair = cal._replace(topic_gate=-10.0)  # topics still computed, every pair to the NLI model
    scorers = {
        pid: (
            APCScorer(p, nli=nli, relevance=relevance, calibration=cal),
            APCScorer(p, nli=nli, relevance=relevance, calibration=every_pair),
        )
        for pid, p in personas.items()
    }
    classes: Counter[str] = Counter()
    false_flags, faithful, listed = 0, 0, []
    for pid, query, reply, contradicts in sq.read_replies(personas):
        kind, flagged, pair = classify(*scorers[pid], query, reply)
        if contradicts:
            classes[kind] += 1
            if kind != "caught":
                listed.append({"class": kind, "persona": pid, "query": query, "reply": reply, **pair})
        else:
            faithful += 1
            false_flags += flagged
            if flagged:
                listed.append({"class": "false_flag", "persona": pid, "query": query, "reply": reply, **pair})
    result: dict[str, Any] = {
        "bench": "scorer_misses",
        "model": nli.name,
        "read_contradictions": sum(classes.values()),
        "classes": {k: classes[k] for k in ("caught", "gate", "sub_threshold", "unseen")},
        "false_flags": f"{false_flags}/{faithful}",
    }
    if args.verbose:
        result["listed"] = listed
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=None, help="ONNX NLI model folder (default: the shipped one)")
    parser.add_argument("--verbose", action="store_true", help="list every miss and false flag with its best pair")
    print(json.dumps(main(parser.parse_args()), ensure_ascii=False))
