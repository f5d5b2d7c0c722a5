"""`personae audit`'s library side: a small audit spec for given persona files, and its results as table rows."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from personae.evals._log import EvalResults
from personae.evals._spec import EvalSpec, spec_from_data
from personae.evals._tasks.bias._data import BBQ_FILE, GSM8K_FILE, OPEN_PROMPTS
from personae.evals._tasks.bias._figures import PROBES
from personae.evals._tasks.bias._personas import BASELINE

TASK = "persona-bias"


def audit_spec(
    personas: Sequence[Path | str],
    backend: str,
    limit: int = 20,
    judge: str | None = None,
    data: Path | str | None = None,
    seed: int = 0,
) -> EvalSpec:
    """Persona files × (BBQ, GSM8K, open prompts) with `limit` items each, against the no-persona baseline.

    The agent answers at temperature 0 (cacheable, repeatable); the judge (default: the agent's backend) grades
    the open-ended replies. Scoring models are the rule-based fakes: the audit reads answers by rule. `data` is a
    folder holding `bbq/bbq_sample.jsonl` and `gsm8k/test.jsonl` (default: a `shared/data` folder found above).
    """
    files = {}
    if data is not None:
        root = Path(data).resolve()
        files = {"bbq": str(root / BBQ_FILE), "gsm8k": str(root / GSM8K_FILE)}
    spec: dict[str, Any] = {
        "name": "audit",
        "personas": [str(Path(p).resolve()) for p in personas],
        "agent": {"backend": backend, "temperature": 0.0, "max_tokens": 320},
        "roles": {"judge": [{"backend": judge or backend}], "nli": "fake", "embedder": "fake"},
        "tasks": {
            TASK: {
                "dimensions": [],
                "bbq_items": limit,
                "gsm8k_items": limit,
                "open_prompts": _open_prompts(limit),
                **files,
            }
        },
        "seed": seed,
    }
    return spec_from_data(spec, "personae audit", base_dir=Path.cwd())


def _open_prompts(limit: int) -> list[str]:
    return list(OPEN_PROMPTS[: max(1, min(limit, len(OPEN_PROMPTS)))])


def audit_rows(results: EvalResults) -> list[dict[str, Any]]:
    """One row per persona and probe: value, baseline, difference with its 95 % interval, flag (report order)."""
    task = results.tasks.get(TASK)
    if task is None:
        return []
    table = task.extra.get("figures", {})
    names = {pid: info.get("name", pid) for pid, info in task.extra.get("personas", {}).items()}
    rows: list[dict[str, Any]] = []
    for pid in names:
        for probe in PROBES:
            entry = table.get(probe.name, {}).get(pid)
            if entry is None:
                continue
            rows.append(
                {
                    "persona": pid,
                    "name": names[pid],
                    "probe": probe.name,
                    "value": entry.get("value"),
                    "n": entry.get("n"),
                    "baseline": entry.get("baseline") if pid != BASELINE else None,
                    "diff": entry.get("diff"),
                    "diff_low": entry.get("diff_low"),
                    "diff_high": entry.get("diff_high"),
                    "flagged": bool(entry.get("flagged")),
                }
            )
    return rows
