"""The choice of lookup kernel and the finishing of outputs (colorot.maps.kernels)."""

from __future__ import annotations

import numpy as np
import torch

from colorot.pixels import image_to_pixels
from colorot.maps.kernels import apply_table
from colorot.maps.lut import ColorLUT, identity_grid


def _warm() -> ColorLUT:
    return ColorLUT(identity_grid(17).T.reshape(3, 17, 17, 17) * torch.tensor([1.0, 0.9, 0.7])[:, None, None, None])


def test_every_kernel_agrees_within_a_code(astronaut):
    eight_bit = apply_table(_warm(), image_to_pixels(astronaut), torch.device("cpu"))  # Pillow's kernel
    floats = apply_table(_warm(), image_to_pixels(astronaut.astype(np.float32) / 255), torch.device("cpu"))
    tabulated = apply_table(_warm().densify(), image_to_pixels(astronaut), torch.device("cpu"))
    assert np.abs(eight_bit.astype(float) - floats * 255).max() <= 1.0
    assert np.abs(eight_bit.astype(int) - tabulated).max() <= 1


def test_a_zero_mask_keeps_pixels_bit_for_bit_and_alpha_passes(astronaut):
    rgba = np.concatenate([astronaut, np.full(astronaut.shape[:2] + (1,), 77, np.uint8)], axis=-1)
    mask = torch.zeros(1, astronaut.shape[0] * astronaut.shape[1])
    mask[:, ::2] = 1
    out = apply_table(_warm(), image_to_pixels(rgba), torch.device("cpu"), mask=mask)
    flat, source = out.reshape(-1, 4), rgba.reshape(-1, 4)
    assert np.array_equal(flat[1::2], source[1::2]) and (flat[:, 3] == 77).all()
    assert not np.array_equal(flat[::2], source[::2])
