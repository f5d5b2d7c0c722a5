"""SillyTavern's everyday flows against a real server, replayed from recorded request bodies.

The bodies in fixtures/sillytavern/ are what SillyTavern 1.19.0 sent upstream when driven through its web UI
(Chat Completion, Custom (OpenAI-compatible) source, default settings, the Ada Quint card exported by `personae
export`) against a personae server on the mock upstream: its default prompts (the main prompt naming {{user}}, the
card's example chat as named system messages, the `[Start a new Chat]` marker, the greeting, the Continue nudge
and the Impersonate prompt) and its fields (no `stop`, `logit_bias` or `top_k` when unset).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from helpers.server import mock_config, reply_and_extension, running
from personae.server import create_app
from personae.server._service import parse_messages
from personae.store import AccessStore

FIXTURES = Path(__file__).parent / "fixtures" / "sillytavern"


def fixture(name: str) -> dict[str, Any]:
    body: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))["body"]
    return body


class Tavern:
    """A server and the requests SillyTavern would send it."""

    def __init__(self, url: str, key: str) -> None:
        self.http = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=60)

    def send(self, name: str) -> tuple[str, dict[str, Any]]:
        """POST a recorded body; the reply text and the `personae` extension (streamed or not)."""
        response = self.http.post("/v1/chat/completions", json=fixture(name))
        assert response.status_code == 200, response.text
        return reply_and_extension(response, bool(fixture(name).get("stream")))

    def turns(self, session_id: str) -> list[dict[str, Any]]:
        turns: list[dict[str, Any]] = self.http.get(f"/v1/sessions/{session_id}").json()["turns"]
        return turns

    def sessions(self) -> list[str]:
        return [s["id"] for s in self.http.get("/v1/sessions").json()]


def shown(turn: dict[str, Any]) -> str:
    text: str = turn["candidates"][turn["position"] - 1]["text"]
    return text


@pytest.fixture
def tavern(tmp_path: Path) -> Iterator[Tavern]:
    app = create_app(mock_config(tmp_path))
    key = AccessStore(app.state.service.store).create_key("tavern").secret
    with running(app) as url:
        yield Tavern(url, key)


def test_sillytavern_flows_map_onto_one_stored_conversation(tavern: Tavern) -> None:
    reply, ext = tavern.send("01_send")
    session = ext["session_id"]
    turns = tavern.turns(session)
    assert [t["user_text"] for t in turns] == ["Hello, Ada."]  # no `[Start a new Chat]` turn, no greeting turn
    assert tavern.http.get(f"/v1/sessions/{session}").json()["user_name"] == "Alice"  # from ST's main prompt

    reply, ext = tavern.send("02_send")
    assert ext["session_id"] == session
    assert ext["swipe"] is False
    assert shown(tavern.turns(session)[1]) == reply

    swiped, ext = tavern.send("03_swipe")
    assert ext["session_id"] == session
    assert ext["swipe"] is True
    assert swiped != reply  # a swipe shows another reply, even from a deterministic upstream
    assert shown(tavern.turns(session)[1]) == swiped

    added, ext = tavern.send("04_continue")
    assert ext["session_id"] == session
    assert ext["continued"] is True
    extended = fixture("04_continue")["messages"][-2]["content"]
    turns = tavern.turns(session)
    assert len(turns) == 2  # the same turn, extended
    assert shown(turns[1]) == extended + added
    assert added.strip()
    # What ST shows next: its continue postfix (a space by default) before the added text, which starts with one
    shown_next = fixture("05_impersonate")["messages"][-2]["content"]
    assert shown_next == extended + " " + added

    line, ext = tavern.send("05_impersonate")
    assert ext == {"session_id": session, "impersonation": True}
    assert line.strip()
    turns = tavern.turns(session)
    assert len(turns) == 2  # never stored as the character's turn
    assert shown(turns[1]) == extended + added

    _, ext = tavern.send("06_send")
    assert ext["session_id"] == session
    assert len(tavern.turns(session)) == 3

    _, ext = tavern.send("07_edit")  # the second user message edited in place
    assert ext["session_id"] == session
    assert [t["user_text"] for t in tavern.turns(session)] == [
        "Hello, Ada.",
        "Do you have a cat?",
        "Tell me about Skerry.",
        "Go on.",
    ]

    _, ext = tavern.send("08_delete")  # the last two exchanges deleted
    assert ext["session_id"] == session
    assert [t["user_text"] for t in tavern.turns(session)] == ["Hello, Ada.", "Do you have a cat?", "What's for tea?"]
    tea = tavern.turns(session)[2]
    assert len(tea["candidates"]) == 2  # a guarded turn: both candidates kept

    _, ext = tavern.send("09_branch")  # a branch from Ada's first reply
    assert ext["session_id"] == session
    assert [t["user_text"] for t in tavern.turns(session)] == ["Hello, Ada.", "Where is Morag?"]

    _, ext = tavern.send("10_back_to_main")  # the original chat again: its turns come back, scores and all
    assert ext["session_id"] == session
    turns = tavern.turns(session)
    assert [t["user_text"] for t in turns] == ["Hello, Ada.", "Do you have a cat?", "What's for tea?", "Thanks."]
    assert turns[2]["candidates"] == tea["candidates"]  # restored, not re-imported as an unscored turn

    again, ext = tavern.send("12_empty_send")  # Ada speaks again: a turn with no user message
    assert ext["session_id"] == session
    turns = tavern.turns(session)
    assert [t["user_text"] for t in turns][-2:] == ["Thanks.", ""]
    assert shown(turns[-1]) == again

    assert tavern.sessions() == [session]  # one conversation in the list throughout


def test_a_swipe_back_to_an_earlier_reply_keeps_the_turn_and_shows_that_reply(tavern: Tavern) -> None:
    _, ext = tavern.send("01_send")
    session = ext["session_id"]
    first, _ = tavern.send("02_send")
    tavern.send("03_swipe")
    swipes = tavern.turns(session)[1]["candidates"]
    assert len(swipes) == 4
    assert fixture("13_swipe_back_send")["messages"][-2]["content"] == first  # ST swiped back to the first reply

    _, ext = tavern.send("13_swipe_back_send")  # swiping back sends nothing: the next message brings the history
    assert ext["session_id"] == session
    turns = tavern.turns(session)
    assert [t["user_text"] for t in turns] == ["Hello, Ada.", "Do you have a dog?", "Tell me about Skerry."]
    assert turns[1]["candidates"] == swipes  # every scored swipe kept: not re-imported as an unscored turn
    assert shown(turns[1]) == first
    assert tavern.sessions() == [session]


def test_names_in_the_message_content_are_the_clients_not_the_conversations(tavern: Tavern) -> None:
    first, ext = tavern.send("14_names_content_send")  # 'Alice: Hello, Ada.' after 'Ada Quint: <greeting>'
    session = ext["session_id"]
    assert first == "You said: Hello, Ada. (candidate 1)"  # the upstream never sees the prefix
    assert fixture("15_names_content_send")["messages"][-2]["content"] == f"Ada Quint: {first}"

    _, ext = tavern.send("15_names_content_send")
    assert ext["session_id"] == session  # the same conversation, not a new session per message
    turns = tavern.turns(session)
    assert [t["user_text"] for t in turns] == ["Hello, Ada.", "Do you have a dog?"]
    assert len(turns[0]["candidates"]) == 2  # the guarded turn kept, not re-imported with the prefix
    assert tavern.sessions() == [session]


def test_a_marker_sent_as_a_user_message_is_dropped_and_the_user_is_named(tavern: Tavern) -> None:
    _, ext = tavern.send("11_strict_new_chat")  # one merged system message, then `[Start a new chat]` as a user's
    view = tavern.http.get(f"/v1/sessions/{ext['session_id']}").json()
    assert view["user_name"] == "Alice"  # from the main prompt, merged with the card into one system message
    assert [t["user_text"] for t in view["turns"]] == ["Hi, I'm Bob."]


def test_parse_messages_names_each_flow() -> None:
    history = [("user", "Hi"), ("assistant", "Hello.")]
    assert parse_messages([*history, ("user", "Again")]).mode == "send"
    cont = parse_messages([*history, ("system", "[Continue your last message without repeating it.]")])
    assert (cont.mode, cont.user_text, cont.pairs) == ("continue", "Hi", [("Hi", "Hello.")])
    imp = parse_messages([*history, ("user", "[Write your next reply from the point of view of Al, ...]")])
    assert (imp.mode, imp.user_text, imp.pairs) == ("impersonate", "", [("Hi", "Hello.")])
    assert imp.instruction is not None
    assert imp.instruction.startswith("[Write your next reply")
    empty = parse_messages(history)
    assert (empty.mode, empty.user_text, empty.pairs) == ("send", "", [("Hi", "Hello.")])
    merged = parse_messages([("user", "[Start a new Chat]\n\nHi there")])
    assert merged.user_text == "Hi there"
    named = [("assistant", "Ada: Hello."), ("user", "Al: Hi"), ("assistant", "Ada: Aye."), ("user", "Al: Bye")]
    unnamed = parse_messages(named, user_names=["Al"], char_names=["Ada Quint", "Ada"])
    assert (unnamed.pairs, unnamed.user_text) == ([("Hi", "Aye.")], "Bye")
    mixed = parse_messages([("user", "Al: Hi"), ("assistant", "Aye."), ("user", "Bye")], user_names=["Al"])
    assert (mixed.pairs, mixed.user_text) == ([("Al: Hi", "Aye.")], "Bye")  # not every message: the user's own
    with pytest.raises(ValueError, match="messages: Continue needs"):
        parse_messages([("user", "Hi"), ("system", "[Continue your last message]")])
    with pytest.raises(ValueError, match="messages: no user message"):
        parse_messages([("assistant", "A greeting only.")])


def test_continue_with_the_guard_off_and_n_needs_the_guard(tmp_path: Path) -> None:
    app = create_app(mock_config(tmp_path, guard="off"))
    key = AccessStore(app.state.service.store).create_key("tavern").secret
    with running(app) as url:
        tavern = Tavern(url, key)
        first, ext = tavern.send("01_send")
        assert first == "You said: Hello, Ada."  # one unguarded candidate, streamed
        body = fixture("04_continue")
        body["messages"][-4:-1] = [{"role": "assistant", "content": first}]  # the chat as this server answered it
        response = tavern.http.post("/v1/chat/completions", json={**body, "stream": False})
        assert response.status_code == 200, response.text
        added = response.json()["choices"][0]["message"]["content"]
        assert added.startswith(" You said: [Continue your last message")
        turns = tavern.turns(ext["session_id"])
        assert len(turns) == 1
        assert shown(turns[0]) == first + added
        refused = tavern.http.post("/v1/chat/completions", json={**fixture("02_send"), "n": 2})
        assert refused.status_code == 400
        assert refused.json()["error"]["param"] == "n"
