"""The real thing: `streamlit run app.py` as a server, opened in headless Debian Chromium via Playwright."""
from __future__ import annotations

import csv
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect, sync_playwright

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def scroll_to(locator, tries: int = 5) -> None:
    """Scroll ``locator`` into view, again if a Streamlit rerun replaced the element meanwhile (it detaches)."""
    for attempt in range(tries):
        try:
            locator.scroll_into_view_if_needed(timeout=15_000)
            return
        except PlaywrightError:
            if attempt == tries - 1:
                raise
            time.sleep(0.5)


@contextmanager
def serve(home: Path, **env_extra: str):
    """`streamlit run app.py` over MTL Lab home ``home`` on a free localhost port; its URL until stopped."""
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian chromium is missing: `make test` installs it (apt-get install chromium).")
    port = free_port()
    env = {**os.environ, "MTL_LAB_HOME": str(home), **env_extra}
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


@pytest.fixture
def server(tiny_studies):
    """A Streamlit server over the tiny studies' home, bound to localhost; stopped after the test."""
    with serve(tiny_studies["home"]) as url:
        yield url


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


PAGES = ("Data", "Tasks", "Train", "Compare", "Predict", "Playground", "Studies")  # URL path = the heading it shows


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


def reviews_csv(datasets_dir: Path, path: Path, per_site: int = 150) -> Path:
    """A CSV with two label columns from real sentences: sentiment (0/1) and the site (yelp/amazon)."""
    rows = []
    for site, name in (("yelp", "yelp_labelled.txt"), ("amazon", "amazon_cells_labelled.txt")):
        lines = (datasets_dir / "uci_sentiment" / name).read_text(encoding="utf-8").splitlines()[:per_site]
        rows += [(text.strip(), label.strip(), site) for text, label in (ln.rsplit("\t", 1) for ln in lines)]
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["text", "sentiment", "site"])
        writer.writerows(rows)
    return path


def test_upload_train_in_the_background_and_compare_in_a_real_browser(tmp_path, datasets_dir):
    """A new user's path: upload a CSV, save it, queue a tiny study, close the tab, come back, see the chart."""
    from mtl_core.store import Store
    from mtl_core.studies.queue import stop_worker

    home = tmp_path / "home"
    data = reviews_csv(datasets_dir, tmp_path / "reviews.csv")
    with serve(home, MTL_LAB_DATA_DIR=str(tmp_path / "no_data_here")) as url, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(f"{url}/Data", timeout=60_000)
            page.locator('input[type="file"]').set_input_files(str(data))
            page.get_by_text("300 examples, 2 task(s)").wait_for(timeout=60_000)  # preview and report
            page.get_by_role("button", name="Save dataset").click()
            page.get_by_text("Saved dataset reviews").wait_for(timeout=30_000)

            page.goto(f"{url}/Tasks", timeout=60_000)
            page.get_by_text("Queue the study").wait_for(timeout=60_000)
            page.locator('[data-testid="stSelectbox"]').first.click()
            page.get_by_role("option", name="dataset: reviews (300 examples)").click()
            page.get_by_text("site", exact=True).first.wait_for(timeout=30_000)  # its tasks, all picked
            # One epochs field, holding this data's default (15), not the previous data's (20). Waited for as one
            # condition: while the page reruns, the previous field can still show beside the new one.
            page.wait_for_function(
                "() => { const f = document.querySelectorAll("
                "'input[aria-label=\"Max epochs (early stopping on validation)\"]');"
                " return f.length === 1 && f[0].value === '15'; }", timeout=60_000)
            epochs = page.get_by_label("Max epochs (early stopping on validation)")
            epochs.fill("2")
            epochs.press("Enter")
            slider = page.get_by_role("slider").first  # seeds: 3 -> 2
            slider.focus()
            slider.press("ArrowLeft")
            page.get_by_test_id("stMetricValue").get_by_text("6", exact=True).wait_for(timeout=30_000)  # (2 + all) x 2
            page.wait_for_timeout(1000)
            page.get_by_role("button", name="Queue the study").click()
            page.get_by_text("Queued study").wait_for(timeout=60_000)
            (study,) = [s for s in Store(home / "mtl_lab.sqlite").studies()]
            assert study["spec"]["config"]["epochs"] == 2 and study["spec"]["seeds"] == 2
            page.close()  # the tab goes away mid-training; the worker does not

            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(f"{url}/Train?study={study['id']}", timeout=60_000)
            page.get_by_text(f"{study['name']}: done").wait_for(timeout=240_000)
            page.goto(f"{url}/Compare?study={study['id']}", timeout=60_000)
            page.get_by_role("heading", name="Compare").first.wait_for(timeout=60_000)
            page.locator(".js-plotly-plot").first.wait_for(timeout=60_000)
            page.wait_for_timeout(1500)
            body = page.inner_text("body")
            assert "sentiment" in body and "site" in body and "TF-IDF" in body
            page.screenshot(path=str(tmp_path / "compare.png"), full_page=True)
        finally:
            browser.close()
            stop_worker(Store(home / "mtl_lab.sqlite"))
    assert (tmp_path / "compare.png").stat().st_size > 10_000


def test_manage_diff_report_and_delete_a_study_in_a_real_browser(tmp_path):
    """Studies page: rename and tag a study, diff two, download the report (which then opens offline with every
    chart drawn), delete one; and the sidebar's queue line follows the store without a reload."""
    from studies import tiny_study

    from mtl_core.report.names import export_basename
    from mtl_core.status import Status
    from mtl_core.store import Store

    home = tmp_path / "home"
    store = Store(home / "mtl_lab.sqlite")
    first = tiny_study(store, ["base"], seeds=1, epochs=1, name="first")
    second = tiny_study(store, ["base", "related"], seeds=1, epochs=2, name="second")
    with serve(home, MTL_LAB_AUTOSTART_WORKER="0") as url, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1200}, accept_downloads=True)
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(f"{url}/Studies?study={first}", timeout=60_000)
            page.get_by_role("heading", name="Studies").first.wait_for(timeout=60_000)
            page.get_by_label("Name", exact=True).fill("first, renamed")
            page.get_by_label("Tags, comma-separated (e.g. baseline, absa)").fill("browser, demo")
            page.get_by_role("button", name="Save name, tags and note").click()
            page.get_by_text(f"Saved the name, tags and note of study {first}").wait_for(timeout=30_000)
            (row,) = [s for s in store.study_overview() if s["id"] == first]
            assert (row["name"], row["tags"]) == ("first, renamed", ["browser", "demo"])

            page.get_by_text("What differs between two studies").wait_for(timeout=30_000)
            diff = page.locator('[data-testid="stDataFrame"]').last
            scroll_to(diff)
            expect(diff).to_contain_text("tasks", timeout=30_000)  # the grid's cells, as the browser shows them
            expect(diff).to_contain_text("epochs", timeout=30_000)

            with page.expect_download(timeout=120_000) as download:
                page.get_by_role("button", name="Download report (HTML)").click()
            report = tmp_path / download.value.suggested_filename
            download.value.save_as(report)
            assert report.name == export_basename("first, renamed", first) + ".html"

            offline = browser.new_context(offline=True, viewport={"width": 1400, "height": 1000})  # no network
            requests: list[str] = []
            offline.on("request", lambda r: requests.append(r.url))
            shown = offline.new_page()
            shown.on("pageerror", lambda e: errors.append(str(e)))
            shown.goto(report.as_uri(), timeout=60_000)
            shown.locator(".js-plotly-plot").first.wait_for(timeout=60_000)
            shown.wait_for_timeout(1500)
            charts = shown.locator(".figure .plot").count()  # the report's chart boxes (mtl_core.report.html)
            expect(shown.locator(".figure .plot.js-plotly-plot")).to_have_count(charts, timeout=60_000)
            assert charts >= 1 and shown.locator(".figure .plot .main-svg").count() >= charts  # every chart drawn
            assert [r for r in requests if not r.startswith("file:")] == []
            offline.close()

            page.get_by_role("button", name="Delete this study…").click()
            page.get_by_role("button", name="Yes, delete it").click()
            page.get_by_text(f"Deleted study first, renamed ({first})").wait_for(timeout=30_000)
            assert store.study(first) is None and store.study(second)

            waiting = store.create_study("waiting", {"source": {"preset": "synthetic-demo"}}, backend="queue")
            page.get_by_text("Queue: 1 study waiting or running").wait_for(timeout=15_000)  # no reload
            store.update_study(waiting, status=Status.CANCELLED)
            page.get_by_text("Queue: empty").wait_for(timeout=15_000)
        finally:
            browser.close()
    assert not errors, errors
