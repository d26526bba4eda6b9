"""colorot's CPU speed on a busy machine: quiet, and beside one and two CPU-bound processes.

For each condition (the busy processes are pure-Python loops that this script starts, bounded in time, and
stops), the medians of several runs of:

* ``colorot.transfer`` on 12 MP uint8 arrays, in this process (fit + apply), and color-matcher's ``mkl`` on the
  same arrays (numpy, the single-threaded baseline; when installed: ``pip install -e ".[bench]"``);
* the CLI on a 12 MP JPEG, a fresh process, less a bare ``python -c "import torch"`` measured alongside;
* ``colorot batch`` on 20 JPEGs of 1 MP, with ``--jobs 1`` and ``--jobs 2``.

Each line gives the ratio to the quiet time of the same measure. To compare with another checkout of colorot,
run this script with ``PYTHONPATH=that/checkout`` in the same session.

    python benchmarks/contention.py [--repeats 5] [--busy 0,1,2] [--skip-cli] [--skip-batch]
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

import colorot
from _common import load, median_time, peers

BUSY_LOOP = "import time\nend = time.monotonic() + {seconds}\nwhile time.monotonic() < end:\n    pass\n"


@contextlib.contextmanager
def busy_processes(count: int, seconds: float = 900):
    """``count`` CPU-bound processes (each ends by itself after ``seconds``), stopped when the block ends."""
    processes = [subprocess.Popen([sys.executable, "-c", BUSY_LOOP.format(seconds=seconds)]) for _ in range(count)]
    time.sleep(0.5 if count else 0)  # let them reach the scheduler
    try:
        yield
    finally:
        for process in processes:
            process.kill()
            process.wait()


def wall_time(command: list[str], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--busy", default="0,1,2", help="numbers of busy processes, e.g. 0,1")
    parser.add_argument("--skip-cli", action="store_true")
    parser.add_argument("--skip-batch", action="store_true")
    args = parser.parse_args()
    source = np.asarray(Image.fromarray(load("astronaut")).resize((4000, 3000), Image.BICUBIC))
    style = np.asarray(Image.fromarray(load("coffee")).resize((4000, 3000), Image.BICUBIC))
    mkl = peers().get("cm-mkl")
    print(f"colorot from {Path(colorot.__file__).parent}; 12 MP arrays; medians of {args.repeats} runs")
    colorot.transfer(source, style, seed=0)  # warm-up
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        Image.fromarray(source).save(folder / "photo.jpg", quality=92)
        Image.fromarray(load("coffee")).save(folder / "style.jpg", quality=92)
        photos = folder / "photos"
        photos.mkdir()
        small = np.asarray(Image.fromarray(load("rocket")).resize((1155, 866), Image.BICUBIC))  # 1 MP
        for index in range(20):
            Image.fromarray(np.roll(small, 37 * index, axis=1)).save(photos / f"p{index:02d}.jpg", quality=92)
        cli = [sys.executable, "-m", "colorot", "transfer", str(folder / "photo.jpg"), str(folder / "style.jpg"),
               "-o", str(folder / "out.jpg"), "--seed", "0"]
        bare = [sys.executable, "-c", "import torch"]
        quiet: dict[str, float] = {}
        for count in (int(part) for part in args.busy.split(",")):
            with busy_processes(count):
                figures = {"transfer": median_time(lambda: colorot.transfer(source, style, seed=0), args.repeats)}
                if mkl is not None:
                    figures["mkl"] = median_time(lambda: mkl(source, style), max(2, args.repeats // 2))
                if not args.skip_cli:
                    figures["cli beyond import torch"] = wall_time(cli, args.repeats) - wall_time(bare, args.repeats)
                if not args.skip_batch:
                    for jobs in (1, 2):
                        command = [sys.executable, "-m", "colorot", "batch", str(folder / "style.jpg"), str(photos),
                                   "--output-dir", str(folder / "graded"), "--on-conflict", "overwrite",
                                   "--jobs", str(jobs), "--seed", "0"]
                        figures[f"batch 20 x 1 MP, --jobs {jobs}"] = wall_time(command, max(2, args.repeats // 2))
            print(f"\n{count} busy process{'es' if count != 1 else ''}:")
            for name, seconds in figures.items():
                quiet.setdefault(name, seconds) if count == 0 else None
                ratio = f"  {seconds / quiet[name]:.2f}x quiet" if name in quiet and count else ""
                versus = ""
                if name == "transfer" and "mkl" in figures:
                    versus = f"  ({figures['mkl'] / seconds:.2f}x faster than mkl)"
                print(f"  {name:<28} {seconds:7.3f} s{ratio}{versus}")


if __name__ == "__main__":
    main()
