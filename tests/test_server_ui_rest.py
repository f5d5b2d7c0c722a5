"""What the REST layer gives the web UI: a searchable, paged session list with previews, swipes to a chosen
candidate, each candidate's round and verdicts with evidence, and a favicon (fast: no browser)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from helpers.server import mock_config, running
from personae.backends import GenerateConfig, Message, get_backend
from personae.server import Service, create_app
from personae.store import AccessStore, SessionStore

GOOD = "Aye, I captained the ferry for forty years. Skerry sleeps by the fire."
BAD = "I am not a ferry captain. I never had a dog."


def ada(messages: list[Message], config: GenerateConfig, index: int) -> str:
    return GOOD if index % 2 == 0 else BAD


@pytest.fixture
def client(tmp_path: Path) -> Iterator[httpx.Client]:
    config = mock_config(tmp_path)
    assert config.database_url is not None
    store = SessionStore(config.database_url)
    key = AccessStore(store).create_key("ui").secret
    store.close()
    service = Service(config, backend=get_backend("mock/echo", fn=ada, cache=None))
    with running(create_app(service=service)) as base:
        yield httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=30)


def turn(client: httpx.Client, sid: str, text: str) -> None:
    response = client.post(f"/v1/sessions/{sid}/messages", json={"content": text})
    assert response.status_code == 200
    assert "event: turn" in response.text


def test_session_list_pages_searches_and_previews(client: httpx.Client) -> None:
    ids = []
    for i in range(5):
        sid = client.post("/v1/sessions", json={"persona": "ada-quint"}).json()["id"]
        turn(client, sid, f"Question {i} about 50% of_the ferries?")
        ids.append(sid)
    vega = client.post("/v1/sessions", json={"persona": "captain-iris-vega"}).json()["id"]
    everything = client.get("/v1/sessions").json()
    assert [s["id"] for s in everything] == [vega, *reversed(ids)]  # most recent first, not capped
    first = everything[1]
    assert first["persona_id"] == "ada-quint"
    assert first["preview"] == GOOD  # the shown reply
    assert first["created_at"] <= first["updated_at"]
    assert everything[0]["preview"] is None  # no turn yet
    page = client.get("/v1/sessions", params={"limit": 2, "offset": 2}).json()
    assert [s["id"] for s in page] == [s["id"] for s in everything[2:4]]
    assert client.get("/v1/sessions", params={"q": "question 3"}).json()[0]["id"] == ids[3]
    assert [s["id"] for s in client.get("/v1/sessions", params={"q": "VEGA"}).json()] == [vega]
    assert len(client.get("/v1/sessions", params={"q": "skerry"}).json()) == 5  # replies are searched too
    # LIKE wildcards in the query are literal characters
    assert len(client.get("/v1/sessions", params={"q": "50%"}).json()) == 5
    assert client.get("/v1/sessions", params={"q": "5_%"}).json() == []
    assert len(client.get("/v1/sessions", params={"q": "of_the"}).json()) == 5
    assert client.get("/v1/sessions", params={"q": "ofxthe"}).json() == []
    assert client.get("/v1/sessions", params={"limit": 0}).status_code in (400, 422)


def test_swipe_to_a_candidate_and_verdicts_with_evidence(client: httpx.Client) -> None:
    sid = client.post("/v1/sessions", json={"persona": "ada-quint"}).json()["id"]
    turn(client, sid, "Were you a captain?")
    view = client.get(f"/v1/sessions/{sid}").json()["turns"][-1]
    assert [c["round"] for c in view["candidates"]] == [0, 0]
    bad = next(c for c in view["candidates"] if c["text"] == BAD)
    verdicts = {v["statement"]: v for v in bad["verdicts"]}
    captain = verdicts["Ada Quint is a retired ferry captain."]
    assert captain["verdict"] == "violated"
    assert captain["evidence"] == "I am not a ferry captain."
    assert 0.0 < captain["probability"] <= 1.0
    assert set(bad["violated"]) == {v["statement"] for v in bad["verdicts"] if v["verdict"] == "violated"}
    assert set(bad["supported"]) == {v["statement"] for v in bad["verdicts"] if v["verdict"] == "supported"}
    swiped = client.post(f"/v1/sessions/{sid}/swipe", params={"to": bad["index"]}).json()
    assert swiped["chosen_index"] == bad["index"]
    again = client.post(f"/v1/sessions/{sid}/swipe", params={"to": bad["index"]}).json()
    assert again["chosen_index"] == bad["index"]  # to a candidate, not a step
    assert client.get(f"/v1/sessions/{sid}").json()["turns"][-1]["chosen_index"] == bad["index"]
    missing = client.post(f"/v1/sessions/{sid}/swipe", params={"to": 99})
    assert missing.status_code == 404
    assert "99" in missing.text
    regen = client.post(f"/v1/sessions/{sid}/regenerate").json()
    assert sorted(c["round"] for c in regen["candidates"]) == [0, 0, 1, 1]


def test_favicon(client: httpx.Client) -> None:
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200
    assert icon.headers["content-type"] == "image/x-icon"
    assert icon.content[:4] == b"\x00\x00\x01\x00"
    page = client.get("/")
    assert 'rel="icon"' in page.text
    assert client.get("/static/favicon.svg").status_code == 200
