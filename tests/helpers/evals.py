"""Builders for harness tests: small specs on the example personas with the offline mock models."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from personae.evals import EvalSpec, spec_from_data

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared" / "data"
BFI = SHARED / "incharacter" / "BFI.json"
ENVIRONMENTS = SHARED / "personagym" / "tasks_and_environments.json"

needs_bfi = pytest.mark.skipif(not BFI.exists(), reason=f"shared data absent: {BFI} (see ../shared/README.md)")
needs_environments = pytest.mark.skipif(
    not ENVIRONMENTS.exists(), reason=f"shared data absent: {ENVIRONMENTS} (see ../shared/README.md)"
)


def mock_spec(tasks: dict[str, Any], judges: list[str] | None = None, **extra: Any) -> EvalSpec:
    """A spec on the three example personas, mock agent and judges, fake NLI and embedder."""
    data: dict[str, Any] = {
        "name": "test",
        "personas": [str(REPO / "examples" / "personas")],
        "agent": {"backend": "mock/evals-agent", "guard": "off"},
        "roles": {
            "judge": [{"backend": j} for j in (judges or ["mock/evals-judge"])],
            "nli": "fake",
            "embedder": "fake",
        },
        "tasks": tasks,
        "concurrency": 8,
        **extra,
    }
    return spec_from_data(data, "test-spec", base_dir=REPO)
