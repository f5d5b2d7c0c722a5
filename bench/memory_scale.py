"""User memory at scale: write cost per turn and retrieval latency at 10, 1,000 and 100,000 stored facts.

For each size, a fresh SQLite session database gets that many facts about one user of one character (synthetic
sentences from word lists, stored in bulk), then the memory (`UserMemory`) is measured as a session uses it:

- write: `observe` of a user message with two facts (extraction, supersession against the facts on their topics and,
  above `index_above` facts, the nearest ones by the vector index, storing); milliseconds per turn;
- retrieval: `recall` of the 8 facts and 2 episodes most relevant to a message; p50 and p99 milliseconds over
  `--queries` messages, after one warm-up recall that builds the vector index (its seconds are given apart).

`--libraries` first compares the vector-index libraries on this machine (random unit vectors, inner product, 10
nearest, `--library-size` vectors): insert seconds, query p50/p99 and recall@10 against exact search, for
faiss-cpu (flat and HNSW), usearch, hnswlib and sqlite-vec (those installed). Prints one JSON line; `--record`
appends it to bench/results/memory_scale.jsonl.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sqlite3
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import MetaData, Table, insert

from _results import record as record_result
from personae.memory import MemoryScope, UserMemory, UserMemorySettings
from personae.scoring import FakeEmbedder, FakeNLI, ScoringModels
from personae.store import SessionStore, UserMemoryStore

SIZES = (10, 1_000, 100_000)
USER, CHAR, PERSONA = "Sam", "Ada", "ada-quint"
_VERBS = ("likes", "visited", "bought", "fixed", "painted", "read about", "cooked", "lost", "found", "planted")
_THINGS = (
    "a red bicycle", "the old lighthouse", "a jar of plum jam", "a book on tides", "the garden shed", "a wool coat",
    "a chess set", "the harbour wall", "a violin", "a map of Orkney", "a sourdough loaf", "the attic window",
    "a pair of boots", "a kite", "the kitchen tap", "a fishing net", "a clay pot", "the village hall",
)  # fmt: skip
_WHEN = ("on Monday", "last spring", "in the morning", "after work", "with a friend", "for the first time", "again")
QUERIES = (
    "What did I fix last time?", "Do you remember the violin?", "Where did I go in the spring?", "Tell me about my",
    "What have I cooked lately?", "Did I ever lose my boots?", "What do you know about my garden?", "Any news?",
)  # fmt: skip
MESSAGES = ("I moved to Leeds last week, and I work as a baker now.", "I painted the attic window on Sunday.")


def synthetic_facts(n: int, seed: int = 0) -> list[str]:
    """`n` varied third-person facts about the user (with a serial number, so no two are alike)."""
    rng = random.Random(seed)
    return [f"{USER} {rng.choice(_VERBS)} {rng.choice(_THINGS)} {rng.choice(_WHEN)} (#{i})." for i in range(n)]


def fill(store: SessionStore, n: int) -> None:
    """Store `n` facts in bulk (one insert; the memory's own writes are measured, not these)."""
    table = Table("user_facts", MetaData(), autoload_with=store.engine)
    start = datetime(2023, 1, 1, tzinfo=UTC)
    rows = [
        {
            "key_id": None,
            "user_name": USER,
            "persona_id": PERSONA,
            "topic": f"misc:{i % 997}",
            "text": text,
            "session_id": None,
            "turn": None,
            "said_at": start + timedelta(minutes=i),
            "source": "rules",
            "created_at": start + timedelta(minutes=i),
        }
        for i, text in enumerate(synthetic_facts(n))
    ]
    with store.engine.begin() as conn:
        for at in range(0, len(rows), 10_000):
            conn.execute(insert(table), rows[at : at + 10_000])


def percentile(values: list[float], q: float) -> float:
    return round(float(np.percentile(np.asarray(values), q)), 3)


def measure_size(n: int, models: ScoringModels, queries: int, folder: Path) -> dict[str, Any]:
    """Write cost and retrieval latency of one memory holding `n` facts."""
    store = SessionStore(f"sqlite:///{folder / f'scale-{n}.db'}")
    fill(store, n)
    memory = UserMemory(UserMemoryStore(store), MemoryScope(None, USER, PERSONA), CHAR, models, UserMemorySettings())
    started = time.perf_counter()
    memory.recall(QUERIES[0])  # builds the vector index above `index_above` facts
    first = time.perf_counter() - started
    latencies = []
    for i in range(queries):
        started = time.perf_counter()
        recalled = memory.recall(QUERIES[i % len(QUERIES)] + f" {i}")
        latencies.append((time.perf_counter() - started) * 1000)
        assert recalled.facts, "recall found nothing"
    writes = []
    when = datetime(2024, 5, 8, tzinfo=UTC)
    for i in range(20):
        started = time.perf_counter()
        asyncio.run(memory.observe(MESSAGES[i % 2], "bench", i, when))
        writes.append((time.perf_counter() - started) * 1000)
    store.close()
    return {
        "facts": n,
        "first_recall_s": round(first, 3),
        "recall_ms": {"p50": percentile(latencies, 50), "p99": percentile(latencies, 99)},
        "write_ms_per_turn": {"p50": percentile(writes, 50), "p99": percentile(writes, 99)},
        "indexed": n > memory.settings.index_above,
    }


def compare_libraries(n: int, dim: int = 384, queries: int = 200) -> dict[str, Any]:
    """Insert seconds, query p50/p99 ms and recall@10 of each installed vector-index library on random vectors."""
    rng = np.random.default_rng(0)
    data = rng.standard_normal((n, dim)).astype(np.float32)
    data /= np.linalg.norm(data, axis=1, keepdims=True)
    probe = data[rng.integers(0, n, queries)] + 0.1 * rng.standard_normal((queries, dim)).astype(np.float32)
    probe /= np.linalg.norm(probe, axis=1, keepdims=True)
    truth = np.argsort(-(probe @ data.T), axis=1)[:, :10]
    ids = np.arange(n, dtype=np.int64)
    out: dict[str, Any] = {}

    def run(name: str, build: Callable[[], Callable[[np.ndarray], Any]]) -> None:
        try:
            started = time.perf_counter()
            search = build()
            inserted = time.perf_counter() - started
        except ImportError as exc:
            out[name] = {"error": f"not installed: {exc.name}"}
            return
        times, hits = [], 0
        for row, vector in enumerate(probe):
            started = time.perf_counter()
            found = search(vector)
            times.append((time.perf_counter() - started) * 1000)
            hits += len({int(x) for x in found} & {int(x) for x in truth[row]})
        out[name] = {
            "insert_s": round(inserted, 2),
            "query_ms": {"p50": percentile(times, 50), "p99": percentile(times, 99)},
            "recall_at_10": round(hits / (10 * queries), 3),
        }

    def faiss_index(kind: str) -> Callable[[np.ndarray], Any]:
        import faiss

        faiss.omp_set_num_threads(2)
        inner = faiss.IndexFlatIP(dim) if kind == "flat" else faiss.IndexHNSWFlat(dim, 32, faiss.METRIC_INNER_PRODUCT)
        index = faiss.IndexIDMap2(inner)
        index.add_with_ids(data, ids)
        return lambda v: index.search(v[None], 10)[1][0]

    def usearch_index() -> Callable[[np.ndarray], Any]:
        from usearch.index import Index

        index = Index(ndim=dim, metric="ip", dtype="f32", connectivity=16, expansion_search=64)
        index.add(ids.astype(np.uint64), data, threads=2)
        return lambda v: index.search(v, 10).keys

    def hnswlib_index() -> Callable[[np.ndarray], Any]:
        import hnswlib

        index = hnswlib.Index(space="ip", dim=dim)
        index.init_index(max_elements=n, ef_construction=128, M=16)
        index.set_num_threads(2)
        index.add_items(data, ids)
        index.set_ef(64)
        return lambda v: index.knn_query(v, 10)[0][0]

    def sqlite_vec_index() -> Callable[[np.ndarray], Any]:
        import sqlite_vec

        db = sqlite3.connect(":memory:")
        db.enable_load_extension(True)
        sqlite_vec.load(db)
        db.execute(f"create virtual table v using vec0(embedding float[{dim}] distance_metric=cosine)")
        db.executemany("insert into v(rowid, embedding) values (?, ?)", ((int(i), data[i].tobytes()) for i in ids))
        query = "select rowid from v where embedding match ? and k = 10"
        return lambda v: [r[0] for r in db.execute(query, (v.tobytes(),))]

    def numpy_scan() -> Callable[[np.ndarray], Any]:
        return lambda v: np.argpartition(-(data @ v), 10)[:10]

    run("faiss_flat", lambda: faiss_index("flat"))
    run("faiss_hnsw", lambda: faiss_index("hnsw"))
    run("usearch_hnsw", usearch_index)
    run("hnswlib", hnswlib_index)
    run("sqlite_vec", sqlite_vec_index)
    run("numpy_exact_scan", numpy_scan)
    return {"vectors": n, "dim": dim, "libraries": out}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES), help="stored facts to measure at")
    parser.add_argument("--queries", type=int, default=200, help="recalls measured per size")
    parser.add_argument("--models", choices=("fake", "shipped"), default="fake", help="embedder and NLI to use")
    parser.add_argument("--libraries", action="store_true", help="also compare the vector-index libraries")
    parser.add_argument("--library-size", type=int, default=100_000, help="vectors for --libraries")
    parser.add_argument("--notes", default="", help="free text kept with the result (e.g. what else ran)")
    parser.add_argument("--record", action="store_true", help="append the figures to bench/results/memory_scale.jsonl")
    args = parser.parse_args()
    models = (
        ScoringModels(nli=FakeNLI(), embedder=FakeEmbedder(), ooc_classifier=False)
        if args.models == "fake"
        else ScoringModels(ooc_classifier=False)
    )
    result: dict[str, Any] = {"bench": "memory_scale", "models": args.models, "index": "usearch-hnsw"}
    if args.libraries:
        result["library_comparison"] = compare_libraries(args.library_size)
    with tempfile.TemporaryDirectory() as tmp:
        result["sizes"] = [measure_size(n, models, args.queries, Path(tmp)) for n in args.sizes]
    largest = result["sizes"][-1]
    result["recall_p99_ms_at_largest"] = largest["recall_ms"]["p99"]
    result["write_ms_per_turn_at_largest"] = largest["write_ms_per_turn"]["p50"]
    result["notes"] = args.notes
    print(json.dumps(result))
    if args.record:
        record_result("memory_scale", result)


if __name__ == "__main__":
    main()
