"""Benchmark: out-of-character detection accuracy on a held-out, hand-labelled set (half OOC).

`bench/data/ooc_heldout.jsonl`: replies of the embedded model (Qwen2.5-Coder-1.5B, plain persona prompt, tempting
questions) and hand-written ones, for personas and phrasings the classifier never trained on, labelled by hand.
Prints one JSON line: accuracy of the default detector (patterns decide), of patterns plus the learned classifier,
and of the classifier alone; false positive and false negative counts, per-reason recall, and the ratio to the
90 % goal (issue 8).
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

from personae.persona import Persona
from personae.scoring import OOCClassifier, OOCDetector

DATA = Path(__file__).resolve().parent / "data" / "ooc_heldout.jsonl"
GOAL = 0.90


def main(path: Path) -> dict[str, object]:
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    classifier = OOCClassifier.load()
    verdicts: dict[str, list[bool]] = {"detector": [], "with_classifier": [], "classifier": []}
    for r in records:
        detector = OOCDetector(Persona.model_validate(r["persona"]), r["user"], classifier=classifier)
        full = detector.detect(r["query"], r["reply"])
        # With `classifier_decides`, the classifier's probability joins the patterns' at the same threshold.
        classifier_says = (full.classifier_probability or 0.0) > detector.threshold
        verdicts["detector"].append(full.ooc)
        verdicts["with_classifier"].append(full.ooc or classifier_says)
        verdicts["classifier"].append(classifier_says)
    gold = [bool(r["ooc"]) for r in records]

    recall: Counter[str] = Counter()
    total: Counter[str] = Counter()
    for r, pred in zip(records, verdicts["detector"], strict=True):
        if r["ooc"]:
            total[r["reason"]] += 1
            recall[r["reason"]] += pred
    by_source = {
        source: round(
            accuracy(
                [p for p, r in zip(verdicts["detector"], records, strict=True) if r["source"] == source],
                [bool(r["ooc"]) for r in records if r["source"] == source],
            ),
            4,
        )
        for source in sorted({r["source"] for r in records})
    }
    detector_acc = accuracy(verdicts["detector"], gold)
    return {
        "bench": "ooc_quality",
        "examples": len(records),
        "ooc_share": round(sum(gold) / len(gold), 3),
        "accuracy": round(detector_acc, 4),
        "accuracy_patterns_plus_classifier": round(accuracy(verdicts["with_classifier"], gold), 4),
        "accuracy_classifier_only": round(accuracy(verdicts["classifier"], gold), 4),
        "accuracy_by_source": by_source,
        "false_positives": sum(p and not g for p, g in zip(verdicts["detector"], gold, strict=True)),
        "false_negatives": sum(g and not p for p, g in zip(verdicts["detector"], gold, strict=True)),
        "recall_by_reason": {k: f"{recall[k]}/{total[k]}" for k in sorted(total)},
        "goal_accuracy": GOAL,
        "ratio_to_goal": round(detector_acc / GOAL, 3),
    }


def accuracy(pred: list[bool], gold: list[bool]) -> float:
    """Share of agreeing labels."""
    return sum(p == g for p, g in zip(pred, gold, strict=True)) / max(1, len(gold))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DATA)
    print(json.dumps(main(parser.parse_args().data)))
