"""Increasing piecewise-linear maps and their segment search (colorot.ot.pieces)."""

from __future__ import annotations

import pytest
import torch
from colorot.ot import pieces


def _cloud(n, seed, power=1.0, dtype=torch.float64):
    generator = torch.Generator().manual_seed(seed)
    return torch.rand(n, 3, generator=generator, dtype=dtype) ** power

def test_piecewise_linear_is_monotone_with_translation_tails():
    knots_in = torch.tensor([[0.0, 0.1, 0.5, 1.0]])
    knots_out = torch.tensor([[0.2, 0.2, 0.9, 1.0]])
    values = torch.linspace(-1, 2, 301)[None]
    mapped = pieces.piecewise_linear(values, knots_in, knots_out)
    assert torch.all(torch.diff(mapped) >= -1e-7)
    torch.testing.assert_close(pieces.piecewise_linear(knots_in, knots_in, knots_out), knots_out)
    assert float(pieces.piecewise_linear(torch.tensor([[-1.0]]), knots_in, knots_out)) == pytest.approx(-0.8)
    assert float(pieces.piecewise_linear(torch.tensor([[2.0]]), knots_in, knots_out)) == pytest.approx(2.0)

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
