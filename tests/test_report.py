"""report.html of a small run, rendered in headless Chromium (Debian's
chromium package, which run_tests.sh installs): every chart and gallery image
is there, nothing is broken, the console is clean, the screenshot is not blank."""

import os
import re
import shutil

import numpy as np
import pytest
from PIL import Image

from pipelines import tag_images
from pipelines.report import REPORT
from scenes.topdown import make_camera
from tests.conftest import sample_args

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]

needs_chromium = pytest.mark.skipif(
    CHROMIUM is None and not os.environ.get("CI"),
    reason="Chromium is not installed (run_tests.sh installs Debian's chromium when run as root)")


@pytest.fixture(scope="module")
def report(small_sample, tmp_path_factory):
    out = str(tmp_path_factory.mktemp("report-run"))
    assert tag_images.main(sample_args(small_sample, out, "--runner", "FnApiRunner")) == 0
    return os.path.join(out, REPORT)


def test_report_is_self_contained(report):
    with open(report, encoding="utf-8") as f:
        page = f.read()
    for external in ('src="http', "src='http", 'href="http', "href='http", "url(http", "@import"):
        assert external not in page  # nothing is fetched: no network, no CDN
    assert page.count("<svg") == 4  # by type, colours, windows, per image
    # 2 frames x 3 cameras, and each camera's empty road with its geometry
    assert page.count('<img src="data:image/jpeg;base64,') == 6 + 3
    cameras = page[page.index("Cameras: what the job learned"):]
    assert cameras.count("<figcaption>cam-0") == 3
    assert "lines parallel (camera straight above the road)" in cameras  # the sample is top-down
    scales = [float(x) for x in re.findall(r"([0-9.]+) px/m across the road", cameras)]
    truth = [make_camera(99, i).pixels_per_metre for i in range(3)]  # the small sample's
    assert len(scales) == 3 and all(abs(x / t - 1) < 0.05 for x, t in zip(scales, truth)), (scales, truth)


@needs_chromium
def test_report_renders_in_headless_chromium(report, tmp_path):
    from playwright.sync_api import sync_playwright
    errors = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("requestfailed", lambda r: errors.append(f"request failed: {r.url}"))
            page.goto("file://" + report, wait_until="load")
            images = page.evaluate("""() => Array.from(document.images).map(
                i => [i.complete, i.naturalWidth, i.naturalHeight])""")
            svgs = page.evaluate("() => document.querySelectorAll('svg').length")
            sections = page.evaluate("() => Array.from(document.querySelectorAll('h2')).map(h => h.textContent)")
            shot = str(tmp_path / "report.png")
            page.screenshot(path=shot, full_page=True)
        finally:
            browser.close()
    assert errors == []
    assert len(images) == 9 and all(c and w > 100 and h > 50 for c, w, h in images), images
    assert svgs >= 4
    assert sections == ["Vehicles by type", "Colours per type",
                        "Rush hour: vehicles per window and camera",
                        "Vehicles per image (congestion)", "Sample frames with their tags",
                        "Cameras: what the job learned from each one's empty road", "Failures"]
    pixels = np.asarray(Image.open(shot).convert("L"), dtype=float)
    assert pixels.shape[0] > 1500 and pixels.std() > 20  # a long page, and not blank
