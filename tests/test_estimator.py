"""Masks and several styles with weights."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from PIL import Image

import colorot
from colorot import ColorotError
from colorot.cli import main
from colorot.measures.metrics import color_distance
from conftest import DEVICES, load_sample

FAST = dict(method="sliced", n_iter=12, n_samples=8192, lut_size=33, seed=0)


def _half_mask(image: np.ndarray) -> np.ndarray:
    mask = np.zeros(image.shape[:2], dtype=bool)
    mask[:, image.shape[1] // 2:] = True
    return mask


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("kind", ["uint8", "float32", "torch"])
def test_masked_out_pixels_are_unchanged_bit_for_bit(astronaut, coffee, device, kind):
    source = {"uint8": astronaut, "float32": astronaut.astype(np.float32) / 255,
              "torch": torch.from_numpy(astronaut.copy()).permute(2, 0, 1)}[kind]
    mask = _half_mask(astronaut)
    out = colorot.transfer(source, coffee, source_mask=mask, device=device, **FAST)
    out = out.permute(1, 2, 0).numpy() if kind == "torch" else out
    source = astronaut if kind == "torch" else source
    np.testing.assert_array_equal(out[:, ~mask[0]], source[:, ~mask[0]])
    assert not np.array_equal(out[:, mask[0]], source[:, mask[0]])


def test_soft_mask_blends_between_source_and_transfer(astronaut, coffee):
    # A uniform mask weighs every pixel alike: the same statistics, hence the same map, applied halfway.
    full = colorot.transfer(astronaut, coffee, source_mask=np.ones(astronaut.shape[:2]), **FAST).astype(float)
    half = colorot.transfer(astronaut, coffee, source_mask=np.full(astronaut.shape[:2], 0.5), **FAST).astype(float)
    assert np.abs(half - (astronaut + full) / 2).max() <= 1.0  # rounding only


def test_source_mask_chooses_the_pixels_that_define_the_statistics(astronaut, coffee):
    source = astronaut.copy()
    mask = _half_mask(source)
    source[~mask] = (0, 255, 0)  # a green half that must not pull the map
    masked = colorot.transfer(source, coffee, source_mask=mask, **FAST)
    unmasked = colorot.transfer(source, coffee, **FAST)
    right = (slice(None), slice(source.shape[1] // 2, None))
    assert color_distance(masked[right], coffee) < 0.7 * color_distance(unmasked[right], coffee)


def test_style_mask_chooses_the_pixels_that_define_the_look(astronaut, coffee):
    style = coffee.copy()
    keep = _half_mask(style)
    style[~keep] = (255, 0, 255)
    target = np.ascontiguousarray(coffee[:, coffee.shape[1] // 2:])
    masked = colorot.transfer(astronaut, style, style_mask=keep, **FAST)
    unmasked = colorot.transfer(astronaut, style, **FAST)
    assert color_distance(masked, target) < 0.7 * color_distance(unmasked, target)


def test_bad_masks_are_clear_errors(astronaut, coffee):
    with pytest.raises(ColorotError, match="must be \\(H, W\\)"):
        colorot.transfer(astronaut, coffee, source_mask=np.ones((3, 3)), **FAST)
    with pytest.raises(ColorotError, match="in \\[0, 1\\]"):
        colorot.transfer(astronaut, coffee, source_mask=np.full(astronaut.shape[:2], 2.0), **FAST)
    with pytest.raises(ColorotError, match="no opaque pixels"):
        colorot.transfer(astronaut, coffee, style_mask=np.zeros(coffee.shape[:2]), **FAST)


def test_weights_one_zero_reproduce_the_single_style(astronaut, coffee, chelsea):
    single = colorot.transfer(astronaut, coffee, **FAST)
    mixed = colorot.transfer(astronaut, [coffee, chelsea], weights=[1, 0], **FAST)
    np.testing.assert_array_equal(mixed, single)


def test_an_even_mix_lies_between_the_styles(astronaut, coffee, chelsea):
    only_a = colorot.transfer(astronaut, coffee, **FAST)
    only_b = colorot.transfer(astronaut, chelsea, **FAST)
    mix = colorot.transfer(astronaut, [coffee, chelsea], weights=[0.5, 0.5], **FAST)
    assert color_distance(mix, coffee) < color_distance(only_b, coffee)
    assert color_distance(mix, chelsea) < color_distance(only_a, chelsea)
    with pytest.raises(ColorotError, match="weights"):
        colorot.transfer(astronaut, [coffee, chelsea], weights=[1, 2, 3], **FAST)


def test_cli_mixes_styles_and_reads_masks(tmp_path):
    source, a, b = (load_sample(name, 96) for name in ("astronaut", "coffee", "chelsea"))
    paths = {}
    for name, image in (("photo", source), ("a", a), ("b", b)):
        paths[name] = tmp_path / f"{name}.png"
        Image.fromarray(image).save(paths[name])
    mask = (_half_mask(source) * 255).astype(np.uint8)
    Image.fromarray(mask).save(tmp_path / "mask.png")
    out = tmp_path / "out.png"
    result = CliRunner().invoke(main, ["transfer", str(paths["photo"]), str(paths["a"]), str(paths["b"]),
                                       "--weights", "0.7,0.3", "--source-mask", str(tmp_path / "mask.png"),
                                       "-o", str(out), "--seed", "0"])
    assert result.exit_code == 0, result.output
    written = np.asarray(Image.open(out))
    np.testing.assert_array_equal(written[:, mask[0] == 0], source[:, mask[0] == 0])
    bad = CliRunner().invoke(main, ["transfer", str(paths["photo"]), str(paths["a"]), "--weights", "0.5,0.5"])
    assert bad.exit_code == 2 and "--weights has 2 numbers for 1 styles" in bad.output
