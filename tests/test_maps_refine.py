"""refine: rounds of regrain and re-transfer, coarse to fine (colorot.maps.refine)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import colorot
import colorot.maps.refine
from conftest import load_sample


FAST = dict(method="sliced", n_iter=12, n_samples=8192, lut_size=33, seed=0, lut_blur=0, regrain_radius=0)  # unsmoothed: the steep map these tests tame



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
    # is about as close to the rounds at full size as another seed's is (4.0 vs 3.8 codes here since the full-size
    # rounds dequantize the 8-bit photo's float copy as they do its codes; the reduced copy is pooled, continuous).
    from colorot.measures.metrics import color_distance, structure_similarity

    source = load_sample("astronaut", 320)
    full = colorot.transfer(source, coffee, refine=2, **FAST)
    reseeded = colorot.transfer(source, coffee, refine=2, **{**FAST, "seed": 1})
    monkeypatch.setattr(colorot.maps.refine, "REFINE_SIDE", 96)
    reduced = colorot.transfer(source, coffee, refine=2, **FAST)
    assert reduced.shape == source.shape and reduced.dtype == np.uint8
    gap = lambda image: np.abs(image.astype(int) - full.astype(int)).mean()  # noqa: E731
    assert 0 < gap(reduced) < 1.15 * gap(reseeded)
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
