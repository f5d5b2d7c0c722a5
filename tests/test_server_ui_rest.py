"""What the REST layer gives the web UI: a searchable, paged session list with previews, swipes to a chosen
candidate, each candidate's round and verdicts with evidence, persona pictures, and a favicon (fast: no browser)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from helpers.cards import b64, charx_with, png_with, text_chunk, v2_card, v3_card
from helpers.server import EXAMPLES, mock_config, running
from personae.backends import GenerateConfig, Message, get_backend
from personae.interop import read_chunks
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


JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(64)
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + bytes(28)


def test_a_card_picture_is_kept_served_to_its_key_only_and_listed(tmp_path: Path) -> None:
    library = tmp_path / "personas"
    library.mkdir()
    shutil.copy(EXAMPLES / "ada.yaml", library)
    shutil.copy(EXAMPLES / "vega.yaml", library)
    (library / "ada.assets").mkdir()
    (library / "ada.assets" / "card.png").write_bytes(JPEG)  # as `personae import` leaves a card's picture
    config = mock_config(tmp_path, personas_dir=str(library), max_avatar_bytes=4096)
    assert config.database_url is not None
    store = SessionStore(config.database_url)
    access = AccessStore(store)
    mine, theirs = access.create_key("mine").secret, access.create_key("theirs").secret
    store.close()
    card = png_with([text_chunk("chara", b64(v2_card()))])
    with running(create_app(service=Service(config, backend=get_backend("mock/echo", fn=ada, cache=None)))) as base:
        client = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {mine}"}, timeout=30)
        other = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {theirs}"}, timeout=30)
        uploaded = client.post("/v1/personas", params={"filename": "mira.png"}, content=card).json()
        url = uploaded[0]["avatar_url"]
        assert url.startswith("/v1/personas/mira-vale/avatar?v=")
        picture = client.get(url)
        assert picture.status_code == 200
        assert picture.headers["content-type"] == "image/png"
        assert picture.headers["x-content-type-options"] == "nosniff"
        assert picture.headers["cache-control"] == "private, max-age=31536000, immutable"
        assert {c.type for c in read_chunks(picture.content, "served")} == {b"IHDR", b"IDAT", b"IEND"}  # no card JSON
        unversioned = client.get("/v1/personas/mira-vale/avatar")
        assert unversioned.headers["cache-control"] == "private, no-cache"
        again = client.get(url, headers={"If-None-Match": picture.headers["etag"]})
        assert (again.status_code, again.content) == (304, b"")
        # Scoped to the key like the persona: another key is told it does not exist.
        refused = other.get(url)
        assert refused.status_code == 404
        assert refused.json()["error"]["type"] == "not_found_error"
        assert "mira-vale" not in {p["id"] for p in other.get("/v1/personas").json()}
        listed = {p["id"]: p["avatar_url"] for p in client.get("/v1/personas").json()}
        assert listed["mira-vale"] == url
        assert listed["captain-iris-vega"] is None  # no picture: the UI shows initials
        ada_picture = client.get(listed["ada-quint"])
        assert (ada_picture.headers["content-type"], ada_picture.content) == ("image/jpeg", JPEG)
        assert client.get("/v1/personas/captain-iris-vega/avatar").status_code == 404
        client.post("/v1/sessions", json={"persona": "mira-vale"})
        client.post("/v1/sessions", json={"persona": "captain-iris-vega"})
        sessions = [(s["persona_id"], s["avatar_url"]) for s in client.get("/v1/sessions").json()]
        assert sessions == [("captain-iris-vega", None), ("mira-vale", url)]

        # A picture sent on its own: PNG, JPEG or WebP by its first bytes, within the size limit.
        svg = client.put("/v1/personas/mira-vale/avatar", content=b"<svg xmlns='http://www.w3.org/2000/svg'/>")
        assert svg.status_code == 400
        assert svg.json()["error"]["code"] == "invalid_image"
        assert "not a PNG, JPEG or WebP image" in svg.json()["error"]["message"]
        huge = client.put("/v1/personas/mira-vale/avatar", content=JPEG + bytes(5000))
        assert (huge.status_code, huge.json()["error"]["code"]) == (413, "too_large")
        assert client.get(url).content == picture.content  # refused pictures change nothing
        assert client.put("/v1/personas/ada-quint/avatar", content=WEBP).status_code == 409  # a library file
        assert other.put("/v1/personas/mira-vale/avatar", content=WEBP).status_code == 404
        new_url = client.put("/v1/personas/mira-vale/avatar", content=WEBP).json()["avatar_url"]
        assert new_url != url
        assert client.get(new_url).headers["content-type"] == "image/webp"
        assert client.get(url).headers["cache-control"] == "private, no-cache"  # an old version is not cached

        # A CHARX keeps its main icon; an icon that is no image we serve is skipped, the persona still imported.
        rowe = v3_card()
        rowe["data"]["name"] = "Iris Rowe"
        assets = {"assets/icon/images/alt.png": JPEG, "assets/icon/images/main.webp": WEBP, "assets/bg/x.png": JPEG}
        iris = client.post("/v1/personas", params={"filename": "c.charx"}, content=charx_with(rowe, assets)).json()[0]
        assert client.get(iris["avatar_url"]).content == WEBP
        bad = charx_with(rowe, {"assets/icon/images/main.png": b"<html>not an image</html>"})
        assert client.post("/v1/personas", params={"filename": "c.charx"}, content=bad).json()[0]["avatar_url"] is None
        assert client.get(f"/v1/personas/{iris['id']}/avatar").status_code == 404  # the re-upload has none
        client.delete("/v1/personas/mira-vale")
        assert client.get(new_url).status_code == 404
