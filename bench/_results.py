"""Recording bench figures as data: one JSON line per run in bench/results/<name>.jsonl.

Every bench prints one JSON line; with `--record` it also appends that line, with the date, the git revision (and
whether the tree had uncommitted changes) and the machine's facts, so results are compared as data over time
instead of pasted into the README.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import subprocess
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"


def _git(*args: str) -> str:
    try:
        out = subprocess.run(["git", *args], capture_output=True, text=True, cwd=RESULTS.parent, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return ""
    return out.stdout.strip()


def machine() -> dict[str, Any]:
    """Cores, memory, processor and Python of this machine."""
    memory = None
    try:
        pages, size = os.sysconf("SC_PHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
        memory = round(pages * size / 2**30, 1)
    except (ValueError, OSError, AttributeError):
        pass
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cores": os.cpu_count(), "memory_gib": memory, "cpu": cpu, "python": platform.python_version()}


def record(name: str, figures: dict[str, Any]) -> Path:
    """Append `figures` with date, revision and machine to bench/results/<name>.jsonl; returns the file."""
    RESULTS.mkdir(exist_ok=True)
    row = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "revision": _git("rev-parse", "--short", "HEAD"),
        "dirty": bool(_git("status", "--porcelain", "--untracked-files=no")),
        "machine": machine(),
        **figures,
    }
    path = RESULTS / f"{name}.jsonl"
    with path.open("a", encoding="utf-8") as sink:
        sink.write(json.dumps(row, ensure_ascii=False) + "\n")
    return path
