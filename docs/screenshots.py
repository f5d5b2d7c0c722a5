"""Take the screenshots in docs/images/: the web UI after one guarded turn (desktop and phone), and an eval report.

    python docs/screenshots.py [--shared ../shared/data]

Needs the dev extras (FastAPI, uvicorn, Playwright) and Debian's Chromium at /usr/bin/chromium (never
`playwright install`). The chat runs on the mock backend with two scripted candidates, one faithful to Ada Quint
and one not, scored by the shipped models; the eval runs every task on the offline mock models. Not part of
`make test`: rerun it by hand when the UI or the report changes.
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import uvicorn
from fastapi import FastAPI

from personae.backends import GenerateConfig, Message, get_backend
from personae.evals import run_eval, spec_from_data
from personae.server import ServerConfig, Service, create_app
from personae.store import AccessStore, SessionStore

ROOT = Path(__file__).resolve().parents[1]
IMAGES = ROOT / "docs" / "images"
EXAMPLES = ROOT / "examples" / "personas"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
QUESTION = "Fancy a bacon roll before we take the boat out?"
CANDIDATES = (
    "Och, no. I've not touched meat in thirty years. A cheese scone will do me.",
    "Aye, a bacon roll sounds grand. I never say no to bacon.",
)


def scripted(messages: list[Message], config: GenerateConfig, index: int) -> str:
    """Candidate 0 keeps to Ada's facts, candidate 1 contradicts one; other requests (summaries) get a short line."""
    last = messages[-1].content if messages else ""
    return CANDIDATES[index % 2] if "bacon" in last else "Aye."


@contextmanager
def serving(app: FastAPI) -> Iterator[str]:
    """Serve `app` on a free loopback port until the block ends; yields the base URL."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=20)


def web_ui(tmp: Path) -> None:
    """The chat after one guarded turn, with the why panel open, on a desktop and on a phone."""
    from playwright.sync_api import sync_playwright

    url = f"sqlite:///{tmp / 'ui.db'}"
    store = SessionStore(url)
    key = AccessStore(store).create_key("docs").secret
    store.close()
    config = ServerConfig(backend="mock/echo", database_url=url, personas_dir=EXAMPLES, scoring="onnx", n=2)
    service = Service(config, backend=get_backend("mock/echo", fn=scripted, cache=None))
    with serving(create_app(service=service)) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 760})
            page.goto(base + "/")
            page.fill("#key", key)
            page.click("#save-key")
            page.fill("#user-name", "Robin")
            page.press("#user-name", "Tab")
            page.click(".persona:has-text('Ada Quint')", timeout=60_000)
            page.wait_for_selector("#chat-title:has-text('Ada Quint')")
            page.fill("#chat-input", QUESTION)
            page.click("#send")
            page.wait_for_selector(".msg.reply .meter .value", timeout=120_000)
            page.locator(".msg.reply").last.locator(".why-button").click()
            page.wait_for_selector(".why-panel")
            page.screenshot(path=str(IMAGES / "web-ui.png"))
            page.set_viewport_size({"width": 390, "height": 844})  # the same chat on a phone
            page.locator(".why-panel").scroll_into_view_if_needed()
            page.screenshot(path=str(IMAGES / "web-ui-phone.png"))
        finally:
            browser.close()


def eval_report(tmp: Path, shared: Path) -> None:
    """The top of an eval report over every task, on the offline mock models."""
    from playwright.sync_api import sync_playwright

    tasks: dict[str, dict[str, object]] = {
        "faithfulness": {"stated": 2, "unstated": 1, "break_character": 1},
        "multi-turn": {"turns": 3, "goals": ["small-talk"]},
        "role-id": {},
    }
    if (shared / "incharacter" / "BFI.json").exists():
        tasks["psychometric"] = {"questionnaire": str(shared / "incharacter" / "BFI.json"), "items": 10}
    if (shared / "personagym" / "tasks_and_environments.json").exists():
        environments = str(shared / "personagym" / "tasks_and_environments.json")
        tasks["persona-gym"] = {"questions_per_task": 1, "environments": environments}
    spec = spec_from_data(
        {
            "name": "example-personas",
            "personas": [str(EXAMPLES)],
            "agent": {"backend": "mock/evals-agent", "guard": "off"},
            "roles": {"judge": [{"backend": "mock/evals-judge"}], "nli": "fake", "embedder": "fake"},
            "tasks": tasks,
        },
        "docs-spec",
        base_dir=ROOT,
    )
    out = tmp / "run"
    asyncio.run(run_eval(spec, out))
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            page.goto((out / "report.html").as_uri())
            # The Big Five radars: the section a reader cannot picture from the text alone.
            top = page.locator("h2:has-text('Big Five profiles')").bounding_box()
            bottom = page.locator("h2:has-text('Big Five profiles') ~ h2").first.bounding_box()
            if top is None or bottom is None:
                raise RuntimeError("the report has no Big Five section: pass --shared with incharacter/BFI.json")
            page.screenshot(
                path=str(IMAGES / "eval-report.png"),
                full_page=True,
                clip={"x": 0.0, "y": top["y"] - 16, "width": 1200.0, "height": bottom["y"] - top["y"]},
            )
        finally:
            browser.close()


def main() -> None:
    """Write docs/images/web-ui.png, web-ui-phone.png and eval-report.png."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "data", help="the shared data folder")
    args = parser.parse_args()
    IMAGES.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="personae-shots-") as tmp:
        web_ui(Path(tmp))
        eval_report(Path(tmp), args.shared)
    for name in ("web-ui.png", "web-ui-phone.png", "eval-report.png"):
        print(f"{IMAGES / name}: {(IMAGES / name).stat().st_size // 1024} KB")


if __name__ == "__main__":
    main()
