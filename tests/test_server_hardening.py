"""Attacks on `personae serve` that must fail: credentials sent to a spec's URL, spec paths outside the eval folder,
oversized evals, alias bombs and deep nesting, and a blocked event loop while an eval runs (issue 20)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from helpers.server import running
from personae.server import ServerConfig, create_app
from personae.server._config import Upstream
from personae.store import AccessStore, SessionStore

ROOT = Path(__file__).resolve().parents[1]
SERVER_SECRET = "sk-server-secret-never-leaves"


def small_spec(**roles: Any) -> dict[str, Any]:
    """One persona, one faithfulness probe: three items on mock models unless `roles` says otherwise."""
    return {
        "name": "attack",
        "personas": ["examples/personas/ada.yaml"],
        "agent": {"backend": "mock/evals-agent", "guard": "off"},
        "roles": {"judge": {"backend": "mock/evals-judge"}, "nli": "fake", "embedder": "fake", **roles},
        "tasks": {"faithfulness": {"stated": 1, "unstated": 1, "break_character": 1}},
    }


class Listener:
    """A local OpenAI-compatible endpoint that records the Authorization header of every request."""

    def __init__(self) -> None:
        self.seen: list[str | None] = []
        seen = self.seen

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                seen.append(self.headers.get("Authorization"))
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                body = json.dumps(
                    {"choices": [{"index": 0, "message": {"content": '{"score": 3, "rationale": "ok"}'}}]}
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def listener() -> Iterator[Listener]:
    found = Listener()
    yield found
    found.close()


def serve(tmp_path: Path, **extra: Any) -> tuple[Any, str]:
    """A mock server's app and one key for it."""
    db = f"sqlite:///{tmp_path / 'server.db'}"
    store = SessionStore(db)
    key = AccessStore(store).create_key("k").secret
    store.close()
    cfg = ServerConfig(
        backend="mock/echo",
        database_url=db,
        scoring="fake",
        evals_dir=tmp_path / "evals",
        eval_base_dir=ROOT,
        **extra,
    )
    return create_app(cfg), key


def client(url: str, key: str) -> httpx.Client:
    return httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=30)


def wait_done(c: httpx.Client, run_id: str, timeout: float = 60.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status: dict[str, Any] = c.get(f"/v1/evals/{run_id}").raise_for_status().json()
        if status["status"] != "running":
            return status
        time.sleep(0.1)
    raise AssertionError(f"eval {run_id} still running after {timeout} s")


# finding 1: the server's key never follows a URL chosen by a spec -------------------------------------------------


def test_a_spec_chosen_url_never_receives_the_servers_key(
    tmp_path: Path, listener: Listener, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", SERVER_SECRET)
    attack = small_spec(judge={"backend": "openai/anything", "options": {"base_url": listener.url}})
    app, key = serve(tmp_path)
    with running(app) as url, client(url, key) as c:
        refused = c.post("/v1/evals", json=attack)
        assert refused.status_code == 400, refused.text
        assert refused.json()["error"]["param"] == "roles.judge[0].backend"
        assert "not one this server lets evals and scenes use" in refused.json()["error"]["message"]
        # the server's own upstream may be named, but not pointed elsewhere
        own = small_spec(judge={"backend": "mock/echo", "options": {"base_url": listener.url}})
        assert c.post("/v1/evals", json=own).status_code == 400
    assert listener.seen == []


def test_arbitrary_backends_when_allowed_must_bring_their_own_key(
    tmp_path: Path, listener: Listener, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", SERVER_SECRET)
    monkeypatch.setenv("PERSONAE_OPENAI_API_KEY", SERVER_SECRET)
    app, key = serve(tmp_path, allow_any_eval_backend=True)
    with running(app) as url, client(url, key) as c:
        keyless = small_spec(judge={"backend": "openai/anything", "options": {"base_url": listener.url}})
        refused = c.post("/v1/evals", json=keyless)
        assert refused.status_code == 400, refused.text
        assert refused.json()["error"]["param"] == "roles.judge[0].options.api_key"
        own_key = small_spec(
            judge={"backend": "openai/anything", "options": {"base_url": listener.url, "api_key": "sk-user"}}
        )
        started = c.post("/v1/evals", json=own_key)
        assert started.status_code == 201, started.text
        assert wait_done(c, started.json()["id"])["status"] == "finished"
    assert listener.seen, "the judge was never called"
    assert set(listener.seen) == {"Bearer sk-user"}


def test_an_operator_named_upstream_is_called_with_the_servers_settings(
    tmp_path: Path, listener: Listener, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", SERVER_SECRET)
    upstreams = {"house-judge": Upstream(backend="openai/judge-model", base_url=listener.url)}
    app, key = serve(tmp_path, eval_upstreams=upstreams)
    with running(app) as url, client(url, key) as c:
        redirected = small_spec(judge={"backend": "house-judge", "options": {"base_url": "http://127.0.0.1:9/v1"}})
        refused = c.post("/v1/evals", json=redirected)
        assert refused.status_code == 400
        assert refused.json()["error"]["param"] == "roles.judge[0].options.base_url"
        started = c.post("/v1/evals", json=small_spec(judge={"backend": "house-judge"}))
        assert started.status_code == 201, started.text
        assert wait_done(c, started.json()["id"])["status"] == "finished"
    assert listener.seen
    assert set(listener.seen) == {f"Bearer {SERVER_SECRET}"}


def test_a_role_on_the_servers_mock_upstream_gets_the_operators_options() -> None:
    from personae.evals import EvalSpecError, RoleSpec
    from personae.server._upstreams import UpstreamPolicy

    house = Upstream(backend="mock/scripted", options={"outputs": ["Aye."]})
    config = ServerConfig(backend="mock/echo", backend_options={"delay": 0.5}, eval_upstreams={"house-mock": house})
    policy = UpstreamPolicy(config)
    assert policy.role(RoleSpec(backend="mock/echo"), "agent").options == {"delay": 0.5}  # as slow as a chat
    assert policy.role(RoleSpec(backend="mock/echo", options={"delay": 0}), "agent").options == {"delay": 0}
    named = policy.role(RoleSpec(backend="house-mock"), "agent")
    assert (named.backend, named.options) == ("mock/scripted", {"outputs": ["Aye."]})
    assert policy.role(RoleSpec(backend="mock/scene"), "agent").options == {}  # another mock: as the spec gives it
    with pytest.raises(EvalSpecError, match="base_url"):
        policy.role(RoleSpec(backend="mock/echo", options={"base_url": "http://127.0.0.1:9/v1"}), "agent")


# finding 2: every path in a spec stays inside the eval folder -----------------------------------------------------


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"personas": ["/etc"]}, "personas[0]"),
        ({"personas": ["examples/personas", "../outside"]}, "personas[1]"),
        ({"tasks": {"role-id": {"csv": ["examples/x.csv", "/etc/passwd"]}}}, "tasks.role-id.csv[1]"),
        ({"tasks": {"role-id": {"csv": ["../outside.csv"]}}}, "tasks.role-id.csv[0]"),
        ({"tasks": {"persona-gym": {"environments": "~/envs.json"}}}, "tasks.persona-gym.environments"),
        ({"tasks": {"psychometric": {"questionnaire": "../../BFI.json"}}}, "tasks.psychometric.questionnaire"),
        ({"roles": {"judge": {"backend": "mock/evals-judge"}, "nli": "onnx:/any/dir"}}, "roles.nli"),
        ({"roles": {"judge": {"backend": "mock/evals-judge"}, "nli": "hf:../models/x"}}, "roles.nli"),
    ],
)
def test_spec_paths_outside_the_eval_folder_are_refused_wherever_they_sit(
    tmp_path: Path, change: dict[str, Any], field: str
) -> None:
    app, key = serve(tmp_path)
    with running(app) as url, client(url, key) as c:
        response = c.post("/v1/evals", json={**small_spec(), **change})
        assert response.status_code == 400, response.text
        error = response.json()["error"]
        assert error["param"] == field
        assert "outside the server's eval folder" in error["message"]
        assert str(ROOT) not in error["message"]
    assert not (tmp_path / "evals").exists() or not any((tmp_path / "evals").iterdir())


def test_a_path_check_sees_task_parameters_by_type_not_by_name() -> None:
    from personae.evals import spec_from_data, spec_paths

    spec = spec_from_data(
        {**small_spec(), "tasks": {"role-id": {"csv": ["a.csv", "b/c.csv"]}, "faithfulness": {"stated": 2}}}
    )
    assert [(p.field, str(p.path)) for p in spec_paths(spec)] == [
        ("personas[0]", "examples/personas/ada.yaml"),
        ("tasks.role-id.csv[0]", "a.csv"),
        ("tasks.role-id.csv[1]", "b/c.csv"),
    ]


# finding 3 and 6: bounded work, the event loop stays free, runs can be cancelled ---------------------------------


def test_a_huge_eval_is_refused_quickly_with_413(tmp_path: Path) -> None:
    app, key = serve(tmp_path, max_eval_items=500)
    with running(app) as url, client(url, key) as c:
        started = time.perf_counter()
        huge = {**small_spec(), "personas": ["examples/personas"]}
        huge["tasks"] = {"faithfulness": {"stated": 1000, "unstated": 1000, "break_character": 1000}}
        response = c.post("/v1/evals", json=huge)
        assert response.status_code == 413, response.text
        assert "more than 500 items" in response.json()["error"]["message"]
        flights = c.post("/v1/evals", json={**small_spec(), "concurrency": 10_000})
        assert flights.status_code == 400
        assert flights.json()["error"]["param"] == "concurrency"
        absurd = {**huge, "tasks": {"faithfulness": {"break_character": 300_000}}}
        response = c.post("/v1/evals", json=absurd)
        assert response.status_code == 400
        assert response.json()["error"]["param"] == "tasks.faithfulness.break_character"
        assert time.perf_counter() - started < 5.0
        assert c.get("/v1/evals").json() == []


def test_too_many_personas_or_statements_are_refused(tmp_path: Path) -> None:
    app, key = serve(tmp_path, max_eval_personas=2, max_persona_statements=3)
    with running(app) as url, client(url, key) as c:
        many = c.post("/v1/evals", json={**small_spec(), "personas": ["examples/personas"]})
        assert many.status_code == 413
        assert "more than 2 personas" in many.json()["error"]["message"]
        wordy = c.post("/v1/evals", json=small_spec())
        assert wordy.status_code == 413
        assert "statements" in wordy.json()["error"]["message"]
        upload = "name: Wordy\nstatements: [a is so., b is so., c is so., d is so.]\n"
        response = c.post("/v1/personas", params={"filename": "w.yaml"}, content=upload)
        assert response.status_code == 413
        assert c.get("/v1/personas").json() == []


def test_uploads_refuse_aliases_and_deep_nesting_with_400(tmp_path: Path) -> None:
    app, key = serve(tmp_path)
    bomb = "name: &n Bomb\nstatements: [*n, *n]\n"
    deep = "name: Deep\nstatements: " + "[" * 3000 + "]" * 3000
    with running(app) as url, client(url, key) as c:
        for name, body in (("bomb.yaml", bomb), ("deep.yaml", deep), ("deep.json", '{"a":' * 3000 + "1" + "}" * 3000)):
            response = c.post("/v1/personas", params={"filename": name}, content=body)
            assert response.status_code == 400, (name, response.text)
            assert response.json()["error"]["code"] == "invalid_persona"


def test_score_refuses_more_sentence_statement_pairs_than_its_limit(tmp_path: Path) -> None:
    app, key = serve(tmp_path, max_score_pairs=20, personas_dir=ROOT / "examples" / "personas")
    with running(app) as url, client(url, key) as c:
        pid = c.get("/v1/personas").json()[0]["id"]
        long_reply = " ".join(f"Sentence number {i} is here." for i in range(50))
        response = c.post("/v1/score", json={"persona": pid, "query": "q", "reply": long_reply})
        assert response.status_code == 413, response.text
        assert c.post("/v1/score", json={"persona": pid, "query": "q", "reply": "Aye."}).status_code == 200


def test_health_answers_fast_while_a_maximal_eval_runs_and_delete_cancels_it(tmp_path: Path) -> None:
    app, key = serve(tmp_path, max_evals_per_key=1)  # the default limits: 2,000 items, 32 in flight
    spec = {**small_spec(), "personas": ["examples/personas"], "concurrency": 32}
    spec["tasks"] = {"faithfulness": {"stated": 222, "unstated": 222, "break_character": 222}}  # 3 x 666 items
    with running(app) as url, client(url, key) as c:
        started = c.post("/v1/evals", json=spec)
        assert started.status_code == 201, started.text
        run = started.json()
        assert run["items"] == 1998
        assert "out_dir" not in run
        assert "runner" not in run
        assert c.post("/v1/evals", json=small_spec()).status_code == 429
        slowest = 0.0
        for _ in range(40):
            t0 = time.perf_counter()
            assert c.get("/healthz").status_code == 200
            slowest = max(slowest, time.perf_counter() - t0)
            time.sleep(0.02)
        assert slowest < 0.2, f"/healthz took {slowest * 1000:.0f} ms while the eval ran"
        status = c.get(f"/v1/evals/{run['id']}").json()
        assert status["status"] == "running", "the eval finished before /healthz was measured under load"
        cancelled = c.delete(f"/v1/evals/{run['id']}")
        assert cancelled.status_code == 200, cancelled.text
        assert cancelled.json()["status"] == "interrupted"
        assert cancelled.json()["error"] == "cancelled by its owner"
        done = cancelled.json()["finished"]
        time.sleep(0.5)
        assert c.get(f"/v1/evals/{run['id']}").json()["finished"] == done  # nothing more runs
        assert c.delete(f"/v1/evals/{run['id']}").status_code == 409
        assert c.post("/v1/evals", json=small_spec()).status_code == 201  # the key's slot is free again


# finding 8: keys, headers, exit codes, private files -------------------------------------------------------------


@pytest.fixture
def umask() -> Iterator[None]:
    import os

    previous = os.umask(0o022)
    os.umask(previous)
    yield
    os.umask(previous)


def test_keys_list_and_revoke_and_a_revoked_key_stops_working_at_once(tmp_path: Path, umask: None) -> None:
    from typer.testing import CliRunner

    from personae.cli import app as cli

    db = f"sqlite:///{tmp_path / 'keys.db'}"
    runner = CliRunner()
    created = runner.invoke(cli, ["keys", "create", "--name", "laptop", "--db", db])
    assert created.exit_code == 0, created.output
    secret = created.stdout.strip().splitlines()[0]
    assert (tmp_path / "keys.db").stat().st_mode & 0o777 == 0o600
    listed = runner.invoke(cli, ["keys", "list", "--db", db])
    assert listed.exit_code == 0
    key_id, state = listed.stdout.split()[:2]
    assert (state, listed.stdout.split()[-1]) == ("active", "laptop")
    assert secret not in listed.stdout

    app = create_app(ServerConfig(backend="mock/echo", database_url=db, scoring="fake"))
    with running(app) as url, client(url, secret) as c:
        assert c.get("/v1/personas").status_code == 200
        revoked = runner.invoke(cli, ["keys", "revoke", key_id, "--db", db])
        assert revoked.exit_code == 0, revoked.output
        time.sleep(1.1)
        assert c.get("/v1/personas").status_code == 401
    assert runner.invoke(cli, ["keys", "list", "--db", db]).stdout.split()[1] == "revoked"
    assert runner.invoke(cli, ["keys", "revoke", "nosuch", "--db", db]).exit_code == 2


@pytest.mark.parametrize(
    "args",
    [
        ["serve", "--backend", "nosuch", "--scoring", "fake"],
        ["serve", "--backend", "mock/nosuch", "--scoring", "fake"],
        ["serve", "--backend", "mock/echo", "--backend-option", "colour=1", "--scoring", "fake"],
        ["keys", "list", "--db", "nosuch://nowhere"],
        ["serve", "--backend", "mock/echo", "--scoring", "fake", "--eval-upstream", "judge"],
        ["serve", "--backend", "mock/echo", "--scoring", "fake", "--eval-upstream", "judge=nosuch/x"],
        ["keys", "list", "--db", "sqlite:////nonexistent-folder/x/y.db"],
    ],
)
def test_unknown_backends_and_bad_databases_exit_2_in_one_line(args: list[str], umask: None) -> None:
    from typer.testing import CliRunner

    from personae.cli import app as cli

    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert len(result.stderr.strip().splitlines()) == 1


def test_the_ui_is_served_with_security_headers(tmp_path: Path) -> None:
    app, key = serve(tmp_path)
    with running(app) as url, client(url, key) as c:
        for path in ("/", "/static/app.js"):
            headers = c.get(path).headers
            assert "frame-ancestors 'none'" in headers["content-security-policy"]
            assert "script-src 'self'" in headers["content-security-policy"]
            assert headers["x-frame-options"] == "DENY"
            assert headers["x-content-type-options"] == "nosniff"
            assert headers["referrer-policy"] == "no-referrer"
        api = c.get("/v1/personas").headers
        assert api["x-content-type-options"] == "nosniff"
        assert "content-security-policy" not in api


def test_a_posted_eval_runs_with_private_files_and_no_server_paths_in_answers(tmp_path: Path, umask: None) -> None:
    import os

    os.umask(0o077)  # what `personae serve` sets
    app, key = serve(tmp_path)
    with running(app) as url, client(url, key) as c:
        run = c.post("/v1/evals", json=small_spec()).raise_for_status().json()
        status = wait_done(c, run["id"])
        assert status["status"] == "finished"
        for answer in (c.get("/v1/evals").text, c.get(f"/v1/evals/{run['id']}").text):
            assert str(tmp_path) not in answer
            assert "out_dir" not in answer
        missing = c.post("/v1/evals", json={**small_spec(), "personas": ["examples/nosuch.yaml"]})
        assert missing.status_code == 400
        assert str(ROOT) not in missing.json()["error"]["message"]
    out = tmp_path / "evals" / run["id"]
    for name in ("samples.jsonl", "results.json", "sessions.db"):
        assert (out / name).stat().st_mode & 0o777 == 0o600, name


def test_eval_upstream_flags_become_named_upstreams() -> None:
    from personae.cli._serve import _upstreams

    assert _upstreams(["judge=openai/gpt-4o-mini", "local=openai/llama@http://127.0.0.1:11434/v1"]) == {
        "judge": {"backend": "openai/gpt-4o-mini", "base_url": None},
        "local": {"backend": "openai/llama", "base_url": "http://127.0.0.1:11434/v1"},
    }


def test_a_chunked_json_body_over_the_limit_is_413_on_every_route(tmp_path: Path) -> None:
    app, key = serve(tmp_path, max_request_bytes=4096)

    def chunked() -> Iterator[bytes]:  # no Content-Length: the body is JSON that only ends past the limit
        yield b'{"model": "x", "messages": [{"role": "user", "content": "'
        for _ in range(10):
            yield b"x" * 1000
        yield b'"}]}'

    with running(app) as url, client(url, key) as c:
        for path in ("/v1/chat/completions", "/v1/evals", "/v1/score"):
            response = c.post(path, content=chunked(), headers={"Content-Type": "application/json"})
            assert response.status_code == 413, (path, response.status_code, response.text)
        parts = iter([b'{"persona": "nosuch", ', b'"query": "q", "reply": "r"}'])
        small = c.post("/v1/score", content=parts, headers={"Content-Type": "application/json"})
        assert small.status_code == 404, small.text  # a small chunked body still reaches the route whole
