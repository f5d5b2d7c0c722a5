"""LoCoMo long-term memory: evidence recall@k of personae's user memory against raw-turn baselines.

Feeds each LoCoMo conversation's sessions in order, at their dates, through the memory writer (`UserMemory.observe`:
facts extracted from each message, superseding what they contradict), once with each speaker as the user and the
other as the character, as a character would learn about both sides. Then for every question with evidence it
retrieves the top-k current facts from both speakers' memories (the one the question names ranked a little higher)
and counts the question as recalled when every evidence turn is the source of a retrieved fact.

Baselines over the raw turns ("Speaker: text"), k items each: the most recent turns (no memory), BM25 (rank-bm25),
embedding search (the shipped MiniLM), and the whole conversation truncated from the end to the tokens the memory's
k facts take. Prints one JSON line; `--record` appends it to bench/results/memory_locomo.jsonl.

LoCoMo (../shared/data/locomo) is CC BY-NC: it is read from there and measured, never copied into the repository.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
import tempfile
import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from rank_bm25 import BM25Okapi

from _results import record as record_result
from personae.backends import approx_tokens
from personae.memory import MemoryScope, UserMemory, UserMemorySettings
from personae.scoring import FakeEmbedder, FakeNLI, ScoringModels
from personae.store import SessionStore, UserMemoryStore

CATEGORIES = {1: "multi_hop", 2: "temporal", 3: "open_domain", 4: "single_hop", 5: "adversarial"}


def session_time(text: str) -> datetime:
    """'1:56 pm on 8 May, 2023' → an aware datetime."""
    return datetime.strptime(text.replace(",", ""), "%I:%M %p on %d %B %Y").replace(tzinfo=UTC)


def turns_of(conversation: dict[str, Any]) -> list[dict[str, Any]]:
    """Every turn in order, with its session number and time."""
    turns: list[dict[str, Any]] = []
    number = 1
    while f"session_{number}" in conversation:
        when = session_time(conversation[f"session_{number}_date_time"])
        for turn in conversation[f"session_{number}"]:
            text = turn.get("text", "")
            if turn.get("blip_caption"):
                text = f"{text} [shares a photo: {turn['blip_caption']}]"
            turns.append(
                {"dia_id": turn["dia_id"], "speaker": turn["speaker"], "text": text, "session": number, "when": when}
            )
        number += 1
    return turns


def evidence_of(qa: dict[str, Any]) -> set[str]:
    """The question's evidence turn ids, normalised ('D1:3'); a few annotations spell them loosely."""
    found = set()
    for item in qa.get("evidence", []):
        for match in re.finditer(r"D\s*:?\s*(\d+)\s*:\s*(\d+)", str(item)):
            found.add(f"D{match.group(1)}:{match.group(2)}")
    return found


def tokenize(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


async def build_memories(
    turns: list[dict[str, Any]], speakers: tuple[str, str], models: ScoringModels, name: str, folder: Path
) -> tuple[dict[str, UserMemory], float, int]:
    """One memory per speaker (as the user, the other as the character), fed in order; seconds per written turn."""
    store = SessionStore(f"sqlite:///{folder / f'{name}.db'}")
    memories = {
        user: UserMemory(UserMemoryStore(store), MemoryScope(None, user, name), char, models, UserMemorySettings())
        for user, char in (speakers, speakers[::-1])
    }
    spent = 0.0
    for index, turn in enumerate(turns):
        started = time.perf_counter()
        await memories[turn["speaker"]].observe(turn["text"], f"S{turn['session']}", index, turn["when"])
        spent += time.perf_counter() - started
    return memories, spent / max(1, len(turns)), len(turns)


def main(data: Path, k: int, models_kind: str, limit: int | None) -> dict[str, Any]:
    files = sorted(data.glob("*.json"))[:limit]
    if not files:
        sys.exit(f"no LoCoMo conversations in {data} (pass --data DIR)")
    models = (
        ScoringModels(nli=FakeNLI(), embedder=FakeEmbedder(), ooc_classifier=False)
        if models_kind == "fake"
        else ScoringModels(ooc_classifier=False)
    )
    ks = sorted({5, k})
    methods = ("memory", "no_memory_recent", "bm25_turns", "embedding_turns", "full_context_truncated")
    hits: dict[str, dict[int, list[int]]] = {m: {kk: [] for kk in ks} for m in methods}
    by_category: dict[str, dict[str, list[int]]] = {m: defaultdict(list) for m in methods}
    write_seconds: list[float] = []
    facts_total = superseded_total = 0
    started = time.time()
    with tempfile.TemporaryDirectory() as tmp:
        for path in files:
            conversation = json.loads(path.read_text(encoding="utf-8"))
            speakers = (conversation["speaker_a"], conversation["speaker_b"])
            turns = turns_of(conversation)
            memories, per_turn, _ = asyncio.run(build_memories(turns, speakers, models, path.stem, Path(tmp)))
            write_seconds.append(per_turn)
            index_of = {i: t["dia_id"] for i, t in enumerate(turns)}
            for memory in memories.values():
                every = memory.repository.facts(memory.scope, history=True)
                facts_total += len(every)
                superseded_total += sum(not f.current for f in every)
            raw = [f"{t['speaker']}: {t['text']}" for t in turns]
            bm25 = BM25Okapi([tokenize(t) for t in raw])
            turn_vectors = models.embedder.embed(raw)
            for qa in conversation["qa"]:
                evidence = evidence_of(qa)
                if not evidence:
                    continue
                question = str(qa["question"])
                # Both speakers' memories answer; the one the question names ranks a little higher (LoCoMo's
                # adversarial questions name the other speaker on purpose, so the name cannot be a filter).
                named = [s for s in speakers if s.split()[0].lower() in question.lower()]
                scored = [
                    (fact, score + (0.2 if len(named) == 1 and speaker == named[0] else 0.0))
                    for speaker, memory in memories.items()
                    for fact, score in memory.recall(question, facts=max(ks), episodes=0).facts
                ]
                scored.sort(key=lambda pair: -pair[1])
                memory_ids = [index_of.get(f.turn or -1, "") for f, _ in scored]
                memory_tokens = sum(approx_tokens(f.dated()) for f, _ in scored[:k])
                bm25_order = list(np.argsort(-bm25.get_scores(tokenize(question)), kind="stable"))
                sims = turn_vectors @ models.embedder.embed([question])[0]
                embedding_order = list(np.argsort(-sims, kind="stable"))
                recent = list(range(len(turns) - 1, -1, -1))
                budget, truncated = memory_tokens, []
                for i in recent:
                    budget -= approx_tokens(raw[i])
                    if budget < 0:
                        break
                    truncated.append(i)
                ranked = {
                    "memory": memory_ids,
                    "no_memory_recent": [index_of[i] for i in recent],
                    "bm25_turns": [index_of[int(i)] for i in bm25_order],
                    "embedding_turns": [index_of[int(i)] for i in embedding_order],
                }
                category = CATEGORIES.get(int(qa.get("category", 0)), "other")
                for method in methods:
                    for kk in ks:
                        if method == "full_context_truncated":
                            got = {index_of[i] for i in truncated} if kk == k else set()
                            covered = evidence <= got
                            if kk != k:
                                continue
                        else:
                            covered = evidence <= set(ranked[method][:kk])
                        hits[method][kk].append(int(covered))
                        if kk == k:
                            by_category[method][category].append(int(covered))

    def share(values: list[int]) -> float | None:
        return round(sum(values) / len(values), 4) if values else None

    recall = {m: {f"@{kk}": share(hits[m][kk]) for kk in ks if hits[m][kk]} for m in methods}
    baselines = {m: recall[m].get(f"@{k}") for m in methods if m != "memory"}
    best_baseline = max(v for v in baselines.values() if v is not None)
    return {
        "bench": "memory_locomo",
        "conversations": len(files),
        "questions": len(hits["memory"][k]),
        "k": k,
        "models": models_kind,
        "evidence_recall_at_k": recall["memory"].get(f"@{k}"),
        "evidence_recall": recall,
        "baselines": baselines,
        "per_category": {m: {c: share(v) for c, v in sorted(by_category[m].items())} for m in methods},
        "points_over_best_baseline": round(100 * ((recall["memory"].get(f"@{k}") or 0.0) - best_baseline), 1),
        "facts_written": facts_total,
        "facts_superseded": superseded_total,
        "write_ms_per_turn": round(1000 * float(np.mean(write_seconds)), 2),
        "seconds": round(time.time() - started, 1),
        "answer_f1": None,
        "note": "retrieval only; answer F1 with an answering backend is not implemented yet",
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    default = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "locomo"  # ../shared/data/locomo
    parser.add_argument("--data", type=Path, default=default, help="folder of LoCoMo conversation JSON files")
    parser.add_argument("--k", type=int, default=10, help="items retrieved per question (recall@5 is always given)")
    parser.add_argument("--models", choices=("shipped", "fake"), default="shipped", help="scoring models to use")
    parser.add_argument("--limit", type=int, default=None, help="only the first N conversations")
    parser.add_argument("--record", action="store_true", help="append the figures to bench/results/memory_locomo.jsonl")
    args = parser.parse_args()
    result = main(args.data, args.k, args.models, args.limit)
    if args.record:
        record_result("memory_locomo", result)
    print(json.dumps(result))
