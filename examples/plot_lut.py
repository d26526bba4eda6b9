"""
A look as a 3D LUT
==================

The fitted map is a function of color, so it is baked into a 3D lookup table, written as a ``.cube``
file (for Resolve, Photoshop, ffmpeg's ``lut3d``) and applied to other photos. Here: a 33-node LUT fitted
for the whole sRGB cube, written, read back and applied, and a slice of the table (blue = 0.5).
"""

import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

import colorot
from colorot.apps import looks
from _photos import photo, show_row

style = photo("coffee")
lut = colorot.fit_lut(style, size=33, seed=0)
path = looks.write_cube(Path(tempfile.mkdtemp()) / "coffee.cube", lut)
print(path.read_text().splitlines()[:4])
loaded = looks.read_cube(path)
graded = [colorot.apply_lut(loaded, photo(name)) for name in ("astronaut", "rocket", "chelsea")]
show_row([style, *graded], ["style", "astronaut", "rocket", "chelsea"])

table = loaded.table[0].numpy()  # (3, blue, green, red)
figure, axes = plt.subplots(1, 2, figsize=(6, 3))
identity = np.stack(np.meshgrid(np.linspace(0, 1, 33), np.linspace(0, 1, 33), indexing="xy"), -1)
axes[0].imshow(np.dstack([identity[..., 0], identity[..., 1], np.full((33, 33), 0.5)]), origin="lower")
axes[0].set_title("input colors (blue 0.5)", fontsize=9)
axes[1].imshow(table[:, 16].transpose(1, 2, 0).clip(0, 1), origin="lower")
axes[1].set_title("their graded colors", fontsize=9)
for axis in axes:
    axis.set_xlabel("red")
    axis.set_ylabel("green")
figure.tight_layout()
