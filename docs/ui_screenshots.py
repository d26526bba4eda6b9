"""Make the two screenshots of ``colorot ui`` that docs/ui.md shows (run by hand; needs the ui extra, Playwright's
Python package and the distribution's Chromium):

    python docs/ui_screenshots.py

It starts ``colorot ui`` on two sample photos, drives a headless Chromium as the end-to-end test does, and writes
docs/_static/ui-graded.jpg and docs/_static/ui-mask.jpg.
"""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]


def main() -> None:
    from playwright.sync_api import sync_playwright

    out = ROOT / "docs" / "_static"
    out.mkdir(exist_ok=True)
    server = subprocess.Popen([sys.executable, "-m", "colorot", "ui", str(ROOT / "samples" / "rocket.jpg"),
                               "--style", str(ROOT / "samples" / "coffee.jpg"), "--no-browser", "--port", "0",
                               "--output-dir", str(out / "_exports")], stderr=subprocess.PIPE, text=True)
    url = re.search(r"(http://\S+/)", server.stderr.readline()).group(1)
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=shutil.which("chromium"), args=FLAGS)
            page = browser.new_page(viewport={"width": 1360, "height": 860})
            page.goto(url)
            page.wait_for_selector("#after[data-grade]", timeout=120_000)
            page.fill("#strength", "0.85")
            page.wait_for_selector("#after[data-strength='0.85']")
            page.wait_for_selector("#figures[data-strength='0.85']:not(.stale)", timeout=120_000)
            page.wait_for_timeout(500)
            page.screenshot(path=str(out / "ui-graded.jpg"), type="jpeg", quality=80)
            grade = page.get_attribute("#after", "data-grade")
            page.check("#mask-on")
            page.fill("#brush-size", "220")
            page.locator("#mask-canvas").scroll_into_view_if_needed()
            box = page.locator("#mask-canvas").bounding_box()
            page.mouse.move(box["x"] + box["width"] * 0.8, box["y"] + box["height"] * 0.1)
            page.mouse.down()
            for step in range(31):
                page.mouse.move(box["x"] + box["width"] * 0.8, box["y"] + box["height"] * (0.1 + 0.8 * step / 30))
            page.mouse.up()
            page.wait_for_function(f"() => document.querySelector('#after').dataset.grade !== '{grade}'", timeout=120_000)
            page.wait_for_timeout(1500)
            page.screenshot(path=str(out / "ui-mask.jpg"), type="jpeg", quality=80)
            browser.close()
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=60)
        shutil.rmtree(out / "_exports", ignore_errors=True)


if __name__ == "__main__":
    main()
