"""Tables tabulated at every 8-bit color, numpy only (colorot.maps.dense)."""

from __future__ import annotations

import numpy as np
import torch

from colorot.maps import dense
from colorot.maps.lut import ColorLUT, identity_grid
from colorot.maps.shaper import Shaper


def test_tabulated_lookups_are_the_rounded_trilinear_interpolation_through_the_shaper():
    table = identity_grid(9).T.reshape(3, 9, 9, 9) ** torch.tensor([0.7, 1.0, 1.6])[:, None, None, None]
    shaper = Shaper(np.stack([np.linspace(0, 1, 33) ** 2] * 3), np.array([[0, 0, 0], [1, 1, 1]]))
    codes = np.random.default_rng(0).integers(0, 256, (40, 50, 4), dtype=np.uint8)
    looked_up = dense.lookup_uint8(dense.tabulate_uint8(table.numpy(), shaper.at_codes()), codes)
    pixels = torch.from_numpy(codes[..., :3].reshape(1, -1, 3).transpose(0, 2, 1).copy())
    expected = ColorLUT(table, shaper).apply_pixels(pixels, scale=255.0)[0].T.reshape(40, 50, 3).numpy()
    assert np.abs(looked_up[..., :3].astype(int) - expected).max() <= 1
    assert np.array_equal(looked_up[..., 3], codes[..., 3])  # alpha kept
