"""The classic color-transfer maps, for comparison: fitters of the registry's palette methods
(:data:`colorot.methods.METHODS`), each baked into the same lookup table as the default.

``fit_mkl``
    The closed-form linear Monge-Kantorovich map between the Gaussians with
    the two clouds' means and covariances (Pitié & Kokaram 2007): exact OT
    between Gaussians, smooth, but it matches two moments only.
``fit_reinhard``
    Per-channel mean and standard deviation in CIELAB (Reinhard et al. 2001).
``fit_histogram``
    Per-channel histogram matching (as scikit-image's ``match_histograms``):
    monotone 1-D transport of R, G and B separately, which ignores their correlation.
``fit_emd``
    Exact OT (POT) between 1,000 samples of each image, extended to every
    color by the displacement of its nearest sample (as ``ot.da`` does).
"""

from __future__ import annotations

import torch

from .linear import LinearMap, _BatchedMap, moments
from .sliced import SlicedStep, SlicedSteps, _fit_step

__all__ = ["LinearMap", "NearestDisplacementMap", "fit_mkl", "fit_reinhard", "fit_histogram", "fit_emd"]


def _sqrtm(matrix: torch.Tensor) -> torch.Tensor:
    """Square root of symmetric positive semi-definite matrices."""
    values, vectors = torch.linalg.eigh(matrix)
    return (vectors * values.clamp_min(0).sqrt().unsqueeze(-2)) @ vectors.transpose(-1, -2)


def fit_mkl(source: torch.Tensor, style: torch.Tensor, eps: float = 1e-8) -> LinearMap:
    """Linear Monge-Kantorovich map between the Gaussian fits of two clouds.

    ``A = S^{-1/2} (S^{1/2} T S^{1/2})^{1/2} S^{-1/2}`` for covariances ``S``
    (source) and ``T`` (style): the optimal transport map between the two
    Gaussians, which sends ``N(mu_S, S)`` exactly onto ``N(mu_T, T)``.

    Examples
    --------
    >>> import torch
    >>> g = torch.Generator().manual_seed(0)
    >>> source = torch.randn(5000, 3, generator=g)
    >>> style = source @ torch.tensor([[2.0, 0, 0], [0, 1, 0], [0, 0, 0.5]]) + 1
    >>> mapped = fit_mkl(source, style)(source)
    >>> torch.allclose(torch.cov(mapped.T), torch.cov(style.T), atol=1e-3)
    True
    """
    source_mean, source_cov = moments(source)
    style_mean, style_cov = moments(style)
    identity = torch.eye(3, dtype=torch.float64, device=source_cov.device)
    root = _sqrtm(source_cov + eps * identity)
    inverse_root = torch.linalg.inv(root)
    matrix = inverse_root @ _sqrtm(root @ style_cov @ root) @ inverse_root
    dtype = source.dtype
    return LinearMap(matrix.to(dtype), source_mean.to(dtype), style_mean.to(dtype))


def fit_reinhard(source: torch.Tensor, style: torch.Tensor, eps: float = 1e-8) -> LinearMap:
    """Per-channel mean and standard deviation matching (use in the ``"lab"`` space)."""
    source_mean, source_cov = moments(source)
    style_mean, style_cov = moments(style)
    scale = (torch.diagonal(style_cov, dim1=-2, dim2=-1) / (torch.diagonal(source_cov, dim1=-2, dim2=-1) + eps)).sqrt()
    dtype = source.dtype
    return LinearMap(torch.diag_embed(scale).to(dtype), source_mean.to(dtype), style_mean.to(dtype))


def fit_histogram(source: torch.Tensor, style: torch.Tensor, n_knots: int = 256) -> SlicedSteps:
    """Per-channel monotone 1-D transport: one sliced step along the color axes."""
    axes = torch.eye(3, device=source.device, dtype=source.dtype)
    step: SlicedStep = _fit_step(
        source.transpose(-1, -2).contiguous(),
        style.transpose(-1, -2).contiguous(),
        axes,
        axes,
        n_knots=n_knots,
        smoothing=0.0,
        generator=None,
    )
    return SlicedSteps([step])


class NearestDisplacementMap(_BatchedMap):
    """Out-of-sample extension of a discrete transport plan: each color moves by the displacement of its
    nearest fitted source sample (as POT's ``ot.da`` transports do), batched as ``(*batch, k, 3)``.

    Examples
    --------
    >>> import torch
    >>> anchors = torch.tensor([[[0.0, 0.0, 0.0], [1.0, 1.0, 1.0]]])
    >>> moves = NearestDisplacementMap(anchors, torch.tensor([[[0.1, 0.0, 0.0], [0.0, 0.0, -0.1]]]))
    >>> moved = moves(torch.tensor([[[0.2, 0.1, 0.0], [0.9, 0.9, 0.8]]]))
    >>> torch.allclose(moved, torch.tensor([[[0.3, 0.1, 0.0], [0.9, 0.9, 0.7]]]))
    True
    """

    def __init__(self, anchors: torch.Tensor, displacements: torch.Tensor):
        self.anchors, self.displacements = anchors, displacements
        self.parameters = anchors

    def __call__(self, colors: torch.Tensor, chunk: int = 16384) -> torch.Tensor:
        anchors = self.anchors.to(colors.dtype).expand(*colors.shape[:-2], -1, -1)
        displacements = self.displacements.to(colors.dtype).expand(*colors.shape[:-2], -1, -1)
        out = colors.clone()
        for start in range(0, colors.shape[-2], chunk):
            part = colors[..., start : start + chunk, :]
            nearest = torch.cdist(part, anchors).argmin(dim=-1)
            out[..., start : start + chunk, :] += displacements.gather(-2, nearest.unsqueeze(-1).expand(*nearest.shape, 3))
        return out


def fit_emd(source: torch.Tensor, style: torch.Tensor, n_points: int = 1000) -> NearestDisplacementMap:
    """Exact OT (POT's network simplex) between ``n_points`` samples of each cloud.

    Each source sample moves to the barycenter of the style samples it is
    coupled with; other colors follow their nearest source sample. Exact on
    the subsample, but piecewise constant in color: banding and noise are
    expected, which is why it is a baseline and not the default.
    """
    import numpy as np
    import ot

    style = style.expand(*source.shape[:-2], *style.shape[-2:])  # one style for a batch of sources
    anchors = source[..., :n_points, :]
    targets = style[..., :n_points, :]
    flat_anchors = anchors.reshape(-1, *anchors.shape[-2:]).double().cpu().numpy()
    flat_targets = targets.reshape(-1, *targets.shape[-2:]).double().cpu().numpy()
    displacements = []
    for xs, xt in zip(flat_anchors, flat_targets):
        weights_s, weights_t = np.full(len(xs), 1 / len(xs)), np.full(len(xt), 1 / len(xt))
        plan = ot.emd(weights_s, weights_t, ot.dist(xs, xt))
        displacements.append(plan @ xt / plan.sum(axis=1, keepdims=True) - xs)
    displacements = torch.as_tensor(np.stack(displacements), dtype=source.dtype, device=source.device)
    return NearestDisplacementMap(anchors, displacements.reshape(anchors.shape))
