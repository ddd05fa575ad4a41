"""Issue 16 in a real browser, at 390 px (a phone) and 1400 px: Home, Train and Compare of a finished 5-task pairs
study in the light theme, Compare in the dark theme too; Predict with that study's saved models (a sentence typed,
its predictions shown); and Train while a real worker process trains another study (live progress), which is then
cancelled and the worker stopped. One served app and one browser for all. Screenshots are saved for a person to
look at: in MTL_LAB_SCREENSHOTS when set, else in pytest's temporary folder (the path is printed)."""
from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
from display_studies import five_task_pairs_study, slow_study_spec
from playwright.sync_api import sync_playwright
from test_browser import CHROMIUM, FLAGS, REPO, scroll_to, serve

from mtl_core.status import Status
from mtl_core.store import Store
from mtl_core.studies.queue import cancel_study
from mtl_core.studies.submit import queue_study

WIDTHS = (390, 1400)
PAGES = (("", "MTL Lab"), ("Train", "Train"), ("Compare", "Compare"))  # URL path, its h1
EMOJI = re.compile("[\U0001F300-\U0001FAFF\u2600-\u27BF]")


@pytest.fixture(scope="module")
def five_tasks(tmp_path_factory) -> dict:
    home = tmp_path_factory.mktemp("display_home")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MTL_LAB_HOME", str(home))  # its models are saved under home/checkpoints, for Predict
        study_id = five_task_pairs_study(Store(home / "mtl_lab.sqlite"), seeds=2, save_models=True)
    return {"home": home, "id": study_id}


def luminance(rgb: tuple[float, ...]) -> float:
    lin = [c / 255 / 12.92 if c / 255 <= 0.03928 else ((c / 255 + 0.055) / 1.055) ** 2.4 for c in rgb[:3]]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def contrast(fg: str, bg: tuple[int, int, int]) -> float:
    """WCAG contrast of a CSS colour (rgb or rgba: blended over ``bg``) against ``bg``."""
    parts = [float(x) for x in re.findall(r"[\d.]+", fg)]
    alpha = parts[3] if len(parts) > 3 else 1.0
    mixed = [alpha * c + (1 - alpha) * b for c, b in zip(parts[:3], bg)]
    hi, lo = sorted([luminance(mixed), luminance(bg)], reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def overlaps(a: dict, b: dict) -> bool:
    return not (a["x"] + a["width"] <= b["x"] or b["x"] + b["width"] <= a["x"] or
                a["y"] + a["height"] <= b["y"] or b["y"] + b["height"] <= a["y"])


def caption_contrast(page, scheme: str) -> float:
    """Contrast of a caption's text as drawn (Streamlit fades captions with opacity, which computed colours do not
    show): its darkest (light theme) or lightest (dark theme) pixel against the page background."""
    import io

    from PIL import Image

    caption = page.locator('[data-testid="stMain"] [data-testid="stCaptionContainer"]').first
    pixels = list(Image.open(io.BytesIO(caption.screenshot())).convert("RGB").get_flattened_data())
    text = min(pixels, key=sum) if scheme == "light" else max(pixels, key=sum)
    background = page.locator('[data-testid="stApp"]').first.evaluate("e => getComputedStyle(e).backgroundColor")
    return contrast(f"rgb{text}", tuple(int(float(x)) for x in re.findall(r"[\d.]+", background)[:3]))


def check_first_chart(page) -> dict:
    """The comparison chart: its legend outside the plot area, its tick labels inside the figure, its axis text
    readable (4.5:1 on the chart's background). Returns what was measured."""
    chart = page.locator(".js-plotly-plot").first
    scroll_to(chart)
    plot = chart.locator(".nsewdrag").first.bounding_box()
    legend = chart.locator(".legend").first.bounding_box()
    figure = chart.locator(".main-svg").first.bounding_box()
    assert legend and plot and not overlaps(legend, plot), (legend, plot)
    for tick in chart.locator(".xtick text").all():
        box = tick.bounding_box()
        assert box["x"] >= figure["x"] - 1 and box["x"] + box["width"] <= figure["x"] + figure["width"] + 1, box
    fill = chart.locator(".xtick text").first.evaluate("e => getComputedStyle(e).fill")
    background = chart.locator(".main-svg").first.evaluate("e => getComputedStyle(e).backgroundColor")
    bg = tuple(int(float(x)) for x in re.findall(r"[\d.]+", background)[:3])
    ratio = contrast(fill, bg)
    assert ratio >= 4.5, (fill, background, ratio)
    return {"tick fill": fill, "chart background": background, "contrast": round(ratio, 2)}


def wait_for(condition, timeout: float, what: str, log: Path | None = None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(0.2)
    pytest.fail(f"timed out waiting for {what}" + (f"; worker log:\n{log.read_text()[-3000:]}" if log and
                                                     log.exists() else ""))


@contextmanager
def training(home: Path):
    """A slow study queued in ``home`` and a real worker process (``python -m mtl_core worker``) training it;
    yields the study id once a run reports its progress. Always cancelled and the worker stopped and reaped."""
    store = Store(home / "mtl_lab.sqlite")
    study_id = queue_study(slow_study_spec(), store, start_worker=False)
    log = home / "display_worker.log"
    with log.open("ab") as out:
        worker = subprocess.Popen(
            [sys.executable, "-m", "mtl_core", "worker", "--store", str(store.path)], cwd=REPO,
            env={**os.environ, "MTL_LAB_HOME": str(home), "MTL_LAB_THREADS": "1"},
            stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: store.study(study_id)["status"] == Status.RUNNING and any(
            r["status"] == Status.RUNNING and (r["progress"] or {}).get("epoch") for r in store.runs(study_id)),
            120, "the slow study to start training", log)
        yield study_id
    finally:
        try:
            cancel_study(study_id, store)
            wait_for(lambda: store.study(study_id)["status"] == Status.CANCELLED, 30, "the cancel", log)
        finally:
            worker.terminate()
            try:
                worker.wait(timeout=45)  # SIGTERM: the worker stops its run and hands the queue back
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait(timeout=10)
    assert worker.returncode == 0, log.read_text()[-3000:]


def screenshot(page, width: int, path: Path) -> None:
    """The whole page: Streamlit scrolls an inner container, so the window is made as tall as its content first."""
    height = page.evaluate("() => Math.max(...[...document.querySelectorAll('[data-testid=stMain], section')]"
                           ".map(e => e.scrollHeight), 900)")
    page.set_viewport_size({"width": width, "height": min(height + 100, 16_000)})
    page.wait_for_timeout(2000)  # charts redraw at the new size
    page.screenshot(path=str(path), full_page=True)
    page.set_viewport_size({"width": width, "height": 900})


def test_home_train_compare_and_predict_read_well_on_a_phone_and_a_desktop(five_tasks, tmp_path_factory, capsys):
    shots = Path(os.environ.get("MTL_LAB_SCREENSHOTS") or tmp_path_factory.mktemp("screenshots"))
    shots.mkdir(parents=True, exist_ok=True)
    measured, saved, seconds = {}, [], {"start": time.monotonic()}

    def shoot(page, width: int, name: str) -> None:
        screenshot(page, width, shots / name)
        saved.append(name)

    def no_exception(page) -> None:
        assert page.locator('[data-testid="stException"]').count() == 0, page.inner_text("body")[:2000]

    with serve(five_tasks["home"]) as url, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        try:
            for scheme in ("light", "dark"):
                for width in WIDTHS:
                    page = browser.new_page(viewport={"width": width, "height": 900}, color_scheme=scheme)
                    errors: list[str] = []
                    page.on("pageerror", lambda e: errors.append(str(e)))
                    for path, heading in PAGES if scheme == "light" else PAGES[2:]:
                        page.goto(f"{url}/{path}?study={five_tasks['id']}", timeout=60_000)
                        page.get_by_role("heading", name=heading).first.wait_for(timeout=90_000)
                        page.locator(".js-plotly-plot").first.wait_for(timeout=90_000)
                        page.wait_for_timeout(2500)  # let every chart draw
                        no_exception(page)
                        shoot(page, width, f"{path.lower() or 'home'}_{width}px_{scheme}.png")
                        if path == "Compare":
                            measured[(scheme, width)] = check_first_chart(page)
                            measured[(scheme, width)]["caption contrast"] = round(caption_contrast(page, scheme), 2)
                            assert measured[(scheme, width)]["caption contrast"] >= 4.5, measured
                            body = page.inner_text("body")
                            assert "every pair (task × task)" in body  # 10 pairs: the heatmap view by default
                            assert body.count("The chart's numbers as a table") >= 4
                    nav = page.locator('[data-testid="stSidebarNav"]')
                    if nav.count():
                        assert not EMOJI.search(nav.inner_text()), nav.inner_text()
                    assert page.locator('[data-testid="stAppDeployButton"]').count() == 0  # toolbarMode viewer
                    assert not errors, errors
                    page.close()

            seconds["home, train, compare"] = time.monotonic()
            for width in WIDTHS:  # Predict: the study's last run (all five tasks), a sentence typed
                page = browser.new_page(viewport={"width": width, "height": 900})
                errors = []
                page.on("pageerror", lambda e: errors.append(str(e)))
                page.goto(f"{url}/Predict?study={five_tasks['id']}", timeout=60_000)
                page.get_by_role("heading", name="Predict").first.wait_for(timeout=90_000)
                box = page.get_by_label("Type a sentence")
                box.wait_for(timeout=90_000)
                box.fill("the food was great but the service slow")
                box.press("Control+Enter")  # Streamlit takes a text area's value on Ctrl+Enter or on blur
                page.get_by_text("Confidence: the softmax probability").first.wait_for(timeout=90_000)
                page.get_by_role("heading", name="Alone vs together (seed 1)").first.wait_for(timeout=90_000)
                box.blur()  # no focus ring on the screenshot (Streamlit draws it in its primary red)
                page.wait_for_timeout(2500)
                no_exception(page)
                body = page.inner_text("body")
                assert "Type a sentence to see what each task predicts" not in body
                for task in ("base", "related", "unrelated", "conflicting", "rare"):
                    assert task in body
                assert page.locator('[data-testid="stDataFrame"]').count() >= 3  # scores, answers, side by side
                shoot(page, width, f"predict_{width}px_light.png")
                assert not errors, errors
                page.close()

            seconds["predict"] = time.monotonic()
            with training(five_tasks["home"]) as running:  # Train while a real worker trains a study
                for width in WIDTHS:
                    page = browser.new_page(viewport={"width": width, "height": 900})
                    errors = []
                    page.on("pageerror", lambda e: errors.append(str(e)))
                    page.goto(f"{url}/Train?study={running}", timeout=60_000)
                    page.get_by_role("heading", name="Train").first.wait_for(timeout=90_000)
                    page.get_by_text("five tasks, still training: running").first.wait_for(timeout=90_000)
                    page.get_by_text(re.compile(r"\d+ of 3 runs finished")).first.wait_for(timeout=90_000)
                    page.locator('[data-testid="stDataFrame"]').first.wait_for(timeout=90_000)
                    page.locator(".js-plotly-plot").first.wait_for(timeout=90_000)  # the running run's curves
                    page.wait_for_timeout(2000)
                    no_exception(page)
                    assert page.locator('[data-testid="stProgress"]').count() == 1
                    assert page.get_by_role("button", name="Cancel study").count() == 1
                    assert "Workers: 1 running" in page.inner_text("body")
                    shoot(page, width, f"train_running_{width}px_light.png")
                    assert Store(five_tasks["home"] / "mtl_lab.sqlite").study(running)["status"] == Status.RUNNING
                    assert not errors, errors
                    page.close()
            seconds["train while running (worker started, cancelled, stopped)"] = time.monotonic()
        finally:
            browser.close()
    marks = list(seconds.items())
    with capsys.disabled():
        print(f"\nscreenshots: {shots}\nmeasured: {measured}\nseconds: "
              + ", ".join(f"{name} {t - marks[k][1]:.0f}" for k, (name, t) in enumerate(marks[1:])))
    expected = ({f"{p.lower() or 'home'}_{w}px_light.png" for p, _ in PAGES for w in WIDTHS}
                | {f"compare_{w}px_dark.png" for w in WIDTHS} | {f"predict_{w}px_light.png" for w in WIDTHS}
                | {f"train_running_{w}px_light.png" for w in WIDTHS})
    assert len(saved) == len(expected) == 12 and set(saved) == expected
    assert all((shots / name).stat().st_size > 10_000 for name in saved)
