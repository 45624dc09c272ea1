"""The app in a real browser: Debian's Chromium driven by Playwright (no browser download).

Screenshots of each step land in tests/artifacts/ for a person to look at.
"""
from __future__ import annotations

import shutil

import pytest

from conftest import ROOT

from hub import service

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian chromium is not installed (apt-get install chromium)")
ARTIFACTS = ROOT / "tests" / "artifacts"


@pytest.fixture(scope="module")
def page(app_url, tmp_path_factory):
    sync_api = pytest.importorskip("playwright.sync_api")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as p:
        ctx = p.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("profile")), executable_path=CHROMIUM, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"],
            viewport={"width": 1400, "height": 1000})
        pg = ctx.new_page()
        pg.goto(app_url, wait_until="networkidle")
        yield pg
        ctx.close()


def test_upload_draw_run_and_see_every_result(page):
    page.set_input_files('#editor input[type="file"]', str(ROOT / "examples" / "chelsea.png"))
    canvas = page.locator("#editor canvas").first
    canvas.wait_for(state="visible", timeout=30_000)
    page.wait_for_timeout(1500)
    box = canvas.bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(cx - 60, cy - 10)
    page.mouse.down()
    page.mouse.move(cx + 60, cy + 20, steps=25)
    page.mouse.up()
    page.screenshot(path=str(ARTIFACTS / "1_drawn.png"))
    page.click("#run")
    n = len(service.available_models())
    page.wait_for_function(f"document.querySelectorAll('#results img').length >= {n}", timeout=180_000)
    page.wait_for_selector("#hole:has-text('bin')", timeout=30_000)
    page.screenshot(path=str(ARTIFACTS / "2_results.png"), full_page=True)
    assert page.locator("#results img").count() >= n
    text = page.locator("#scores").inner_text()
    for name in service.available_models():
        assert name in text


def test_leaderboard_tab_shows_chart(page):
    page.get_by_role("tab", name="Leaderboard").click()
    page.wait_for_selector("#lb-plot .js-plotly-plot", timeout=60_000)
    page.wait_for_timeout(1000)
    page.screenshot(path=str(ARTIFACTS / "3_leaderboard.png"), full_page=True)
    assert page.locator("#lb-table").inner_text().count("cv2_telea") >= 1


def test_models_tab_shows_cards(page):
    page.get_by_role("tab", name="Models").click()
    page.wait_for_selector("text=Paper:", timeout=30_000)
    page.screenshot(path=str(ARTIFACTS / "4_models.png"), full_page=True)
    assert page.locator("text=Paper:").count() >= 3
