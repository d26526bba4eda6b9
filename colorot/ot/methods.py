"""Other color-transfer methods, for comparison, as maps of color.

Each fitter takes source and style color samples ``(*batch, n, 3)`` in its
working space and returns a map with the interface of
:class:`colorot.sliced.SlicedSteps` (callable on ``(*batch, n, 3)``, with
``device`` and ``batch_shape``), so that it is baked into the same lookup
table and applied, saved and exported like the default method.

``"look"``
    colorot's default (:mod:`colorot.learned.look_transfer`): the unbalanced transport's affine grade where the
    two photos share their scene, the learned look model's grade (:mod:`colorot.learned.look`) where they do not,
    weighed by a scene gate. The other methods here match the reference's *palette*; these two its *grade*.
``"unbalanced"``
    The affine grade fitted by unbalanced transport alone (:mod:`colorot.ot.unbalanced`).
``"mkl"``
    The closed-form linear Monge-Kantorovich map between the Gaussians with
    the two clouds' means and covariances (Pitié & Kokaram 2007): exact OT
    between Gaussians, smooth, but it matches two moments only.
``"reinhard"``
    Per-channel mean and standard deviation in CIELAB (Reinhard et al. 2001).
``"histogram"``
    Per-channel histogram matching (as :func:`skimage.exposure.match_histograms`):
    monotone 1-D transport of R, G and B separately, which ignores their correlation.
``"emd"``
    Exact OT (POT) between 1,000 samples of each image, extended to every
    color by the displacement of its nearest sample (as ``ot.da`` does).
``"conditioned"``
    The shipped style-conditioned generator (:mod:`colorot.conditioned`): a
    network trained once on many augmented pairs maps the colors in one
    forward pass, given encodings of both distributions. No fitting at all;
    a looser match than the default.
"""

from __future__ import annotations

import torch

from typing import Callable, NamedTuple

from ..learned.conditioned import _ContextMap, load_pretrained
from ..learned.look_transfer import fit_look
from .linear import LinearMap, _BatchedMap, moments
from .sliced import SlicedStep, SlicedSteps, _fit_step, fit_sliced_steps
from .unbalanced import LOW_MATCHED_SHARE, fit_unbalanced_affine

__all__ = ["METHODS", "Method", "fit_notes", "fit_look", "fit_unbalanced_affine", "fit_sliced", "LinearMap", "NearestDisplacementMap", "fit_mkl", "fit_reinhard", "fit_histogram", "fit_emd",
           "fit_conditioned"]


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
    nearest fitted source sample (as POT's ``ot.da`` transports do), batched as ``(*batch, k, 3)``."""

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


def fit_conditioned(source: torch.Tensor, style: torch.Tensor):
    """The shipped style-conditioned generator (:mod:`colorot.conditioned`): one forward pass, no fitting.
    Colors in sRGB, ``(B, n, 3)``."""
    model = load_pretrained(source.device)
    source, style = source.reshape(-1, *source.shape[-2:]), style.reshape(-1, *style.shape[-2:])
    style = style.expand(source.shape[0], -1, -1)
    return _ContextMap(model, model.context(source, style))


class Method(NamedTuple):
    """A way to fit a color map (:class:`~colorot.maps.protocol.ColorMap`) from source colors to style colors."""

    fit: Callable  # (source (*batch, n, 3), style (*batch or 1, m, 3), **engine options) -> ColorMap
    space: str | None  # the working space it is defined in, or None for the estimator's own
    takes_engine_options: bool = False  # whether ``fit`` takes the sliced engine's options (n_iter, smoothing...)
    takes_reach: bool = False  # whether ``fit`` takes ``reach``, ``luma_axis`` and ``keep_luma``
    reads_structure: bool = False  # whether ``fit`` takes ``shared_structure`` (colorot.measures.structure)


def fit_notes(fitted) -> list[str]:
    """What a fitted map says about its fit, one line each: which way the default leaned (its scene gate), and
    whether the transport left most colors unmatched, with what to try."""
    notes = [fitted.describe()] if hasattr(fitted, "describe") else []
    transport = getattr(fitted, "transport", fitted)
    share = getattr(transport, "matched_share", None)
    leans_on_transport = float(getattr(fitted, "share", torch.ones(1)).double().mean()) >= 0.5
    if share is not None and leans_on_transport and float(share.double().min()) < LOW_MATCHED_SHARE:
        notes.append(f"warning: the transport matched only {float(share.double().min()):.0%} of the photo's colors "
                     "(the rest had no counterpart within the reach), so the grade stays near the identity; "
                     "try --reach inf or --method mkl for a stronger match")
    return notes


def fit_sliced(source: torch.Tensor, style: torch.Tensor, **options) -> SlicedSteps:
    """The engine: iterative sliced transport (:func:`colorot.ot.sliced.fit_sliced_steps`), the fitted map only."""
    return fit_sliced_steps(source, style, **options)[0]


#: The method registry: ``method=`` / ``--method`` name -> :class:`Method` (the names are
#: :data:`colorot.options.METHOD_NAMES`, which the command line reads without importing torch).
METHODS = {
    "look": Method(fit_look, "rgb", takes_reach=True, reads_structure=True),
    "unbalanced": Method(fit_unbalanced_affine, None, takes_reach=True),
    "sliced": Method(fit_sliced, None, takes_engine_options=True),
    "mkl": Method(fit_mkl, None),
    "reinhard": Method(fit_reinhard, "lab"),
    "histogram": Method(fit_histogram, "rgb"),
    "emd": Method(fit_emd, None),
    "conditioned": Method(fit_conditioned, "rgb"),
}
