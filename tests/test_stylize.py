"""Patch style transfer: the patch distribution moves to the style's, the content weight keeps structure."""

from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import SAMPLES, load_sample

import colorot
from colorot.cli import main
from colorot.errors import ColorotError
from colorot.measures.metrics import structure_similarity
from colorot.stylize import _as_tensor, _fit_side, patch_distance, stylize

FAST = dict(size=64, levels=2, steps=(40, 25), seed=0, device="cpu")


@pytest.fixture(scope="module")
def pair():
    return load_sample("chelsea", 64), load_sample("hubble", 96)


@pytest.fixture(scope="module")
def results(pair):
    content, style = pair
    return {weight: stylize(content, style, content_weight=weight, **FAST) for weight in (0.1, 30.0)}


def test_patch_distance_drops_toward_the_style(pair, results):
    content, style = pair
    before = patch_distance(content, style)
    for out in results.values():
        assert out.shape == (content.shape[0], 64, 3) and out.dtype == np.float32
        assert patch_distance(out, style) < 0.5 * before


def test_content_weight_keeps_structure(pair, results):
    content = pair[0].astype(np.float32) / 255
    loose, tight = (structure_similarity(results[w], content) for w in (0.1, 30.0))
    assert tight > loose + 0.1  # 0.69 and 0.87 here
    assert tight > 0.8


def test_strength_zero_is_the_color_transfer(pair):
    content, style = pair
    out = stylize(content, style, strength=0.0, **FAST)
    # The style is seen at the result's scale (longer side 64 here), as stylize does.
    small_style = _fit_side(_as_tensor(style, "style"), 64)
    recolored = colorot.transfer(_as_tensor(content, "content"), small_style, seed=0, device="cpu", method="sliced",
                                 lut_blur=0, regrain_radius=0)
    assert np.abs(out - recolored[0].permute(1, 2, 0).numpy()).max() < 1e-5


def test_mask_zero_keeps_the_content(pair):
    content, style = pair
    mask = np.zeros(content.shape[:2], dtype=np.float32)
    mask[:, content.shape[1] // 2:] = 1
    out = stylize(content, style, content_mask=mask, **FAST)
    kept = content[:, : content.shape[1] // 2 - 2].astype(np.float32) / 255
    assert np.abs(out[:, : content.shape[1] // 2 - 2] - kept).max() < 1e-5
    assert np.abs(out[:, -10:] - content[:, -10:] / 255).mean() > 0.02


def test_seed_reproduces(pair):
    content, style = pair
    fast = dict(FAST, steps=(5, 5))
    assert np.array_equal(stylize(content, style, **fast), stylize(content, style, **fast))


def test_bad_arguments(pair):
    with pytest.raises(ColorotError, match="patch_size"):
        stylize(*pair, patch_size=4)
    with pytest.raises(ColorotError, match="content_weight"):
        stylize(*pair, content_weight=-1)


def test_cli_style(tmp_path):
    out = tmp_path / "styled.png"
    runner = CliRunner()
    result = runner.invoke(main, ["style", str(SAMPLES / "coffee.jpg"), str(SAMPLES / "hubble.jpg"), "-o", str(out),
                                  "--size", "48", "--seed", "0", "--device", "cpu"])
    assert result.exit_code == 0, result.output
    image = colorot.read_image(out).pixels
    assert max(image.shape[:2]) == 48 and image.dtype == np.uint8
    result = runner.invoke(main, ["style", str(SAMPLES / "coffee.jpg"), str(tmp_path / "missing.jpg"),
                                  "-o", str(tmp_path / "x.png")])
    assert result.exit_code != 0 and "Traceback" not in result.output and "missing.jpg" in result.output
    result = runner.invoke(main, ["style", str(SAMPLES / "coffee.jpg"), str(SAMPLES / "hubble.jpg"),
                                  "--patch-size", "4", "-o", str(tmp_path / "y.png")])
    assert result.exit_code == 2
