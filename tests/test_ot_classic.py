"""The classic maps (colorot.ot.classic) through the estimator."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import colorot
from colorot import ColorotError
from colorot.measures.metrics import color_distance as _color_distance


def color_distance(image, reference):
    return _color_distance(image, reference, n_samples=16384, n_projections=64)

FAST = dict(n_iter=12, n_samples=8192, lut_size=33)

def test_plain_idt_is_available(astronaut, coffee):
    out = colorot.transfer(astronaut, coffee, seed=0, monotone_luma=False, method="sliced", **FAST)
    assert color_distance(out, coffee) < 0.3 * color_distance(astronaut, coffee)

@pytest.mark.parametrize("method", ["mkl", "reinhard", "histogram", "emd"])
def test_other_methods_lower_the_distance(astronaut, coffee, method):
    out = colorot.transfer(astronaut, coffee, method=method, seed=0, **FAST)
    assert out.dtype == np.uint8 and out.shape == astronaut.shape
    assert color_distance(out, coffee) < 0.6 * color_distance(astronaut, coffee)

def test_histogram_method_matches_each_channel(astronaut, coffee):
    from skimage.exposure import match_histograms

    # Every pixel's worth of samples and the full-size table: the gap left is the table's interpolation.
    ours = colorot.transfer(astronaut, coffee, method="histogram", seed=0, n_samples=1 << 16, lut_blur=0,
                            regrain_radius=0).astype(float)  # unsmoothed: the histogram matched itself
    reference = match_histograms(astronaut, coffee, channel_axis=-1).astype(float)
    for channel in range(3):
        # Same per-channel distribution as scikit-image's histogram matching (sorted values agree).
        gap = np.abs(np.sort(ours[..., channel], axis=None) - np.sort(reference[..., channel], axis=None))
        assert gap.mean() < 3.0

def test_mkl_matches_mean_and_covariance(astronaut, coffee):
    out = colorot.transfer(astronaut, coffee, method="mkl", seed=0, n_samples=1 << 16).reshape(-1, 3) / 255
    style = coffee.reshape(-1, 3) / 255
    assert np.abs(out.mean(0) - style.mean(0)).max() < 0.02
    assert np.abs(np.cov(out.T) - np.cov(style.T)).max() < 0.01

def test_unknown_method_is_a_clear_error(astronaut, coffee):
    with pytest.raises(ColorotError, match="unknown method"):
        colorot.transfer(astronaut, coffee, method="magic")

@pytest.mark.parametrize("method", ["mkl", "reinhard", "histogram", "emd"])
def test_other_methods_on_a_batch(astronaut, coffee, method):
    batch = torch.from_numpy(np.stack([astronaut, astronaut[::-1].copy()])).permute(0, 3, 1, 2).float() / 255
    out = colorot.transfer(batch, coffee, method=method, seed=0, **FAST)
    assert out.shape == batch.shape
    for index in range(2):
        assert color_distance(out[index], coffee) < 0.6 * color_distance(batch[index], coffee)
