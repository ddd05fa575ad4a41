"""The real thing: `streamlit run app.py` as a server, opened in headless Debian Chromium via Playwright."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(tiny_studies):
    """A Streamlit server over the tiny studies' home, bound to localhost; stopped after the test."""
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian chromium is missing: `make test` installs it (apt-get install chromium).")
    port = free_port()
    env = {**os.environ, "MTL_LAB_HOME": str(tiny_studies["home"])}
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(REPO / "app.py"), "--server.headless", "true",
         "--server.address", "127.0.0.1", "--server.port", str(port), "--browser.gatherUsageStats", "false"],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 60
        while True:
            try:
                urllib.request.urlopen(url + "/_stcore/health", timeout=2)
                break
            except OSError:
                if proc.poll() is not None or time.time() > deadline:
                    pytest.fail(f"streamlit did not start:\n{proc.stdout.read() if proc.poll() is not None else ''}")
                time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_home_page_renders_the_study_in_a_real_browser(server, tiny_studies, tmp_path):
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(server, timeout=60_000)
        page.get_by_text("Study: tiny demo").wait_for(timeout=60_000)
        page.locator(".js-plotly-plot").first.wait_for(timeout=60_000)  # Plotly drew the comparison chart
        body = page.inner_text("body")
        assert "which NLP tasks help each other" in body
        assert "Does learning together help?" in body
        assert page.locator(".js-plotly-plot").count() == 1  # the comparison chart (curves: Compare page)
        assert "study=" + tiny_studies["newest"] in page.url  # the URL names the study, so it can be shared
        page.screenshot(path=str(tmp_path / "home.png"), full_page=True)
        # A shared link to the older study opens that study.
        page.goto(f"{server}/?study={tiny_studies['older']}", timeout=60_000)
        page.get_by_text("Study: older").wait_for(timeout=60_000)
        browser.close()
    assert not errors, errors


PAGES = ("Data", "Tasks", "Train", "Compare", "Predict", "Playground")  # URL path = the heading it shows


def test_every_page_opens_without_an_error_in_a_real_browser(server, tiny_studies):
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        for path in PAGES:
            page.goto(f"{server}/{path}?study={tiny_studies['newest']}", timeout=60_000)
            page.get_by_role("heading", name=path).first.wait_for(timeout=60_000)
            page.wait_for_timeout(1500)  # let the script finish drawing
            assert page.locator('[data-testid="stException"]').count() == 0, (path, page.inner_text("body")[:2000])
        # The study travels with the URL: the sidebar links to it on the Compare page.
        page.get_by_text(f"Current study: {tiny_studies['newest']}").first.click()
        page.get_by_role("heading", name="Compare").first.wait_for(timeout=60_000)
        browser.close()
    assert not errors, errors
