"""Benchmark: a one-shot in-character reply on the embedded model, cold (model load included) and warm.

Prints one JSON line. References: the 60 s budget for `personae chat --message` (issue 2) and the
~18 tokens/s decode speed measured for this model on a 2-core machine (shared/NOTES.md).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _results import record
from personae.backends import GenerateConfig, get_backend
from personae.persona import load_persona
from personae.session import ChatSession, SessionSettings
from personae.store import SessionStore

REPLY_BUDGET_S = 60.0
REFERENCE_DECODE_TPS = 18.0


async def main(persona_path: Path, runs: int) -> dict[str, float | int | str]:
    backend = get_backend("embedded", cache=None)
    store = SessionStore(f"sqlite:///{tempfile.mkdtemp(prefix='personae-bench-')}/sessions.db")

    async def reply(config: GenerateConfig) -> str:
        settings = SessionSettings(guard="off", generate=config)
        chat = ChatSession.start(persona, backend, store, settings=settings, scoring=False)
        return (await chat.send(question)).reply

    persona = load_persona(persona_path)
    config = GenerateConfig(temperature=0.7, max_tokens=128, seed=11)
    question = "What do you do for a living?"

    started = time.perf_counter()
    cold = await reply(config)
    cold_s = time.perf_counter() - started

    warm_times: list[float] = []
    decode_tokens = 0
    decode_s = 0.0
    for i in range(runs):
        before = backend.usage.completion_tokens
        t0 = time.perf_counter()
        await reply(config.model_copy(update={"seed": 100 + i}))
        elapsed = time.perf_counter() - t0
        warm_times.append(elapsed)
        decode_tokens += backend.usage.completion_tokens - before
        decode_s += elapsed
    warm_s = sorted(warm_times)[len(warm_times) // 2]
    tokens_per_s = decode_tokens / decode_s if decode_s else 0.0
    return {
        "bench": "embedded_chat",
        "cold_reply_s": round(cold_s, 2),
        "warm_reply_s_median": round(warm_s, 2),
        "reply_budget_s": REPLY_BUDGET_S,
        "cold_ratio_to_budget": round(cold_s / REPLY_BUDGET_S, 3),
        "tokens_per_s_end_to_end": round(tokens_per_s, 1),
        "reference_decode_tps": REFERENCE_DECODE_TPS,
        "ratio_to_reference_tps": round(tokens_per_s / REFERENCE_DECODE_TPS, 3),
        "runs": runs,
        "cold_reply_chars": len(cold),
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--persona", type=Path, default=Path(__file__).parents[1] / "examples/personas/ada.yaml")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--record", action="store_true", help="append the figures to bench/results/embedded_chat.jsonl")
    args = parser.parse_args()
    result = asyncio.run(main(args.persona, args.runs))
    if args.record:
        record("embedded_chat", result)
    print(json.dumps(result))
