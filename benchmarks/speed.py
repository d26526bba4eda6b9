"""Speed and memory of colorot at 12 MP on this machine, against its peers, in one run.

* ``colorot.transfer`` on a 12 MP uint8 array (fit + apply), median of several runs, beside the transport
  alone (``method="unbalanced"``, v0.2's default) and with ``refine=11`` (the spatial quality mode);
* color-matcher's ``mkl`` and python-color-transfer's IDT on the same arrays (when installed);
* the CLI on a 12 MP JPEG (decode, fit, apply, encode) against a bare ``python -c "import torch"``,
  each a fresh process, with the CLI's peak resident memory.

    python benchmarks/speed.py [--repeats 5] [--skip-slow-peers]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

import colorot
import torch

from _common import load, median_time, peers

WIDTH, HEIGHT = 4000, 3000  # 12 MP


def make_12mp(name: str) -> np.ndarray:
    return np.asarray(Image.fromarray(load(name)).resize((WIDTH, HEIGHT), Image.BICUBIC))


_LAUNCHER = (
    "import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True, capture_output=True); "
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
)


def process_time(command: list[str], repeats: int) -> tuple[float, float]:
    """Median wall time of a fresh process, and its peak resident memory in MB.

    The memory is read by a small launcher process: a child forked straight from this (large)
    benchmark process would start its peak-memory count at this process's size.
    """
    times, peak = [], 0.0
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    launched = subprocess.run([sys.executable, "-c", _LAUNCHER, *command], check=True, capture_output=True, text=True)
    peak = int(launched.stdout.strip()) / 1024
    return statistics.median(times), peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--skip-slow-peers", action="store_true")
    args = parser.parse_args()
    source, style = make_12mp("astronaut"), make_12mp("coffee")
    print(f"images: {WIDTH}x{HEIGHT} uint8, torch threads: {torch.get_num_threads()}")

    colorot.transfer(source, style, seed=0)  # warm-up
    ours = median_time(lambda: colorot.transfer(source, style, seed=0), args.repeats)
    print(f"colorot.transfer (array, 12 MP)     median {ours:.3f} s")
    transport = median_time(lambda: colorot.transfer(source, style, seed=0, method="unbalanced"), args.repeats)
    print(f"  method='unbalanced' (v0.2 default) median {transport:.3f} s   (the default takes {ours / transport:.2f}x)")
    refined = median_time(lambda: colorot.transfer(source, style, seed=0, refine=11), max(3, args.repeats // 2))
    print(f"  the same with refine=11           median {refined:.3f} s   ({refined / ours:.1f}x the default)")
    available = peers()
    if "cm-mkl" in available:
        mkl = median_time(lambda: available["cm-mkl"](source, style), max(3, args.repeats // 2))
        print(f"color-matcher mkl (array, 12 MP)    median {mkl:.3f} s   -> colorot is {mkl / ours:.1f}x faster")
    if "pct-idt" in available and not args.skip_slow_peers:
        idt = median_time(lambda: available["pct-idt"](source, style), 1)
        print(f"python-color-transfer IDT (12 MP)   once   {idt:.3f} s   -> colorot is {idt / ours:.1f}x faster")

    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        Image.fromarray(source).save(folder / "photo.jpg", quality=92)
        Image.fromarray(style).save(folder / "look.jpg", quality=92)
        bare, _ = process_time([sys.executable, "-c", "import torch"], args.repeats)
        command = [sys.executable, "-m", "colorot", "transfer", str(folder / "photo.jpg"), str(folder / "look.jpg"),
                   "-o", str(folder / "out.jpg"), "--seed", "0"]
        cli, peak = process_time(command, args.repeats)
        print(f"bare 'import torch' process         median {bare:.3f} s")
        print(f"colorot transfer CLI (12 MP JPEG)   median {cli:.3f} s   -> {cli - bare:.3f} s beyond import torch")
        cli_transport, _ = process_time(command + ["--method", "unbalanced"], args.repeats)
        print(f"  the same with --method unbalanced median {cli_transport:.3f} s   -> {cli_transport - bare:.3f} s beyond"
              " import torch")
        print(f"peak resident memory of the CLI process          {peak:.0f} MB")
        cli_refined, peak_refined = process_time(command + ["--refine", "11"], max(3, args.repeats // 2))
        print(f"  the same with --refine 11         median {cli_refined:.3f} s   -> {cli_refined - bare:.3f} s beyond"
              f" import torch, peak {peak_refined:.0f} MB")


if __name__ == "__main__":
    main()
