"""Collect real replies of a backend (by default the embedded model) for hand labelling.

For every line of a queries file ({"persona": id, "query": text, ...}) and its persona in a personas YAML (a
list of {id, name, statements, ...}), one fresh single-turn session samples n candidates the way `personae chat`
does (same prompt, same sampling settings, best-of-n). Every candidate is appended to OUT as one JSON line
({"persona", "query", "kind", "candidate", "text", "chosen"}) and fsynced, so the run can be stopped and resumed:
queries already in OUT are skipped. The scorers are the fakes: what is collected is the model's writing, which
is labelled by hand afterwards (bench/data/roleplay/), never scored here.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import yaml
from rich.progress import Progress

from personae.backends import GenerateConfig, get_backend
from personae.persona import persona_from_data
from personae.scoring import FakeEmbedder, FakeNLI
from personae.session import ChatSession, ScoringModels, SessionSettings
from personae.store import SessionStore


def done_keys(out: Path) -> set[tuple[str, str]]:
    """(persona, query) pairs already collected in `out`."""
    if not out.exists():
        return set()
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines() if line.strip()]
    return {(r["persona"], r["query"]) for r in rows}


async def collect(personas_path: Path, queries_path: Path, out: Path, backend_address: str, n: int, seed: int) -> int:
    personas = {p["id"]: p for p in yaml.safe_load(personas_path.read_text(encoding="utf-8"))}
    queries: list[dict[str, Any]] = [
        json.loads(line) for line in queries_path.read_text(encoding="utf-8").splitlines() if line.strip()
    ]
    done = done_keys(out)
    todo = [q for q in queries if (q["persona"], q["query"]) not in done]
    backend = get_backend(backend_address)
    models = ScoringModels(nli=FakeNLI(), embedder=FakeEmbedder(), ooc_classifier=False)
    settings = SessionSettings(
        guard="best-of-n", n=n, generate=GenerateConfig(temperature=0.8, max_tokens=200, seed=seed)
    )
    written = 0
    with tempfile.TemporaryDirectory() as home, Progress() as progress, out.open("a", encoding="utf-8") as sink:
        store = SessionStore(f"sqlite:///{home}/sessions.db")
        task = progress.add_task("replies", total=len(todo))
        for query in todo:
            data = personas[query["persona"]]
            persona = persona_from_data({k: v for k, v in data.items() if k != "id"})
            chat = ChatSession.start(persona, backend, store, settings=settings, models=models)
            await chat.send(query["query"])
            judgement = chat.last_judgement
            assert judgement is not None
            for candidate in judgement.candidates:
                row = {
                    "persona": query["persona"],
                    "query": query["query"],
                    "kind": query.get("kind"),
                    "candidate": candidate.index,
                    "text": candidate.text,
                    "chosen": candidate.index == judgement.best.index,
                    "backend": backend_address,
                }
                sink.write(json.dumps(row, ensure_ascii=False) + "\n")
                written += 1
            sink.flush()
            os.fsync(sink.fileno())
            progress.advance(task)
    return written


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("personas", type=Path)
    parser.add_argument("queries", type=Path)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--backend", default="embedded")
    parser.add_argument("-n", type=int, default=4)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    count = asyncio.run(collect(args.personas, args.queries, args.out, args.backend, args.n, args.seed))
    print(json.dumps({"bench": "collect_replies", "written": count, "out": str(args.out)}))
