"""The Ray executor: items run as Ray tasks on an existing cluster (or a local instance), the driver logs them.

Workers rebuild what they need from the spec (personas, task, backends), so nothing unpicklable crosses the wire;
each task gets fresh backends (their connections belong to one event loop) and a scratch session database.
"""

from __future__ import annotations

import asyncio
import os
import socket
import tempfile
from pathlib import Path
from typing import Any

from personae.evals._errors import EvalError
from personae.evals._log import EvalSample
from personae.evals._spec import EvalSpec
from personae.evals._task import Item
from personae.persona import Persona
from personae.scoring import ScoringModels

_MODELS: dict[str, ScoringModels] = {}
_PERSONAS: dict[str, dict[str, Persona]] = {}


def run_item_in_worker(spec_data: dict[str, Any], base_dir: str, item_data: dict[str, Any]) -> dict[str, Any]:
    """Run one item in this process: returns the sample and the tokens each role spent, as plain data."""
    from personae.evals._context import EvalContext
    from personae.evals._runner import _run_item, run_personas, usage_by_backend
    from personae.evals._scoring import scoring_models
    from personae.evals._task import build_task

    spec = EvalSpec.model_validate(spec_data).model_copy(update={"base_dir": base_dir})
    key = spec.model_dump_json()
    if key not in _MODELS:  # the scoring models are loop-independent: load them once per worker
        _MODELS[key] = scoring_models(spec)
        tasks = [build_task(n, p, spec.base_dir, spec.seed) for n, p in spec.tasks.items()]
        _PERSONAS[key] = run_personas(spec, tasks)
    item = Item(**item_data)
    task = build_task(item.task, spec.tasks[item.task], spec.base_dir, spec.seed)

    async def work() -> tuple[EvalSample, dict[str, Any]]:
        with tempfile.TemporaryDirectory() as scratch:
            ctx = EvalContext(spec, _PERSONAS[key], Path(scratch), models=_MODELS[key])
            try:
                sample = await _run_item(task, item, ctx)
            finally:
                await ctx.aclose()
            return sample, {k: u.model_dump() for k, u in usage_by_backend(ctx).items()}

    sample, usage = asyncio.run(work())
    sample.worker = f"ray:{socket.gethostname()}:{os.getpid()}"
    return {"sample": sample.model_dump(mode="json"), "usage": usage}


class RayExecutor:
    """Submits items to Ray and awaits them from the driver's event loop."""

    def __init__(self, spec: EvalSpec) -> None:
        try:
            import ray
        except ImportError:
            raise EvalError("executor 'ray' needs the ray extra: pip install 'personae[ray]'") from None
        self.ray = ray
        if not ray.is_initialized():
            ray.init(address=spec.ray_address, log_to_driver=False)
        self.remote = ray.remote(run_item_in_worker)
        self.spec_data = spec.model_dump(mode="json")
        self.base_dir = spec.base_dir

    async def run(self, item: Item) -> tuple[EvalSample, dict[str, Any]]:
        """Run `item` as a Ray task; returns its sample and per-role usage."""
        data = {"id": item.id, "task": item.task, "persona": item.persona, "data": item.data}
        out = await self.remote.remote(self.spec_data, self.base_dir, data)
        return EvalSample.model_validate(out["sample"]), out["usage"]
