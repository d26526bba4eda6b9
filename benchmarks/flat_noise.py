"""Noise on smooth regions: how much a transfer amplifies the JPEG blocks and sensor noise of skies and flat areas.

On every ordered pair of sample photos, the flat regions of the source are the pixels whose 9x9 neighbourhood has
a luma standard deviation among the lowest 20% of the photo (skies, walls, backgrounds). Their texture is the
high-pass of the image (the image minus its 5x5 box blur). The gain is the standard deviation of the output's
high-pass over the flat regions divided by the source's: 1 keeps the texture as it is, 5 makes blotches of it.
Printed per method: the median and the largest gain over the pairs, and the pairs above 2x.

    python benchmarks/flat_noise.py
"""

from __future__ import annotations

import statistics

import numpy as np
from scipy.ndimage import uniform_filter

import colorot

from _common import load, ordered_pairs

LUMA = np.array([0.2126, 0.7152, 0.0722])

METHODS = {
    "colorot default (look)": dict(),
    "colorot unbalanced": dict(method="unbalanced"),
    "colorot sliced": dict(method="sliced"),
    "  sliced, unsmoothed": dict(method="sliced", lut_blur=0, regrain_radius=0),
    "colorot histogram": dict(method="histogram"),
    "  histogram, unsmoothed": dict(method="histogram", lut_blur=0, regrain_radius=0),
    "colorot mkl": dict(method="mkl"),
}


def flat_mask(image: np.ndarray, share: float = 0.2) -> np.ndarray:
    luma = image.astype(np.float64) @ LUMA
    mean = uniform_filter(luma, 9)
    spread = np.sqrt(np.maximum(uniform_filter(luma ** 2, 9) - mean ** 2, 0))
    return spread <= np.quantile(spread, share)


def high_pass(image: np.ndarray) -> np.ndarray:
    image = image.astype(np.float64)
    return image - uniform_filter(image, (5, 5, 1))


def flat_gain(source: np.ndarray, output: np.ndarray, mask: np.ndarray) -> float:
    return float(high_pass(output)[mask].std() / max(high_pass(source)[mask].std(), 1e-9))


def main() -> None:
    gains: dict = {name: [] for name in METHODS}
    for source_name, style_name in ordered_pairs():
        source, style = load(source_name), load(style_name)
        mask = flat_mask(source)
        for name, options in METHODS.items():
            gains[name].append(flat_gain(source, colorot.transfer(source, style, **options), mask))
    print(f"flat-region noise gain over {len(ordered_pairs())} ordered sample pairs")
    print(f"  {'method':<32} {'median':>7} {'max':>7} {'> 2x':>5}")
    for name, values in gains.items():
        print(f"  {name:<32} {statistics.median(values):7.2f} {max(values):7.2f} {sum(v > 2 for v in values):>5}")


if __name__ == "__main__":
    main()
