"""The guided filter of the displacement (opt-in spatial regularization)."""

import numpy as np
import torch
import torch.nn.functional as F

import colorot
from colorot.regrain import box_mean, guided_filter

FAST = dict(n_iter=12, n_samples=8192, lut_size=33, seed=0)


def test_box_mean_matches_average_pooling_with_cut_windows():
    image = torch.rand(2, 3, 17, 23, generator=torch.Generator().manual_seed(0))
    reference = F.avg_pool2d(image, 7, stride=1, padding=3, count_include_pad=False)
    torch.testing.assert_close(box_mean(image, 3), reference, atol=1e-6, rtol=1e-5)


def test_guided_filter_keeps_the_guide_and_smooths_what_does_not_follow_it():
    rng = torch.Generator().manual_seed(1)
    guide = torch.zeros(1, 1, 32, 32)
    guide[..., 16:] = 1.0  # one strong edge
    torch.testing.assert_close(guided_filter(guide, guide, 4, 1e-4), guide, atol=1e-3, rtol=0)
    noise = 0.05 * torch.randn(1, 1, 32, 32, generator=rng)
    filtered = guided_filter(guide, guide + noise, 4, 1e-2)
    assert float((filtered - guide).std()) < 0.5 * float(noise.std())  # noise averaged away, edge kept


def _noise_gain(source, style, **options):
    model = colorot.ColorTransfer(**FAST, **options).fit(style)
    noisy = np.clip(source + np.random.default_rng(2).normal(0, 2, source.shape), 0, 255).astype(np.uint8)
    return np.std(model.transform(noisy).astype(float) - model.transform(source)) / np.std(
        noisy.astype(float) - source)


def test_regrain_lowers_the_noise_gain_and_keeps_structure(astronaut, coffee):
    from colorot.metrics import structure_similarity

    plain = colorot.transfer(astronaut, coffee, **FAST)
    regrained = colorot.transfer(astronaut, coffee, regrain_radius=4, **FAST)
    assert structure_similarity(regrained, astronaut) > structure_similarity(plain, astronaut)
    assert _noise_gain(astronaut, coffee, regrain_radius=4) < 0.8 * _noise_gain(astronaut, coffee)
