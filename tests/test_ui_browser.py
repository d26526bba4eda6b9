"""``colorot ui`` end to end in a real headless Chromium (the distribution's, driven by Playwright's Python API;
no browser is downloaded): open and drop files, move the strength, paint a mask, export, open a corrupt file,
leave the page.

Skipped, with the reason, where Playwright or a Chromium executable is missing. Screenshots of the main states
go to ``$COLOROT_ARTIFACTS`` (default: the test's temporary folder), never into the repository.
"""

from __future__ import annotations

import base64
import io as bytes_io
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

pytest.importorskip("starlette", reason="the ui extra is not installed")
pytest.importorskip("uvicorn", reason="the ui extra is not installed")
sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright's Python package is not installed")

CHROMIUM = os.environ.get("COLOROT_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser") \
    or shutil.which("google-chrome")
pytestmark = [pytest.mark.slow, pytest.mark.skipif(CHROMIUM is None, reason="no Chromium executable (apt-get install chromium)")]

# Chromium as root in a container, with no network beyond localhost (the flags that keep it from trying).
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]


@pytest.fixture
def server(tmp_path):
    """``colorot ui`` started as a user starts it (a free port, no browser), stopped with Ctrl-C (SIGINT)."""
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    env = {**os.environ, "TMPDIR": str(temporary)}
    process = subprocess.Popen([sys.executable, "-m", "colorot", "ui", "--no-browser", "--port", "0",
                                "--output-dir", str(tmp_path / "out")], env=env, stderr=subprocess.PIPE, text=True)
    line = process.stderr.readline()
    match = re.search(r"(http://\S+/)", line)
    assert match, line
    yield match.group(1), tmp_path, process
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)
    leftovers = list(temporary.iterdir())
    assert process.returncode == 0 and leftovers == [], (process.returncode, leftovers)


def _pixels(page, selector: str) -> np.ndarray:
    """What the page shows in an <img>, read back through a canvas."""
    url = page.evaluate("""(selector) => {
        const image = document.querySelector(selector);
        const canvas = document.createElement("canvas");
        canvas.width = image.naturalWidth; canvas.height = image.naturalHeight;
        canvas.getContext("2d").drawImage(image, 0, 0);
        return canvas.toDataURL("image/png");
    }""", selector)
    return np.asarray(Image.open(bytes_io.BytesIO(base64.b64decode(url.split(",")[1]))).convert("RGB")).astype(float)


def _drop(page, selector: str, path: Path) -> None:
    """Drop a file on an element, as a file manager does (a DataTransfer holding it, in a drop event)."""
    transfer = page.evaluate_handle("""([name, data]) => {
        const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
        const transfer = new DataTransfer();
        transfer.items.add(new File([bytes], name));
        return transfer;
    }""", [path.name, base64.b64encode(path.read_bytes()).decode()])
    page.dispatch_event(selector, "dragover", {"dataTransfer": transfer})
    page.dispatch_event(selector, "drop", {"dataTransfer": transfer})


def _wait_for_new_grade(page, old: str | None) -> str:
    page.wait_for_function("(old) => { const a = document.querySelector('#after'); "
                           "return a.dataset.grade && a.dataset.grade !== old; }", arg=old, timeout=60_000)
    return page.get_attribute("#after", "data-grade")


def test_the_window_grades_previews_masks_and_exports(server, astronaut, coffee):
    url, folder, process = server
    artifacts = Path(os.environ.get("COLOROT_ARTIFACTS", folder / "screenshots"))
    artifacts.mkdir(parents=True, exist_ok=True)
    photo, style, broken = folder / "photo.jpg", folder / "look.png", folder / "broken.jpg"
    Image.fromarray(astronaut).save(photo, quality=90)
    Image.fromarray(coffee).save(style)
    broken.write_bytes(b"\xff\xd8\xff\xe0 not really a JPEG" + bytes(200))
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(url)
        page.wait_for_selector("body[data-ready]")
        # Nothing open: a drop zone that says what to do, no broken-image icons.
        assert page.is_visible("#empty") and not page.is_visible("#stage")
        assert "Drop a photo here" in page.text_content("#empty")
        page.screenshot(path=str(artifacts / "ui-empty.png"))
        page.select_option("#method", "unbalanced")  # the transport: it moves every color toward the style
        page.set_input_files("#photo-input", str(photo))
        _drop(page, "#look-section", style)  # the style dragged from a file manager onto the look panel
        grade = _wait_for_new_grade(page, None)
        original, full = _pixels(page, "#before"), _pixels(page, "#after")
        assert np.abs(full - original).mean() > 8  # graded
        page.screenshot(path=str(artifacts / "ui-graded.png"))

        page.wait_for_selector(f"#figures[data-grade='{grade}']:not(.stale)")
        assert page.is_visible("#look-list img.thumb")  # the style photo in view, as a thumbnail
        assert page.evaluate("document.querySelector('#look-list img.thumb').naturalWidth") > 0

        # The strength slider: the map is re-applied, not re-fitted; the preview moves toward the photo. The
        # figures of strength 1 are greyed out until those of 0.3 arrive.
        page.fill("#strength", "0.3")
        assert "stale" in page.get_attribute("#figures", "class")
        page.wait_for_selector("#after[data-strength='0.3']")
        page.wait_for_selector(f"#figures[data-grade='{grade}'][data-strength='0.3']:not(.stale)")
        weak = _pixels(page, "#after")
        assert page.get_attribute("#after", "data-grade") == grade
        assert np.abs(weak - original).mean() < 0.5 * np.abs(full - original).mean()
        page.fill("#strength", "1")
        page.wait_for_selector("#after[data-strength='1']")

        # A mask: keep the original on the left part (a big hard brush dragged down the left edge).
        page.check("#mask-on")  # the brush taken up: nothing to refit until something is painted
        assert page.is_visible("#mask-canvas") and "No mask" in page.text_content("#mask-state")
        page.fill("#brush-size", "60")  # a 30-pixel radius on a 160-pixel preview
        page.fill("#brush-softness", "0")
        page.locator("#mask-canvas").scroll_into_view_if_needed()  # the fills above scrolled the controls
        box = page.locator("#mask-canvas").bounding_box()
        page.mouse.move(box["x"] + 2, box["y"] + 2)
        page.mouse.down()
        for step in range(21):
            page.mouse.move(box["x"] + 2, box["y"] + box["height"] * step / 20, steps=2)
        page.mouse.up()
        _wait_for_new_grade(page, grade)
        masked = _pixels(page, "#after")
        width = masked.shape[1]
        kept, graded = slice(0, width // 10), slice(width // 2, width)
        assert np.abs(masked[:, kept] - original[:, kept]).mean() < 2.0  # JPEG previews: within a code or two
        assert np.abs(masked[:, graded] - original[:, graded]).mean() > 8
        page.screenshot(path=str(artifacts / "ui-mask.png"))

        # Putting the brush down hides the overlay and keeps the mask: the result is seen as it is exported.
        masked_grade = page.get_attribute("#after", "data-grade")
        page.uncheck("#mask-on")
        assert not page.is_visible("#mask-canvas")
        assert "has a mask" in page.text_content("#mask-state")
        page.wait_for_timeout(300)
        assert page.get_attribute("#after", "data-grade") == masked_grade  # nothing refitted
        assert "--source-mask" in page.text_content("#command")
        page.screenshot(path=str(artifacts / "ui-mask-kept.png"))

        # Another photo (wider than a preview), then back: the first photo's grade is shown, not fitted again.
        wide = folder / "wide.png"
        Image.fromarray(np.tile(astronaut, (1, 10, 1))[:, :1500]).save(wide)
        page.set_input_files("#photo-input", str(wide))
        page.wait_for_function("() => document.querySelector('#photo-list').textContent.includes('wide.png')")
        page.click("#photo-list li:last-child .name")
        assert "stale" in page.get_attribute("#figures", "class")  # the first photo's figures are not this one's
        wide_grade = _wait_for_new_grade(page, masked_grade)
        assert "No mask" in page.text_content("#mask-state")  # each photo has its own mask
        # 100% (the Z key): both sides at full resolution, the graded one as the export gives it; \ shows the original.
        page.keyboard.press("z")
        page.wait_for_selector("#after[data-zoom='1']")
        page.wait_for_function("() => document.querySelector('#before').naturalWidth === 1500")
        assert page.evaluate("document.querySelector('#after').naturalWidth") == 1500
        assert page.evaluate("document.querySelector('#stage').scrollWidth > document.querySelector('#stage').clientWidth")
        page.screenshot(path=str(artifacts / "ui-zoom.png"))
        page.keyboard.press("Backslash")
        assert page.is_checked("#show-before")
        page.keyboard.press("Backslash")
        page.keyboard.press("z")
        page.wait_for_selector("#after[data-zoom='']")
        page.click("#photo-list li:first-child .name")
        page.wait_for_function("(grade) => document.querySelector('#after').dataset.grade === grade", arg=masked_grade)
        assert "has a mask" in page.text_content("#mask-state")
        assert page.get_attribute("#after", "data-grade") != wide_grade

        # Clear removes the mask. Export at strength 0.6: the same bytes as colorot transfer with the same options.
        page.click("#mask-clear")
        grade = _wait_for_new_grade(page, masked_grade)
        assert "--source-mask" not in page.text_content("#command")
        page.fill("#strength", "0.6")
        page.wait_for_selector("#after[data-strength='0.6']")
        page.click("#export-photo")
        page.wait_for_function("() => document.querySelector('#message').textContent.startsWith('written:')",
                               timeout=60_000)
        exported = folder / "out" / "photo_colorot.jpg"
        assert exported.is_file()
        cli = folder / "cli.jpg"
        subprocess.run([sys.executable, "-m", "colorot", "transfer", str(photo), str(style), "--strength", "0.6",
                        "--method", "unbalanced", "-o", str(cli)], check=True, capture_output=True)
        assert exported.read_bytes() == cli.read_bytes()

        # A corrupt file: a message in the page, the window still works.
        page.set_input_files("#photo-input", str(broken))
        page.wait_for_selector("#message.error")
        assert "broken.jpg" in page.text_content("#message")
        assert "Traceback" not in page.content()
        page.screenshot(path=str(artifacts / "ui-error.png"))

        # A CMYK photo: its reading note reaches the page. A .cube look: the fitting options are disabled.
        cmyk, cube = folder / "print.jpg", folder / "warm.cube"
        Image.new("CMYK", (40, 30), (10, 200, 30, 0)).save(cmyk)
        page.set_input_files("#photo-input", str(cmyk))
        page.wait_for_function("() => document.querySelector('#photo-list').textContent.includes('print.jpg')")
        assert "CMYK" in page.get_attribute("#photo-list li:last-child .note", "title")
        assert page.get_attribute("#after", "data-grade") == grade  # the photo shown was not graded again
        cube.write_text("LUT_3D_SIZE 2\n" + "".join(f"{r} {g * 0.95} {b * 0.8}\n"
                                                    for b in (0, 1) for g in (0, 1) for r in (0, 1)))
        page.set_input_files("#look-input", str(cube))
        page.wait_for_function("() => document.querySelector('#method').disabled")
        assert page.is_disabled("#reach") and page.is_disabled("#space")
        page.screenshot(path=str(artifacts / "ui-cube.png"))

        # Leaving the page (its pagehide beacon): the files it sent are removed while the server runs on.
        workspace_folder = next((folder / "tmp").glob("colorot-ui-*"))
        assert list(workspace_folder.iterdir())
        page.goto("about:blank")
        deadline = time.monotonic() + 10
        while list(workspace_folder.iterdir()) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert list(workspace_folder.iterdir()) == []
        browser.close()
    process.send_signal(signal.SIGINT)
    process.wait(timeout=30)
    assert "colorot ui: stopped" in process.stderr.read()


def test_closing_the_terminal_removes_the_opened_files(server):
    """SIGHUP (the terminal closed) shuts the window's server down as Ctrl-C does: the files it was sent are
    removed (the fixture checks the temporary folder is empty and the exit status 0)."""
    import urllib.request

    url, folder, process = server
    photo = folder / "photo.png"
    Image.fromarray(np.full((40, 60, 3), 90, np.uint8)).save(photo)
    request = urllib.request.Request(url + "api/files?name=photo.png", data=photo.read_bytes(), method="POST")
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 200
    assert list((folder / "tmp").glob("colorot-ui-*/*"))  # the photo was stored
    process.send_signal(signal.SIGHUP)
    process.wait(timeout=30)


def test_a_stopped_server_is_said_in_plain_words(server):
    url, folder, process = server
    photo = folder / "photo.png"
    Image.fromarray(np.full((40, 60, 3), 90, np.uint8)).save(photo)
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page()
        page.goto(url)
        page.wait_for_selector("body[data-ready]")
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)
        page.set_input_files("#photo-input", str(photo))
        page.wait_for_selector("#message.error")
        message = page.text_content("#message")
        assert "server has stopped" in message and "Failed to fetch" not in message, message
        browser.close()
