"""The palette methods (``sliced``, ``histogram``: the reference's own colors) are smooth by default: no jump
between neighbouring colors near white, and a flat area's noise is shifted, not amplified."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy.ndimage import uniform_filter

import colorot
from colorot.options import TransferOptions

from conftest import load_sample


def _largest_step_near_white(model) -> float:
    """The largest change of the output, in 8-bit codes, between input colors 8 codes apart in [215, 255]^3."""
    codes = np.arange(215, 256, 8)
    ramp = np.array(list(itertools.product(codes, codes, codes)), dtype=np.uint8).reshape(1, -1, 3)
    out = model.transform(ramp).reshape(len(codes), len(codes), len(codes), 3).astype(float)
    return max(float(np.abs(np.diff(out, axis=axis)).max()) for axis in range(3))


@pytest.mark.parametrize("photo, style", [("astronaut", "rocket"), ("coffee", "hubble")])
def test_the_palette_map_has_no_jump_near_white(photo, style):
    source, reference = load_sample(photo, 320), load_sample(style, 320)
    raw = colorot.ColorTransfer(method="sliced", lut_blur=0, regrain_radius=0, seed=0).fit(reference, [source])
    # The map itself (the regrain filters an image, not colors): its default blur.
    smooth = colorot.ColorTransfer(method="sliced", regrain_radius=0, seed=0).fit(reference, [source])
    assert _largest_step_near_white(raw) > 60  # without the blur, the sliced map jumps there
    assert _largest_step_near_white(smooth) <= 30


def _flat_noise_gain(source: np.ndarray, output: np.ndarray) -> float:
    """How much the output's high-pass (the image minus its 5x5 box mean) grows on the source's flat areas."""
    luma = source.astype(float) @ [0.2126, 0.7152, 0.0722]
    spread = np.sqrt(np.maximum(uniform_filter(luma ** 2, 9) - uniform_filter(luma, 9) ** 2, 0))
    flat = spread <= np.quantile(spread, 0.2)

    def high_pass(image):
        return image.astype(float) - uniform_filter(image.astype(float), (5, 5, 1))

    return float(high_pass(output)[flat].std() / high_pass(source)[flat].std())


def test_a_plain_skys_noise_is_not_amplified_by_the_palette_methods():
    rng = np.random.default_rng(0)
    height, width = 160, 240
    sky = np.stack(np.broadcast_arrays(*(np.linspace(a, b, height)[:, None] * np.ones(width)
                                         for a, b in ((150, 205), (180, 225), (225, 250)))), axis=-1)
    photo = np.clip(np.round(sky + rng.normal(0, 2.0, sky.shape)), 0, 255).astype(np.uint8)
    style = load_sample("coffee", 240)  # a palette spread far wider than the sky's
    default = _flat_noise_gain(photo, colorot.transfer(photo, style, seed=0))
    for method in ("sliced", "histogram"):
        plain = _flat_noise_gain(photo, colorot.transfer(photo, style, seed=0, method=method, regrain_radius=0,
                                                         lut_blur=0))
        smooth = _flat_noise_gain(photo, colorot.transfer(photo, style, seed=0, method=method))
        assert plain > 1.5 * default, (method, plain, default)  # what the palette did before
        assert smooth <= 1.2 * max(default, 1.0), (method, smooth, default)


def test_the_palette_defaults_are_the_methods_and_an_explicit_value_wins():
    sliced, default = TransferOptions(method="sliced"), TransferOptions()
    assert (sliced.regrain_radius, sliced.regrain_eps, sliced.lut_blur) == (8, 4e-3, 0.08)
    assert (default.regrain_radius, default.regrain_eps, default.lut_blur) == (0, 1e-3, 0.0)
    assert TransferOptions(method="sliced", regrain_radius=0, lut_blur=0).regrain_radius == 0
    assert TransferOptions(method="sliced", refine=2).regrain_radius == 0  # refine picks its own radii
    with pytest.raises(colorot.ColorotError, match="lut_blur"):
        TransferOptions(lut_blur=-1)
