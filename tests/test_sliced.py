import math

import numpy as np
import ot
import pytest
import torch

from colorot.ot import directions as bases, one_d, pieces, sliced
from conftest import DEVICES


def _cloud(n, seed, power=1.0, dtype=torch.float64):
    generator = torch.Generator().manual_seed(seed)
    return torch.rand(n, 3, generator=generator, dtype=dtype) ** power


def test_random_rotation_is_orthonormal_and_seeded():
    first = bases.random_rotation(3, torch.Generator().manual_seed(3), dtype=torch.float64)
    again = bases.random_rotation(3, torch.Generator().manual_seed(3), dtype=torch.float64)
    torch.testing.assert_close(first.T @ first, torch.eye(3, dtype=torch.float64))
    assert torch.equal(first, again)


def test_wasserstein_1d_is_exact_against_pot():
    generator = torch.Generator().manual_seed(0)
    for n, m in [(7, 5), (40, 40), (3, 11)]:
        a, b = torch.rand(n, generator=generator, dtype=torch.float64), torch.rand(m, generator=generator, dtype=torch.float64)
        wa, wb = torch.rand(n, generator=generator, dtype=torch.float64), torch.rand(m, generator=generator, dtype=torch.float64)
        cost = ot.dist(a[:, None].numpy(), b[:, None].numpy())
        exact = ot.emd2((wa / wa.sum()).numpy(), (wb / wb.sum()).numpy(), cost)
        assert float(one_d.wasserstein_1d(a, b, wa, wb)) == pytest.approx(exact, rel=1e-9)
        uniform = ot.emd2(np.full(n, 1 / n), np.full(m, 1 / m), cost)
        assert float(one_d.wasserstein_1d(a, b)) == pytest.approx(uniform, rel=1e-9)


def test_transport_1d_sorts_equal_sizes_and_matches_quantiles():
    source = torch.tensor([0.5, -1.0, 2.0, 0.0])
    target = torch.tensor([10.0, 40.0, 30.0, 20.0])
    assert one_d.transport_1d(source, target).tolist() == [30.0, 10.0, 40.0, 20.0]
    # Unequal sizes: 4 source points onto 2 target points, half the mass each.
    assert one_d.transport_1d(source, torch.tensor([1.0, 2.0])).tolist() == [2.0, 1.0, 2.0, 1.0]


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


def test_piecewise_linear_is_monotone_with_translation_tails():
    knots_in = torch.tensor([[0.0, 0.1, 0.5, 1.0]])
    knots_out = torch.tensor([[0.2, 0.2, 0.9, 1.0]])
    values = torch.linspace(-1, 2, 301)[None]
    mapped = pieces.piecewise_linear(values, knots_in, knots_out)
    assert torch.all(torch.diff(mapped) >= -1e-7)
    torch.testing.assert_close(pieces.piecewise_linear(knots_in, knots_in, knots_out), knots_out)
    assert float(pieces.piecewise_linear(torch.tensor([[-1.0]]), knots_in, knots_out)) == pytest.approx(-0.8)
    assert float(pieces.piecewise_linear(torch.tensor([[2.0]]), knots_in, knots_out)) == pytest.approx(2.0)


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


def test_quantiles_sorted_and_histogram_agree_with_torch():
    values = torch.randn(3, 5000, generator=torch.Generator().manual_seed(0)) * torch.tensor([[1.0], [0.1], [5.0]])
    levels = torch.linspace(0, 1, 33)
    reference = torch.quantile(values, levels, dim=-1).T
    exact = one_d._Quantiles(values.shape[-1], levels, exact=True)(values)
    # The nearest order statistic: within one spacing of the interpolated quantile.
    ordered = values.sort(dim=-1).values
    spacing = (ordered[:, 1:] - ordered[:, :-1]).max(dim=-1).values
    assert bool(((exact - reference).abs() <= spacing[:, None]).all())
    assert bool(torch.isin(exact, values).all())
    histogram = one_d._Quantiles(values.shape[-1], levels, exact=False)(values)
    bin_width = (values.max(dim=-1).values - values.min(dim=-1).values) / 4096
    assert bool(((histogram - reference).abs() <= 2 * bin_width[:, None]).all())


def test_bases_keep_luma_and_move_projections_exactly():
    from colorot.measures.colorspaces import luma_axis

    axis = luma_axis("rgb")
    directions, moves = bases._draw_bases(20, 3, axis, math.pi / 3, torch.Generator().manual_seed(0))
    unit = (axis / axis.norm()).to(torch.float64)
    assert directions.shape == (20, 3, 2) and moves.shape == (20, 2, 3)
    torch.testing.assert_close(moves @ unit, torch.zeros(20, 2, dtype=torch.float64), atol=1e-12, rtol=0)
    # Moving along row j changes the projection on direction j by one and the other by nothing.
    torch.testing.assert_close(moves @ directions, torch.eye(2, dtype=torch.float64).expand(20, 2, 2))
    rotations, transposed = bases._draw_bases(20, 3, None, 0.0, torch.Generator().manual_seed(0))
    torch.testing.assert_close(transposed @ rotations, torch.eye(3, dtype=torch.float64).expand(20, 3, 3))


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


def test_bucketed_segment_search_equals_searchsorted(monkeypatch):
    # find_segments guesses each value's segment from a uniform bucket and checks it; it must agree with a
    # binary search everywhere: clustered and tied knots, values on knots, outside them, infinite and NaN.
    monkeypatch.setattr(pieces, "BUCKETS_FROM", 1)
    generator = torch.Generator().manual_seed(0)
    for trial in range(120):
        count = int(torch.randint(2, 200, (), generator=generator))
        rows = int(torch.randint(1, 5, (), generator=generator))
        n = int(torch.randint(1, 3000, (), generator=generator))
        knots = torch.sort(torch.randn(rows, count, generator=generator) * 3, dim=-1).values
        if trial % 3 == 0:  # a cluster of knots 1e-7 apart
            third = count // 3
            knots[:, third: 2 * third] = knots[:, third: third + 1] + torch.arange(third) * 1e-7
            knots = torch.sort(knots, dim=-1).values
        values = torch.randn(rows, n, generator=generator) * 4
        if trial % 5 == 0:
            values[:, ::7] = knots[:, count // 2: count // 2 + 1]  # exactly on a knot
            values[0, 0], values[-1, -1], values[0, -1] = float("nan"), float("inf"), float("-inf")
        assert torch.equal(pieces.find_segments(knots, values), torch.searchsorted(knots, values, right=True))
