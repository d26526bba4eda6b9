"""Affine maps of color, batched: what the linear methods fit (:mod:`colorot.ot.classic`,
:mod:`colorot.ot.unbalanced`)."""

from __future__ import annotations

import torch

__all__ = ["LinearMap", "moments"]


class _BatchedMap:
    """What :func:`colorot.maps.lut.bake_lut` needs of a map besides calling it: its device and
    batch shape, read off ``parameters``, a ``(*batch, k, 3)`` tensor of the map."""

    parameters: torch.Tensor

    @property
    def device(self) -> torch.device:
        return self.parameters.device

    @property
    def batch_shape(self) -> torch.Size:
        return self.parameters.shape[:-2]


class LinearMap(_BatchedMap):
    """The affine map ``x -> (x - source_mean) @ matrix.T + style_mean``, batched.

    Examples
    --------
    >>> import torch
    >>> double = LinearMap(2 * torch.eye(3)[None], torch.zeros(1, 1, 3), torch.full((1, 1, 3), 0.5))
    >>> double(torch.tensor([[[0.1, 0.2, 0.3]]])).tolist()   # (x - 0) * 2 + 0.5
    [[[0.699999988079071, 0.8999999761581421, 1.100000023841858]]]
    """

    def __init__(self, matrix: torch.Tensor, source_mean: torch.Tensor, style_mean: torch.Tensor):
        self.matrix, self.source_mean, self.style_mean = matrix, source_mean, style_mean
        self.parameters = matrix

    def __call__(self, colors: torch.Tensor) -> torch.Tensor:
        matrix, source_mean, style_mean = (t.to(colors.dtype) for t in (self.matrix, self.source_mean, self.style_mean))
        return (colors - source_mean) @ matrix.transpose(-1, -2) + style_mean


#: A direction in which a cloud's standard deviation is below this share of its total is flat: a map to it gives
#: no spread there either (about 1.5 codes for a photo's typical spread; quantization is 0.3).
FLAT = 0.02


def flat_directions(colors: torch.Tensor, share: float = FLAT) -> torch.Tensor:
    """The directions in which a cloud of colors has next to no spread: ``(3, k)`` orthonormal float64 columns,
    ``k`` from 0 to 2 (none for a single color), for ``(n, 3)`` colors (a black-and-white photo's two chroma
    directions, a toned print's two across its tint line). A direction is flat where the standard deviation
    along it is below ``share`` of the total (the root of the covariance's trace).

    Examples
    --------
    >>> import torch
    >>> gray = torch.rand(1000, 1).expand(-1, 3)
    >>> flat = flat_directions(gray)
    >>> flat.shape, bool((flat.T @ torch.ones(3, dtype=torch.float64)).abs().max() < 1e-6)
    (torch.Size([3, 2]), True)
    """
    _, covariance = moments(colors)
    values, vectors = torch.linalg.eigh(covariance)
    return vectors[:, values.clamp_min(0).sqrt() < share * values.clamp_min(0).sum().sqrt()]


def moments(colors: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean ``(*batch, 1, 3)`` and covariance ``(*batch, 3, 3)``, float64, of clouds ``(*batch, n, 3)``."""
    colors = colors.double()
    mean = colors.mean(dim=-2, keepdim=True)
    centered = colors - mean
    covariance = centered.transpose(-1, -2) @ centered / colors.shape[-2]
    return mean, covariance
