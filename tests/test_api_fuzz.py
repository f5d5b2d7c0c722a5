"""A bounded schemathesis run against the OpenAPI document: no generated request may get a 500 (issue 20)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import schemathesis
from hypothesis import HealthCheck, settings

from personae.server import ServerConfig, create_app
from personae.store import AccessStore, SessionStore

ROOT = Path(__file__).resolve().parents[1]
_STATE = Path(tempfile.mkdtemp(prefix="personae-fuzz-"))
_DB = f"sqlite:///{_STATE / 'server.db'}"
_store = SessionStore(_DB)
KEY = AccessStore(_store).create_key("fuzz").secret
_store.close()
APP = create_app(
    ServerConfig(
        backend="mock/echo",
        database_url=_DB,
        personas_dir=ROOT / "examples" / "personas",
        scoring="fake",
        n=2,
        evals_dir=_STATE / "evals",
        eval_base_dir=ROOT,
    )
)
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)


@schema.parametrize()
@settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_no_generated_request_gets_a_500(case: schemathesis.Case[Any]) -> None:
    response = case.call(headers={"Authorization": f"Bearer {KEY}"})
    assert response.status_code < 500, f"{case.method} {case.formatted_path}: {response.status_code} {response.text}"
