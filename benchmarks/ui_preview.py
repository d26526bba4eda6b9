"""How fast ``colorot ui``'s preview follows the strength slider: the time from a request for a new strength to
the whole JPEG preview received, through the real server (uvicorn, started here as a user starts it) and HTTP.

The photo is 12 MP (the map is fitted on it once); the preview is its ~1 MP screen-size copy (1280 px on the
long side). For each setting, 21 strengths from 0 to 1 are asked in turn (as a slider moving); printed: the
median and the 90th percentile, beside the floor measured in the same run (the unchanged preview, encoded
and sent the same way). Issue 25's target: <= 150 ms on this CPU.

    python benchmarks/ui_preview.py [--megapixels 12] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import numpy as np
from PIL import Image

from _common import load

SETTINGS = {
    "unbalanced (default)": {},
    "sliced": {"method": "sliced"},
    "unbalanced, lab, keep luma": {"space": "lab", "keep_luma": True},
    "unbalanced, regrain 16": {"regrain": 16},
}


def request(url: str, body: dict | None = None, data: bytes | None = None):
    headers = {"Content-Type": "application/json"} if body is not None else {}
    payload = json.dumps(body).encode() if body is not None else data
    with urllib.request.urlopen(urllib.request.Request(url, data=payload, headers=headers)) as response:
        raw = response.read()
        return json.loads(raw) if response.headers.get_content_type() == "application/json" else raw


def wait(base: str, job: dict) -> dict:
    while job["state"] == "running":
        time.sleep(0.05)
        job = request(f"{base}/api/jobs/{job['id']}")
    assert job["state"] == "done", job
    return job["result"]


def timed(url: str) -> float:
    start = time.perf_counter()
    request(url)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--megapixels", type=float, default=12)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        width = round((args.megapixels * 1e6 * 4 / 3) ** 0.5)
        Image.fromarray(load("astronaut")).resize((width, width * 3 // 4), Image.BICUBIC).save(folder / "photo.jpg",
                                                                                               quality=92)
        Image.fromarray(load("coffee")).save(folder / "look.jpg", quality=92)
        server = subprocess.Popen([sys.executable, "-m", "colorot", "ui", str(folder / "photo.jpg"), "--style",
                                   str(folder / "look.jpg"), "--no-browser", "--port", "0", "--output-dir",
                                   str(folder / "out")], stderr=subprocess.PIPE, text=True)
        try:
            base = re.search(r"(http://\S+)/", server.stderr.readline()).group(1)
            config = request(f"{base}/api/config")
            photo, look = config["preload"]["photos"][0], config["preload"]["look"][0]
            floor = [timed(f"{base}/api/files/{photo}/preview") for _ in range(21 * args.repeats)]
            print(f"{args.megapixels:g} MP photo, {1280}-px preview; unchanged preview encoded and sent (floor): "
                  f"median {1e3 * statistics.median(floor):.0f} ms", flush=True)
            for name, options in SETTINGS.items():
                start = time.perf_counter()
                grade = wait(base, request(f"{base}/api/grades", {"photo": photo, "look": [[look, 1]],
                                                                   "options": options}))["grade"]
                fitted = time.perf_counter() - start
                times = [timed(f"{base}/api/grades/{grade}/preview?strength={strength:.2f}")
                         for _ in range(args.repeats) for strength in np.linspace(0, 1, 21)]
                print(f"{name:28s} fit once {fitted:5.2f} s; a strength change: median {1e3 * statistics.median(times):4.0f}"
                      f" ms, p90 {1e3 * np.percentile(times, 90):4.0f} ms (target <= 150 ms)", flush=True)
        finally:
            server.send_signal(signal.SIGINT)
            server.wait(timeout=60)


if __name__ == "__main__":
    main()
