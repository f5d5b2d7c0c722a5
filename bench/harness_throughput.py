"""Benchmark: the eval runner's concurrency against a local OpenAI-compatible stub with a fixed latency.

A real HTTP server on 127.0.0.1 answers every chat-completions request after `--latency` seconds. N items, each an
answer request then a judge request (parsed with the harness's judge ladder, logged to samples.jsonl with fsync), run
through `EvalRun` at concurrency C, then the same work at concurrency 1 (the sequential runner) in the same process.
Prints one JSON line with `efficiency` = achieved requests/s ÷ (C / latency), and `speedup` = sequential seconds ÷
concurrent seconds. Goals (issue 6): efficiency ≥ 0.9 and speedup ≥ 20 at C = 32. The timed span is the whole
`EvalRun.run()`: building backends, every request, the samples log, results.json (report writing is off).
For context it also reports `backend_only_efficiency` (personae's OpenAI backend, default transport plus the
`Backend` wrapper, making the same number of requests at C, no harness) and `raw_client_efficiency` (a bare aiohttp
session, no personae code): what the machine allows at that moment. The stub is not the limit: it spends about
0.25 ms of CPU per request, and a minimal keep-alive client reaches 0.97-0.98 against it on this machine.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _results import record
from personae.backends import BackendSettings, GenerateConfig, Message, get_backend
from personae.evals import EvalRun, EvalSample, Item, Task, TaskParams, register_task, spec_from_data
from personae.evals._context import EvalContext, judge_failure, mean_score
from personae.evals._judge import parse_score
from personae.evals._prompts import RUBRIC_JUDGE, rubric_request
from personae.persona import Persona

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "personas"


def _reply(body: dict[str, Any]) -> bytes:
    system = next((m["content"] for m in body["messages"] if m["role"] == "system"), "")
    text = (
        '{"rationale": "stays in character", "score": 4}'
        if system.startswith(RUBRIC_JUDGE)
        else "Aye, I'd put the kettle on first and then see to the ropes."
    )
    return json.dumps(
        {
            "id": "stub",
            "object": "chat.completion",
            "created": 0,
            "model": body["model"],
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 50, "completion_tokens": 12, "total_tokens": 62},
        }
    ).encode()


async def _connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, latency: float, counter: Any) -> None:
    """Serve HTTP/1.1 keep-alive requests on one connection: read, wait `latency`, answer."""
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.decode("latin-1").split("\r\n")[1:]:
                name, _, value = line.partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value.strip())
            body = json.loads(await reader.readexactly(length) or b"{}")
            await asyncio.sleep(latency)
            payload = _reply(body)
            writer.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                + f"Content-Length: {len(payload)}\r\n\r\n".encode()
                + payload
            )
            await writer.drain()
            with counter.get_lock():
                counter.value += 1
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


def serve(latency: float, ready: Any, counter: Any) -> None:
    """Run the stub (one asyncio loop, a real socket on 127.0.0.1) until terminated; puts its port on `ready`."""

    async def run_server() -> None:
        server = await asyncio.start_server(
            lambda r, w: _connection(r, w, latency, counter), "127.0.0.1", 0, backlog=512
        )
        ready.put(server.sockets[0].getsockname()[1])
        await server.serve_forever()

    asyncio.run(run_server())


class ThroughputParams(TaskParams):
    items: int = 160


@register_task
class AnswerAndJudge(Task):
    """One answer request and one rubric-judge request per item."""

    name: ClassVar[str] = "bench-answer-judge"
    Params: ClassVar[type[TaskParams]] = ThroughputParams
    metrics: ClassVar[tuple[str, ...]] = ("score",)

    def plan(self, personas: Mapping[str, Persona]) -> list[Item]:
        assert isinstance(self.params, ThroughputParams)
        pid = next(iter(personas))
        return [Item(f"{self.name}/{pid}/{k}", self.name, pid, {"k": k}) for k in range(self.params.items)]

    async def run(self, item: Item, ctx: EvalContext) -> EvalSample:
        persona = ctx.personas[item.persona]
        question = f"Question {item.data['k']}: a gale is coming and the ferry is full. What do you do?"
        answer = await ctx.ask(ctx.agent, ctx.spec.agent, f"You are {persona.name}.", question, seed=item.data["k"])
        anchors = {level: f"level {level}" for level in range(1, 6)}
        system, user = rubric_request(persona, "Expected Action", question, answer, anchors)
        records = await ctx.judge(system, user, seed=item.data["k"], read=parse_score)
        score = mean_score(records)
        sample = EvalSample(id=item.id, task=self.name, persona=item.persona, status="ok", judgements=records)
        if score is None:
            sample.status, sample.failure = "failed", judge_failure(records)
        else:
            sample.scores["score"] = score
        return sample


def spec(base_url: str, items: int, concurrency: int) -> Any:
    role = {
        "backend": "openai/stub-model",
        "options": {"base_url": base_url, "api_key": "stub"},
        "max_concurrency": concurrency,
        "cache": False,
    }
    return spec_from_data(
        {
            "name": f"throughput-c{concurrency}",
            "personas": [str(EXAMPLES / "ada.yaml")],
            "agent": {**role, "guard": "off"},
            "roles": {"judge": [role], "nli": "fake", "embedder": "fake"},
            "tasks": {"bench-answer-judge": {"items": items}},
            "concurrency": concurrency,
        },
        "bench",
    )


def timed_run(base_url: str, items: int, concurrency: int, out: Path) -> tuple[float, int]:
    run = EvalRun(spec(base_url, items, concurrency), out, progress=False, report=False)
    started = time.perf_counter()
    results = asyncio.run(run.run())
    seconds = time.perf_counter() - started
    if results.failed:
        raise SystemExit(f"{results.failed} items failed at concurrency {concurrency}")
    return seconds, sum(u.requests for u in results.usage.values())


async def raw_client(base_url: str, requests: int, concurrency: int) -> float:
    """Seconds for a bare aiohttp session to make `requests` calls at `concurrency`: this machine's ceiling now."""
    body = json.dumps({"model": "stub-model", "messages": [{"role": "user", "content": "hi"}]})
    gate = asyncio.Semaphore(concurrency)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:

        async def one() -> None:
            async with gate, session.post(f"{base_url}/chat/completions", data=body) as reply:
                reply.raise_for_status()
                await reply.read()

        started = time.perf_counter()
        await asyncio.gather(*(one() for _ in range(requests)))
        return time.perf_counter() - started


async def backend_only(base_url: str, requests: int, concurrency: int) -> float:
    """Seconds for personae's OpenAI backend alone (transport + wrapper, no harness) to make `requests` calls."""
    backend = get_backend(
        "openai/stub-model",
        base_url=base_url,
        api_key="stub",
        settings=BackendSettings(max_concurrency=concurrency),
        cache=None,
    )
    messages = [Message(role="user", content="hi")]
    started = time.perf_counter()
    await asyncio.gather(*(backend.generate(messages, GenerateConfig(cache=False)) for _ in range(requests)))
    seconds = time.perf_counter() - started
    await backend.aclose()
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--items", type=int, default=160)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--record", action="store_true", help="append to bench/results/")
    args = parser.parse_args()
    # The stub runs in its own process, like a real server: its threads do not compete for the runner's GIL.
    ready: Any = multiprocessing.Queue()
    counter: Any = multiprocessing.Value("i", 0)
    stub = multiprocessing.Process(target=serve, args=(args.latency, ready, counter), daemon=True)
    stub.start()
    base_url = f"http://127.0.0.1:{ready.get(timeout=30)}/v1"
    try:
        with tempfile.TemporaryDirectory() as tmp:
            timed_run(base_url, 2, 2, Path(tmp) / "warmup")
            before = counter.value
            concurrent_s, requests = timed_run(base_url, args.items, args.concurrency, Path(tmp) / "concurrent")
            served = counter.value - before
            raw_s = asyncio.run(raw_client(base_url, requests, args.concurrency))
            backend_s = asyncio.run(backend_only(base_url, requests, args.concurrency))
            sequential_s, _ = timed_run(base_url, args.items, 1, Path(tmp) / "sequential")
    finally:
        stub.terminate()
        stub.join()
    achieved = requests / concurrent_s
    ideal = args.concurrency / args.latency
    result = {
        "items": args.items,
        "concurrency": args.concurrency,
        "latency_s": args.latency,
        "requests": requests,
        "served": served,
        "concurrent_s": round(concurrent_s, 3),
        "sequential_s": round(sequential_s, 3),
        "requests_per_s": round(achieved, 1),
        "ideal_requests_per_s": round(ideal, 1),
        "efficiency": round(achieved / ideal, 3),
        "speedup": round(sequential_s / concurrent_s, 1),
        "backend_only_efficiency": round(requests / backend_s / ideal, 3),
        "raw_client_efficiency": round(requests / raw_s / ideal, 3),
    }
    if args.record:
        record("harness_throughput", result)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
