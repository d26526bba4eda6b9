"""Throughput of ``colorot batch`` on this machine: photos per second for N photos at 1 MP (and fewer at
12 MP), with ``--jobs 1`` and ``2``, with and without ``--shared-map``, against decoding and encoding the
same photos alone (the floor any grading tool pays), in one run.

    python benchmarks/batch.py [--photos 200] [--large 20]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from _common import NAMES, load

SIZES = {"1 MP": (1155, 866), "12 MP": (4000, 3000)}


def make_photos(folder: Path, count: int, size: tuple[int, int]) -> None:
    folder.mkdir(parents=True)
    bases = [Image.fromarray(load(name)).resize(size, Image.BICUBIC) for name in NAMES]
    for index in range(count):
        pixels = np.roll(np.asarray(bases[index % len(bases)]), index * 13, axis=1)
        Image.fromarray(pixels).save(folder / f"photo{index:04d}.jpg", quality=90)


def decode_encode(folder: Path, out: Path) -> float:
    script = ("import sys, pathlib; from colorot.io import read_image, write_image\n"
              "src, dst = map(pathlib.Path, sys.argv[1:]); dst.mkdir()\n"
              "[write_image(dst / p.name, read_image(p).pixels, like=read_image(p)) for p in sorted(src.glob('*.jpg'))]")
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", script, str(folder), str(out)], check=True)
    return time.perf_counter() - start


def batch(folder: Path, out: Path, *flags: str) -> float:
    style = Path(__file__).resolve().parent.parent / "samples" / "coffee.jpg"
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "colorot", "batch", str(style), str(folder), "--output-dir", str(out),
                    "--seed", "0", *flags], check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--photos", type=int, default=200)
    parser.add_argument("--large", type=int, default=20, help="photos at 12 MP (0 to skip)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for label, count in (("1 MP", args.photos), ("12 MP", args.large)):
            if count == 0:
                continue
            photos = tmp / label.replace(" ", "")
            make_photos(photos, count, SIZES[label])
            floor = decode_encode(photos, tmp / f"{photos.name}-floor")
            print(f"{label}, {count} photos: decode + encode alone  {count / floor:7.2f} photos/s", flush=True)
            for flags in ((), ("--jobs", "2"), ("--shared-map",), ("--shared-map", "--jobs", "2")):
                name = "-".join(flags).replace("--", "") or "default"
                seconds = batch(photos, tmp / f"{photos.name}-{name}", *flags)
                overhead = (seconds - floor) / floor
                print(f"{label}, {count} photos: batch {' '.join(flags) or '(one map per photo, jobs 1)':28s}"
                      f"{count / seconds:7.2f} photos/s   overhead over decode+encode {100 * overhead:6.0f}%",
                      flush=True)


if __name__ == "__main__":
    main()
