"""
Masks and several styles
========================

A source mask says which pixels change (0 keeps a pixel bit for bit, values in between blend); several
styles are mixed by the sliced Wasserstein barycenter of their colors, with weights.
"""

import numpy as np

import colorot
from _photos import photo, show_row

source, warm, cold = photo("astronaut"), photo("coffee"), photo("hubble")
mask = np.zeros(source.shape[:2], dtype=np.float32)
mask[:, source.shape[1] // 2:] = 1.0  # only the right half changes
mask[:, source.shape[1] // 2 - 16: source.shape[1] // 2 + 16] = np.linspace(0, 1, 32)  # a soft edge
masked = colorot.transfer(source, warm, source_mask=mask, seed=0)
print("left half unchanged:", bool((masked[:, : source.shape[1] // 2 - 16] == source[:, : source.shape[1] // 2 - 16]).all()))
show_row([source, mask, masked], ["source", "source mask", "right half graded"])

mixes = [colorot.transfer(source, [warm, cold], weights=[w, 1 - w], seed=0) for w in (1.0, 0.6, 0.3, 0.0)]
show_row([warm, cold, *mixes], ["style A", "style B", "A only", "0.6 A + 0.4 B", "0.3 A + 0.7 B", "B only"])
