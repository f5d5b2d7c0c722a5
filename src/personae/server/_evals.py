"""Eval runs over HTTP: start an eval spec in the background, per-key status with progress, results, the report.

Runs go through the evaluation harness (`personae.evals.EvalRun`) exactly as `personae eval` does, each into its
own folder under the server's eval folder; the database records which key owns which run and how it ended.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import secrets
import socket
from pathlib import Path
from typing import Annotated, Any

import yaml
from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse

from personae.evals import (
    REPORT_FILE,
    RESULTS_FILE,
    SAMPLES_FILE,
    EvalError,
    EvalRun,
    EvalSpec,
    EvalSpecError,
    spec_from_data,
)
from personae.server._auth import KeyDep
from personae.server._errors import ApiError
from personae.server._service import ConflictError, NotFoundError
from personae.store import AccessStore, ApiKey, EvalRunInfo

log = logging.getLogger(__name__)

SPEC_SOURCE = "spec"
"""What errors in a posted spec are located in (`spec: tasks.faithfulness.stated: ...`)."""


class EvalRunView(EvalRunInfo):
    """A run with its progress: items finished so far out of `items`."""

    finished: int
    """Items with a logged sample (done or failed)."""


def _is_pathlike(value: str) -> bool:
    return "/" in value or "\\" in value or value.startswith("~")


def _check_paths(spec: EvalSpec, base: Path) -> None:
    """Refuse spec paths outside the server's eval base folder: a key may run evals, not read the server's files."""
    named = [(f"personas[{i}]", p) for i, p in enumerate(spec.personas)]
    for task, params in spec.tasks.items():
        named += [(f"tasks.{task}.{k}", v) for k, v in params.items() if isinstance(v, str) and _is_pathlike(v)]
    for field, value in named:
        path = Path(value).expanduser()
        if path.is_absolute() or not (base / path).resolve().is_relative_to(base):
            raise EvalSpecError(SPEC_SOURCE, f"{value!r} is outside the server's eval folder {base}", field=field)


def parse_spec(body: bytes, content_type: str, base: Path) -> EvalSpec:
    """A posted spec (JSON, or YAML when the content type says so), validated, its paths relative to `base`."""
    try:
        text = body.decode("utf-8")
        data = yaml.safe_load(text) if "yaml" in content_type else json.loads(text)
    except (UnicodeDecodeError, json.JSONDecodeError, yaml.YAMLError) as exc:
        kind = "YAML" if "yaml" in content_type else "JSON"
        raise EvalSpecError(SPEC_SOURCE, f"not valid {kind}: {exc}") from None
    spec = spec_from_data(data, SPEC_SOURCE, base_dir=base)
    _check_paths(spec, base)
    return spec


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


class ServerEvals:
    """The eval runs of one server process: started as asyncio tasks, owned by keys, recorded in the database."""

    def __init__(self, access: AccessStore, out_root: Path, base_dir: Path, interrupt_stale: bool = True) -> None:
        """`interrupt_stale`: mark runs left `running` as interrupted (only where no other server process runs)."""
        self.access = access
        self.out_root = out_root
        self.base_dir = base_dir.resolve()
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self.runner = process_tag()
        if interrupt_stale:
            interrupt_stale_evals(access)

    def start(self, key: ApiKey, spec: EvalSpec) -> EvalRunView:
        """Plan the run (bad persona files or task parameters raise `EvalSpecError` here) and start it."""
        run_id = secrets.token_hex(6)
        out = self.out_root / run_id
        run = EvalRun(spec, out, progress=False)
        info = self.access.add_eval(run_id, key.id, spec.name, str(out), len(run.items), runner=self.runner)
        self._tasks[run_id] = asyncio.create_task(self._run(run_id, run))
        return EvalRunView(**info.model_dump(), finished=0)

    async def _run(self, run_id: str, run: EvalRun) -> None:
        try:
            results = await run.run()
        except asyncio.CancelledError:
            self.access.end_eval(run_id, "interrupted")
            raise
        except Exception as exc:  # recorded for the owner to read in the run's status
            log.exception("eval run %s failed", run_id)
            self.access.end_eval(run_id, "failed", f"{exc.__class__.__name__}: {exc}")
        else:
            self.access.end_eval(run_id, "finished", None if not results.failed else f"{results.failed} items failed")
        finally:
            self._tasks.pop(run_id, None)

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

    async def aclose(self) -> None:
        """Stop unfinished runs (they are recorded as interrupted)."""
        tasks = list(self._tasks.values())
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
    """Start an eval from a spec sent as the body (JSON, or YAML with a YAML content type); runs in the background."""
    try:
        spec = parse_spec(await request.body(), request.headers.get("content-type", ""), evals.base_dir)
        return evals.start(key, spec)
    except EvalSpecError as exc:
        raise ApiError(400, str(exc), param=exc.field) from None
    except EvalError as exc:
        raise ApiError(400, str(exc), param="spec") from None


@router.get("")
def list_evals(evals: EvalsDep, key: KeyDep) -> list[EvalRunView]:
    """This key's eval runs with their status, newest first."""
    return evals.runs(key)


@router.get("/{run_id}")
def eval_status(run_id: str, evals: EvalsDep, key: KeyDep) -> EvalRunView:
    """One run's status and progress."""
    return evals.status(key, run_id)


@router.get("/{run_id}/results")
def eval_results(run_id: str, evals: EvalsDep, key: KeyDep) -> dict[str, Any]:
    """The finished run's results.json."""
    data: dict[str, Any] = json.loads(evals.output(key, run_id, RESULTS_FILE).read_text(encoding="utf-8"))
    return data


@router.get("/{run_id}/report")
def eval_report(run_id: str, evals: EvalsDep, key: KeyDep) -> FileResponse:
    """The finished run's self-contained HTML report."""
    return FileResponse(evals.output(key, run_id, REPORT_FILE), media_type="text/html")
