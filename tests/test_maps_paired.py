"""The grade read off color pairs: a smooth function of color through the pairs, robust to pairs that disagree."""

from __future__ import annotations

import pytest
import torch

from colorot.maps.paired import fit_paired_grade


def cloud(count: int = 6000, seed: int = 0) -> torch.Tensor:
    return torch.rand(count, 3, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


GRADES = {
    "matrix": lambda x: x @ torch.tensor([[0.9, 0.1, 0.0], [0.05, 0.95, 0.0], [0.0, 0.1, 0.85]], dtype=x.dtype).T + 0.03,
    "curve": lambda x: x ** 0.7,
    "s-curve and tint": lambda x: (x * x * (3 - 2 * x)) * torch.tensor([1.0, 0.95, 0.85], dtype=x.dtype),
    "split toning": lambda x: x + (1 - x.mean(-1, keepdim=True)) * torch.tensor([-0.05, 0.0, 0.06], dtype=x.dtype),
}


@pytest.mark.parametrize("grade", GRADES)
def test_a_smooth_grade_is_read_off_its_pairs(grade):
    photo = cloud()
    fitted = fit_paired_grade(photo, GRADES[grade](photo))
    held = cloud(seed=1)  # other colors of the same cube
    error = (fitted(held) - GRADES[grade](held)).abs().mean()
    assert float(error) < 0.01, float(error)


def test_pairs_that_disagree_are_set_aside():
    photo = cloud()
    target = GRADES["curve"](photo)
    wrong = torch.rand(len(photo), generator=torch.Generator().manual_seed(2)) < 0.2  # a fifth of the pairs misregistered
    target[wrong] = torch.rand(int(wrong.sum()), 3, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    robust = fit_paired_grade(photo, target)
    plain = fit_paired_grade(photo, target, rounds=1)
    held = cloud(seed=1)
    truth = GRADES["curve"](held)
    assert float((robust(held) - truth).abs().mean()) < 0.5 * float((plain(held) - truth).abs().mean())
    assert float((robust(held) - truth).abs().mean()) < 0.015


def test_colors_the_pairs_do_not_show_get_the_affine_part():
    """Pairs of dark colors only: a bright color follows their affine fit, not a wild extrapolation."""
    photo = cloud() * 0.4
    fitted = fit_paired_grade(photo, GRADES["matrix"](photo))
    bright = torch.tensor([[0.9, 0.8, 0.85], [1.0, 1.0, 1.0]], dtype=torch.float64)
    assert float((fitted(bright) - GRADES["matrix"](bright)).abs().max()) < 0.02


def test_a_batch_of_colors_and_float32_come_back_in_shape_and_dtype():
    photo = cloud(2000)
    fitted = fit_paired_grade(photo.float(), GRADES["curve"](photo).float())
    colors = torch.rand(2, 7, 3)
    out = fitted(colors)
    assert out.shape == colors.shape and out.dtype == torch.float32
    assert torch.allclose(out[1], fitted(colors[1]))


def test_bad_pairs_get_a_clear_error():
    with pytest.raises(ValueError, match="two \\(k, 3\\) tensors"):
        fit_paired_grade(torch.zeros(5, 3), torch.zeros(4, 3))
    with pytest.raises(ValueError, match="no color pair has weight"):
        fit_paired_grade(torch.zeros(5, 3), torch.zeros(5, 3), torch.zeros(5))
