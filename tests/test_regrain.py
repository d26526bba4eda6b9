"""The guided filter of the displacement (opt-in spatial regularization)."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import colorot
import colorot.maps.refine
from colorot.maps.regrain import box_mean, guided_filter
from conftest import load_sample

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


def _noise_gain(source, style, **options):
    model = colorot.ColorTransfer(**FAST, **options).fit(style)
    noisy = np.clip(source + np.random.default_rng(2).normal(0, 2, source.shape), 0, 255).astype(np.uint8)
    return np.std(model.transform(noisy).astype(float) - model.transform(source)) / np.std(
        noisy.astype(float) - source)


def test_regrain_lowers_the_noise_gain_and_keeps_structure(astronaut, coffee):
    from colorot.measures.metrics import structure_similarity

    plain = colorot.transfer(astronaut, coffee, **FAST)
    regrained = colorot.transfer(astronaut, coffee, regrain_radius=4, **FAST)
    assert structure_similarity(regrained, astronaut) > structure_similarity(plain, astronaut)
    assert _noise_gain(astronaut, coffee, regrain_radius=4) < 0.8 * _noise_gain(astronaut, coffee)


def test_refine_rounds_bring_the_colors_closer_and_keep_more_structure(astronaut, chelsea):
    from colorot.measures.metrics import color_distance, structure_similarity

    plain = colorot.transfer(astronaut, chelsea, **FAST)
    refined = colorot.transfer(astronaut, chelsea, refine=3, **FAST)
    # astronaut's black background (a tenth of its pixels, one color) stays one color under any map of
    # color; the regrain spreads it, so the next map can match the style.
    assert color_distance(refined, chelsea) < 0.5 * color_distance(plain, chelsea)
    assert structure_similarity(refined, astronaut) > structure_similarity(plain, astronaut) + 0.005
    again = colorot.transfer(astronaut, chelsea, refine=3, **FAST)
    assert np.array_equal(refined, again) and refined.dtype == np.uint8


def test_refine_runs_its_rounds_on_a_reduced_copy_of_a_large_image(coffee, monkeypatch):
    # Above REFINE_SIDE the rounds run on a reduced copy and the image gets the last filter and map at its own
    # size: its detail is kept (an upscaled result of the copy's size has structure 0.87 here), and the result
    # is closer to the rounds at full size than another seed's is.
    from colorot.measures.metrics import color_distance, structure_similarity

    source = load_sample("astronaut", 320)
    full = colorot.transfer(source, coffee, refine=2, **FAST)
    reseeded = colorot.transfer(source, coffee, refine=2, **{**FAST, "seed": 1})
    monkeypatch.setattr(colorot.maps.refine, "REFINE_SIDE", 96)
    reduced = colorot.transfer(source, coffee, refine=2, **FAST)
    assert reduced.shape == source.shape and reduced.dtype == np.uint8
    gap = lambda image: np.abs(image.astype(int) - full.astype(int)).mean()  # noqa: E731
    assert 0 < gap(reduced) < gap(reseeded)
    # As close to the style as the rounds at full size (the tiny style's own sampling noise is about 0.002), far
    # closer than the source (0.17).
    assert color_distance(reduced, coffee) < color_distance(full, coffee) + 0.002
    assert structure_similarity(reduced, source) > structure_similarity(full, source) - 0.003


def test_refine_of_an_8_bit_photo_agrees_with_the_float_path(astronaut, coffee):
    # An 8-bit photo's last map reads the filtered colors rounded to 8 bits (Pillow's kernel); the same photo as
    # floats goes through the float lookup. They differ by rounding only.
    eight_bit = colorot.transfer(astronaut, coffee, refine=2, **FAST).astype(int)
    floats = np.round(colorot.transfer(astronaut / 255.0, coffee, refine=2, **FAST) * 255).astype(int)
    gap = np.abs(eight_bit - floats)
    assert gap.mean() < 0.5 and np.percentile(gap, 99) <= 2 and gap.max() <= 6


@pytest.mark.parametrize("refine_side", [None, 64])
def test_refine_keeps_types_alpha_and_masked_pixels(astronaut, coffee, monkeypatch, refine_side):
    if refine_side:  # the rounds on a reduced copy: alpha and mask reduced with it
        monkeypatch.setattr(colorot.maps.refine, "REFINE_SIDE", refine_side)
    rgba = np.dstack([astronaut, np.full(astronaut.shape[:2], 200, np.uint8)])
    mask = np.zeros(astronaut.shape[:2], bool)
    mask[:, : astronaut.shape[1] // 2] = True
    out = colorot.transfer(rgba, coffee, refine=1, source_mask=mask, **FAST)
    assert out.shape == rgba.shape and out.dtype == np.uint8
    assert np.array_equal(out[..., 3], rgba[..., 3])
    assert np.array_equal(out[:, astronaut.shape[1] // 2:], rgba[:, astronaut.shape[1] // 2:])
    assert not np.array_equal(out[:, : astronaut.shape[1] // 2], rgba[:, : astronaut.shape[1] // 2])
    tensor = torch.from_numpy(astronaut).permute(2, 0, 1)[None].float() / 255
    graded = colorot.transfer(tensor, coffee, refine=1, **FAST)
    assert graded.shape == tensor.shape and graded.dtype == torch.float32
    half = colorot.transfer(astronaut / 255.0, coffee, refine=1, strength=0.5, **FAST)
    full = colorot.transfer(astronaut / 255.0, coffee, refine=1, **FAST)
    np.testing.assert_allclose(half, (astronaut / 255.0 + full) / 2, atol=1e-5)


def test_refine_refuses_bad_rounds_and_a_shared_map(astronaut, coffee):
    with pytest.raises(colorot.ColorotError, match="refine"):
        colorot.ColorTransfer(refine=-1)
    model = colorot.ColorTransfer(refine=2, **FAST).fit(coffee, sources=[astronaut])
    with pytest.raises(colorot.ColorotError, match="refine"):
        model.transform(astronaut)


def test_refine_radii_go_from_coarse_to_fine_in_proportion_to_the_image():
    from colorot.maps.refine import refine_radii

    for side, rounds in ((512, 11), (4000, 5), (160, 8)):
        radii = refine_radii(side, rounds)
        assert len(radii) == rounds and radii == sorted(radii, reverse=True)
        assert abs(radii[0] - side / 2) <= 1 and abs(radii[-1] - side / 64) <= 1
    assert all(abs(large - 2 * small) <= 1 for large, small in zip(refine_radii(1024, 11), refine_radii(512, 11)))
    assert refine_radii(20, 3)[-1] >= 1
