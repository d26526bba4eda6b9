"""One number to compare two checkouts of colorot: the median time of ``colorot.transfer`` on 12 MP uint8 arrays.

Run it for each checkout in turn, several times, interleaved, on a quiet machine (nothing else running):

    for i in 1 2 3; do python benchmarks/ab_transfer.py /path/to/old; python benchmarks/ab_transfer.py .; done
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(sys.argv[1] if len(sys.argv) > 1 else ".").resolve()))

import colorot  # noqa: E402 - from the checkout named on the command line
import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from _common import load  # noqa: E402


def main() -> None:
    source = np.asarray(Image.fromarray(load("astronaut")).resize((4000, 3000), Image.BICUBIC))
    style = np.asarray(Image.fromarray(load("coffee")).resize((4000, 3000), Image.BICUBIC))
    colorot.transfer(source, style, seed=0)  # warm-up
    times = []
    for _ in range(9):
        start = time.perf_counter()
        colorot.transfer(source, style, seed=0)
        times.append(time.perf_counter() - start)
    print(f"{Path(colorot.__file__).parent.parent}: median {statistics.median(times):.3f} s, "
          f"min {min(times):.3f} s (9 runs)")


if __name__ == "__main__":
    main()
