"""Sliced Wasserstein barycenters (colorot.ot.barycenter)."""

from __future__ import annotations

import torch

from colorot.ot.barycenter import sliced_barycenter
from colorot.ot.sliced import sliced_wasserstein


def _clouds():
    generator = torch.Generator().manual_seed(0)
    first = torch.rand(2000, 3, generator=generator, dtype=torch.float64) ** 2
    second = torch.rand(2000, 3, generator=generator, dtype=torch.float64) * 0.5 + 0.5
    return first, second


def test_a_one_hot_mix_is_that_cloud_and_an_even_mix_lies_between():
    first, second = _clouds()
    clouds = torch.stack((first, second))
    only_first = sliced_barycenter(clouds, torch.tensor([1.0, 0.0]), generator=torch.Generator().manual_seed(1))
    assert float(sliced_wasserstein(only_first, first, seed=0)) < 1e-3
    middle = sliced_barycenter(clouds, torch.tensor([0.5, 0.5]), generator=torch.Generator().manual_seed(1))
    to_first, to_second = (float(sliced_wasserstein(middle, cloud, seed=0)) for cloud in (first, second))
    apart = float(sliced_wasserstein(first, second, seed=0))
    assert abs(to_first - to_second) < 0.2 * apart and max(to_first, to_second) < 0.75 * apart
