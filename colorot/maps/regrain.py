"""Edge-aware filtering of the color displacement, guided by the source.

A color map that is steep somewhere amplifies the noise and the JPEG blocks
of the pixels whose colors fall there. Following Rabin, Delon and Gousseau
(2011, "Removing artefacts from color and contrast modifications"), the
displacement image ``T(I) - I`` is filtered by a guided filter (He et al.
2010) whose guide is the source's luma: the displacement then follows the
source's edges and varies smoothly in between, so noise is moved by the
smooth average map instead of amplified, and no edge is added.

This is a spatial filter: the result is no longer a function of color alone
(a 3D LUT cannot reproduce it), which is why it is off by default.
"""

from __future__ import annotations

import torch

from .. import threads
from ..measures.colorspaces import REC709_LUMA

__all__ = ["box_mean", "guided_filter", "filter_displacement"]

COARSE_RADIUS = 16  # wider windows are computed on a grid coarse enough to give them this radius


def box_mean(image: torch.Tensor, radius: int) -> torch.Tensor:
    """Mean over ``(2 radius + 1)^2`` windows of ``(B, C, H, W)`` images, in O(1) per pixel.

    Windows are cut at the borders (the mean is over the pixels inside).

    Examples
    --------
    >>> import torch
    >>> box_mean(torch.arange(5.0).reshape(1, 1, 1, 5), 1)
    tensor([[[[0.5000, 1.0000, 2.0000, 3.0000, 3.5000]]]])
    """
    out = image
    for axis in (-1, -2):
        out = _running_mean(out, radius, axis)
    return out


def _running_mean(values: torch.Tensor, radius: int, axis: int) -> torch.Tensor:
    length = values.shape[axis]
    sums = torch.cumsum(values.to(torch.float64), dim=axis)
    sums = torch.cat((torch.zeros_like(sums.narrow(axis, 0, 1)), sums), dim=axis)
    index = torch.arange(length, device=values.device)
    upper = (index + radius + 1).clamp(max=length)
    lower = (index - radius).clamp(min=0)
    shape = [1] * values.ndim
    shape[axis] = length
    count = (upper - lower).to(torch.float64).view(shape)
    window = sums.index_select(axis, upper) - sums.index_select(axis, lower)
    return (window / count).to(values.dtype)


def guided_filter(
    guide: torch.Tensor, image: torch.Tensor, radius: int, eps: float, *, fine_guide: torch.Tensor | None = None
) -> torch.Tensor:
    """He et al.'s guided filter of ``image`` ``(B, C, H, W)`` by a gray ``guide`` ``(B, 1, H, W)``.

    Locally, the output is an affine function of the guide, fitted to the
    image by ridge regression with penalty ``eps``: it keeps the guide's edges
    (where its local variance exceeds ``eps``) and averages elsewhere.

    Wide windows are computed on a coarser grid (He and Sun's fast guided
    filter, with the moments pooled at full resolution): the local means of
    the guide, the image, their product and the guide's square are averaged
    over blocks of ``radius // COARSE_RADIUS`` pixels, the window statistics
    and the affine coefficients are computed on that grid, and the smooth
    coefficients are interpolated back. Fine-scale covariance is kept (the
    products are pooled, not the pooled images multiplied); the cost per
    full-resolution pixel no longer depends on the radius.

    With ``fine_guide``, the same guide at a finer resolution ``(B, 1, H', W')``,
    the coefficients fitted on ``guide`` and ``image`` are interpolated to it
    and applied there: the filtered image at that resolution, from the
    statistics of a smaller copy (He and Sun's fast guided filter).

    Examples
    --------
    >>> import torch
    >>> guide = torch.rand(1, 1, 64, 64)
    >>> affine = guided_filter(guide, 0.5 * guide + 0.1, 4, 1e-6)
    >>> bool(torch.allclose(affine, 0.5 * guide + 0.1, atol=1e-3))
    True
    """
    height, width = guide.shape[-2:]
    factor = max(1, radius // COARSE_RADIUS)
    if factor == 1:
        pool = lambda values: values  # noqa: E731
        coarse_radius = radius
    else:
        coarse = (-(-height // factor), -(-width // factor))
        pool = lambda values: torch.nn.functional.adaptive_avg_pool2d(values, coarse)  # noqa: E731
        coarse_radius = max(1, round(radius / factor))
    # Each moment is pooled as soon as it is formed: at full resolution no more than one product is held.
    mean_guide = box_mean(pool(guide), coarse_radius)
    mean_image = box_mean(pool(image), coarse_radius)
    mean_product = box_mean(pool(guide * image), coarse_radius)
    mean_square = box_mean(pool(guide * guide), coarse_radius)
    slope = (mean_product - mean_guide * mean_image) / (mean_square - mean_guide * mean_guide + eps)
    slope, offset = box_mean(slope, coarse_radius), box_mean(mean_image - slope * mean_guide, coarse_radius)
    if fine_guide is not None:
        guide = fine_guide
    elif factor == 1:
        return slope * guide + offset
    # Both coefficient sets are interpolated in one call; the output is formed in the offsets' memory.
    channels = slope.shape[1]
    coefficients = torch.nn.functional.interpolate(
        torch.cat((slope, offset), dim=1), size=guide.shape[-2:], mode="bilinear", align_corners=False)
    return coefficients[:, channels:].addcmul_(coefficients[:, :channels], guide)


def filter_displacement(
    source: torch.Tensor,
    moved: torch.Tensor,
    size: tuple[int, int],
    radius: int,
    eps: float,
    *,
    fine_source: torch.Tensor | None = None,
    fine_size: tuple[int, int] | None = None,
    keep: torch.Tensor | None = None,
) -> torch.Tensor:
    """``source + guided_filter(luma(source), moved - source)`` for pixels ``(B, 3, P)`` in ``[0, 1]``.

    Parameters
    ----------
    source, moved : torch.Tensor, shape (B, 3, P)
        The source's colors and the mapped colors, as floats in ``[0, 1]``.
    size : (H, W)
        The image size, ``H * W == P``.
    radius : int
        Window radius of the guided filter, in pixels.
    eps : float
        Its regularization (a variance, in ``[0, 1]^2`` units): source edges
        with a local variance well above ``eps`` are kept in the displacement.
    fine_source : torch.Tensor, shape (B, 3, P'), optional
        The source at a finer resolution ``fine_size`` (``source`` being a
        reduced copy): the displacement fitted on the copy is filtered into
        this one (``guided_filter``'s ``fine_guide``), and
        ``fine_source + filtered displacement`` is returned.
    keep : torch.Tensor, shape (B or 1, 3, 3), optional
        Orthogonal projections of RGB onto the directions in which each output keeps ``moved`` exactly, only
        the rest of the displacement being filtered: those in which its style has no spread
        (:func:`colorot.ot.linear.flat_directions`), so that a black-and-white style's output stays neutral and a
        toned print's stays on its tint (filtering the chroma's removal would put back some of the source's
        chroma along its edges). Ignored with ``fine_source``.

    Examples
    --------
    >>> import torch
    >>> photo = torch.rand(1, 3, 32 * 32, generator=torch.Generator().manual_seed(0))
    >>> gray = photo.mean(dim=1, keepdim=True).expand(-1, 3, -1)    # a map onto the neutral axis
    >>> chroma = torch.tensor([[1.0, -1.0, 0.0], [1.0, 1.0, -2.0]]).T
    >>> chroma = chroma / chroma.norm(dim=0)
    >>> out = filter_displacement(photo, gray, (32, 32), 4, 1e-3, keep=(chroma @ chroma.T)[None])
    >>> float((out.max(dim=1).values - out.min(dim=1).values).max()) < 1e-6
    True
    """
    batch = source.shape[0]
    work = batch * (size[0] * size[1] if fine_size is None else fine_size[0] * fine_size[1])
    with threads.torch_threads(threads.for_work(work)):  # a per-pixel pass: threads pay when it is large
        source_image = source.reshape(batch, 3, *size).to(torch.float32)
        displacement = moved.reshape(batch, 3, *size).to(torch.float32) - source_image
        base = source_image if fine_source is None else fine_source.reshape(batch, 3, *fine_size).to(torch.float32)
        fine_guide = None if fine_source is None else _luma(base)
        filtered = guided_filter(_luma(source_image), displacement, radius, eps, fine_guide=fine_guide)
        if keep is not None and fine_source is None:  # the kept directions' part of the displacement, unfiltered
            filtered += torch.einsum("bcd,bdhw->bchw", keep.to(filtered), displacement - filtered)
        return filtered.add_(base).clamp_(0, 1).reshape(batch, 3, -1)


def _luma(image: torch.Tensor) -> torch.Tensor:
    """Rec. 709 luma of ``(B, 3, H, W)`` images, ``(B, 1, H, W)``: the guide."""
    weights = torch.tensor(REC709_LUMA, device=image.device, dtype=image.dtype)
    return torch.einsum("bchw,c->bhw", image, weights).unsqueeze(1)
