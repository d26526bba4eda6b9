"""Measures: images as weighted color point clouds, in a working color space, and the distances between them.

* :mod:`colorot.measures.colorspaces` -- the working spaces (sRGB, linear, CIELAB, Oklab), luma and neutral axes;
* :mod:`colorot.measures.sampling` -- an image's color distribution as a seeded, alpha-weighted sample;
* :mod:`colorot.measures.metrics` -- sliced and exact W2 between color distributions, SSIM's structure term.
"""

from .sampling import color_measure, sample_colors

__all__ = ["color_measure", "sample_colors"]
