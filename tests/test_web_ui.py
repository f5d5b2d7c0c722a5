"""The web UI end to end in headless Chromium (Debian's chromium driven by Playwright): import, chat, why."""

from __future__ import annotations

import base64
import os
import shutil
import struct
from pathlib import Path

import pytest

from helpers.browser import CHROMIUM, CHROMIUM_ARGS, needs_chromium
from helpers.cards import b64, png_with, text_chunk, v2_card
from helpers.server import running
from personae.backends import GenerateConfig, Message, get_backend
from personae.server import ServerConfig, Service, create_app
from personae.store import AccessStore, SessionStore

pytestmark = [pytest.mark.slow, *needs_chromium]  # a real browser against a real server

DROP_FILE = """([b64, name]) => {
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const dt = new DataTransfer();
    dt.items.add(new File([bytes], name, { type: "image/png" }));
    return dt;
}"""

FAITHFUL = "I keep the lighthouse on the island of Rook, and I live alone with a cat."
UNFAITHFUL = "Mira Vale is not a lighthouse keeper. She does not live alone with a cat."


def two_minds(messages: list[Message], config: GenerateConfig, index: int) -> str:
    """Candidate 0 stays in character, candidate 1 does not: the guard must show 0, a swipe shows 1."""
    return FAITHFUL if index == 0 else UNFAITHFUL


def test_import_a_card_chat_a_turn_and_open_why(tmp_path: Path) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    url = f"sqlite:///{tmp_path / 'ui.db'}"
    store = SessionStore(url)
    key = AccessStore(store).create_key("ui").secret
    store.close()
    config = ServerConfig(backend="mock/echo", database_url=url, scoring="fake", n=2)
    card = png_with([text_chunk("chara", b64(v2_card()))])
    shot = tmp_path / "chat.png"
    service = Service(config, backend=get_backend("mock/echo", fn=two_minds, cache=None))
    with running(create_app(service=service)) as base, sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 800})
            page.goto(base + "/")
            page.fill("#key", key)
            page.click("#save-key")
            page.wait_for_selector("#status:has-text('0 personas')")
            # A real drop event carrying the card file, as a user dragging it from their desktop makes.
            transfer = page.evaluate_handle(DROP_FILE, [base64.b64encode(card).decode(), "mira.png"])
            page.dispatch_event("#dropzone", "drop", {"dataTransfer": transfer})
            persona = page.wait_for_selector(".persona:has-text('Mira Vale')")
            persona.click()
            page.wait_for_selector("#chat-title:has-text('Mira Vale')")
            page.fill("#chat-input", "Do you live alone?")
            page.click("#send")
            page.wait_for_selector(".msg.reply .meter .value")
            reply = page.locator(".msg.reply").last
            assert reply.locator(".text").inner_text() == FAITHFUL
            assert reply.locator(".swipes").inner_text() == "1/2"
            faithful = int(reply.locator(".meter .value").inner_text().rstrip("%"))
            reply.locator(".swipe").click()
            page.wait_for_selector(".msg.reply .swipes:has-text('2/2')")
            assert reply.locator(".text").inner_text() == UNFAITHFUL
            unfaithful = int(reply.locator(".meter .value").inner_text().rstrip("%"))
            assert 0 <= unfaithful < faithful <= 100
            reply.locator(".why-button").click()
            panel = page.wait_for_selector(".why-panel")
            assert "Mira Vale lives alone with a cat." in page.inner_text(".why-panel .violated")
            reply.locator(".swipe").click()
            page.wait_for_selector(".msg.reply .swipes:has-text('1/2')")
            reply.locator(".why-button").click()
            panel = page.wait_for_selector(".why-panel")
            assert "lighthouse keeper" in page.inner_text(".why-panel .supported")
            assert "none" in panel.inner_text().split("Violated statements")[1]
            page.screenshot(path=str(shot), full_page=True)
            if os.environ.get("PERSONAE_UI_SCREENSHOT"):  # a copy outside tmp for a reviewer to look at
                shutil.copy(shot, os.environ["PERSONAE_UI_SCREENSHOT"])
        finally:
            browser.close()
    data = shot.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = struct.unpack(">II", data[16:24])
    assert (width, height) == (1200, 800)
    assert len(data) > 20_000  # a blank page compresses to a few kB


EVAL_SPEC = """name: ui-eval
personas: [examples/personas]
agent: {backend: mock/evals-agent}
roles: {judge: {backend: mock/evals-judge}, nli: fake, embedder: fake}
tasks:
  faithfulness: {stated: 1, unstated: 1, break_character: 0}
"""


def test_start_an_eval_from_the_ui_and_open_its_report(tmp_path: Path) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    url = f"sqlite:///{tmp_path / 'ui.db'}"
    store = SessionStore(url)
    key = AccessStore(store).create_key("ui").secret
    store.close()
    root = Path(__file__).resolve().parents[1]
    config = ServerConfig(
        backend="mock/echo", database_url=url, scoring="fake", evals_dir=tmp_path / "evals", eval_base_dir=root
    )
    shot = tmp_path / "eval.png"
    with running(create_app(config)) as base, sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 800})
            page.goto(base + "/")
            page.fill("#key", key)
            page.click("#save-key")
            page.wait_for_selector("#status:has-text('0 personas')")
            page.fill("#eval-spec", "name: broken\npersonas: []\n")
            page.click("#run-eval")
            page.wait_for_selector("#status:has-text('eval not started: 400')")
            assert "personas" in page.inner_text("#status")
            page.fill("#eval-spec", EVAL_SPEC)
            page.click("#run-eval")
            page.wait_for_selector("#status:has-text('6 items')")  # 3 personas x 2 faithfulness probes
            run = page.wait_for_selector(".eval.finished:has-text('ui-eval')", timeout=60_000)
            assert "6/6 items" in run.inner_text()
            run.click()
            page.wait_for_selector("#eval-title:has-text('Eval: ui-eval')")
            report = page.frame_locator("#report")
            assert "ui-eval" in report.locator("body").inner_text()
            assert "faithfulness" in report.locator("body").inner_text()
            page.screenshot(path=str(shot), full_page=True)
            if os.environ.get("PERSONAE_UI_EVAL_SCREENSHOT"):  # a copy outside tmp for a reviewer to look at
                shutil.copy(shot, os.environ["PERSONAE_UI_EVAL_SCREENSHOT"])
        finally:
            browser.close()
    data = shot.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    assert len(data) > 20_000  # a blank page compresses to a few kB
