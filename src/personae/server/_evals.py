"""Eval runs over HTTP: start an eval spec in the background, per-key status with progress, results, the report.

Runs go through the evaluation harness (`personae.evals.EvalRun`) exactly as `personae eval` does, each into its
own folder under the server's eval folder; the database records which key owns which run and how it ended.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import secrets
import socket
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse
from pydantic import Field

from personae._util.loading import DataFormatError, Kind, load_text
from personae.evals import (
    REPORT_FILE,
    RESULTS_FILE,
    SAMPLES_FILE,
    EvalError,
    EvalLimitError,
    EvalResults,
    EvalRun,
    EvalSpec,
    EvalSpecError,
    spec_from_data,
    spec_paths,
)
from personae.persona import PersonaError
from personae.server._auth import KeyDep
from personae.server._config import ServerConfig
from personae.server._errors import ApiError, client_error
from personae.server._service import ConflictError, NotFoundError
from personae.server._upstreams import UpstreamPolicy
from personae.store import AccessStore, ApiKey, EvalRunInfo

log = logging.getLogger(__name__)

SPEC_SOURCE = "spec"
"""What errors in a posted spec are located in (`spec: tasks.faithfulness.stated: ...`)."""


class EvalRunView(EvalRunInfo):
    """A run with its progress: items finished so far out of `items`."""

    finished: int
    """Items with a logged sample (done or failed)."""
    out_dir: str = Field(exclude=True)
    """Where the run is written (the server's own folder: never shown)."""
    runner: str | None = Field(default=None, exclude=True)
    """The server process running it (never shown)."""


def check_paths(spec: EvalSpec, base: Path) -> None:
    """Refuse spec paths outside the server's eval base folder: a key may run evals, not read the server's files.

    Every path the validated spec holds is checked (`spec_paths`: personas, task parameters in lists or nested,
    `onnx:`/`hf:` folders), and the error names the field, never the server's folders.
    """
    for field, value in spec_paths(spec):
        path = Path(value).expanduser()
        if path.is_absolute() or not (base / path).resolve().is_relative_to(base):
            raise EvalSpecError(SPEC_SOURCE, f"{str(value)!r} is outside the server's eval folder", field=field)


def parse_spec(body: bytes, content_type: str, base: Path, policy: UpstreamPolicy | None = None) -> EvalSpec:
    """A posted spec (JSON, or YAML when the content type says so), validated, its paths relative to `base`.

    Parsed with the bounded loader (no aliases, no duplicate keys, limited depth); with a `policy`, every role is
    bound to an upstream the operator allows.
    """
    kind: Kind = "yaml" if "yaml" in content_type else "json"
    try:
        data = load_text(body, SPEC_SOURCE, kind=kind, aliases=False)
    except DataFormatError as exc:
        raise EvalSpecError(SPEC_SOURCE, exc.reason, field=exc.field) from None
    spec = spec_from_data(data, SPEC_SOURCE, base_dir=base)
    check_paths(spec, base)
    return policy.apply(spec) if policy is not None else spec


def interrupt_stale_evals(access: AccessStore) -> None:
    """Mark the runs a stopped server left `running` as interrupted (at start-up, before any worker runs one)."""
    stale = access.interrupt_running_evals()
    if stale:
        log.warning("%d eval run(s) were left running by a stopped server; marked interrupted", stale)


def _start_time(pid: int) -> str:
    """When process `pid` started, in clock ticks since boot (Linux /proc), or "" where that cannot be read."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return ""


def process_tag(pid: int | None = None) -> str:
    """A process of this host (default: this one) as `host:pid:start`: what an eval run records as its runner."""
    pid = os.getpid() if pid is None else pid
    return f"{socket.gethostname()}:{pid}:{_start_time(pid)}"


def runner_gone(tag: str) -> bool:
    """Whether the process a runner tag names has ended; only knowable for a process on this host."""
    host, _, rest = tag.partition(":")
    pid_text, _, start = rest.partition(":")
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, run by another user
        return False
    now = _start_time(pid)
    return bool(start and now) and now != start  # the pid now belongs to a newer process


class _Running:
    """An eval run in its own thread and event loop, so that the server's loop stays free; cancellable."""

    def __init__(self, run: EvalRun, loop: asyncio.AbstractEventLoop) -> None:
        self.run = run
        self.done: asyncio.Future[EvalResults] = loop.create_future()
        self._server_loop = loop
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[EvalResults] | None = None
        self._cancelled = False
        self.thread = threading.Thread(target=self._main, name="personae-eval", daemon=True)
        self.thread.start()

    def _main(self) -> None:
        try:
            result: EvalResults | BaseException = asyncio.run(self._run())
        except BaseException as exc:  # handed to the server's loop, which records how the run ended
            result = exc
        with contextlib.suppress(RuntimeError):  # the server's loop has closed: nobody is waiting
            self._server_loop.call_soon_threadsafe(self._settle, result)

    async def _run(self) -> EvalResults:
        with self._lock:
            if self._cancelled:
                raise asyncio.CancelledError
            self._loop = asyncio.get_running_loop()
            self._task = asyncio.current_task()
        return await self.run.run()

    def _settle(self, result: EvalResults | BaseException) -> None:
        if self.done.done():
            return
        if isinstance(result, asyncio.CancelledError):
            self.done.cancel()
        elif isinstance(result, BaseException):
            self.done.set_exception(result)
        else:
            self.done.set_result(result)

    def cancel(self) -> None:
        """Stop the run: its thread's task is cancelled (at its next await), its items left unfinished."""
        self.run.stop()  # items not yet begun are skipped at once, even while the loop is busy
        with self._lock:
            self._cancelled = True
            if self._loop is not None and self._task is not None and not self._loop.is_closed():
                self._loop.call_soon_threadsafe(self._task.cancel)


class ServerEvals:
    """The eval runs of one server process: each in a worker thread, owned by a key, recorded in the database."""

    def __init__(
        self,
        access: AccessStore,
        out_root: Path,
        base_dir: Path,
        interrupt_stale: bool = True,
        config: ServerConfig | None = None,
        redact: Callable[[str], str] = str,
    ) -> None:
        """Bind the runs to `access`; `interrupt_stale` marks runs left `running` as interrupted.

        Only where no other server process runs. `redact` hides upstream addresses and keys in the errors a failed run
        reports to its owner.
        """
        self.access = access
        self.out_root = out_root
        self.base_dir = base_dir.resolve()
        self.config = config or ServerConfig()
        self.policy = UpstreamPolicy(self.config)
        self.redact = redact
        self._running: dict[str, _Running] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self.runner = process_tag()
        if interrupt_stale:
            interrupt_stale_evals(access)

    def parse(self, body: bytes, content_type: str) -> EvalSpec:
        """A posted spec, parsed, path-checked and bound to the upstreams the operator allows."""
        return parse_spec(body, content_type, self.base_dir, self.policy)

    def _check_quota(self, key: ApiKey) -> None:
        running = [r for r in self.access.eval_runs(key.id) if self._alive(r).status == "running"]
        if len(running) >= self.config.max_evals_per_key:
            raise ApiError(
                429,
                f"this key already has {len(running)} eval(s) running (limit {self.config.max_evals_per_key}); "
                "wait for one to finish or cancel it with DELETE /v1/evals/{id}",
            )

    def plan(self, spec: EvalSpec, out: Path) -> EvalRun:
        """Load the personas and plan the items, within the server's limits (blocking: call it in a thread)."""
        limits = self.config
        run = EvalRun(spec, out, progress=False, max_items=limits.max_eval_items, max_personas=limits.max_eval_personas)
        for pid, persona in run.personas.items():
            if len(persona.statements) > limits.max_persona_statements:
                raise EvalLimitError(
                    f"persona {pid!r} has {len(persona.statements)} statements, over the server's limit of "
                    f"{limits.max_persona_statements}"
                )
        return run

    async def start(self, key: ApiKey, spec: EvalSpec) -> EvalRunView:
        """Plan the run in a worker thread, record it and start it in a thread of its own.

        Bad persona files or task parameters raise `EvalSpecError`, a spec over a limit `EvalLimitError`, and one
        eval too many for the key a 429.
        """
        self._check_quota(key)
        run_id = secrets.token_hex(6)
        out = self.out_root / run_id
        run = await asyncio.to_thread(self.plan, spec, out)
        self._check_quota(key)  # another request of the key may have started one meanwhile
        info = self.access.add_eval(run_id, key.id, spec.name, str(out), len(run.items), runner=self.runner)
        running = _Running(run, asyncio.get_running_loop())
        self._running[run_id] = running
        self._tasks[run_id] = asyncio.create_task(self._watch(run_id, running))
        return EvalRunView(**info.model_dump(), finished=0)

    async def _watch(self, run_id: str, running: _Running) -> None:
        try:
            results = await asyncio.shield(running.done)
        except asyncio.CancelledError:
            if not running.done.done():  # the server is stopping: stop the run too
                running.cancel()
            self.access.end_eval(run_id, "interrupted", "the server stopped", if_running=True)
            if not running.done.cancelled():
                raise
        except Exception as exc:  # recorded for the owner to read in the run's status
            log.error("eval run %s failed: %s: %s", run_id, type(exc).__name__, exc)
            self.access.end_eval(run_id, "failed", self._failure(exc), if_running=True)
        else:
            error = None if not results.failed else f"{results.failed} items failed"
            self.access.end_eval(run_id, "finished", error, if_running=True)
        finally:
            self._tasks.pop(run_id, None)
            self._running.pop(run_id, None)

    def _failure(self, exc: Exception) -> str:
        """What a failed run's owner reads: its spec's or persona's own error in full, else what a client may see."""
        message: str = client_error(exc, self.redact, own=(EvalError, PersonaError))["message"]
        return message

    async def cancel(self, key: ApiKey, run_id: str, wait: float = 10.0) -> EvalRunView:
        """Cancel an owned running run and wait (up to `wait` s) for its thread to stop; ConflictError otherwise."""
        info = self._owned(key, run_id)
        running = self._running.get(run_id)
        if running is None:
            if info.status == "running":
                raise ConflictError(f"eval run {run_id} runs in another server process; cancel it there")
            raise ConflictError(f"eval run {run_id} is {info.status}; only a running eval can be cancelled")
        self.access.end_eval(run_id, "interrupted", "cancelled by its owner", if_running=True)
        running.cancel()
        await asyncio.wait([asyncio.ensure_future(asyncio.shield(running.done))], timeout=wait)
        return self.status(key, run_id)

    def _owned(self, key: ApiKey, run_id: str) -> EvalRunInfo:
        info = self.access.eval_run(run_id)
        if info is None or info.key_id != key.id:
            raise NotFoundError(f"no eval run {run_id!r}")
        return self._alive(info)

    def _alive(self, info: EvalRunInfo) -> EvalRunInfo:
        """`info`, marked interrupted first if it is running in another server process that has ended.

        With several workers a run lives in the worker that started it; a worker that dies (and is replaced) cannot
        record the end of its runs, and a restart of the whole server is what would otherwise mark them.
        """
        if info.status != "running" or not info.runner or info.runner == self.runner or not runner_gone(info.runner):
            return info
        self.access.end_eval(info.id, "interrupted", "the server process running it stopped", if_running=True)
        return self.access.eval_run(info.id) or info

    @staticmethod
    def _view(info: EvalRunInfo) -> EvalRunView:
        samples = Path(info.out_dir) / SAMPLES_FILE
        try:  # one complete line per logged item; a half-written last line has no newline yet
            finished = samples.read_bytes().count(b"\n")
        except FileNotFoundError:
            finished = 0
        return EvalRunView(**info.model_dump(), finished=min(finished, info.items))

    def status(self, key: ApiKey, run_id: str) -> EvalRunView:
        """An owned run with its progress, or NotFoundError."""
        return self._view(self._owned(key, run_id))

    def runs(self, key: ApiKey) -> list[EvalRunView]:
        """The key's runs, newest first."""
        return [self._view(self._alive(info)) for info in self.access.eval_runs(key.id)]

    def output(self, key: ApiKey, run_id: str, name: str) -> Path:
        """A finished run's output file (results.json, report.html); ConflictError while it is not finished."""
        info = self._owned(key, run_id)
        path = Path(info.out_dir) / name
        if info.status != "finished" or not path.is_file():
            raise ConflictError(f"eval run {run_id} is {info.status}; {name} is written when it finishes")
        return path

    async def aclose(self, wait: float = 5.0) -> None:
        """Stop unfinished runs (recorded as interrupted), waiting up to `wait` s for their threads."""
        for running in list(self._running.values()):
            running.cancel()
        tasks = list(self._tasks.values())
        if tasks:
            await asyncio.wait(tasks, timeout=wait)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def get_evals(request: Request) -> ServerEvals:
    """The process's eval runs, stored on the app."""
    evals: ServerEvals = request.app.state.evals
    return evals


EvalsDep = Annotated[ServerEvals, Depends(get_evals)]
router = APIRouter(prefix="/v1/evals", tags=["evals"])


@router.post("", status_code=201, response_model=None)
async def start_eval(request: Request, evals: EvalsDep, key: KeyDep) -> EvalRunView:
    """Start an eval from a spec sent as the body (JSON, or YAML with a YAML content type); runs in the background.

    400: a bad spec (the field is named); 413: over the server's limits on items, personas or statements;
    429: the key has as many evals running as it may.
    """
    try:
        spec = await asyncio.to_thread(evals.parse, await request.body(), request.headers.get("content-type", ""))
        return await evals.start(key, spec)
    except EvalLimitError as exc:
        raise ApiError(413, _public(str(exc), evals.base_dir), param="spec", code="too_large") from None
    except EvalSpecError as exc:
        raise ApiError(400, _public(str(exc), evals.base_dir), param=exc.field) from None
    except EvalError as exc:
        raise ApiError(400, _public(str(exc), evals.base_dir), param="spec") from None


def _public(message: str, base: Path) -> str:
    """An error message with the server's eval folder left out (paths in it are shown relative to it)."""
    return message.replace(str(base) + os.sep, "").replace(str(base), ".")


@router.get("")
def list_evals(evals: EvalsDep, key: KeyDep) -> list[EvalRunView]:
    """This key's eval runs with their status, newest first."""
    return evals.runs(key)


@router.get("/{run_id}")
def eval_status(run_id: str, evals: EvalsDep, key: KeyDep) -> EvalRunView:
    """One run's status and progress."""
    return evals.status(key, run_id)


@router.delete("/{run_id}")
async def cancel_eval(run_id: str, evals: EvalsDep, key: KeyDep) -> EvalRunView:
    """Cancel a running eval (it ends `interrupted`, its finished items kept); 409 when it is not running here."""
    return await evals.cancel(key, run_id)


@router.get("/{run_id}/results")
def eval_results(run_id: str, evals: EvalsDep, key: KeyDep) -> dict[str, Any]:
    """The finished run's results.json."""
    data: dict[str, Any] = json.loads(evals.output(key, run_id, RESULTS_FILE).read_text(encoding="utf-8"))
    return data


@router.get("/{run_id}/report")
def eval_report(run_id: str, evals: EvalsDep, key: KeyDep) -> FileResponse:
    """The finished run's self-contained HTML report."""
    return FileResponse(evals.output(key, run_id, REPORT_FILE), media_type="text/html")
