"""1-D optimal transport against POT and torch (colorot.ot.one_d)."""

from __future__ import annotations

import numpy as np
import ot
import pytest
import torch
from colorot.ot import one_d
from colorot.ot.one_d import linear_quantiles, sorted_values


def _cloud(n, seed, power=1.0, dtype=torch.float64):
    generator = torch.Generator().manual_seed(seed)
    return torch.rand(n, 3, generator=generator, dtype=dtype) ** power

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


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_sorted_values_and_linear_quantiles_are_torchs_bit_for_bit(dtype):
    generator = torch.Generator().manual_seed(3)
    for shape, dim in [((5, 1000), -1), ((7, 3, 4097), 2), ((20000, 3), 0), ((2, 65536, 3), 1)]:
        values = torch.randn(shape, generator=generator, dtype=dtype) * 3
        values[..., :5] = 0.25  # ties
        assert torch.equal(sorted_values(values, dim), values.sort(dim=dim).values)
        levels = torch.tensor([0.0, 0.001, 0.02, 0.5, 0.731, 0.999, 1.0], dtype=dtype)
        assert torch.equal(linear_quantiles(values, levels, dim), torch.quantile(values, levels, dim=dim))


def test_sorted_values_of_views_nan_and_bad_levels():
    base = torch.tensor([[2.0, float("nan"), -1.0, 0.5]])
    expanded = base.expand(3, -1)  # stride 0 along the rows
    ordered = sorted_values(expanded)
    assert ordered.is_contiguous() and torch.allclose(ordered, expanded.sort(dim=-1).values, equal_nan=True)
    negative = torch._neg_view(torch.tensor([1.0, -3.0, 2.0]))
    assert sorted_values(negative).tolist() == [-2.0, -1.0, 3.0]
    with pytest.raises(ValueError, match="one-dimensional"):
        linear_quantiles(torch.rand(10, 3), torch.tensor(0.5), dim=0)


def test_sorted_values_keeps_gradients_and_integers_on_torchs_sort():
    values = torch.tensor([3.0, 1.0, 2.0], requires_grad=True)
    ordered = sorted_values(values)
    ordered.sum().backward()  # the gradient reaches the input through torch's sort
    assert values.grad.tolist() == [1.0, 1.0, 1.0]
    assert sorted_values(torch.tensor([3, 1, 2])).tolist() == [1, 2, 3]
    assert sorted_values(torch.tensor(2.5)).item() == 2.5 and sorted_values(torch.empty(0, 3), 0).shape == (0, 3)
