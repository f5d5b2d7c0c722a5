"""Eval runs over real HTTP: start a spec on the mock backends, poll its status, read results and report; ownership."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from helpers.server import running
from personae.backends import BackendError
from personae.evals import EvalSpecError
from personae.server import ServerConfig, create_app
from personae.server._evals import ServerEvals
from personae.store import AccessStore, SessionStore

ROOT = Path(__file__).resolve().parents[1]

SPEC: dict[str, Any] = {
    "name": "api-test",
    "personas": ["examples/personas"],
    "agent": {"backend": "mock/evals-agent", "guard": "off"},
    "roles": {"judge": {"backend": "mock/evals-judge"}, "nli": "fake", "embedder": "fake"},
    "tasks": {"faithfulness": {"stated": 1, "unstated": 1, "break_character": 1}, "multi-turn": {"turns": 2}},
}


class Api:
    def __init__(self, url: str, keys: list[str], evals_dir: Path) -> None:
        self.url, self.keys, self.evals_dir = url, keys, evals_dir

    def client(self, key: int = 0) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {self.keys[key]}"}, timeout=30)


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    db = f"sqlite:///{tmp_path / 'server.db'}"
    store = SessionStore(db)
    keys = [AccessStore(store).create_key(f"k{i}").secret for i in range(2)]
    store.close()
    cfg = ServerConfig(
        backend="mock/echo",
        database_url=db,
        personas_dir=ROOT / "examples" / "personas",
        scoring="fake",
        evals_dir=tmp_path / "evals",
        eval_base_dir=ROOT,
    )
    with running(create_app(cfg)) as url:
        yield Api(url, keys, tmp_path / "evals")


def wait_finished(client: httpx.Client, run_id: str, timeout: float = 60.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status: dict[str, Any] = client.get(f"/v1/evals/{run_id}").raise_for_status().json()
        if status["status"] != "running":
            return status
        time.sleep(0.1)
    raise AssertionError(f"eval {run_id} still running after {timeout} s")


def test_eval_runs_in_the_background_and_serves_results_and_report(api: Api) -> None:
    with api.client() as client:
        started = client.post("/v1/evals", json=SPEC)
        assert started.status_code == 201, started.text
        run = started.json()
        assert run["name"] == "api-test"
        assert run["items"] == 18  # 3 personas x (3 faithfulness probes + 3 multi-turn items); see the task plans
        assert run["status"] == "running"
        status = wait_finished(client, run["id"])
        assert status["status"] == "finished", status
        assert status["finished"] == status["items"] == 18
        assert [r["id"] for r in client.get("/v1/evals").json()] == [run["id"]]

        results = client.get(f"/v1/evals/{run['id']}/results").raise_for_status().json()
        on_disk = json.loads((api.evals_dir / run["id"] / "results.json").read_text())
        assert results == on_disk
        assert results["name"] == "api-test"
        assert results["finished"] == 18
        assert results["failed"] == 0
        assert set(results["tasks"]) == {"faithfulness", "multi-turn"}

        report = client.get(f"/v1/evals/{run['id']}/report")
        assert report.status_code == 200
        assert report.headers["content-type"].startswith("text/html")
        assert report.text == (api.evals_dir / run["id"] / "report.html").read_text()
        assert "api-test" in report.text


def test_yaml_spec_is_accepted_with_a_yaml_content_type(api: Api) -> None:
    text = "name: from-yaml\npersonas: [examples/personas/ada.yaml]\n" + (
        "agent: {backend: mock/evals-agent}\nroles: {judge: {backend: mock/evals-judge}, nli: fake, embedder: fake}\n"
        "tasks: {faithfulness: {stated: 1, unstated: 0, break_character: 0}}\n"
    )
    with api.client() as client:
        started = client.post("/v1/evals", content=text, headers={"Content-Type": "application/yaml"})
        assert started.status_code == 201, started.text
        assert started.json()["items"] == 1
        assert wait_finished(client, started.json()["id"])["status"] == "finished"


def test_a_key_sees_only_its_own_eval_runs(api: Api) -> None:
    with api.client(0) as owner, api.client(1) as other:
        run_id = owner.post("/v1/evals", json=SPEC).raise_for_status().json()["id"]
        wait_finished(owner, run_id)
        for path in (f"/v1/evals/{run_id}", f"/v1/evals/{run_id}/results", f"/v1/evals/{run_id}/report"):
            assert other.get(path).status_code == 404, path
            assert owner.get(path).status_code == 200, path
        assert other.get("/v1/evals").json() == []
    with httpx.Client(base_url=api.url) as anonymous:
        assert anonymous.get(f"/v1/evals/{run_id}").status_code == 401
        assert anonymous.post("/v1/evals", json=SPEC).status_code == 401


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"tasks": {"faithfulness": {"stated": "many"}}}, "tasks.faithfulness.stated"),
        ({"tasks": {"no-such-task": {}}}, "tasks"),
        ({"agent": {"backend": "mock/evals-agent", "guard": "sometimes"}}, "agent.guard"),
        ({"concurrency": 0}, "concurrency"),
        ({"personas": ["examples/no-such-folder"]}, "personas[0]"),
        ({"personas": ["/etc"]}, "personas[0]"),
        ({"personas": ["../.."]}, "personas[0]"),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_a_bad_spec_gets_400_naming_the_field(api: Api, change: dict[str, Any], field: str) -> None:
    with api.client() as client:
        response = client.post("/v1/evals", json={**SPEC, **change})
        assert response.status_code == 400, response.text
        body = response.json()
        assert body["error"]["param"] == field
        assert f"{field}: " in body["error"]["message"]  # "spec: FIELD: ..." or "FILE: FIELD: ..."
        assert client.get("/v1/evals").json() == []  # nothing was started


def test_unparseable_spec_and_results_before_the_end(api: Api) -> None:
    with api.client() as client:
        response = client.post("/v1/evals", content=b"{not json", headers={"Content-Type": "application/json"})
        assert response.status_code == 400
        assert response.json()["error"]["message"].startswith("spec: not valid JSON")
        slow = {**SPEC, "agent": {"backend": "mock/evals-agent", "options": {"delay": 0.5}}}
        run_id = client.post("/v1/evals", json=slow).raise_for_status().json()["id"]
        early = client.get(f"/v1/evals/{run_id}/results")
        assert early.status_code == 409
        assert "running" in early.json()["error"]["message"]
        assert wait_finished(client, run_id)["status"] == "finished"


def test_a_failed_run_tells_its_owner_its_own_errors_and_no_server_internals(tmp_path: Path) -> None:
    store = SessionStore(f"sqlite:///{tmp_path / 'server.db'}")
    evals = ServerEvals(
        AccessStore(store), tmp_path / "evals", ROOT, interrupt_stale=False, redact=lambda s: s.replace("10.9.8.7", "…")
    )
    try:
        assert evals._failure(EvalSpecError("spec.yaml", "too many items", "tasks.0.n")).startswith("EvalSpecError: ")
        upstream = evals._failure(BackendError("openai: connection refused at http://10.9.8.7/v1"))
        assert upstream.startswith("upstream model:")
        assert "10.9.8.7" not in upstream
        assert evals._failure(RuntimeError("/srv/personae/secret.db is locked")) == "internal error: RuntimeError"
    finally:
        store.close()
