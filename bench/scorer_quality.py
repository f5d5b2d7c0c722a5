"""Benchmark: does the faithfulness scorer read real role-play replies the way a careful reader does?

Measured on bench/data/roleplay/ (hand-labelled, never trained or tuned on; see its README): personas, labelled
(statement, query, reply) triples written like real replies or sampled from the embedded model, and reply-level
cases (a faithful, a contradicting and an off-topic in-character reply per query). Prints one JSON line:

- triple 3-way accuracy (the scorer's verdict for the statement: supported, violated or neither), per source and kind;
- reply level: preference (faithful APC > contradicting APC), violation recall (contradicting replies with ≥ 1
  violation), false-violation rate (faithful or off-topic replies with ≥ 1 violation);
- the topic gate: share of statement–sentence pairs it skips, and how often the verdict on violations differs
  from scoring without the gate;
- real replies read by hand: the embedded model's replies to tempting questions that guard_effect.py and
  premise_cue.py counted (bench/data/readings/guard_effect*.jsonl and premise_cue*.jsonl, each read against the
  whole persona): the share of read contradictions the
  scorer flags, and the share of the others it flags (`read_replies`);
- speed (pairs/s through the NLI model) and, with ../shared/data, Alice NLI, the SNLI held-out slice and the
  clear-cut persona pairs (bench/data/persona_clear_cut.jsonl).
References are the goals of issue 17.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _results import record
from personae.persona import Persona, load_persona, persona_from_data
from personae.scoring import APCResult, APCScorer, Calibration, OnnxNLI, RelevanceModel, default_calibration

HERE = Path(__file__).resolve().parent
DATA = HERE / "data" / "roleplay"
CLEAR_CUT = HERE / "data" / "persona_clear_cut.jsonl"
READINGS = HERE / "data" / "readings"
READ_FILES = ("guard_effect*.jsonl", "premise_cue*.jsonl")
"""The readings whose replies are read against the whole persona: the guard's and the premise cue's real replies."""
EXAMPLES = HERE.parent / "examples" / "personas"
BENCH_PERSONAS = HERE / "data" / "personas"
"""Characters written for the benches' held-out probes (bench/data/personas/<id>.yaml), read like the examples."""
GOALS = {
    "preference": 0.95,
    "violation_recall": 0.85,
    "false_violation_rate": 0.10,
    "triple_accuracy": 0.80,
    "alice_nli": 0.70,
    "snli_heldout": 0.82,
    "clear_cut_persona": 0.90,
}
VERDICT_LABEL = {"supported": "entailment", "violated": "contradiction", None: "neutral"}


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def load_personas(path: Path) -> dict[str, Persona]:
    """The measuring set's personas by id, plus the example characters (examples/personas/<id>.yaml) and the benches'
    own (bench/data/personas/<id>.yaml) by file stem."""
    personas = {
        p["id"]: persona_from_data({"name": p["name"], "statements": p["statements"]})
        for p in yaml.safe_load(path.read_text(encoding="utf-8"))
    }
    for file in [*sorted(EXAMPLES.glob("*.yaml")), *sorted(BENCH_PERSONAS.glob("*.yaml"))]:
        personas.setdefault(file.stem, load_persona(file))
    return personas


class Scoring:
    """One scorer per persona, sharing the models; every distinct (persona, query, reply) is scored once."""

    def __init__(self, personas: dict[str, Persona], nli: OnnxNLI, relevance: RelevanceModel, cal: Calibration) -> None:
        self.scorers = {pid: APCScorer(p, nli=nli, relevance=relevance, calibration=cal) for pid, p in personas.items()}
        self.cache: dict[tuple[str, str, str], APCResult] = {}

    def many(self, items: list[tuple[str, str, str]]) -> None:
        by_persona: dict[str, list[tuple[str, str]]] = defaultdict(list)
        for pid, query, reply in dict.fromkeys(items):
            if (pid, query, reply) not in self.cache:
                by_persona[pid].append((query, reply))
        for pid, pairs in by_persona.items():
            for (query, reply), result in zip(pairs, self.scorers[pid].score_batch(pairs), strict=True):
                self.cache[(pid, query, reply)] = result

    def get(self, pid: str, query: str, reply: str) -> APCResult:
        return self.cache[(pid, query, reply)]


def triple_figures(scoring: Scoring, triples: list[dict[str, Any]]) -> dict[str, Any]:
    confusion: Counter[tuple[str, str]] = Counter()
    by: dict[str, list[int]] = defaultdict(list)
    mistakes = []
    for t in triples:
        result = scoring.get(t["persona"], t["query"], t["reply"])
        score = next(s for s in result.statements if s.statement == t["statement"])
        predicted = VERDICT_LABEL[score.verdict]
        confusion[(t["label"], predicted)] += 1
        ok = int(predicted == t["label"])
        by[f"source:{t.get('source', '?')}"].append(ok)
        by[f"kind:{t.get('kind', '?')}"].append(ok)
        by[f"label:{t['label']}"].append(ok)
        if not ok:
            mistakes.append(
                {
                    "statement": t["statement"],
                    "reply": t["reply"][:160],
                    "label": t["label"],
                    "predicted": predicted,
                    "evidence": score.evidence,
                    "e": round(score.entailment, 2),
                    "c": round(score.contradiction, 2),
                }
            )
    n = sum(confusion.values())
    return {
        "triples": n,
        "triple_accuracy": round(sum(v for (a, b), v in confusion.items() if a == b) / max(1, n), 4),
        "triple_accuracy_by": {k: round(sum(v) / len(v), 3) for k, v in sorted(by.items())},
        "triple_confusion": {f"{a}->{b}": v for (a, b), v in sorted(confusion.items())},
        "triple_mistakes": mistakes,
    }


def reply_figures(scoring: Scoring, cases: list[dict[str, Any]]) -> dict[str, Any]:
    wins, caught, right_statement, false_flags, innocent = 0, 0, 0, 0, 0
    losses = []
    for case in cases:
        pid, query = case["persona"], case["query"]
        faithful = scoring.get(pid, query, case["faithful"])
        contra = scoring.get(pid, query, case["contradicting"])
        off = scoring.get(pid, query, case["off_topic"])
        wins += int(faithful.apc_normalized > contra.apc_normalized)
        caught += int(bool(contra.violations))
        right_statement += int(any(v.statement in case["contradicts"] for v in contra.violations))
        for reply, result in (("faithful", faithful), ("off_topic", off)):
            innocent += 1
            if result.violations:
                false_flags += 1
                losses.append(
                    {"reply": reply, "text": case[reply][:160], "violated": [v.statement for v in result.violations]}
                )
        if not contra.violations:
            losses.append(
                {
                    "reply": "contradicting (missed)",
                    "text": case["contradicting"][:160],
                    "contradicts": case["contradicts"],
                }
            )
    n = len(cases)
    return {
        "reply_cases": n,
        "preference": round(wins / max(1, n), 4),
        "violation_recall": round(caught / max(1, n), 4),
        "violation_recall_right_statement": round(right_statement / max(1, n), 4),
        "false_violation_rate": round(false_flags / max(1, innocent), 4),
        "reply_mistakes": losses,
    }


def read_files(personas: dict[str, Persona], folder: Path = READINGS) -> dict[str, list[tuple[str, str, str, bool]]]:
    """Per readings file (its stem): (persona id, query, reply, read as a contradiction) of each reply read by hand."""
    by_name = {p.name: pid for pid, p in personas.items()}
    return {
        file.stem: [
            (by_name[row["persona"]], row["query"], row["reply"], bool(row["read_contradiction"]))
            for row in read_jsonl(file)
        ]
        for pattern in READ_FILES
        for file in sorted(folder.glob(pattern))
    }


def read_replies(personas: dict[str, Persona], folder: Path = READINGS) -> list[tuple[str, str, str, bool]]:
    """(persona id, query, reply, read as a contradiction) of every distinct reply of `READ_FILES` read by hand."""
    out: dict[tuple[str, str, str], bool] = {}
    for rows in read_files(personas, folder).values():
        for pid, query, reply, read in rows:
            out[(pid, query, reply)] = read
    return [(*key, read) for key, read in out.items()]


def _agreement(scoring: Scoring, read: list[tuple[str, str, str, bool]]) -> dict[str, Any]:
    contra = [bool(scoring.get(pid, q, r).violations) for pid, q, r, c in read if c]
    other = [bool(scoring.get(pid, q, r).violations) for pid, q, r, c in read if not c]
    return {
        "replies": len(read),
        "read_contradictions": len(contra),
        "violation_recall": round(sum(contra) / max(1, len(contra)), 4),
        "false_violation_rate": round(sum(other) / max(1, len(other)), 4),
    }


def read_reply_figures(
    scoring: Scoring, read: list[tuple[str, str, str, bool]], by_file: dict[str, list[tuple[str, str, str, bool]]]
) -> dict[str, Any]:
    """How the scorer's violations agree with a careful reading of real replies, in all and per readings file.

    Per file matters: a rule written after reading one file's replies is measured honestly only on files read later.
    """
    return {
        "read_replies": {
            **_agreement(scoring, read),
            "by_file": {stem: _agreement(scoring, rows) for stem, rows in by_file.items()},
        }
    }


def gate_figures(scoring: Scoring, ungated: Scoring, items: list[tuple[str, str, str]]) -> dict[str, Any]:
    pairs = gated = differ = 0
    for key in dict.fromkeys(items):
        a, b = scoring.get(*key), ungated.get(*key)
        for sa, sb in zip(a.statements, b.statements, strict=True):
            gated += sa.gated
            differ += int(sa.violation != sb.violation)
        pairs += len(a.statements) * max(1, len(_sentences(key[2])))
    return {"gate_skipped_share": round(gated / max(1, pairs), 4), "gate_violation_disagreements": differ}


def _sentences(text: str) -> list[str]:
    from personae.scoring import split_sentences

    return split_sentences(text)


def shared_figures(nli: OnnxNLI, shared: Path) -> dict[str, Any]:
    from personae.scoring._quality import load_alice_nli, nli_accuracy
    from personae.scoring._training.snli import load_snli

    figures: dict[str, Any] = {}
    clear = read_jsonl(CLEAR_CUT)
    figures["clear_cut_persona"] = round(nli_accuracy(nli, clear)["accuracy"], 4)
    if not (shared / "nli").is_dir():
        figures["shared"] = f"skipped: {shared} not found"
        return figures
    figures["snli_heldout"] = round(nli_accuracy(nli, load_snli(shared / "nli").heldout)["accuracy"], 4)
    figures["alice_nli"] = round(nli_accuracy(nli, load_alice_nli(shared / "apc" / "Alice.nli.json"))["accuracy"], 4)
    return figures


def main(args: argparse.Namespace) -> dict[str, Any]:
    nli = OnnxNLI(args.model)
    relevance = RelevanceModel()
    cal = default_calibration(nli, relevance.topic_model.name)
    if args.threshold is not None:
        cal = cal._replace(violation=args.threshold)
    if args.gate is not None:
        cal = cal._replace(topic_gate=None if args.gate < -1 else args.gate)
    personas = load_personas(args.data / "personas.yaml")
    triples = read_jsonl(args.data / "triples.jsonl")
    for extra in sorted(args.data.glob("triples_*.jsonl")):
        triples.extend(read_jsonl(extra))
    cases = read_jsonl(args.data / "replies.jsonl")
    items = [(t["persona"], t["query"], t["reply"]) for t in triples]
    items += [(c["persona"], c["query"], c[k]) for c in cases for k in ("faithful", "contradicting", "off_topic")]
    read = read_replies(personas)
    items += [(pid, query, reply) for pid, query, reply, _ in read]
    scoring = Scoring(personas, nli, relevance, cal)
    started = time.perf_counter()
    scoring.many(items)
    seconds = time.perf_counter() - started
    figures: dict[str, Any] = {
        "bench": "scorer_quality",
        "model": nli.name,
        "calibration": cal._asdict(),
    }
    figures.update(triple_figures(scoring, triples))
    figures.update(reply_figures(scoring, cases))
    figures.update(read_reply_figures(scoring, read, read_files(personas)))
    if cal.topic_gate is not None and not args.no_gate_figures:
        ungated = Scoring(personas, nli, relevance, cal._replace(topic_gate=None))
        ungated.many(items)
        figures.update(gate_figures(scoring, ungated, items))
    distinct = len(dict.fromkeys(items))
    figures["replies_scored"] = distinct
    figures["seconds_scoring"] = round(seconds, 2)
    if not args.quick:
        figures.update(shared_figures(nli, args.shared))
    figures["goals"] = GOALS
    if not args.verbose:
        figures.pop("triple_mistakes")
        figures.pop("reply_mistakes")
    return figures


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--shared", type=Path, default=HERE.parents[1] / "shared" / "data")
    parser.add_argument("--model", type=Path, default=None, help="ONNX NLI model folder (default: the shipped one)")
    parser.add_argument("--threshold", type=float, default=None, help="violation threshold (default: calibrated)")
    parser.add_argument("--gate", type=float, default=None, help="topic gate (default: calibrated; -9: no gate)")
    parser.add_argument("--quick", action="store_true", help="skip the SNLI, Alice and clear-cut sets")
    parser.add_argument(
        "--no-gate-figures",
        action="store_true",
        help="skip scoring every pair without the topic gate (the gate's figures; most of a --quick run's time)",
    )
    parser.add_argument("--verbose", action="store_true", help="list every mistake")
    parser.add_argument(
        "--record", action="store_true", help="append the figures to bench/results/scorer_quality.jsonl"
    )
    args = parser.parse_args()
    result = main(args)
    if args.record:  # the mistakes are for reading, not for the results file
        record("scorer_quality", {k: v for k, v in result.items() if not k.endswith("_mistakes")})
    print(json.dumps(result, ensure_ascii=False))
