"""
Benchmarks: speed against image size, quality against the other methods
========================================================================

Measured when the site is built, on the machine that builds it (medians; absolute times depend on the
machine, the ratios less so). The full benchmarks, with the peer libraries, 12 MP images and the GPU, are
the scripts of ``benchmarks/`` (see the Benchmarks page).
"""

import itertools
import statistics
import time

import matplotlib.pyplot as plt
import numpy as np
import torch
from PIL import Image

import colorot
from _photos import photo

# %%
# Speed against image size
# ------------------------
# ``colorot.transfer`` (fit + apply) on uint8 arrays, median of 3 runs per size, on the CPU.

source, style = photo("astronaut", 512), photo("coffee", 512)
sizes, seconds = [0.25, 1.0, 4.0], []
for megapixels in sizes:
    width = int((megapixels * 1e6 * 4 / 3) ** 0.5)
    big = np.asarray(Image.fromarray(source).resize((width, width * 3 // 4), Image.BICUBIC))
    colorot.transfer(big, style, seed=0)
    runs = []
    for _ in range(3):
        start = time.perf_counter()
        colorot.transfer(big, style, seed=0)
        runs.append(time.perf_counter() - start)
    seconds.append(statistics.median(runs))
    print(f"{megapixels:5.2f} MP: {seconds[-1]:.3f} s ({megapixels / seconds[-1]:.1f} MP/s), {torch.get_num_threads()} threads")
figure, axis = plt.subplots(figsize=(4.5, 3))
axis.plot(sizes, seconds, "o-")
axis.set_xlabel("megapixels")
axis.set_ylabel("seconds (fit + apply)")
axis.set_title("colorot.transfer on this machine's CPU", fontsize=9)
figure.tight_layout()

# %%
# Quality against the other methods
# ---------------------------------
# Six ordered pairs of sample photos (256 px): sliced W2 to the style (lower is closer) and SSIM's
# structure term against the source (higher keeps more detail), per method; medians in the table. The
# peer libraries (color-matcher, python-color-transfer, POT's EMD transport) join the comparison when
# they are installed (``pip install -e ".[bench]"``, see ``benchmarks/README.md``).

import sys
from pathlib import Path

sys.path.insert(0, str(next(p for p in (Path.cwd().parent / "benchmarks", Path.cwd() / "benchmarks") if p.is_dir())))
from _common import peers  # noqa: E402

names = ["astronaut", "coffee", "rocket"]
runners = {method: (lambda s, t, m=method: colorot.transfer(s, t, method=m, seed=0))
           for method in ["sliced", "mkl", "reinhard", "histogram", "emd", "conditioned"]}
runners.update(peers())
print("peers installed:", ", ".join(name for name in runners if "-" in name) or "none")
methods = list(runners)
scores = {method: [] for method in methods}
for source_name, style_name in itertools.permutations(names, 2):
    pair_source, pair_style = photo(source_name), photo(style_name)
    for method in methods:
        result = runners[method](pair_source, pair_style)
        scores[method].append((colorot.color_distance(result, pair_style),
                               colorot.structure_similarity(result, pair_source)))
print(f"{'method':12s} {'SW to style':>12s} {'structure':>10s}")
figure, axis = plt.subplots(figsize=(5, 3.5))
for method in methods:
    values = np.array(scores[method])
    print(f"{method:12s} {np.median(values[:, 0]):12.4f} {np.median(values[:, 1]):10.3f}")
    axis.scatter(values[:, 0], values[:, 1], label=method, s=18)
axis.set_xscale("log")
axis.set_xlabel("sliced W2 to the style (log)")
axis.set_ylabel("structure kept")
axis.legend(fontsize=7)
figure.tight_layout()
