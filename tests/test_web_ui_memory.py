"""The web UI's "What {character} knows about you" panel in headless Chromium, at 390 px and 1280 px: a fact told
in chat shows up with its date and source, can be corrected and forgotten (through the REST routes, which then list
the same), a later turn refreshes the open panel, another key's memory of a user of the same name never shows, and a
new chat with the same character lists the earlier conversation.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from helpers.browser import needs_chromium
from personae.memory import MemoryScope, UserFact
from personae.store import AccessStore, SessionStore, UserMemoryStore
from test_web_ui import WIDTHS, artifacts, browser, open_ui, start_chat

pytestmark = [pytest.mark.slow, *needs_chromium]
__all__ = ["artifacts", "browser"]  # fixtures shared with test_web_ui

FACTS = ".memory-panel .memory-fact .fact-text"


def facts_shown(page: Any) -> list[str]:
    return [str(t) for t in page.locator(FACTS).all_inner_texts()]


@pytest.mark.parametrize("width", WIDTHS)
def test_memory_panel_lists_corrects_and_forgets(tmp_path: Path, browser: Any, artifacts: Path, width: int) -> None:
    with open_ui(tmp_path, browser, width, artifacts) as ui:
        page = ui.page
        page.fill("#user-name", "Sam")
        page.press("#user-name", "Tab")
        start_chat(ui)
        ui.chat("I live in Leeds, and I work as a baker.")
        session = ui.api("GET", "/v1/sessions").json()[0]
        persona = session["persona_id"]
        # Another key's memory of a "Sam" with the same character: never this key's panel.
        store = SessionStore(f"sqlite:///{tmp_path / 'ui.db'}")
        other = AccessStore(store).create_key("other").key.id
        UserMemoryStore(store).add_fact(MemoryScope(other, "Sam", persona), UserFact(text="Sam owns a secret yacht."))
        store.close()

        page.click("#memory-button")
        page.wait_for_selector(FACTS)
        assert page.locator(".memory-panel h3").inner_text() == "What Ada Quint knows about you"
        assert sorted(facts_shown(page)) == ["Sam lives in Leeds.", "Sam works as a baker."]
        meta = page.locator(".memory-fact .fact-meta").first.inner_text()
        assert "told" in meta
        assert "in this chat · from what you said" in meta
        ui.no_sideways_scroll()
        ui.within_viewport("#memory-button")
        ui.within_viewport(".memory-fact:last-child .fact-forget")
        ui.shot("memory")

        # Correct: the panel and the REST listing say the new text; the old one is history, superseded by it.
        leeds = page.locator(".memory-fact", has_text="Leeds")
        leeds.locator(".fact-edit").click()
        page.fill(".fact-input", "Sam lives in York.")
        ui.no_sideways_scroll()
        page.click(".fact-save")
        page.wait_for_selector(f"{FACTS}:has-text('York')")
        assert sorted(facts_shown(page)) == ["Sam lives in York.", "Sam works as a baker."]
        assert "corrected by you" in page.locator(".memory-fact", has_text="York").inner_text()
        listed = ui.api("GET", f"/v1/users/Sam/memory?persona={persona}").json()["facts"]
        assert sorted(f["text"] for f in listed) == ["Sam lives in York.", "Sam works as a baker."]
        history = ui.api("GET", f"/v1/users/Sam/memory?persona={persona}&history=true").json()["facts"]
        old = next(f for f in history if f["text"] == "Sam lives in Leeds.")
        assert old["superseded_by"] == next(f["id"] for f in listed if "York" in f["text"])

        # Forget: gone from the panel, from the REST listing and from the history.
        page.locator(".memory-fact", has_text="baker").locator(".fact-forget").click()
        page.wait_for_function(f"![...document.querySelectorAll('{FACTS}')].some(n => n.textContent.includes('baker'))")
        assert facts_shown(page) == ["Sam lives in York."]
        history = ui.api("GET", f"/v1/users/Sam/memory?persona={persona}&history=true").json()["facts"]
        assert not [f for f in history if "baker" in f["text"]]
        assert [f["text"] for f in history if f["superseded_by"] is None] == ["Sam lives in York."]

        # A turn while the panel is open refreshes it.
        ui.chat("My dog is called Rex.")
        page.wait_for_selector(f"{FACTS}:has-text('Rex')")
        assert facts_shown(page)[0] == "Sam has a dog named Rex."  # newest first
        assert not [t for t in facts_shown(page) if "yacht" in t]

        # A new chat with Ada: the panel knows Sam and lists the earlier conversation.
        page.goto(f"{ui.base}/#/new/{persona}")
        page.wait_for_selector("#chat-title:has-text('Ada Quint')")
        page.wait_for_selector(".memory-panel .memory-episode")
        assert sorted(facts_shown(page)) == ["Sam has a dog named Rex.", "Sam lives in York."]
        assert "talked" in page.locator(".memory-episode").first.inner_text()
        ui.no_sideways_scroll()
        ui.shot("memory-returning")
        page.click(".memory-close")
        assert page.locator("#memory-panel").is_hidden()
        assert page.locator("#memory-button").get_attribute("aria-expanded") == "false"


def test_memory_panel_is_empty_for_a_new_user(tmp_path: Path, browser: Any, artifacts: Path) -> None:
    with open_ui(tmp_path, browser, 390, artifacts) as ui:
        start_chat(ui)
        ui.page.click("#memory-button")
        ui.page.wait_for_selector(".memory-empty")
        assert ui.page.locator(".memory-empty").inner_text() == "Ada Quint knows nothing about you yet."
        ui.no_sideways_scroll()
