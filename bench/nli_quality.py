"""Benchmark: quality of the shipped persona-NLI model and the relevance model.

Prints one JSON line: 3-way accuracy on the held-out SNLI slice, on APC's Alice NLI pairs (premise =
statement, hypothesis = whole response; also judged sentence by sentence as the scorer does), on
personae's generated persona-domain dev set, on 60 hand-written clear-cut persona pairs
(bench/data/persona_clear_cut.jsonl), and relevance accuracy on Alice.relevance.json. The
references are the acceptance goals (SNLI ≥ 0.80, Alice NLI ≥ 0.65, relevance ≥ 0.80).
Needs ../shared/data (read-only, not shipped).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _results import record as record_result
from personae.scoring import OnnxNLI, RelevanceModel
from personae.scoring.training import (
    load_alice_nli,
    load_snli,
    nli_accuracy,
    relevance_accuracy,
    sentence_max_accuracy,
)

GOALS = {"snli_heldout": 0.80, "alice_nli": 0.65, "alice_relevance": 0.80, "clear_cut_persona": 0.80}
CLEAR_CUT = Path(__file__).parent / "data" / "persona_clear_cut.jsonl"
"""60 hand-written clear-cut persona pairs (never trained on), a stand-in for the reviewer's own set."""


def character_names(path: Path) -> dict[str, list[str]]:
    """Each character's full name from the `Name:` line of its profile passage, as an import would set it."""
    names: dict[str, list[str]] = {}
    for record in json.loads(path.read_text()):
        match = re.search(r"^Name:\s*(.+?)\.?$", record.get("passage", ""), re.MULTILINE)
        names[record["character"]] = [match.group(1) if match else record["character"]]
    return names


def main(shared: Path, model: Path | None, dev_size: int) -> dict[str, object]:
    if not (shared / "nli").is_dir():
        sys.exit(f"bench needs {shared} (the read-only shared data folder)")
    nli = OnnxNLI(model)
    started = time.time()
    figures: dict[str, object] = {"bench": "nli_quality", "model": nli.name}
    snli = nli_accuracy(nli, load_snli(shared / "nli").heldout)
    alice_rows = load_alice_nli(shared / "apc" / "Alice.nli.json")
    alice = nli_accuracy(nli, alice_rows)
    alice_sent = sentence_max_accuracy(nli, alice_rows)
    figures["snli_heldout"] = round(snli["accuracy"], 4)
    figures["alice_nli"] = round(alice["accuracy"], 4)
    figures["alice_nli_sentence_max"] = round(alice_sent["accuracy"], 4)
    figures["alice_confusion"] = alice["confusion"]
    try:
        from personae.scoring.training import generate_persona_dev

        dev = nli_accuracy(nli, generate_persona_dev(dev_size, seed=1))
        figures["persona_dev"] = round(dev["accuracy"], 4)
    except ImportError:
        figures["persona_dev"] = None
    clear_cut = [json.loads(line) for line in CLEAR_CUT.read_text().splitlines() if line.strip()]
    figures["clear_cut_persona"] = round(nli_accuracy(nli, clear_cut)["accuracy"], 4)
    relevance = relevance_accuracy(
        RelevanceModel(),
        json.loads((shared / "apc" / "Alice.relevance.json").read_text()),
        names=character_names(shared / "apc" / "Alice.statements.json"),
    )
    figures["alice_relevance"] = round(relevance["accuracy"], 4)
    figures["ratios_to_goal"] = {k: round(float(figures[k]) / v, 3) for k, v in GOALS.items()}  # type: ignore[arg-type]
    figures["seconds"] = round(time.time() - started, 1)
    return figures


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--shared", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    parser.add_argument("--model", type=Path, default=None, help="ONNX model folder (default: the shipped one)")
    parser.add_argument("--dev-size", type=int, default=3000)
    parser.add_argument("--record", action="store_true", help="append the figures to bench/results/nli_quality.jsonl")
    args = parser.parse_args()
    result = main(args.shared, args.model, args.dev_size)
    if args.record:
        record_result("nli_quality", result)
    print(json.dumps(result))
