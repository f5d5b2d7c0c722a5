"""Benchmark: does the guard keep characters faithful? Guard off versus best-of-n, same backend, same seeds.

Every query (JSONL of {"persona": name, "query": text}; by default probes that tempt the example personas out of
character) is answered in a fresh session twice: with the guard off, and with best-of-n (`--policy threshold`: then
one corrective regeneration when the best candidate still contradicts or leaves the role). Prints one JSON line:
contradiction rates (share of replies with a violation: the scorer's calibrated verdict), out-of-character rates (the
OOC detector's verdict), mean normalised APC, the time spent generating and scoring in the best-of-n run, and how alike
the n candidates of a best-of-n turn were (mean pairwise MiniLM similarity, share of near-duplicates, distinct
candidates per turn): the guard can only choose among what differs. `--spread 0` samples every candidate alike.
With `--record` the line is also appended to bench/results/guard_effect.jsonl.
References (issues 4 and 8): the contradiction rate and the OOC rate each fall by at least 50 % relative, mean
normalised APC rises by at least 0.05, scoring costs at most 10 % of generation time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from rich.progress import Progress

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _results import record
from personae.backends import Backend, BackendError, GenerateConfig, get_backend
from personae.guard import DEFAULT_SPREAD, GuardPolicy, Judgement
from personae.persona import Persona, load_persona
from personae.prompting import PromptSettings
from personae.scoring import ScoringModels
from personae.session import ChatSession, SessionSettings
from personae.store import SessionStore

HERE = Path(__file__).resolve().parent
EXAMPLES = HERE.parent / "examples" / "personas"
DEFAULT_PERSONAS = [EXAMPLES / f"{name}.yaml" for name in ("ada", "anselm", "vega")]
DEFAULT_QUERIES = HERE / "data" / "guard_probes.jsonl"
REFERENCE = {
    "relative_contradiction_cut": 0.5,
    "relative_ooc_cut": 0.5,
    "apc_norm_gain": 0.05,
    "scoring_over_generating": 0.10,
}


def read_queries(path: Path, personas: dict[str, Persona]) -> list[tuple[Persona, str]]:
    """Queries whose persona is among `personas`; a malformed line or unknown persona stops the run."""
    out = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        record = json.loads(line)
        name, query = record.get("persona"), record.get("query")
        if not isinstance(name, str) or not isinstance(query, str):
            raise SystemExit(f"{path}:{number}: needs string fields persona and query")
        if name not in personas:
            raise SystemExit(f"{path}:{number}: persona {name!r} is not among --persona files ({', '.join(personas)})")
        out.append((personas[name], query))
    return out


async def answer(
    persona: Persona,
    query: str,
    backend: Backend,
    store: SessionStore,
    models: ScoringModels,
    guard: GuardPolicy,
    n: int,
    config: GenerateConfig,
    spread: float,
    prompt: PromptSettings | None = None,
) -> Judgement:
    """One fresh single-turn session under `guard` (`prompt`: the prompt settings, default ones if None)."""
    settings = SessionSettings(guard=guard, n=n, generate=config, spread=spread, prompt=prompt or PromptSettings())
    chat = ChatSession.start(persona, backend, store, settings=settings, models=models)
    await chat.send(query)
    assert chat.last_judgement is not None
    return chat.last_judgement


def mean(values: list[float]) -> float | None:
    """The mean, or None for no values."""
    return sum(values) / len(values) if values else None


def diversity(judgements: list[Judgement]) -> dict[str, float | None]:
    """How alike each turn's candidates were, averaged over turns (None where nothing was measured)."""
    measured = [j.diversity for j in judgements if j.diversity is not None and j.diversity.candidates > 1]
    similarity = mean([d.mean_similarity for d in measured if d.mean_similarity is not None])
    duplicates = mean([d.duplicate_share for d in measured])
    distinct = mean([float(d.distinct) for d in measured])
    return {
        "candidate_similarity": None if similarity is None else round(similarity, 4),
        "duplicate_share": None if duplicates is None else round(duplicates, 4),
        "distinct_candidates": None if distinct is None else round(distinct, 2),
    }


def summarize(judgements: list[Judgement]) -> dict[str, float]:
    """Contradiction rate, out-of-character rate and mean normalised APC of the chosen replies."""
    chosen = [j.best for j in judgements]
    contradicted = [bool(c.result.violations) for c in chosen if c.result]
    apc = [c.apc_normalized for c in chosen if c.apc_normalized is not None]
    ooc = [c.out_of_character for c in chosen if c.ooc is not None]
    return {
        "contradiction_rate": sum(contradicted) / max(1, len(contradicted)),
        "ooc_rate": sum(ooc) / max(1, len(ooc)),
        "apc_norm": sum(apc) / max(1, len(apc)),
        "seconds_generating": sum(j.seconds_generating for j in judgements),
        "seconds_scoring": sum(j.seconds_scoring for j in judgements),
    }


async def run(args: argparse.Namespace) -> dict[str, Any]:
    personas = {p.name: p for p in (load_persona(path) for path in args.persona)}
    queries = read_queries(args.queries, personas)[: args.limit or None]
    backend = get_backend(args.backend, cache=None)
    store = SessionStore(f"sqlite:///{tempfile.mkdtemp(prefix='personae-guard-')}/sessions.db")
    models = ScoringModels()
    runs: dict[str, list[Judgement]] = {"off": [], "on": []}
    asked: dict[str, list[tuple[Persona, str]]] = {"off": [], "on": []}
    failures: list[dict[str, str]] = []
    policy: GuardPolicy = "threshold" if args.policy == "threshold" else "best-of-n"
    arms: tuple[tuple[str, GuardPolicy, int], ...] = (("off", "off", 1), ("on", policy, args.n))
    started = time.perf_counter()
    with Progress(transient=True, console=None) as progress:
        task = progress.add_task(f"guard off / {args.policy}", total=len(queries) * 2)
        for i, (persona, query) in enumerate(queries):
            config = GenerateConfig(temperature=args.temperature, max_tokens=args.max_tokens, seed=args.seed + i)
            for key, guard, n in arms:
                try:
                    judgement = await answer(persona, query, backend, store, models, guard, n, config, args.spread)
                    runs[key].append(judgement)
                    asked[key].append((persona, query))
                except BackendError as exc:  # recorded, never fatal
                    failures.append({"persona": persona.name, "query": query, "guard": guard, "error": str(exc)})
                progress.advance(task)
    if args.replies:  # every chosen reply with the scorer's verdicts, for reading them
        with args.replies.open("w", encoding="utf-8") as fh:
            for key, judgements in runs.items():
                for (persona, query), j in zip(asked[key], judgements, strict=True):
                    best = j.best
                    fh.write(
                        json.dumps(
                            {
                                "guard": key,
                                "persona": persona.name,
                                "query": query,
                                "reply": best.text,
                                "violated": [v.statement for v in best.result.violations] if best.result else [],
                                "ooc": best.out_of_character,
                                "round": best.round,
                                # what the guard chose among: whether a faithful candidate was there to take
                                "candidates": [
                                    {
                                        "text": c.text,
                                        "violated": [v.statement for v in c.result.violations] if c.result else [],
                                        "ooc": c.out_of_character,
                                        "round": c.round,
                                    }
                                    for c in j.candidates
                                ],
                            },
                            ensure_ascii=False,
                        )
                        + "\n"
                    )
    off, on = summarize(runs["off"]), summarize(runs["on"])
    cut = 1 - on["contradiction_rate"] / off["contradiction_rate"] if off["contradiction_rate"] else 0.0
    ooc_cut = 1 - on["ooc_rate"] / off["ooc_rate"] if off["ooc_rate"] else 0.0
    ratio = on["seconds_scoring"] / on["seconds_generating"] if on["seconds_generating"] else 0.0
    return {
        "bench": "guard_effect",
        "backend": backend.address,
        "policy": args.policy,
        "n": args.n,
        "spread": args.spread,
        "queries": len(queries),
        "contradiction_rate_off": round(off["contradiction_rate"], 4),
        "contradiction_rate_on": round(on["contradiction_rate"], 4),
        "relative_contradiction_cut": round(cut, 4),
        "ooc_rate_off": round(off["ooc_rate"], 4),
        "ooc_rate_on": round(on["ooc_rate"], 4),
        "relative_ooc_cut": round(ooc_cut, 4),
        "apc_norm_off": round(off["apc_norm"], 4),
        "apc_norm_on": round(on["apc_norm"], 4),
        "apc_norm_gain": round(on["apc_norm"] - off["apc_norm"], 4),
        "seconds_generating": round(on["seconds_generating"], 2),
        "seconds_scoring": round(on["seconds_scoring"], 2),
        "scoring_over_generating": round(ratio, 4),
        **diversity(runs["on"]),
        "seconds_generating_off": round(off["seconds_generating"], 2),
        "seconds_total": round(time.perf_counter() - started, 1),
        "reference": REFERENCE,
        "meets_reference": cut >= 0.5 and ooc_cut >= 0.5 and on["apc_norm"] - off["apc_norm"] >= 0.05 and ratio <= 0.10,
        "failures": failures,
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--persona", type=Path, nargs="+", default=DEFAULT_PERSONAS)
    parser.add_argument("--queries", type=Path, default=DEFAULT_QUERIES)
    parser.add_argument("--n", type=int, default=4)
    parser.add_argument(
        "--policy",
        choices=["best-of-n", "threshold"],
        default="best-of-n",
        help="the guard's policy when on (threshold: best-of-n, then one corrective regeneration)",
    )
    parser.add_argument("--backend", default="embedded")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--temperature", type=float, default=0.8)
    parser.add_argument("--max-tokens", type=int, default=120)
    parser.add_argument(
        "--spread", type=float, default=DEFAULT_SPREAD, help="temperature the last candidate adds (0: all alike)"
    )
    parser.add_argument("--limit", type=int, default=0, help="Only the first N queries (0: all).")
    parser.add_argument(
        "--replies", type=Path, default=None, help="write every chosen reply and its candidates, with verdicts (JSONL)"
    )
    parser.add_argument("--json", action="store_true", help="Print the JSON line only (the default output).")
    parser.add_argument("--record", action="store_true", help="append the figures to bench/results/guard_effect.jsonl")
    args = parser.parse_args()
    result = asyncio.run(run(args))
    if args.record:
        record("guard_effect", result)
    print(json.dumps(result), file=sys.stdout)
