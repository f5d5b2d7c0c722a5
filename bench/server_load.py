"""Benchmark: `personae serve` under N concurrent streaming chat sessions, restarted mid-run.

Starts a real server process (uvicorn, loopback only) on the mock backend (answering after `--backend-ms`, like an
upstream LLM on another machine) with rule-based scoring and `--workers` worker processes (default 2: with the model
elsewhere, one per core of this 2-core machine is how the README says to serve it), then drives N OpenAI-style
clients at once, pausing `--think-ms` on average between turns like people do, each sending `--turns` streamed chat
completions with its whole history as stateless clients do. When half the turns are done the server is stopped
(SIGTERM, graceful) and started again on the same port and database; clients retry a refused request unchanged. At
the end every session is read back through the REST API and compared with what its client saw. Prints one JSON line:

- requests_per_s: completed turns per second of the whole run (the restart included);
- p50_added_ms / p99_added_ms: client-measured time of a turn (request sent → `[DONE]`) minus the time the server
  spent waiting on the backend (`personae.backend_ms`), over turns not interrupted by the restart;
- lost: turns a client received that the server did not store; duplicated: stored turns no client asked for
  (or asked for twice); restart_intact: every session read back exactly as its client saw it;
- p99_first_turns_added_ms / p99_later_turns_added_ms: the same p99 over each session's first turn (which creates
  the session) and over its later turns;
- server_cpu_ms_per_turn: CPU of the server and its workers per turn, over the turns before the restart.

Reference (issue 7): at 200 sessions p99 added < 50 ms, 0 lost, 0 duplicated, restart intact.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _results import record
from personae.store import AccessStore, SessionStore

HERE = Path(__file__).resolve().parent
EXAMPLES = HERE.parent / "examples" / "personas"
PERSONAS = ["ada-quint", "brother-anselm", "captain-iris-vega"]
REFERENCE = {"p99_added_ms": 50.0, "lost": 0, "duplicated": 0}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Client:
    """One simulated chat front end: its persona, history, what it received, and timings."""

    number: int
    persona: str
    messages: list[dict[str, str]] = field(default_factory=list)
    session_ids: set[str] = field(default_factory=set)
    sent: list[str] = field(default_factory=list)
    replies: list[str] = field(default_factory=list)
    added_ms: list[tuple[int, float, float, float]] = field(default_factory=list)
    """(turn number, start, end, added ms) of each turn answered on its first try."""
    retries: int = 0


class ServerProcess:
    """`personae serve` as a child process on a fixed port."""

    def __init__(self, port: int, db_url: str, n: int, guard: str, backend_s: float, log: Path, workers: int) -> None:
        self.port, self.db_url, self.n, self.guard, self.log, self.workers = port, db_url, n, guard, log, workers
        self.backend_s = backend_s
        self.proc: subprocess.Popen[bytes] | None = None
        self.cpu_used: float | None = None
        """CPU the server used from its first start (once every worker was up) to its first stop."""
        self.cpu_base = 0.0

    def start(self, settle: bool = False) -> None:
        """Start and wait for the first answer; with `settle`, until every worker has finished starting too."""
        command = [
            sys.executable,
            "-m",
            "personae",
            "serve",
            "--port",
            str(self.port),
            "--backend",
            "mock/echo",
            "--backend-option",
            f"delay={self.backend_s}",
            "--backend-concurrency",
            "1024",
            "--db",
            self.db_url,
            "--personas",
            str(EXAMPLES),
            "--scoring",
            "fake",
            "--guard",
            self.guard,
            "-n",
            str(self.n),
            "--workers",
            str(self.workers),
            "--log-level",
            "warning",
        ]
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"server exited with {self.proc.returncode}; see {self.log}")
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/healthz", timeout=1).status_code == 200:
                    if settle:
                        self.settle(deadline)
                    self.cpu_base = self.cpu_seconds()  # start-up (imports, migrations) is not per-turn work
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise SystemExit(f"server did not start within 60 s; see {self.log}")

    def settle(self, deadline: float) -> None:
        """Wait until every worker has finished starting: the first one answering does not mean all do."""
        last = self.cpu_seconds()
        while time.monotonic() < deadline:
            time.sleep(0.3)
            now = self.cpu_seconds()
            processes = 1 if self.workers == 1 else 1 + self.workers  # uvicorn's supervisor and its workers
            if now - last < 0.02 and len(self.pids()) >= processes:
                return
            last = now

    def pids(self) -> list[int]:
        """The server process and its workers (Linux /proc)."""
        if self.proc is None:
            return []
        found, pending = [], [self.proc.pid]
        while pending:
            pid = pending.pop()
            found.append(pid)
            with contextlib.suppress(FileNotFoundError):  # a process that just ended
                pending += [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
        return found

    def cpu_seconds(self) -> float:
        """User + system CPU the server process and its workers have used so far (Linux /proc)."""
        total = 0
        for pid in self.pids():
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except FileNotFoundError:
                continue
            total += int(fields[11]) + int(fields[12])
        return total / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.cpu_used is None:  # after a restart, workers still starting would count as turns' work
            self.cpu_used = self.cpu_seconds() - self.cpu_base
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc = None


def percentile(ordered: list[float], q: float) -> float:
    """The `q` quantile of an ascending list (nearest rank), NaN for none."""
    if not ordered:
        return float("nan")
    return ordered[max(0, round(q * (len(ordered) - 1)))]


class Dropped(Exception):
    """A request that did not complete (refused, reset, cut short, or answered with an error): the client retries."""


class Connection:
    """One keep-alive HTTP/1.1 connection speaking just enough HTTP for a streamed chat completion.

    httpx cost about 4.5 ms of client CPU per turn, so at 200 sessions the benchmark's own event loop queued
    requests and its delay was counted as the server's; this reads the same bytes for a fraction of that.
    """

    def __init__(self, port: int, key: str) -> None:
        self.port = port
        self.key = key
        self.streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def close(self) -> None:
        if self.streams is not None:
            self.streams[1].close()
            self.streams = None

    async def post_stream(self, path: str, body: dict[str, Any]) -> AsyncIterator[str]:
        """POST `body` as JSON and yield the response's lines (a chunked server-sent event stream)."""
        try:
            if self.streams is None:
                self.streams = await asyncio.open_connection("127.0.0.1", self.port)
            reader, writer = self.streams
            payload = json.dumps(body).encode()
            head = (
                f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\nAuthorization: Bearer {self.key}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n"
            )
            writer.write(head.encode() + payload)
            status = await reader.readline()
            if not status.startswith(b"HTTP/1.1 200"):
                raise Dropped(f"status {status!r}")
            chunked = False
            while (header := await reader.readline()) not in (b"\r\n", b""):
                chunked = chunked or header.lower().startswith(b"transfer-encoding: chunked")
            if not chunked:
                raise Dropped("expected a chunked event stream")
            pending = b""
            while size := int((await reader.readline()).strip() or b"0", 16):
                pending += (await reader.readexactly(size + 2))[:-2]
                *lines, pending = pending.split(b"\n")
                for line in lines:
                    yield line.decode()
            await reader.readline()  # the empty trailer ends the response; the connection is reused
        except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
            await self.close()
            raise Dropped(str(exc)) from exc
        except Dropped:
            await self.close()
            raise


async def one_turn(conn: Connection, client: Client, text: str, deadline: float) -> None:
    client.messages.append({"role": "user", "content": text})
    client.sent.append(text)
    body = {"model": client.persona, "messages": client.messages, "stream": True}
    first_try = True
    while True:
        if time.monotonic() > deadline:
            raise TimeoutError(f"client {client.number} ran out of time")
        started = time.perf_counter()
        try:
            pieces: list[str] = []
            extension: dict[str, Any] | None = None
            done = False
            async with asyncio.timeout(60):
                async for line in conn.post_stream("/v1/chat/completions", body):
                    if not line.startswith("data: "):
                        continue
                    if line == "data: [DONE]":
                        done = True
                        continue  # read to the end of the response so the connection can be reused
                    chunk = json.loads(line[6:])
                    if "error" in chunk:
                        raise Dropped(chunk["error"]["message"])
                    for choice in chunk.get("choices", []):
                        pieces.append(choice.get("delta", {}).get("content") or "")
                    extension = chunk.get("personae") or extension
            if not done or extension is None:
                raise Dropped("stream ended early")
            elapsed_ms = (time.perf_counter() - started) * 1000.0
        except (Dropped, TimeoutError):
            await conn.close()
            first_try = False
            client.retries += 1
            await asyncio.sleep(0.2)
            continue
        reply = "".join(pieces)
        client.session_ids.add(extension["session_id"])
        client.replies.append(reply)
        client.messages.append({"role": "assistant", "content": reply})
        if first_try:
            turn = len(client.sent) - 1
            client.added_ms.append((turn, started, time.perf_counter(), elapsed_ms - float(extension["backend_ms"])))
        return


async def run(
    sessions: int,
    turns: int,
    n: int,
    guard: str,
    backend_ms: float,
    think_ms: float,
    time_limit: float,
    restart: bool = True,
    workers: int = 1,
    database: str | None = None,
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="personae-load-") as tmp:
        db_url = database or f"sqlite:///{Path(tmp) / 'load.db'}"
        store = SessionStore(db_url)
        key = AccessStore(store).create_key("bench").secret
        store.close()
        port = free_port()
        server = ServerProcess(port, db_url, n, guard, backend_ms / 1000.0, Path(tmp) / "server.log", workers)
        server.start(settle=True)
        clients = [Client(i, PERSONAS[i % len(PERSONAS)]) for i in range(sessions)]
        total = sessions * turns
        done = 0
        restarted = asyncio.Event()
        deadline = time.monotonic() + time_limit
        restart_seconds = 0.0
        window = (float("inf"), float("inf"))
        turns_before_stop = total

        async def drive(client: Client) -> None:
            nonlocal done
            pause = random.Random(client.number)
            conn = Connection(port, key)
            try:
                for t in range(turns):
                    await asyncio.sleep(think_ms / 1000.0 * pause.uniform(0.5, 1.5))  # a person reading and typing
                    await one_turn(conn, client, f"Client {client.number}, turn {t}: what happened next?", deadline)
                    done += 1
            finally:
                await conn.close()

        async def restart_midway() -> None:
            nonlocal restart_seconds, window
            if not restart:
                return
            while done < total // 2:
                await asyncio.sleep(0.01)
            nonlocal turns_before_stop
            turns_before_stop = done  # the turns the server's CPU is divided by (a few in flight finish too)
            began = time.perf_counter()
            await asyncio.to_thread(server.stop)
            await asyncio.to_thread(server.start)
            window = (began, time.perf_counter())
            restart_seconds = window[1] - began
            restarted.set()

        started = time.perf_counter()
        cpu_started = time.process_time()
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60) as http:
            restarter = asyncio.create_task(restart_midway())
            await asyncio.gather(*(drive(c) for c in clients))
            await restarter
            wall = time.perf_counter() - started
            client_cpu = time.process_time() - cpu_started
            lost = duplicated = 0
            intact = restarted.is_set() or not restart
            for c in clients:
                if len(c.session_ids) != 1:
                    intact = False
                    continue
                [sid] = c.session_ids
                got = await http.get(f"/v1/sessions/{sid}", headers={"Authorization": f"Bearer {key}"})
                stored = got.json()["turns"]
                texts = [t["user_text"] for t in stored]
                shown = [next(x["text"] for x in t["candidates"] if x["index"] == t["chosen_index"]) for t in stored]
                lost += sum(1 for text in c.sent if text not in texts)
                duplicated += len(texts) - len(set(texts)) + sum(1 for text in set(texts) if text not in c.sent)
                if texts != c.sent or shown != c.replies:
                    intact = False
        server.stop()
    # Turns overlapping the restart wait for it; the restart is judged by lost/duplicated/intact/restart_s instead.
    outside = [(k, x) for c in clients for k, begin, end, x in c.added_ms if end < window[0] or begin > window[1]]
    added = sorted(x for _k, x in outside)
    p99 = percentile(added, 0.99)
    return {
        "sessions": sessions,
        "turns_per_session": turns,
        "guard": guard,
        "n": n,
        "workers": workers,
        "database": "sqlite" if database is None else database.split(":", 1)[0],
        "scoring": "fake",
        "backend_ms": backend_ms,
        "think_ms": think_ms,
        "requests_per_s": round(total / wall, 1),
        "p50_added_ms": round(statistics.median(added), 2),
        "p99_added_ms": round(p99, 2),
        # First turns (they create the session) apart from the rest: where the tail comes from.
        "p99_first_turns_added_ms": round(percentile(sorted(x for k, x in outside if k == 0), 0.99), 2),
        "p99_later_turns_added_ms": round(percentile(sorted(x for k, x in outside if k > 0), 0.99), 2),
        "lost": lost,
        "duplicated": duplicated,
        "restart_intact": intact,
        # Over the turns before the first stop: after a restart, workers still starting would count as turns' work.
        "server_cpu_ms_per_turn": round((server.cpu_used or 0.0) * 1000.0 / max(turns_before_stop, 1), 2),
        "client_cpu_ms_per_turn": round(client_cpu * 1000.0 / total, 2),
        "load_average_1m": round(os.getloadavg()[0], 2),
        "restarted": restart,
        "timed_turns": len(added),
        "retried_requests": sum(c.retries for c in clients),
        "restart_s": round(restart_seconds, 2),
        "wall_s": round(wall, 2),
        "p99_ratio_to_reference": round(p99 / REFERENCE["p99_added_ms"], 3),
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=200, help="Concurrent chat sessions (max 1000).")
    parser.add_argument("--turns", type=int, default=4, help="Turns per session.")
    parser.add_argument("-n", type=int, default=2, help="Candidates per turn (best-of-n).")
    parser.add_argument("--guard", default="best-of-n", choices=["off", "best-of-n", "threshold"])
    parser.add_argument("--backend-ms", type=float, default=500.0, help="Mock upstream latency per request.")
    parser.add_argument("--think-ms", type=float, default=1000.0, help="Mean pause of a user between turns.")
    parser.add_argument("--no-restart", action="store_true", help="Skip the mid-run restart (steady state only).")
    parser.add_argument("--time-limit", type=float, default=600.0, help="Give up after this many seconds.")
    parser.add_argument("--workers", type=int, default=2, help="Server worker processes (`personae serve --workers`).")
    parser.add_argument(
        "--db", help="Database URL to serve from (default: a new SQLite file); the run adds a key and its sessions."
    )
    parser.add_argument("--record", action="store_true", help="append the figures to bench/results/server_load.jsonl")
    args = parser.parse_args()
    if not 1 <= args.sessions <= 1000:
        raise SystemExit("--sessions: between 1 and 1000")
    os.environ.pop("PERSONAE_DATABASE_URL", None)
    result = asyncio.run(
        run(
            args.sessions,
            args.turns,
            args.n,
            args.guard,
            args.backend_ms,
            args.think_ms,
            args.time_limit,
            not args.no_restart,
            args.workers,
            args.db,
        )
    )
    if args.record:
        record("server_load", result)
    print(json.dumps(result))
