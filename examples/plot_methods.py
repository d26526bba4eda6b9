"""
Methods compared
================

The palette methods (the style's own colors: ``sliced``, v0.1's default, and the classic ones) on one pair: each panel gives the sliced W2
distance to the style (lower: closer look) and the SSIM structure term against the source (1: no detail
lost). ``emd`` is exact OT on 1,000 samples, extended to every color by the nearest sample.
"""

import colorot
from _photos import photo, show_row

source, style = photo("astronaut"), photo("hubble")
images, titles = [source, style], ["source", "style"]
for method in ["sliced", "mkl", "reinhard", "histogram", "emd", "conditioned"]:
    result = colorot.transfer(source, style, method=method, seed=0)
    distance = colorot.color_distance(result, style)
    structure = colorot.structure_similarity(result, source)
    print(f"{method:12s} SW {distance:.4f}  structure {structure:.3f}")
    images.append(result)
    titles.append(f"{method}\nSW {distance:.3f}, structure {structure:.3f}")
show_row(images[:4], titles[:4])
show_row(images[4:], titles[4:])
