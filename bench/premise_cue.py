"""Benchmark: does the premise cue keep a character from going along with a false premise? Cue off against on.

Every query (JSONL of {"persona": name, "query": text, "control": true for a message whose premise is true}; by
default the held-out premise probes 4) is answered in a fresh session twice with the guard off, the same seed: once
without the premise cue and once with it (`PromptSettings.premise_cue`: when what the message takes for granted
contradicts a persona statement, the system prompt ends with that statement). Prints one JSON line: how often the cue
fired (on the false premises and on the controls), the scorer's contradiction and OOC rates in both arms and the
time the check took per message. The scorer misses about half of what a reader counts (bench/results/
scorer_quality.jsonl), so `--replies FILE` writes both arms' replies shuffled together, without the arm or the flags
showing first, for reading blind (bench/README.md, "Readings by hand"); the reading goes in the recorded row.
Reference: contradictions (by reading) cut by at least 50 % relative on the false premises, none added on the controls.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from rich.progress import Progress

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _results import record
from guard_effect import DEFAULT_PERSONAS, answer, summarize
from personae.backends import BackendError, GenerateConfig, get_backend
from personae.guard import DEFAULT_SPREAD, Judgement
from personae.persona import Persona, load_persona
from personae.prompting import PromptSettings
from personae.scoring import ScoringModels
from personae.store import SessionStore

HERE = Path(__file__).resolve().parent
DEFAULT_QUERIES = HERE / "data" / "premise_probes_4.jsonl"
REFERENCE = {"relative_contradiction_cut_read": 0.5, "controls_contradicted_added_read": 0}


def read_probes(path: Path, personas: dict[str, Persona]) -> list[tuple[Persona, str, bool]]:
    """(persona, query, control) per line of `path`; an unknown persona stops the run naming the line."""
    out = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        row = json.loads(line)
        if row["persona"] not in personas:
            raise SystemExit(f"{path}:{number}: persona {row['persona']!r} is not among --persona files")
        out.append((personas[row["persona"]], str(row["query"]), bool(row.get("control", False))))
    return out


async def run(args: argparse.Namespace) -> dict[str, Any]:
    personas = {p.name: p for p in (load_persona(path) for path in args.persona)}
    probes = read_probes(args.queries, personas)[: args.limit or None]
    backend = get_backend(args.backend, cache=None)
    store = SessionStore(f"sqlite:///{tempfile.mkdtemp(prefix='personae-premise-')}/sessions.db")
    models = ScoringModels()
    rows: list[dict[str, Any]] = []
    runs: dict[str, dict[bool, list[Judgement]]] = {"off": {False: [], True: []}, "on": {False: [], True: []}}
    fired = {False: 0, True: 0}
    check_seconds: list[float] = []
    failures: list[dict[str, str]] = []
    with Progress(transient=True) as progress:
        task = progress.add_task("premise cue off / on", total=len(probes) * 2)
        for i, (persona, query, control) in enumerate(probes):
            config = GenerateConfig(temperature=args.temperature, max_tokens=args.max_tokens, seed=args.seed + i)
            scorer = models.scorer(persona)
            assert scorer is not None
            start = time.perf_counter()
            conflicts = scorer.premise_conflicts(query)
            check_seconds.append(time.perf_counter() - start)
            fired[control] += bool(conflicts)
            for arm, cue in (("off", False), ("on", True)):
                try:
                    prompt = PromptSettings(premise_cue=cue)
                    judgement = await answer(
                        persona, query, backend, store, models, "off", 1, config, DEFAULT_SPREAD, prompt
                    )
                except BackendError as exc:  # recorded, never fatal
                    failures.append({"persona": persona.name, "query": query, "arm": arm, "error": str(exc)})
                    progress.advance(task)
                    continue
                runs[arm][control].append(judgement)
                best = judgement.best
                rows.append(
                    {
                        "persona": persona.name,
                        "query": query,
                        "reply": best.text,
                        "arm": arm,
                        "control": control,
                        "cue": conflicts if cue else [],
                        "violated": [v.statement for v in best.result.violations] if best.result else [],
                        "ooc": best.out_of_character,
                    }
                )
                progress.advance(task)
    if args.replies:  # shuffled together, for reading blind: the arm and the flags are in each row, read them last
        random.Random(args.seed).shuffle(rows)
        with args.replies.open("w", encoding="utf-8") as fh:
            fh.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    figures: dict[str, Any] = {"bench": "premise_cue", "backend": backend.address, "queries": len(probes)}
    figures["false_premises"] = sum(not c for _, _, c in probes)
    figures["controls"] = sum(c for _, _, c in probes)
    figures["cue_fired_false_premises"] = fired[False]
    figures["cue_fired_controls"] = fired[True]
    for arm in ("off", "on"):
        for control, name in ((False, "false_premises"), (True, "controls")):
            s = summarize(runs[arm][control]) if runs[arm][control] else None
            figures[f"contradiction_rate_{name}_cue_{arm}"] = None if s is None else round(s["contradiction_rate"], 4)
            figures[f"ooc_rate_{name}_cue_{arm}"] = None if s is None else round(s["ooc_rate"], 4)
    figures["check_ms_mean"] = round(1000 * sum(check_seconds) / max(1, len(check_seconds)), 1)
    figures["reference"] = REFERENCE
    figures["failures"] = failures
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--persona", type=Path, nargs="+", default=DEFAULT_PERSONAS)
    parser.add_argument("--queries", type=Path, default=DEFAULT_QUERIES)
    parser.add_argument("--backend", default="embedded")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--temperature", type=float, default=0.8)
    parser.add_argument("--max-tokens", type=int, default=120)
    parser.add_argument("--limit", type=int, default=0, help="Only the first N queries (0: all).")
    parser.add_argument("--replies", type=Path, default=None, help="write both arms' replies, shuffled (JSONL)")
    parser.add_argument("--record", action="store_true", help="append the figures to bench/results/premise_cue.jsonl")
    args = parser.parse_args()
    result = asyncio.run(run(args))
    if args.record:
        record("premise_cue", result)
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
