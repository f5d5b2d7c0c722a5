"""The web UI end to end in headless Chromium (Debian's chromium driven by Playwright), on a phone (390 px) and a
desktop (1280 px) viewport: layout, chat with pending replies and swipes, safe Markdown, why, OOC, the chat list,
the URL, the user's name, evals on their own page and the favicon.

Screenshots go to an `ui-artifacts` folder under pytest's base temp dir (printed by `pytest -rA`), or to
`$PERSONAE_UI_ARTIFACTS` when set, for a reviewer to look at.
"""

from __future__ import annotations

import base64
import os
import re
import struct
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from helpers.browser import CHROMIUM, CHROMIUM_ARGS, needs_chromium
from helpers.cards import b64, png_with, text_chunk, v2_card
from helpers.server import EXAMPLES, running
from personae.backends import GenerateConfig, Message, get_backend
from personae.server import ServerConfig, Service, create_app
from personae.store import AccessStore, SessionStore

pytestmark = [pytest.mark.slow, *needs_chromium]  # a real browser against a real server

WIDTHS = [390, 1280]
DROP_FILE = """([b64, name]) => {
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const dt = new DataTransfer();
    dt.items.add(new File([bytes], name, { type: "image/png" }));
    return dt;
}"""

FAITHFUL = "I keep the lighthouse on the island of Rook, and I live alone with a cat."
UNFAITHFUL = "Mira Vale is not a lighthouse keeper. She does not live alone with a cat."
ADA_GOOD = "Aye, I captained the ferry for forty years. Skerry sleeps by the fire."
ADA_BAD = "I am not a ferry captain. I never had a dog."
LONG = "https://example.org/" + "a" * 300  # one unbreakable word must not widen the page
XSS = (
    '*Ada wipes the glass.* <img src=x onerror="window.__xss=1"> **Aye**, _quietly_ '
    f"<script>window.__xss=2</script> `code` {LONG}"
)
AI = "As an AI language model, I do not have a dog or a cottage."


def two_minds(messages: list[Message], config: GenerateConfig, index: int) -> str:
    """Candidate 0 stays in character, candidate 1 does not: the guard must show 0, a swipe shows 1."""
    return FAITHFUL if index % 2 == 0 else UNFAITHFUL


def ada(messages: list[Message], config: GenerateConfig, index: int) -> str:
    """Replies for Ada Quint chosen by the user's message: markup, an AI disclaimer, else good or bad by index."""
    last = messages[-1].content if messages else ""
    if "markup" in last:
        return XSS
    if "robot" in last:
        return AI
    return ADA_GOOD if index % 2 == 0 else ADA_BAD


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        launched = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="session")
def artifacts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = Path(os.environ.get("PERSONAE_UI_ARTIFACTS") or tmp_path_factory.getbasetemp() / "ui-artifacts")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@dataclass
class UI:
    """A page on a running server, logged in with a key."""

    base: str
    key: str
    page: Any
    width: int
    artifacts: Path

    def shot(self, name: str) -> Path:
        """A full-page screenshot kept as a test artifact; checked to be a real, non-blank PNG of the viewport width."""
        path = self.artifacts / f"{name}-{self.width}.png"
        self.page.screenshot(path=str(path), full_page=True)
        data = path.read_bytes()
        assert data.startswith(b"\x89PNG\r\n\x1a\n")
        assert struct.unpack(">I", data[16:20])[0] == self.width
        assert len(data) > 8_000  # a blank page compresses to a few kB
        return path

    def api(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """A REST call with the key, beside the browser."""
        headers = {"Authorization": f"Bearer {self.key}"}
        return httpx.request(method, self.base + path, headers=headers, timeout=30, **kwargs)

    def no_sideways_scroll(self) -> None:
        """The page is no wider than the viewport (the phone-layout defect: it scrolled sideways at 390 px)."""
        scroll, inner = self.page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert scroll <= inner, f"page is {scroll} px wide in a {inner} px viewport"

    def within_viewport(self, selector: str) -> None:
        box = self.page.locator(selector).bounding_box()
        assert box is not None, f"{selector} is not displayed"
        assert box["x"] >= 0, f"{selector} is off-screen: {box}"
        assert box["x"] + box["width"] <= self.width + 0.5, f"{selector} is off-screen: {box}"

    def chat(self, text: str) -> Any:
        """Send a message with Send and wait for its scored reply; returns the reply's locator."""
        before = self.page.locator(".msg.reply .meter").count()
        self.page.fill("#chat-input", text)
        self.page.click("#send")
        self.page.wait_for_function(f"document.querySelectorAll('.msg.reply .meter').length > {before}")
        return self.page.locator(".msg.reply").last


@contextmanager
def open_ui(
    tmp_path: Path,
    browser: Any,
    width: int,
    artifacts: Path,
    fn: Callable[[list[Message], GenerateConfig, int], str] = ada,
    delay: float = 0.0,
    **config: Any,
) -> Iterator[UI]:
    """A server on the scripted mock backend with the example personas, and a logged-in page at `width`."""
    url = f"sqlite:///{tmp_path / 'ui.db'}"
    store = SessionStore(url)
    key = AccessStore(store).create_key("ui").secret
    store.close()
    settings: dict[str, Any] = {
        "backend": "mock/echo",
        "database_url": url,
        "personas_dir": str(EXAMPLES),
        "scoring": "fake",
        "n": 2,
        **config,
    }
    service = Service(
        ServerConfig.model_validate(settings), backend=get_backend("mock/echo", fn=fn, delay=delay, cache=None)
    )
    with running(create_app(service=service)) as base:
        # Playwright evaluates the tests' string predicates with eval, which the UI's CSP forbids; the CSP itself is
        # tested in test_server_hardening.py.
        context = browser.new_context(viewport={"width": width, "height": 800 if width > 600 else 780}, bypass_csp=True)
        page = context.new_page()
        page.set_default_timeout(20_000)
        try:
            page.goto(base + "/")
            page.fill("#key", key)
            page.click("#save-key")
            page.wait_for_selector("#status:has-text('personas')")
            yield UI(base, key, page, width, artifacts)
        finally:
            context.close()


def start_chat(ui: UI, persona: str = "Ada Quint") -> None:
    ui.page.click(f".persona:has-text('{persona}')")
    ui.page.wait_for_selector(f"#chat-title:has-text('{persona}')")


# ---- layout -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("width", [360, *WIDTHS])
def test_layout_fits_the_screen(tmp_path: Path, browser: Any, artifacts: Path, width: int) -> None:
    with open_ui(tmp_path, browser, width, artifacts) as ui:
        page = ui.page
        ui.no_sideways_scroll()
        ui.within_viewport("#save-key")  # "Use key" was off-screen at 390 px
        ui.within_viewport("#user-name")
        assert page.locator("#personas .persona").count() == 3
        assert page.locator("#evals").is_hidden()  # eval runs live on their own page, not in the chat sidebar
        ui.shot("home")
        start_chat(ui)
        reply = ui.chat("How long were you at sea?")
        assert reply.locator(".text").inner_text() == ADA_GOOD
        ui.no_sideways_scroll()
        column = page.locator("#messages").bounding_box()
        assert column is not None
        assert column["width"] >= min(width * 0.9, 700)  # it was 86 px wide at 390 px
        for selector in ("#chat-input", "#send", ".msg.reply .swipe-next", ".msg.reply .regen"):
            ui.within_viewport(selector)
        ui.shot("chat")
        if width < 600:  # one pane at a time on a phone: the list is hidden while a chat is open, Back returns to it
            assert page.locator("#library").is_hidden()
            page.click("#back")
            page.wait_for_selector("#personas .persona")
            assert page.locator("#chat").is_hidden()
        else:
            assert page.locator("#library").is_visible()


# ---- a chat: pending replies, swipes, Markdown, why, OOC ------------------------------------------------------------


@pytest.mark.parametrize("width", WIDTHS)
def test_pending_reply_disables_send_and_queues_what_is_typed(
    tmp_path: Path, browser: Any, artifacts: Path, width: int
) -> None:
    with open_ui(tmp_path, browser, width, artifacts, delay=1.0) as ui:
        page = ui.page
        start_chat(ui)
        page.fill("#chat-input", "Do you keep a dog?")
        page.click("#send")
        page.wait_for_selector(".msg.reply .typing:has-text('Ada Quint is typing')")
        assert page.locator("#send").is_disabled()
        reply = page.locator(".msg.reply").last
        reply.locator(".meter").wait_for()
        page.wait_for_function("!document.querySelector('#send').disabled")  # re-enabled once the reply is shown
        assert reply.locator(".swipes").inner_text() == "1/2"
        # ↻: while the new replies are made, Send is disabled and a message typed is queued, visibly, never dropped.
        reply.locator(".regen").click()
        page.wait_for_selector(".msg.reply.pending .typing")
        assert page.locator("#send").is_disabled()
        assert reply.locator(".swipe-next").is_disabled()
        page.fill("#chat-input", "And a cat?")
        page.press("#chat-input", "Enter")
        queued = page.locator(".msg.user.queued")
        queued.wait_for()
        assert "queued" in queued.locator(".note").inner_text()
        assert page.input_value("#chat-input") == ""
        ui.shot("queued")
        # After ↻ the freshly chosen reply is the first of all the replies (it read 2/8, 3/12 before).
        page.wait_for_selector(".msg.reply:not(.last) .meter", timeout=30_000)  # the ↻ turn, then the queued one
        page.wait_for_function("document.querySelectorAll('.msg.reply .meter').length === 2")
        assert page.locator(".msg.user.queued").count() == 0
        users = page.locator(".msg.user .text").all_inner_texts()
        assert users == ["Do you keep a dog?", "And a cat?"]
        session_id = page.evaluate("location.hash").split("/")[-1]
        stored = ui.api("GET", f"/v1/sessions/{session_id}").json()
        assert [t["user_text"] for t in stored["turns"]] == ["Do you keep a dog?", "And a cat?"]
        assert len(stored["turns"][0]["candidates"]) == 4  # the ↻ round joined the first


def test_streamed_reply_shows_typing_until_its_first_words(tmp_path: Path, browser: Any, artifacts: Path) -> None:
    with open_ui(tmp_path, browser, 390, artifacts, guard="off", delay=2.0) as ui:
        page = ui.page
        start_chat(ui)
        page.fill("#chat-input", "Morning, Ada.")
        page.press("#chat-input", "Enter")
        page.wait_for_selector(".msg.reply .typing")
        assert page.locator("#send").is_disabled()
        reply = page.locator(".msg.reply").last
        reply.locator(".meter").wait_for()
        assert reply.locator(".text").inner_text() == ADA_GOOD
        assert reply.locator(".typing").count() == 0
        assert page.locator("#send").is_enabled()
        # Leaving the chat while a reply is made, and coming back before it is done, still shows the reply.
        page.fill("#chat-input", "Still there?")
        page.press("#chat-input", "Enter")
        page.wait_for_selector(".msg.reply .typing")
        page.click("#back")
        page.wait_for_function("location.hash === '#/'")
        page.go_back()
        page.wait_for_function("document.querySelectorAll('.msg.reply .meter').length === 2")
        assert page.locator(".msg.user .text").all_inner_texts() == ["Morning, Ada.", "Still there?"]


@pytest.mark.parametrize("width", WIDTHS)
def test_swipes_go_both_ways_and_count_from_one_after_regenerate(
    tmp_path: Path, browser: Any, artifacts: Path, width: int
) -> None:
    with open_ui(tmp_path, browser, width, artifacts) as ui:
        page = ui.page
        start_chat(ui)
        reply = ui.chat("Tell me about your work.")
        swipes = reply.locator(".swipes")
        assert swipes.inner_text() == "1/2"
        good = int(reply.locator(".meter .value").inner_text().rstrip("%"))
        # the colour and the hover text follow the calibrated verdicts, not the raw number
        assert "high" in (reply.locator(".meter").get_attribute("class") or "")
        assert "no statement violated" in (reply.locator(".meter").get_attribute("title") or "")
        reply.locator(".swipe-next").click()
        page.wait_for_selector(".msg.reply .swipes:has-text('2/2')")
        assert reply.locator(".text").inner_text() == ADA_BAD
        bad = int(reply.locator(".meter .value").inner_text().rstrip("%"))
        assert 0 <= bad < good <= 100
        assert "low" in (reply.locator(".meter").get_attribute("class") or "")
        assert "2 statements violated" in (reply.locator(".meter").get_attribute("title") or "")
        reply.locator(".swipe-prev").click()  # ◀ did not exist: swipes went forward only
        page.wait_for_selector(".msg.reply .swipes:has-text('1/2')")
        assert reply.locator(".text").inner_text() == ADA_GOOD
        reply.locator(".swipe-prev").click()  # wraps around
        page.wait_for_selector(".msg.reply .swipes:has-text('2/2')")
        reply.locator(".regen").click()
        page.wait_for_selector(".msg.reply .swipes:has-text('1/4')")
        session_id = page.evaluate("location.hash").split("/")[-1]
        turn = ui.api("GET", f"/v1/sessions/{session_id}").json()["turns"][-1]
        chosen = next(c for c in turn["candidates"] if c["index"] == turn["chosen_index"])
        assert chosen["round"] == 1  # the guard's pick of the new round is what 1/4 shows
        assert reply.locator(".text").inner_text() == chosen["text"]
        reply.locator(".regen").click()
        page.wait_for_selector(".msg.reply .swipes:has-text('1/6')")
        reply.locator(".swipe-prev").click()
        page.wait_for_selector(".msg.reply .swipes:has-text('6/6')")
        # What the UI shows is what the server stores as shown.
        turn = ui.api("GET", f"/v1/sessions/{session_id}").json()["turns"][-1]
        shown = next(c for c in turn["candidates"] if c["index"] == turn["chosen_index"])
        assert shown["text"] == reply.locator(".text").inner_text()


@pytest.mark.parametrize("width", WIDTHS)
def test_markdown_and_narration_are_rendered_and_nothing_is_run(
    tmp_path: Path, browser: Any, artifacts: Path, width: int
) -> None:
    with open_ui(tmp_path, browser, width, artifacts) as ui:
        page = ui.page
        start_chat(ui)
        user_xss = '<img src=y onerror="window.__xss=3"> *I wave* some markup'
        reply = ui.chat(user_xss)
        text = reply.locator(".text")
        assert text.locator("em.narration").first.inner_text() == "Ada wipes the glass."
        assert text.locator("strong").inner_text() == "Aye"
        assert text.locator("em.narration").nth(1).inner_text() == "quietly"
        assert text.locator("code").inner_text() == "code"
        assert "*" not in text.inner_text()
        assert '<img src=x onerror="window.__xss=1">' in text.inner_text()  # shown as text
        assert "<script>window.__xss=2</script>" in text.inner_text()
        user = page.locator(".msg.user .text").last
        assert user.locator("em.narration").inner_text() == "I wave"
        assert "<img src=y" in user.inner_text()
        assert page.locator(".msg img, .msg script").count() == 0
        page.reload()  # rendered again from the stored session
        page.wait_for_selector(".msg.reply em.narration")
        assert page.locator(".msg img, .msg script").count() == 0
        assert page.evaluate("window.__xss") is None
        ui.no_sideways_scroll()
        ui.shot("markdown")


@pytest.mark.parametrize("width", WIDTHS)
def test_why_lists_each_statement_once_with_its_evidence(
    tmp_path: Path, browser: Any, artifacts: Path, width: int
) -> None:
    with open_ui(tmp_path, browser, width, artifacts) as ui:
        page = ui.page
        start_chat(ui)
        reply = ui.chat("Were you a captain?")
        reply.locator(".swipe-next").click()
        page.wait_for_selector(".msg.reply .swipes:has-text('2/2')")
        reply.locator(".why-button").click()
        panel = page.locator(".why-panel")
        panel.wait_for()
        violated = panel.locator("ul.violated > li")
        assert violated.count() >= 1
        first = violated.first.inner_text()
        assert "Ada Quint is a retired ferry captain." in panel.locator("ul.violated").inner_text()
        # The evidence is the reply's sentence that decided the verdict.
        evidence = violated.first.locator(".evidence").inner_text().strip("“”")
        assert evidence in ADA_BAD.split(". ")[0] + "." or evidence in ADA_BAD, first
        statements = [re.sub(r" \(\d+%\)$", "", li.split("\n")[0]) for li in panel.locator("ul > li").all_inner_texts()]
        assert len(statements) == len(set(statements)), statements  # never under both Supported and Violated
        ui.shot("why")


@pytest.mark.parametrize("width", WIDTHS)
def test_out_of_character_reason_is_in_words_and_the_meter_agrees(
    tmp_path: Path, browser: Any, artifacts: Path, width: int
) -> None:
    with open_ui(tmp_path, browser, width, artifacts, n=1) as ui:
        page = ui.page
        start_chat(ui)
        reply = ui.chat("Are you a robot?")
        badge = reply.locator(".ooc-badge")
        assert badge.inner_text() == "out of character"
        assert "says it is an AI" in reply.locator(".ooc-reason").inner_text()  # was only in a tooltip
        ui.within_viewport(".ooc-reason")
        colours = page.evaluate(
            """() => {
                const reply = [...document.querySelectorAll('.msg.reply')].pop();
                const fill = getComputedStyle(reply.querySelector('.meter .fill')).backgroundColor;
                const badge = getComputedStyle(reply.querySelector('.ooc-badge')).backgroundColor;
                return [fill, badge];
            }"""
        )
        assert colours[0] == colours[1]  # a green meter sat beside the red badge
        ui.no_sideways_scroll()
        ui.shot("ooc")


# ---- the chat list, the URL, the user's name -----------------------------------------------------------------------


def persona_id(ui: UI, name: str) -> str:
    return next(p["id"] for p in ui.api("GET", "/v1/personas").json() if p["name"] == name)


def seed_sessions(ui: UI, count: int) -> list[str]:
    """`count` Ada sessions with one turn each, through the REST API; the last message of session i names i."""
    ids = []
    ada_id = persona_id(ui, "Ada Quint")
    for i in range(count):
        sid = ui.api("POST", "/v1/sessions", json={"persona": ada_id}).json()["id"]
        ui.api("POST", f"/v1/sessions/{sid}/messages", json={"content": f"Question number {i}?"})
        ids.append(sid)
    return ids


@pytest.mark.parametrize("width", WIDTHS)
def test_chat_list_has_previews_dates_search_and_pages(
    tmp_path: Path, browser: Any, artifacts: Path, width: int
) -> None:
    with open_ui(tmp_path, browser, width, artifacts, n=1) as ui:
        page = ui.page
        ids = seed_sessions(ui, 45)
        hidden = ui.api("POST", "/v1/sessions", json={"persona": persona_id(ui, "Captain Iris Vega")}).json()["id"]
        ui.api("POST", f"/v1/sessions/{hidden}/messages", json={"content": "Where is the zephyr lantern?"})
        page.reload()
        page.wait_for_selector("#sessions .session")
        rows = page.locator("#sessions .session")
        assert rows.count() == 20
        first = rows.first
        assert first.locator(".avatar").inner_text() != ""
        assert first.locator(".preview").inner_text() != ""
        assert re.search(r"\d", first.locator(".date").inner_text())
        assert page.locator("#sessions-range").inner_text() == "1–20"
        ui.shot("chats")
        page.click("#sessions-older")
        page.wait_for_selector("#sessions-range:has-text('21–40')")
        page.click("#sessions-older")
        page.wait_for_selector("#sessions-range:has-text('41–46')")  # the list stopped at 30
        assert page.locator("#sessions-older").is_disabled()
        listed = page.locator("#sessions .session").evaluate_all("(rows) => rows.map((r) => r.dataset.id)")
        assert ids[0] in listed  # the oldest is on the last page
        page.fill("#session-search", "zephyr")
        page.wait_for_function("document.querySelectorAll('#sessions .session').length === 1")
        assert page.locator("#session-pager").is_hidden()  # one page: nothing to page through
        assert page.locator("#sessions .session").get_attribute("data-id") == hidden  # found by what the user said
        page.fill("#session-search", "no such words anywhere")
        page.wait_for_selector("#sessions .none:has-text('no chat matches')")
        ui.no_sideways_scroll()


@pytest.mark.parametrize("width", WIDTHS)
def test_the_open_chat_is_in_the_url_and_picking_a_persona_stores_nothing(
    tmp_path: Path, browser: Any, artifacts: Path, width: int
) -> None:
    with open_ui(tmp_path, browser, width, artifacts) as ui:
        page = ui.page
        start_chat(ui)
        assert page.evaluate("location.hash") == f"#/new/{persona_id(ui, 'Ada Quint')}"
        assert ui.api("GET", "/v1/sessions").json() == []  # a click on a persona made an empty session
        page.click("#back" if width < 600 else "#nav-chats")
        assert ui.api("GET", "/v1/sessions").json() == []
        start_chat(ui)
        ui.chat("Good morning!")
        session_id = ui.api("GET", "/v1/sessions").json()[0]["id"]
        assert page.evaluate("location.hash") == f"#/chat/{session_id}"
        page.reload()  # reload lost the open chat
        page.wait_for_selector("#chat-title:has-text('Ada Quint')")
        assert page.locator(".msg.user .text").inner_text() == "Good morning!"
        page.click("#back" if width < 600 else "#nav-chats")
        page.wait_for_function("location.hash === '#/'")
        page.go_back()
        page.wait_for_selector("#chat:not([hidden]) .msg.user")
        assert page.evaluate("location.hash") == f"#/chat/{session_id}"
        assert page.locator(".msg.user .text").inner_text() == "Good morning!"
        page.goto(ui.base + "/#/")  # chats are links: the keyboard opens them too
        page.focus(f"#sessions .session[data-id='{session_id}'] a")
        page.keyboard.press("Enter")
        page.wait_for_function(f"location.hash === '#/chat/{session_id}'")
        page.wait_for_selector("#chat:not([hidden]) .msg.user")


@pytest.mark.parametrize("width", WIDTHS)
def test_the_user_sets_their_name(tmp_path: Path, browser: Any, artifacts: Path, width: int) -> None:
    with open_ui(tmp_path, browser, width, artifacts) as ui:
        page = ui.page
        page.fill("#user-name", "Robin")
        page.press("#user-name", "Tab")
        start_chat(ui)
        ui.chat("Hello there.")
        assert page.locator(".msg.user .who").inner_text() == "Robin"
        session = ui.api("GET", "/v1/sessions").json()[0]
        assert session["user_name"] == "Robin"
        page.reload()  # the name is remembered
        assert page.input_value("#user-name") == "Robin" or width < 600
        assert page.locator(".msg.user .who").inner_text() == "Robin"


def test_favicon_and_no_failed_requests(tmp_path: Path, browser: Any, artifacts: Path) -> None:
    with open_ui(tmp_path, browser, 1280, artifacts) as ui:
        failed: list[str] = []
        ui.page.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None)
        ui.page.reload()
        ui.page.wait_for_selector("#personas .persona")
        response = ui.page.request.get(ui.base + "/favicon.ico")
        assert response.status == 200
        assert response.body()[:4] == b"\x00\x00\x01\x00"  # an ICO header
        assert ui.page.request.get(ui.base + "/static/favicon.svg").status == 200
        assert failed == []


# ---- cards and evals ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("width", WIDTHS)
def test_import_a_card_chat_a_turn_and_open_why(tmp_path: Path, browser: Any, artifacts: Path, width: int) -> None:
    card = png_with([text_chunk("chara", b64(v2_card()))])
    with open_ui(tmp_path, browser, width, artifacts, fn=two_minds, personas_dir=None) as ui:
        page = ui.page
        page.wait_for_selector("#status:has-text('0 personas')")
        # A real drop event carrying the card file, as a user dragging it from their desktop makes.
        transfer = page.evaluate_handle(DROP_FILE, [base64.b64encode(card).decode(), "mira.png"])
        page.dispatch_event("#dropzone", "drop", {"dataTransfer": transfer})
        # The card's own picture replaces the initials in the persona list, the chat header and the chat list.
        face = page.wait_for_selector(".persona[data-id='mira-vale'] .avatar img")
        assert face.evaluate("img => [img.src.startsWith('blob:'), img.complete, img.naturalWidth]") == [True, True, 8]
        start_chat(ui, "Mira Vale")
        page.wait_for_selector("#chat-avatar img")
        greeting = page.locator(".msg.reply").first
        assert greeting.locator("em.narration").inner_text() == "Mira holds up a lantern."
        reply = ui.chat("Do you live alone?")
        assert reply.locator(".text").inner_text() == FAITHFUL
        page.wait_for_selector(".session .avatar img", state="attached")  # the list is off-screen on a phone
        reply.locator(".swipe-next").click()
        page.wait_for_selector(".msg.reply .swipes:has-text('2/2')")
        assert reply.locator(".text").inner_text() == UNFAITHFUL
        reply.locator(".why-button").click()
        page.wait_for_selector(".why-panel")
        assert "Mira Vale lives alone with a cat." in page.inner_text(".why-panel .violated")
        reply.locator(".swipe-next").click()
        page.wait_for_selector(".msg.reply .swipes:has-text('1/2')")
        reply.locator(".why-button").click()
        panel = page.wait_for_selector(".why-panel")
        assert "lighthouse keeper" in page.inner_text(".why-panel .supported")
        assert "none" in panel.inner_text().split("Violated statements")[1]
        ui.shot("card-chat")


EVAL_SPEC = """name: ui-eval
personas: [examples/personas]
agent: {backend: mock/evals-agent}
roles: {judge: {backend: mock/evals-judge}, nli: fake, embedder: fake}
tasks:
  faithfulness: {stated: 1, unstated: 1, break_character: 0}
"""


@pytest.mark.parametrize("width", WIDTHS)
def test_evals_have_their_own_page_with_the_report(tmp_path: Path, browser: Any, artifacts: Path, width: int) -> None:
    root = Path(__file__).resolve().parents[1]
    with open_ui(tmp_path, browser, width, artifacts, evals_dir=str(tmp_path / "evals"), eval_base_dir=str(root)) as ui:
        page = ui.page
        assert page.locator("#eval-spec").is_hidden()  # not in the chat sidebar
        page.click("#nav-evals")
        page.wait_for_function("location.hash === '#/evals'")
        page.wait_for_selector("#evals-page:not([hidden])")  # the hashchange handler runs after the hash changes
        assert page.locator("#library").is_hidden()
        page.fill("#eval-spec", "name: broken\npersonas: []\n")
        page.click("#run-eval")
        page.wait_for_selector("#status:has-text('eval not started: 400')")
        assert "personas" in page.inner_text("#status")
        page.fill("#eval-spec", EVAL_SPEC)
        page.click("#run-eval")
        page.wait_for_selector("#status:has-text('6 items')")  # 3 personas x 2 faithfulness probes
        run = page.wait_for_selector(".eval.finished:has-text('ui-eval')", timeout=60_000)
        assert "6/6 items" in run.inner_text()
        ui.no_sideways_scroll()
        run.click()
        page.wait_for_selector("#eval-title:has-text('Eval: ui-eval')")
        assert re.fullmatch(r"#/evals/\w+", page.evaluate("location.hash"))
        report = page.frame_locator("#report")
        assert "ui-eval" in report.locator("body").inner_text()
        assert "faithfulness" in report.locator("body").inner_text()
        ui.shot("eval")
        page.reload()  # the open report is in the URL too
        page.wait_for_selector("#eval-title:has-text('Eval: ui-eval')")


def test_a_scene_report_fits_a_phone(tmp_path: Path, browser: Any, artifacts: Path) -> None:
    # The report's nine-column character table and its fixed-size charts made the page scroll sideways at 390 px.
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    from helpers.runtime import fake_models
    from personae.scene import SceneRun, load_scene

    spec = load_scene(EXAMPLES.parent / "scenes" / "harbour.yaml").with_backend("mock/scene")
    scene = SceneRun(spec, tmp_path / "scene", models=fake_models())
    with ThreadPoolExecutor(1) as pool:  # Playwright's sync API holds this thread's event loop
        pool.submit(lambda: asyncio.run(scene.run())).result()
    page = browser.new_page(viewport={"width": 390, "height": 800})
    try:
        page.goto((tmp_path / "scene" / "report.html").as_uri())
        scroll, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert scroll <= inner, f"the report is {scroll} px wide in a {inner} px viewport"
        for chart in page.locator("svg.chart").all():
            box = chart.bounding_box()
            assert box is not None
            assert box["x"] + box["width"] <= inner
        table = page.locator("table").nth(1)  # the characters: scrolls inside itself
        assert table.evaluate("t => t.scrollWidth > t.clientWidth")
        page.screenshot(path=str(artifacts / "scene-report-390.png"), full_page=True)
    finally:
        page.close()


# ---- group chats ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("width", WIDTHS)
def test_a_group_chat_with_two_personas(tmp_path: Path, browser: Any, artifacts: Path, width: int) -> None:
    scenes = str(tmp_path / "scenes")
    with open_ui(tmp_path, browser, width, artifacts, backend="mock/scene", scenes_dir=scenes) as ui:
        page = ui.page
        page.click("#nav-group")
        page.wait_for_function("location.hash === '#/group'")
        # the hash changes before the hashchange handler renders the picker: wait for the picker, then count
        page.wait_for_selector("#group-personas .persona")
        assert page.locator("#group-personas .persona").count() == 3
        assert page.locator("#group-start").is_disabled()
        page.check("#group-personas input[value='ada-quint']")
        assert page.locator("#group-start").is_disabled()  # two at least
        page.check("#group-personas input[value='captain-iris-vega']")
        page.click("#group-start")
        page.wait_for_function("/^#\\/group\\/[0-9a-f]{12}$/.test(location.hash)")
        page.wait_for_selector("#group-meta:has-text('your turn')")
        assert page.locator("#group-title").inner_text() == "Ada Quint, Captain Iris Vega"
        page.fill("#group-input", "Hello Ada, hello Vega!")
        page.click("#group-send")
        page.wait_for_function("document.querySelectorAll('.group-reply .meter').length === 2")
        page.wait_for_selector("#group-meta:has-text('your turn')")
        replies = page.locator(".group-reply")
        assert replies.locator(".who .name").all_inner_texts() == ["Ada Quint", "Captain Iris Vega"]
        assert replies.locator(".who .avatar").count() == 2
        assert "I hear you, User" in replies.first.locator(".text").inner_text()  # Ada answers the user
        # how a chat ended is shown in the server's words, not as the runner's code
        ended = {"kind": "end", "step": "end", "turn": 4, "text": "turns", "ended": "ended at its turn limit"}
        assert page.evaluate("(t) => groupLine(t).textContent", ended) == "The chat ended at its turn limit."
        assert page.locator(".msg.user .text").all_inner_texts() == ["Hello Ada, hello Vega!"]
        replies.first.locator(".why-button").click()
        panel = replies.first.locator(".why-panel")
        panel.wait_for()
        assert "Supported statements" in panel.inner_text()
        ui.no_sideways_scroll()
        for selector in ("#group-input", "#group-send", ".group-reply >> nth=1"):
            ui.within_viewport(selector)
        ui.shot("group-chat")
        scene_id = page.evaluate("location.hash").split("/")[-1]
        stored = ui.api("GET", f"/v1/scenes/{scene_id}").json()
        assert [(t["kind"], t["speaker"]) for t in stored["turns"]] == [
            ("user", "User"),
            ("line", "Ada Quint"),
            ("line", "Captain Iris Vega"),
        ]
        page.reload()  # the open group chat is in the URL: it comes back from the server
        page.wait_for_function("document.querySelectorAll('.group-reply .meter').length === 2")
        if width < 600:  # one pane at a time: the picker is hidden while a group chat is open
            assert page.locator("#group-side").is_hidden()
            page.click("#group-head .back")
            page.wait_for_selector("#group-chats .session")
            assert page.locator("#group-view").is_hidden()
        else:  # the list of group chats loads beside the open chat, not before it: wait for it, then count
            page.wait_for_selector("#group-chats .session")
            assert page.locator("#group-chats .session").count() == 1
        assert page.locator("#library").is_hidden()
        ui.no_sideways_scroll()
