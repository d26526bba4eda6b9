"""The guided filter of the displacement (colorot.maps.regrain)."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
import colorot
import colorot.maps.refine
from colorot.maps.regrain import box_mean, guided_filter


FAST = dict(method="sliced", n_iter=12, n_samples=8192, lut_size=33, seed=0, lut_blur=0, regrain_radius=0)  # unsmoothed: the steep map these tests tame


def _noise_gain(source, style, **options):
    model = colorot.ColorTransfer(**{**FAST, **options}).fit(style)
    noisy = np.clip(source + np.random.default_rng(2).normal(0, 2, source.shape), 0, 255).astype(np.uint8)
    return np.std(model.transform(noisy).astype(float) - model.transform(source)) / np.std(
        noisy.astype(float) - source)

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

def test_coefficients_fitted_on_a_reduced_copy_apply_to_the_fine_guide():
    # An image that is locally an affine function of the guide stays that function of the finer guide.
    fine = torch.rand(1, 1, 96, 128, generator=torch.Generator().manual_seed(2))
    coarse = F.adaptive_avg_pool2d(fine, (24, 32))
    filtered = guided_filter(coarse, 0.5 * coarse + 0.1, 3, 1e-6, fine_guide=fine)
    assert filtered.shape == fine.shape
    torch.testing.assert_close(filtered, 0.5 * fine + 0.1, atol=2e-3, rtol=0)

def test_wide_windows_on_a_coarse_grid_match_the_exact_filter(astronaut, coffee, monkeypatch):
    # A real displacement (astronaut graded to coffee) filtered with a wide window: the coarse-grid filter
    # (moments pooled at full resolution, coefficients interpolated back) against the exact one.
    import colorot.maps.regrain as regrain

    graded = colorot.transfer(astronaut, coffee, **FAST)
    to_image = lambda a: torch.from_numpy(a).permute(2, 0, 1)[None].float() / 255  # noqa: E731
    source, moved = to_image(astronaut), to_image(graded)
    guide = (source * torch.tensor([0.2126, 0.7152, 0.0722]).view(1, 3, 1, 1)).sum(1, keepdim=True)
    coarse = guided_filter(guide, moved - source, 64, 1e-3)
    monkeypatch.setattr(regrain, "COARSE_RADIUS", 10**6)
    exact = guided_filter(guide, moved - source, 64, 1e-3)
    gap = (coarse - exact).abs() * 255
    assert float(gap.mean()) < 0.3 and float(gap.max()) < 6  # codes
    assert float((exact - (moved - source)).abs().mean() * 255) > 5 * float(gap.mean())  # the filter does act

def test_regrain_lowers_the_noise_gain_and_keeps_structure(astronaut, coffee):
    from colorot.measures.metrics import structure_similarity

    plain = colorot.transfer(astronaut, coffee, **FAST)
    regrained = colorot.transfer(astronaut, coffee, **{**FAST, "regrain_radius": 4})
    assert structure_similarity(regrained, astronaut) > structure_similarity(plain, astronaut)
    assert _noise_gain(astronaut, coffee, regrain_radius=4) < 0.8 * _noise_gain(astronaut, coffee)


def test_the_regrain_adds_no_color_where_the_style_has_none(astronaut, coffee):
    # filtering a black-and-white map's removal of chroma put back the photo's chroma along its edges (sliced's
    # output spread up to 154 codes across R, G, B against 9 without the regrain); a toned print likewise
    gray = np.repeat(coffee.mean(axis=-1, keepdims=True), 3, axis=-1).round().astype(np.uint8)
    tint = np.array([1.0, 0.85, 0.65])
    sepia = (gray * tint).round().astype(np.uint8)
    across = np.linalg.svd(tint[None])[2][1:].T  # (3, 2): the directions across the tint line
    for style, off_line in ((gray, lambda out: out.max(-1) - out.min(-1)),
                            (sepia, lambda out: np.abs(out @ across).max(-1))):
        filtered = colorot.transfer(astronaut, style, method="sliced").astype(float)
        unfiltered = colorot.transfer(astronaut, style, method="sliced", regrain_radius=0).astype(float)
        assert off_line(filtered).max() <= off_line(unfiltered).max() + 1.5
        assert np.abs(filtered - unfiltered).mean() > 0.1  # the regrain still filters the rest
