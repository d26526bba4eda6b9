"""The 3D lookup table: baking, partial baking, kernels (colorot.maps.lut)."""

from __future__ import annotations

import numpy as np
import pytest
import colorot
from colorot import ColorTransfer
from colorot.measures.metrics import color_distance as _color_distance


def color_distance(image, reference):
    return _color_distance(image, reference, n_samples=16384, n_projections=64)

FAST = dict(method="sliced", n_iter=12, n_samples=8192, lut_size=33)

def test_large_lut_and_lut_blur_options(astronaut, coffee):
    # 8-bit arrays with LUTs beyond Pillow's 65 nodes go through the torch kernel.
    big = colorot.transfer(astronaut, coffee, seed=0, n_iter=8, n_samples=8192, lut_size=80)
    assert big.dtype == np.uint8
    blurred = colorot.transfer(astronaut, coffee, seed=0, lut_blur=0.03, **FAST)
    assert color_distance(blurred, coffee) < 0.5 * color_distance(astronaut, coffee)

@pytest.mark.parametrize("options", [dict(), dict(space="oklab", strength=0.7), dict(regrain_radius=2)])
def test_a_photo_s_own_table_baked_around_its_colors_gives_the_whole_table_s_result(astronaut, coffee, options):
    # transform bakes, for an 8-bit image on the CPU, only the grid nodes around its colors; fitting the same
    # map with fit(style, sources=[photo]) bakes the whole grid. Both must give the photo the same pixels.
    from colorot.maps.lut import used_nodes

    rng = np.random.default_rng(0)
    images = [astronaut, rng.integers(0, 256, (37, 41, 3), dtype=np.uint8), np.full((4, 6, 3), 255, np.uint8),
              np.dstack([astronaut, rng.integers(0, 256, astronaut.shape[:2], dtype=np.uint8)])]
    for image in images:
        partial = ColorTransfer(seed=0, **options, **FAST).fit(coffee).transform(image)
        whole = ColorTransfer(seed=0, **options, **FAST).fit(coffee, sources=[image])
        assert whole.lut_ is not None and np.array_equal(partial, whole.transform(image))
    assert 0.01 < float(used_nodes(astronaut, 65).float().mean()) < 0.5  # a fraction of the grid is baked
