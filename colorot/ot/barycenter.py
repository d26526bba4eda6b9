"""Sliced Wasserstein barycenters: the mix of several styles' colors (Rabin et al. 2011)."""

from __future__ import annotations

import torch

from .directions import random_rotation

__all__ = ["sliced_barycenter"]


def sliced_barycenter(
    clouds: torch.Tensor,
    weights: torch.Tensor,
    *,
    n_iter: int = 30,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """The sliced Wasserstein barycenter of several point clouds of equal size.

    Rabin et al. (2011): starting from the cloud of largest weight, each
    step draws a random orthonormal basis and moves every point so that, along
    each direction, the cloud's quantiles become the weighted mean of the
    clouds' quantiles (the 1-D Wasserstein barycenter), all directions at once.

    Parameters
    ----------
    clouds : torch.Tensor, shape (K, *batch, n, d)
    weights : torch.Tensor, shape (K,)
        Non-negative, summing to 1.
    n_iter : int
        Number of random bases.
    generator : torch.Generator, optional

    Returns
    -------
    torch.Tensor, shape (*batch, n, d)

    Examples
    --------
    >>> import torch
    >>> a, b = torch.zeros(1, 100, 3), torch.ones(1, 100, 3)
    >>> middle = sliced_barycenter(torch.stack([a, b]), torch.tensor([0.25, 0.75]))
    >>> torch.allclose(middle, torch.full_like(a, 0.75), atol=1e-5)
    True
    """
    dim = clouds.shape[-1]
    weights = weights.to(device=clouds.device, dtype=clouds.dtype).view(-1, *([1] * (clouds.ndim - 1)))
    barycenter = clouds[int(weights.flatten().argmax())].clone()
    for _ in range(n_iter):
        rotation = random_rotation(dim, generator, device=clouds.device, dtype=clouds.dtype)
        projected = barycenter @ rotation
        target = (weights * (clouds @ rotation).sort(dim=-2).values).sum(dim=0)
        moved = torch.empty_like(projected).scatter_(-2, projected.argsort(dim=-2), target)
        barycenter = barycenter + (moved - projected) @ rotation.T
    return barycenter
