"""Images as weighted color point clouds (discrete measures).

An image with ``P`` pixels is the measure ``sum_i w_i delta_{c_i}`` over its
colors ``c_i`` in the working space, with weights ``w_i`` proportional to the
pixels' alpha (1 for opaque images, 0 for fully transparent pixels). Large
images are represented by a seeded random subsample drawn in proportion to
those weights, which is an unbiased sample of the same measure.
"""

from __future__ import annotations

import torch

from ..pixels import image_to_pixels
from .colorspaces import to_space
from ..errors import ColorotError
from ..options import DEFAULT_SEED

__all__ = ["color_measure", "sample_colors"]

#: Float colors within this many 8-bit codes of a multiple of 1/255, all of them, are taken as 8-bit codes
#: (float32's rounding of k / 255 is about 1e-5 codes).
EIGHT_BIT_TOLERANCE = 1e-3


def _alpha_weights(pixels: torch.Tensor, scale: float) -> torch.Tensor | None:
    """Per-pixel weights ``(B, P)`` from the alpha channel, None when all opaque."""
    if pixels.shape[1] < 4:
        return None
    alpha = pixels[:, 3].to(torch.float64) / scale
    if bool((alpha >= 1).all()):
        return None
    return alpha.clamp(0, 1)


def sample_colors(
    pixels: torch.Tensor,
    scale: float,
    n_samples: int,
    generator: torch.Generator,
    *,
    device=None,
    name: str = "image",
    mask: torch.Tensor | None = None,
) -> torch.Tensor:
    """Draw ``n_samples`` colors per image from pixels ``(B, C, P)``.

    Returns float32 sRGB values in ``[0, 1]``, shape ``(B, n_samples, 3)``, on
    ``device``; pixels are drawn with probability proportional to their alpha
    (times ``mask``, weights ``(B or 1, P)`` in ``[0, 1]``, when given) and
    with replacement, so the sample's empirical measure is unbiased.
    Integer codes are dequantized (spread uniformly over the interval that
    rounds to them), so that quantization steps do not turn into steps of
    the transport map; neutral codes (``R = G = B``) along the neutral axis.
    Float pixels that are all 8-bit codes / 255 are dequantized the same way,
    and every image of a batch draws the same random stream: the same photo
    gives the same colors in any form and at any position in a batch.
    """
    batch, _, n_pixels = pixels.shape
    weights = _alpha_weights(pixels, scale)
    if mask is not None:
        mask = mask.to(device=pixels.device, dtype=torch.float64).expand(batch, n_pixels)
        weights = mask if weights is None else weights * mask
    if weights is not None and bool((weights.sum(dim=-1) <= 0).any()):
        raise ColorotError(f"{name} has no opaque pixels; check its alpha channel and mask")
    # Every image of a batch draws the same random stream, as it would alone: an image's colors (and so its
    # map) do not depend on its position in a batch, and two identical images get identical maps.
    start = generator.get_state()
    drawn = []
    for item in range(batch):
        generator.set_state(start)
        drawn.append(_sample_one(pixels[item], scale, None if weights is None else weights[item], n_samples,
                                 generator, device))
    return torch.stack(drawn)


def _sample_one(pixels: torch.Tensor, scale: float, weights: torch.Tensor | None, n_samples: int,
                generator: torch.Generator, device) -> torch.Tensor:
    """``n_samples`` colors ``(n, 3)`` of one image's pixels ``(C, P)``."""
    n_pixels, gen_device = pixels.shape[-1], generator.device
    if weights is None:
        index = torch.randint(n_pixels, (n_samples,), generator=generator, device=gen_device)
    else:
        cdf = (weights.cumsum(dim=-1) / weights.sum()).to(gen_device)
        uniform = torch.rand((n_samples,), generator=generator, device=gen_device, dtype=torch.float64)
        index = torch.searchsorted(cdf, uniform).clamp(max=n_pixels - 1)
    colors = pixels[:3].T[index.to(pixels.device)].to(device=device, dtype=torch.float32)
    if pixels.dtype.is_floating_point:
        # Floats that are all 8-bit codes / 255 (a uint8 photo as a float tensor: ToTensor, / 255) are that
        # photo: they are dequantized as the codes would be, so the result does not depend on the form.
        codes = colors * 255
        if not bool(((codes - codes.round()).abs() <= EIGHT_BIT_TOLERANCE).all()):
            return colors.clamp(0, 1)
        colors, scale = codes.round(), 255.0
    # Dequantize: an integer code stands for the interval of values that round to it. Not clipped:
    # clipping would pile the jitter of codes 0 and 255 up into atoms at 0 and 1.
    # A neutral code (R = G = B: a gray image, a clipped white) is jittered along the neutral axis, so that it
    # stays neutral: a black-and-white style has no chroma to give.
    jitter = torch.rand(colors.shape, generator=generator, device=gen_device, dtype=torch.float32).to(colors.device)
    neutral = (colors[..., :1] == colors[..., 1:2]) & (colors[..., 1:2] == colors[..., 2:3])
    jitter = torch.where(neutral, jitter[..., :1], jitter)
    return (colors + (jitter - 0.5)) / scale


def color_measure(
    image,
    *,
    space: str = "rgb",
    n_samples: int | None = None,
    seed: int | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """The color distribution of an image as a weighted point cloud.

    Parameters
    ----------
    image : numpy.ndarray, PIL.Image.Image or torch.Tensor
        An RGB or RGBA image: ``(H, W, C)`` array, PIL image, or ``(C, H, W)`` tensor.
    space : {"rgb", "linear", "lab", "oklab"}
        Working space of the returned colors (see :mod:`colorot.measures.colorspaces`).
    n_samples : int, optional
        Draw this many colors (with replacement, in proportion to alpha)
        instead of returning every pixel.
    seed : int, optional
        Seed of the subsample (None is :data:`colorot.options.DEFAULT_SEED`, as everywhere in colorot).

    Returns
    -------
    colors : torch.Tensor, shape (n, 3)
        Colors in the working space (float32).
    weights : torch.Tensor, shape (n,)
        Non-negative weights summing to 1; transparent pixels are dropped.

    Examples
    --------
    >>> import numpy as np
    >>> image = np.zeros((2, 2, 4), dtype=np.uint8)
    >>> image[0, 0] = (255, 0, 0, 255)          # one opaque red pixel
    >>> colors, weights = color_measure(image)
    >>> colors.tolist(), weights.tolist()
    ([[1.0, 0.0, 0.0]], [1.0])
    """
    view = image_to_pixels(image, "image")
    pixels = view.pixels
    if pixels.shape[0] != 1:
        raise ColorotError("color_measure takes one image, not a batch")
    if n_samples is not None:
        generator = torch.Generator().manual_seed(DEFAULT_SEED if seed is None else int(seed))
        colors = sample_colors(pixels, view.scale, n_samples, generator)[0]
        weights = torch.full((n_samples,), 1.0 / n_samples)
    else:
        alpha = _alpha_weights(pixels, view.scale)
        colors = (pixels[0, :3].T.to(torch.float32) / view.scale).clamp(0, 1)
        weights = torch.ones(colors.shape[0], dtype=torch.float64) if alpha is None else alpha[0]
        keep = weights > 0
        if not bool(keep.any()):
            raise ColorotError("image has no opaque pixels; check its alpha channel")
        colors, weights = colors[keep], weights[keep]
        weights = (weights / weights.sum()).to(torch.float32)
    return to_space(colors, space), weights
