"""Throughput of ``colorot batch`` on this machine: photos per second for N photos at 1 MP (and fewer at
12 MP), with ``--jobs 1`` and ``2``, with one map per photo, one ``--shared-map``, and a saved look file,
against decoding and encoding the same photos alone in as many threads (the floor any grading tool pays),
in one run. The overheads include starting Python and importing torch (about 1.0 s here, none for a look); each
setting also runs on the first 8 photos (with 40 photos or more), and the difference gives the time per photo beyond
the fixed start-up. With ``--repeats N`` every figure is the median of N runs.

With ``--ray``, the same runs with ``--engine ray`` (a local Ray started by each run: its start-up is in the
figure, and the per-photo figure beyond start-up tells the two engines' steady rates apart).

    python benchmarks/batch.py [--photos 200] [--large 20] [--only-shared] [--repeats 1] [--ray]
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

from _common import NAMES, load

SIZES = {"1 MP": (1155, 866), "12 MP": (4000, 3000)}
FEW = 8  # photos of the short run that measures the start-up (colorot.maps.dense.DENSIFY_FROM: the same code path)


def make_photos(folder: Path, count: int, size: tuple[int, int]) -> None:
    folder.mkdir(parents=True)
    bases = [Image.fromarray(load(name)).resize(size, Image.BICUBIC) for name in NAMES]
    for index in range(count):
        pixels = np.roll(np.asarray(bases[index % len(bases)]), index * 13, axis=1)
        Image.fromarray(pixels).save(folder / f"photo{index:04d}.jpg", quality=90)


def decode_encode(folder: Path, out: Path, jobs: int) -> float:
    """Seconds to decode and re-encode every photo with colorot.io in ``jobs`` threads (no torch import)."""
    script = ("import sys, pathlib; from concurrent.futures import ThreadPoolExecutor\n"
              "from colorot.io import read_image, write_image\n"
              "src, dst, jobs = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2]), int(sys.argv[3]); dst.mkdir()\n"
              "def work(p):\n"
              "    image = read_image(p)\n"
              "    write_image(dst / p.name, image.pixels, like=image)\n"
              "with ThreadPoolExecutor(jobs) as pool:\n"
              "    list(pool.map(work, sorted(src.glob('*.jpg'))))")
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", script, str(folder), str(out), str(jobs)], check=True)
    return time.perf_counter() - start


def batch(look: Path, folder: Path, out: Path, *flags: str) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "colorot", "batch", str(look), str(folder), "--output-dir", str(out),
                    "--seed", "0", *flags], check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--photos", type=int, default=200)
    parser.add_argument("--large", type=int, default=20, help="photos at 12 MP (0 to skip)")
    parser.add_argument("--only-shared", action="store_true", help="skip the one-map-per-photo runs")
    parser.add_argument("--repeats", type=int, default=1, help="runs of each setting (medians are printed)")
    parser.add_argument("--ray", action="store_true", help="also run each setting with --engine ray")
    args = parser.parse_args()
    style = Path(__file__).resolve().parent.parent / "samples" / "coffee.jpg"
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        runs = [("style", ("--shared-map",)), ("style", ("--shared-map", "--jobs", "2")),
                ("look", ()), ("look", ("--jobs", "2"))]
        if not args.only_shared:
            runs = [("style", ()), ("style", ("--jobs", "2")), ("style", ("--fit-batch", "4", "--jobs", "2"))] + runs
        if args.ray:
            runs = [run for kind, flags in runs for run in ((kind, flags), (kind, (*flags, "--engine", "ray")))
                    if "--fit-batch" not in run[1] or "ray" not in run[1]]
        for label, count in (("1 MP", args.photos), ("12 MP", args.large)):
            if count == 0:
                continue
            photos = tmp / label.replace(" ", "")
            make_photos(photos, count, SIZES[label])
            look = tmp / f"{photos.name}-look.npz"  # a look fitted beforehand on the first 10 photos (not timed)
            subprocess.run([sys.executable, "-m", "colorot", "fit", str(style), *sorted(map(str, photos.glob("*")))[:10],
                            "-o", str(look), "--seed", "0"], check=True, capture_output=True)
            # The same on the first few photos: the difference is the time per photo beyond the fixed start-up
            # (Python, torch, sampling the style, fitting a shared map, tabulating a table).
            few = tmp / f"{photos.name}-few"
            few.mkdir()
            for path in sorted(photos.glob("*.jpg"))[:FEW]:
                (few / path.name).write_bytes(path.read_bytes())
            marginal = count >= 5 * FEW  # else the two runs differ by too few photos to tell

            def timed(run, folder: Path, name: str) -> tuple[float, float | None]:
                """Median seconds over the repeats for all the photos, and per photo beyond start-up."""
                whole, per_photo = [], []
                for repeat in range(args.repeats):
                    whole.append(run(folder, tmp / f"{photos.name}-{name}-{repeat}"))
                    if marginal:
                        per_photo.append((whole[-1] - run(few, tmp / f"{photos.name}-{name}-few{repeat}"))
                                         / (count - FEW))
                return statistics.median(whole), statistics.median(per_photo) if marginal else None

            def beyond(seconds: float | None, floor: float | None = None) -> str:
                if seconds is None:
                    return ""
                versus = f" ({100 * (seconds / floor - 1):+.0f}%)" if floor else ""
                return f"   {1e3 * seconds:6.1f} ms per photo beyond start-up{versus}"

            floors = {}
            for jobs in (1, 2):
                floors[jobs] = timed(lambda folder, out, jobs=jobs: decode_encode(folder, out, jobs), photos,
                                     f"floor{jobs}")
                print(f"{label}, {count} photos: decode + encode alone, {jobs} thread(s){'':10s}"
                      f"{count / floors[jobs][0]:7.2f} photos/s{beyond(floors[jobs][1])}", flush=True)
            for kind, flags in runs:
                name = kind + "-".join(flags).replace("--", "")
                source = style if kind == "style" else look
                seconds, per_photo = timed(lambda folder, out: batch(source, folder, out, *flags), photos, name)
                jobs = 2 if "--jobs" in flags else 1
                overhead = (seconds - floors[jobs][0]) / floors[jobs][0]
                setting = f"{kind} {' '.join(flags) or '(one map per photo)' if kind == 'style' else ' '.join(flags)}"
                print(f"{label}, {count} photos: batch {setting:34s}{count / seconds:7.2f} photos/s   "
                      f"overhead over decode+encode ({jobs} thread(s)) {100 * overhead:5.0f}%"
                      f"{beyond(per_photo, floors[jobs][1])}", flush=True)

if __name__ == "__main__":
    main()
