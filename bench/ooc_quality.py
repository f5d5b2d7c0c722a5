"""Benchmark: out-of-character detection on hand-labelled replies the detector never trained on.

Two measuring sets, never used for training:
- `bench/data/ooc_heldout.jsonl`: replies of the embedded model (Qwen2.5-Coder-1.5B, plain persona prompt,
  tempting questions) and hand-written ones, for personas and phrasings the classifier never trained on.
- `bench/data/ooc_real.jsonl`: candidates the embedded model wrote through personae's own runtime (the chat
  prompt, best-of-4 sampling, `bench/collect_replies.py`) for the example personas on tempting probes, every one
  labelled by hand (`"source": "embedded"`, `"note"` on the close calls). `"split": "dev"`: the 52 replies read
  while the refusal and offer patterns were written; `"test"`: the 80 labelled after those patterns were frozen,
  before the detector saw them (one later change, the vocative after an interjection, came from two test misses).

Prints one JSON line with, per set: accuracy, precision and recall (OOC is the positive class) of the default
detector (patterns decide), of patterns plus the learned classifier, and of the classifier alone; per reason, how
many labelled replies the detector caught and how often the rule for it fired on an in-character reply. With
`--record` the line is also appended to bench/results/ooc_quality.jsonl.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path
from typing import Any

from _results import record
from personae.persona import Persona
from personae.scoring import OOC_REASONS, OOCClassifier, OOCDetector

DATA = Path(__file__).resolve().parent / "data"
SETS = [DATA / "ooc_heldout.jsonl", DATA / "ooc_real.jsonl"]
GOAL = 0.90
"""Accuracy goal of issue 8."""


def read(path: Path) -> list[dict[str, Any]]:
    """The labelled records of one set; a wrong reason stops the run with the line number."""
    records = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        r = json.loads(line)
        if not (r["reason"] in OOC_REASONS if r["ooc"] else r["reason"] is None):
            raise SystemExit(f"{path}:{number}: an OOC reply needs a reason from {OOC_REASONS}, others null")
        records.append(r)
    return records


def binary(pred: list[bool], gold: list[bool]) -> dict[str, float | int]:
    """Accuracy, precision and recall with out of character as the positive class."""
    tp = sum(p and g for p, g in zip(pred, gold, strict=True))
    fp = sum(p and not g for p, g in zip(pred, gold, strict=True))
    fn = sum(g and not p for p, g in zip(pred, gold, strict=True))
    return {
        "accuracy": round(sum(p == g for p, g in zip(pred, gold, strict=True)) / max(1, len(gold)), 4),
        "precision": round(tp / max(1, tp + fp), 4),
        "recall": round(tp / max(1, tp + fn), 4),
        "false_positives": fp,
        "false_negatives": fn,
    }


def evaluate(path: Path, classifier: OOCClassifier) -> dict[str, Any]:
    """Figures for one labelled set."""
    records = read(path)
    detector_says, classifier_says, raised = [], [], []
    for r in records:
        detector = OOCDetector(Persona.model_validate(r["persona"]), r["user"], classifier=classifier)
        full = detector.detect(r["query"], r["reply"])
        # With `classifier_decides`, the classifier's probability joins the patterns' at the same threshold.
        classifier_says.append((full.classifier_probability or 0.0) > detector.threshold)
        detector_says.append(full.ooc)
        raised.append(full.reasons)
    gold = [bool(r["ooc"]) for r in records]

    caught: Counter[str] = Counter()
    total: Counter[str] = Counter()
    false_alarms: Counter[str] = Counter()
    for r, pred, reasons in zip(records, detector_says, raised, strict=True):
        if r["ooc"]:
            total[r["reason"]] += 1
            caught[r["reason"]] += pred
        else:
            false_alarms.update(reasons)
    with_classifier = [d or c for d, c in zip(detector_says, classifier_says, strict=True)]
    splits = sorted({r["split"] for r in records if "split" in r})
    by_split = {
        split: binary(
            [p for p, r in zip(detector_says, records, strict=True) if r.get("split") == split],
            [g for g, r in zip(gold, records, strict=True) if r.get("split") == split],
        )
        for split in splits
    }
    return {
        "examples": len(records),
        "ooc_share": round(sum(gold) / max(1, len(gold)), 3),
        **binary(detector_says, gold),
        "patterns_plus_classifier": binary(with_classifier, gold),
        "classifier_only": binary(classifier_says, gold),
        **({"by_split": by_split} if by_split else {}),
        "recall_by_reason": {k: f"{caught[k]}/{total[k]}" for k in sorted(total)},
        "false_alarms_by_reason": dict(sorted(false_alarms.items())),
        "ratio_to_goal": round(sum(p == g for p, g in zip(detector_says, gold, strict=True)) / len(gold) / GOAL, 3),
    }


def main(paths: list[Path]) -> dict[str, Any]:
    classifier = OOCClassifier.load()
    return {"bench": "ooc_quality", "goal_accuracy": GOAL, **{p.stem: evaluate(p, classifier) for p in paths}}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, action="append", help="a labelled JSONL set (repeatable; default: both)")
    parser.add_argument("--record", action="store_true", help="append the figures to bench/results/ooc_quality.jsonl")
    args = parser.parse_args()
    result = main(args.data or SETS)
    if args.record:
        record("ooc_quality", result)
    print(json.dumps(result))
