"""The sliced engine: sliced W2 against POT, iterative sliced transport, batched fits (colorot.ot.sliced)."""

from __future__ import annotations

import math
import numpy as np
import ot
import pytest
import torch
from colorot.ot import sliced
from conftest import DEVICES


def _cloud(n, seed, power=1.0, dtype=torch.float64):
    generator = torch.Generator().manual_seed(seed)
    return torch.rand(n, 3, generator=generator, dtype=dtype) ** power

@pytest.mark.parametrize("device", DEVICES)
def test_sliced_wasserstein_agrees_with_pot(device):
    x, y = _cloud(400, 0), _cloud(250, 1, power=3)
    wx = torch.rand(400, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    wy = torch.rand(250, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    ours = float(sliced.sliced_wasserstein(x.to(device), y.to(device), wx.to(device), wy.to(device), n_projections=3000))
    pot = ot.sliced_wasserstein_distance(
        x.numpy(), y.numpy(), (wx / wx.sum()).numpy(), (wy / wy.sum()).numpy(), n_projections=3000, seed=0
    )
    # Monte-Carlo error of 3000 projections is well under 3%.
    assert ours == pytest.approx(pot, rel=0.03)

def test_sliced_wasserstein_of_a_translation():
    x = _cloud(300, 4)
    shift = torch.tensor([0.3, -0.1, 0.2], dtype=torch.float64)
    # W2 along direction theta is |theta . shift|; its mean square is |shift|^2 / 3.
    expected = float(shift.norm()) / math.sqrt(3)
    assert float(sliced.sliced_wasserstein(x, x + shift, n_projections=20000)) == pytest.approx(expected, rel=0.02)
    assert float(sliced.sliced_wasserstein(x, x)) == 0.0

@pytest.mark.parametrize("luma", [False, True])
def test_iterative_transport_converges_unequal_sizes(luma):
    source, target = _cloud(3000, 5, dtype=torch.float32), _cloud(2000, 6, power=3, dtype=torch.float32)
    axis = torch.tensor([0.2126, 0.7152, 0.0722]) if luma else None
    steps, moved = sliced.fit_sliced_steps(
        source, target, n_iter=40, luma_axis=axis, generator=torch.Generator().manual_seed(0)
    )
    before = float(sliced.sliced_wasserstein(source, target))
    after = float(sliced.sliced_wasserstein(moved, target))
    assert after < 0.1 * before
    # Exact W2 (POT) between the moved cloud and the target, on subsamples, drops too.
    cost = ot.dist(moved[:1000].double().numpy(), target[:1000].double().numpy())
    uniform = np.full(1000, 1e-3)
    cost_before = ot.dist(source[:1000].double().numpy(), target[:1000].double().numpy())
    assert ot.emd2(uniform, uniform, cost) < 0.25 * ot.emd2(uniform, uniform, cost_before)
    # The map is a function of color: re-applying it to the source reproduces the moved points.
    torch.testing.assert_close(steps(source), moved, atol=1e-5, rtol=0)

def test_luma_preserving_steps_keep_luma_order():
    source, target = _cloud(2000, 7, dtype=torch.float32), _cloud(2000, 8, power=2, dtype=torch.float32)
    axis = torch.tensor([0.2126, 0.7152, 0.0722])
    steps, moved = sliced.fit_sliced_steps(source, target, luma_axis=axis, generator=torch.Generator().manual_seed(0))
    luma_in, luma_out = source @ axis, moved @ axis
    order = luma_in.argsort()
    assert torch.all(torch.diff(luma_out[order]) >= -1e-5)

def test_gaussian_to_gaussian_matches_mean_and_covariance():
    generator = torch.Generator().manual_seed(9)
    source = torch.randn(20000, 3, generator=generator, dtype=torch.float64)
    mixing = torch.tensor([[0.5, 0.1, 0.0], [0.0, 0.3, 0.2], [0.1, 0.0, 0.2]], dtype=torch.float64)
    mean = torch.tensor([0.5, 0.4, 0.3], dtype=torch.float64)
    target = torch.randn(20000, 3, generator=generator, dtype=torch.float64) @ mixing + mean
    _, moved = sliced.fit_sliced_steps(source, target, n_iter=60, generator=generator)
    torch.testing.assert_close(moved.mean(0), mean, atol=0.01, rtol=0)
    torch.testing.assert_close(torch.cov(moved.T), mixing.T @ mixing, atol=0.01, rtol=0)

def test_batched_fit_equals_independent_shapes():
    source = torch.stack([_cloud(1000, 10, dtype=torch.float32), _cloud(1000, 11, 2, dtype=torch.float32)])
    target = _cloud(1500, 12, 3, dtype=torch.float32)[None]
    steps, moved = sliced.fit_sliced_steps(source, target, generator=torch.Generator().manual_seed(0))
    assert moved.shape == source.shape and steps.batch_shape == (2,)
    for index in range(2):
        assert float(sliced.sliced_wasserstein(moved[index], target[0])) < 0.02

@pytest.mark.parametrize("device", DEVICES)
def test_an_image_fitted_in_a_batch_gets_the_map_it_gets_alone(device):
    # One cloud close to the target converges in fewer steps than the other: it then stops moving while
    # the other goes on, so both maps are bit for bit the ones fitted alone (smoothing noise included).
    g = torch.Generator().manual_seed(0)
    target = (torch.rand(1, 5000, 3, generator=g) ** 0.5).to(device)
    near = target[:, :4096] + 0.001 * torch.randn(1, 4096, 3, generator=g).to(device)
    far = (torch.rand(1, 4096, 3, generator=g) ** 3).to(device)
    probe = torch.rand(1, 500, 3, generator=g).to(device)

    def fit(source):
        generator = torch.Generator(device=device).manual_seed(1)
        return sliced.fit_sliced_steps(source, target, tol=3e-3, smoothing=0.005, generator=generator,
                                       luma_axis=torch.tensor([0.2126, 0.7152, 0.0722]).to(device))

    (alone_near, moved_near), (alone_far, moved_far) = fit(near), fit(far)
    together, moved = fit(torch.cat([near, far]))
    assert len(alone_near) < len(alone_far) == len(together)
    assert torch.equal(moved[0], moved_near[0]) and torch.equal(moved[1], moved_far[0])
    mapped = together(probe.expand(2, -1, -1))
    singles = torch.cat([alone_near(probe), alone_far(probe)])
    if device == "cpu":
        assert torch.equal(mapped, singles)
    else:  # the same knots; cuBLAS may pick another kernel for a batch of two, so the projections may differ in an ulp
        torch.testing.assert_close(mapped, singles, atol=1e-5, rtol=0)
