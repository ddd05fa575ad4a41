"""Issue 16 in a real browser: Home, Train and Compare of a 5-task pairs study at 390 px (a phone) and 1400 px, in
the light and the dark theme. Screenshots are saved for a person to look at: in MTL_LAB_SCREENSHOTS when set, else
in pytest's temporary folder (the path is printed)."""
from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from display_studies import five_task_pairs_study
from playwright.sync_api import sync_playwright
from test_browser import CHROMIUM, FLAGS, serve

from mtl_core.store import Store

WIDTHS = (390, 1400)
PAGES = (("", "MTL Lab"), ("Train", "Train"), ("Compare", "Compare"))  # URL path, its h1
EMOJI = re.compile("[\U0001F300-\U0001FAFF\u2600-\u27BF]")


@pytest.fixture(scope="module")
def five_tasks(tmp_path_factory) -> dict:
    home = tmp_path_factory.mktemp("display_home")
    return {"home": home, "id": five_task_pairs_study(Store(home / "mtl_lab.sqlite"), seeds=2)}


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
    pixels = list(Image.open(io.BytesIO(caption.screenshot())).convert("RGB").getdata())
    text = min(pixels, key=sum) if scheme == "light" else max(pixels, key=sum)
    background = page.locator('[data-testid="stApp"]').first.evaluate("e => getComputedStyle(e).backgroundColor")
    return contrast(f"rgb{text}", tuple(int(float(x)) for x in re.findall(r"[\d.]+", background)[:3]))


def check_first_chart(page) -> dict:
    """The comparison chart: its legend outside the plot area, its tick labels inside the figure, its axis text
    readable (4.5:1 on the chart's background). Returns what was measured."""
    chart = page.locator(".js-plotly-plot").first
    chart.scroll_into_view_if_needed()
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


def screenshot(page, width: int, path: Path) -> None:
    """The whole page: Streamlit scrolls an inner container, so the window is made as tall as its content first."""
    height = page.evaluate("() => Math.max(...[...document.querySelectorAll('[data-testid=stMain], section')]"
                           ".map(e => e.scrollHeight), 900)")
    page.set_viewport_size({"width": width, "height": min(height + 100, 16_000)})
    page.wait_for_timeout(2000)  # charts redraw at the new size
    page.screenshot(path=str(path), full_page=True)
    page.set_viewport_size({"width": width, "height": 900})


def test_home_train_and_compare_read_well_on_a_phone_and_a_desktop(five_tasks, tmp_path_factory, capsys):
    shots = Path(os.environ.get("MTL_LAB_SCREENSHOTS") or tmp_path_factory.mktemp("screenshots"))
    shots.mkdir(parents=True, exist_ok=True)
    measured = {}
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
                        assert page.locator('[data-testid="stException"]').count() == 0, page.inner_text("body")[:2000]
                        screenshot(page, width, shots / f"{path.lower() or 'home'}_{width}px_{scheme}.png")
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
        finally:
            browser.close()
    with capsys.disabled():
        print(f"\nscreenshots: {shots}\nmeasured: {measured}")
    assert len(list(shots.glob("*.png"))) == 3 * len(WIDTHS) + len(WIDTHS)
