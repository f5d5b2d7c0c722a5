"""The HTML report renders in headless Chromium with its plots (bars, Big Five radar, drift curves)."""

from __future__ import annotations

from pathlib import Path

from helpers.browser import CHROMIUM, CHROMIUM_ARGS, needs_chromium
from helpers.evals import BFI, mock_spec, needs_bfi
from personae.evals import compare_runs, run_eval

pytestmark = needs_chromium


@needs_bfi
async def test_report_renders_offline_with_plots_in_headless_chromium(tmp_path: Path) -> None:
    from playwright.async_api import async_playwright

    spec = mock_spec(
        {
            "persona-gym": {"questions_per_task": 1},
            "psychometric": {"questionnaire": str(BFI), "items": 10},
            "multi-turn": {"turns": 3, "goals": ["small-talk"]},
            "role-id": {},
        }
    )
    out = tmp_path / "run"
    await run_eval(spec, out)
    compare = compare_runs([out, out], tmp_path / "compare.html")
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = await browser.new_page(viewport={"width": 1200, "height": 900})
        requests: list[str] = []
        page.on("request", lambda r: requests.append(r.url))
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        await page.goto(out.joinpath("report.html").as_uri())
        bars = await page.locator("svg.bars").count()
        radars = await page.locator("svg.radar").count()
        lines = await page.locator("svg.lines").count()
        assert bars >= 5  # PersonaScore plus one per task
        assert radars == 3  # one Big Five radar per persona
        assert lines == 2  # drift of APC and of self-contradiction
        drawn = await page.locator("svg.bars rect[fill^='#']").count()
        assert drawn > 10
        box = await page.locator("svg.radar").first.bounding_box()
        assert box is not None
        assert box["width"] > 200
        assert box["height"] > 200
        shot = await page.screenshot(full_page=True)
        await page.goto(compare.as_uri())
        assert await page.locator("svg.bars").count() >= 4
        await browser.close()
    assert shot[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(shot) > 50_000
    (tmp_path / "report.png").write_bytes(shot)
    assert not errors
    assert all(url.startswith("file://") for url in requests), requests
