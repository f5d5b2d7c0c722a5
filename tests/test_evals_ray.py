"""`executor: ray`: items run as Ray tasks on a local Ray instance; the driver logs each exactly once."""

from __future__ import annotations

import importlib.util
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from helpers.evals import mock_spec
from personae.evals import EvalError, read_samples, run_eval

pytestmark = [
    pytest.mark.slow,  # starting a local Ray instance takes about 10 s
    pytest.mark.skipif(
        importlib.util.find_spec("ray") is None, reason="ray is not installed (pip install 'personae[ray]')"
    ),
]


@pytest.fixture
def local_ray() -> Iterator[Any]:
    import ray

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()


async def test_items_run_as_ray_tasks_and_are_logged_once(tmp_path: Path, local_ray: Any) -> None:
    tasks = {"persona-gym": {"questions_per_task": 1}, "faithfulness": {"stated": 1, "unstated": 1}}
    spec = mock_spec(tasks, executor="ray", concurrency=4)
    results = await run_eval(spec, tmp_path / "run")
    samples = read_samples(tmp_path / "run" / "samples.jsonl")
    lines = (tmp_path / "run" / "samples.jsonl").read_text().splitlines()
    assert len(lines) == len(samples) == results.items == 3 * (5 + 3)
    assert results.failed == 0, [(s.id, s.failure) for s in samples if s.status == "failed"]
    workers = {s.worker for s in samples}
    assert all(w is not None and w.startswith("ray:") for w in workers)
    assert all(not w.endswith(f":{os.getpid()}") for w in workers if w)  # not the driver's process
    assert results.usage["agent"].requests >= len(samples)  # usage comes back from the workers
    # Same scores as the in-process executor on the same spec (the mocks are deterministic).
    local = await run_eval(mock_spec(tasks, concurrency=4), tmp_path / "local")
    assert json.dumps(results.persona_scores) == json.dumps(local.persona_scores)


def test_ray_refuses_ready_made_backends(tmp_path: Path) -> None:
    from personae.backends import get_backend
    from personae.evals import EvalRun

    with pytest.raises(EvalError, match="cannot be sent to Ray"):
        EvalRun(mock_spec({"faithfulness": {}}, executor="ray"), tmp_path, backends={"agent": get_backend("mock/echo")})


def test_cli_executor_flag_runs_on_ray_and_resumes_in_process(tmp_path: Path, local_ray: Any) -> None:
    import yaml
    from typer.testing import CliRunner

    from helpers.evals import REPO
    from personae.cli import app

    spec_path = tmp_path / "spec.yaml"
    data = mock_spec({"faithfulness": {"stated": 1, "unstated": 0, "break_character": 0}}).model_dump(mode="json")
    data["personas"] = [str(REPO / "examples" / "personas")]
    spec_path.write_text(yaml.safe_dump(data), encoding="utf-8")
    out = tmp_path / "run"
    runner = CliRunner()
    result = runner.invoke(app, ["eval", str(spec_path), "--out", str(out), "--executor", "ray", "--no-progress"])
    assert result.exit_code == 0, result.output
    samples = read_samples(out / "samples.jsonl")
    assert len(samples) == 3
    assert all(s.worker and s.worker.startswith("ray:") for s in samples)
    again = runner.invoke(app, ["eval", str(spec_path), "--out", str(out), "--resume", "--no-progress"])
    assert again.exit_code == 0, again.output
    assert len((out / "samples.jsonl").read_text().splitlines()) == 3
