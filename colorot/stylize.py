"""Style transfer beyond color: multi-scale patch distributions matched with sliced Wasserstein.

The style of a photo is, beyond its colors, the distribution of its small
patches (grain, strokes, foliage). :func:`stylize` pulls the distribution of
the output's ``k x k`` patches toward the style's with the sliced W2 loss,
without any pretrained network (Elnekave & Weiss, GPDM, ECCV 2022; Heitz et
al., CVPR 2021, use the same loss on VGG features):

* a patch's projection on a random direction of the ``3 k^2`` patch space is
  a convolution, so one ``conv2d`` with fresh random filters projects every
  patch of an image on many directions at once;
* sorting those projections gives each direction's 1-D optimal matching
  between output patches and style patches (quantiles, so the two images may
  differ in size): the loss is the mean squared gap;
* coarse to fine: a pyramid of scales, each level started from the previous
  one's upsampled result (the coarsest from the color-transferred content),
  so large structures and fine texture both follow the style;
* a content term ``content_weight * mean((x - c)^2)`` against the
  color-transferred content ``c`` keeps the content's structure; the weight
  is the knob between "the content, recolored" and "the style's texture".

The output is optimized directly (Adam on its pixels), on the GPU when there
is one.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F

from .api import transfer
from .devices import resolve_device, seeded_generator
from .errors import ColorotError
from .pixels import image_to_pixels
from .ot.one_d import midpoint_quantiles

__all__ = ["stylize", "patch_distance"]

PATCHES_PER_STEP = 1 << 14  # patches sorted per projection and step, for the output and for the style


def _random_filters(count: int, patch_size: int, generator: torch.Generator, device) -> torch.Tensor:
    """``count`` random unit directions of the ``3 * patch_size**2`` patch space, as conv filters."""
    filters = torch.randn(count, 3 * patch_size * patch_size, generator=generator, device=generator.device)
    filters = filters / filters.norm(dim=1, keepdim=True)
    return filters.reshape(count, 3, patch_size, patch_size).to(device)


def _sorted_projections(
    image: torch.Tensor, filters: torch.Tensor, keep: int | None = None, generator: torch.Generator | None = None
) -> torch.Tensor:
    """The patches of ``image`` ``(1, 3, H, W)`` projected on ``filters``, sorted: ``(count, n)``.

    With ``keep``, a random subset of at most ``keep`` patch positions (the same
    for every filter): sorting dominates the cost, and the quantiles of a few
    ten thousand patches are already close to the whole image's.
    """
    if keep is not None:
        # Large images: the patches on a coarser grid (stride s, at a random offset) are projected, which
        # divides the convolution's cost by s^2; the random subset is drawn among those.
        stride = max(1, int((image.shape[-1] * image.shape[-2] / keep) ** 0.5))
        if stride > 1:
            top, left = (int(v) for v in torch.randint(stride, (2,), generator=generator, device=generator.device))
            image = image[..., top:, left:]
        projected = F.conv2d(image, filters, stride=stride).flatten(2)[0]
    else:
        projected = F.conv2d(image, filters).flatten(2)[0]
    if keep is not None and projected.shape[1] > keep:
        chosen = torch.randperm(projected.shape[1], generator=generator, device=generator.device)[:keep]
        projected = projected[:, chosen.to(projected.device)]
    return projected.sort(dim=1).values


def patch_distance(image, reference, *, patch_size: int = 7, n_projections: int = 256, max_side: int = 256,
                   seed: int = 0) -> float:
    """Sliced W2 between the ``patch_size`` x ``patch_size`` patch distributions of two images.

    Both are resized so their longer side is at most ``max_side`` and
    compared along ``n_projections`` random directions (seeded), in sRGB
    units in ``[0, 1]``. A measure of texture and color together: 0 when the
    two images have the same patches.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> noise, flat = rng.random((64, 64, 3)), np.full((64, 64, 3), 0.5)
    >>> patch_distance(noise, noise) < 1e-6 < patch_distance(noise, flat)
    True
    """
    generator = torch.Generator().manual_seed(seed)
    a, b = (_fit_side(_as_tensor(x, name), max_side) for x, name in ((image, "image"), (reference, "reference")))
    filters = _random_filters(n_projections, patch_size, generator, "cpu")
    pa, pb = _sorted_projections(a, filters), _sorted_projections(b, filters)  # every patch: exact
    count = max(pa.shape[1], pb.shape[1])
    gap = midpoint_quantiles(pa, count) - midpoint_quantiles(pb, count)
    return float(gap.square().mean().sqrt())


def _as_tensor(image, name: str, device=None) -> torch.Tensor:
    """Any image the API takes as a float ``(1, 3, H, W)`` tensor in ``[0, 1]`` on ``device``."""
    view = image_to_pixels(image, name)
    if view.pixels.shape[0] != 1:
        raise ColorotError(f"{name}: stylize takes one image, got a batch of {view.pixels.shape[0]}")
    height, width = view.size
    pixels = view.pixels[:, :3].to(torch.float32) / view.scale
    return pixels.reshape(1, 3, height, width).clamp(0, 1).to(device or "cpu")


def _fit_side(image: torch.Tensor, side: int) -> torch.Tensor:
    height, width = image.shape[-2:]
    scale = side / max(height, width)
    if scale >= 1:
        return image
    size = (max(round(height * scale), 8), max(round(width * scale), 8))
    return F.interpolate(image, size=size, mode="bilinear", antialias=True, align_corners=False)


def stylize(
    content,
    style,
    *,
    size: int = 512,
    content_weight: float = 1.0,
    patch_size: int = 7,
    n_projections: int = 64,
    levels: int = 4,
    steps: tuple[int, ...] | int = (250, 150, 100, 60),
    learning_rate: float = 0.02,
    strength: float = 1.0,
    content_mask=None,
    seed: int | None = None,
    device=None,
    progress: Callable[[int, int], None] | None = None,
):
    """Give ``content`` the colors and the texture of ``style``.

    Parameters
    ----------
    content, style : array, PIL image or tensor
        Any image :func:`colorot.transfer` takes (one image each).
    size : int
        Longer side of the result, in pixels.
    content_weight : float
        Weight of the content term: higher keeps more of the content's
        structure, lower lets the style's texture take over (0: texture
        synthesis started from the content).
    patch_size : int
        Side of the patches whose distribution is matched (odd, 3 to 15).
    n_projections : int
        Random projections of the patch space per step.
    levels : int
        Scales of the pyramid, each twice the previous (the finest is ``size``).
    steps : int or tuple of int
        Adam steps per level, coarsest first (one number: the same at each).
    learning_rate : float
        Adam's step size on the pixels.
    strength : float
        Blend of the result with the color-transferred content, in ``[0, 1]``.
    content_mask : mask, optional
        ``(H, W)`` in ``[0, 1]``, any size: where the style applies. 0 keeps
        the content's pixels (resized to ``size``), values in between blend.
    seed : int, optional
        Reproducible on one device.
    device : str or torch.device, optional
        ``"auto"`` (default), ``"cpu"``, ``"cuda"``...
    progress : callable, optional
        Called as ``progress(done, total)`` after each step.

    Returns
    -------
    numpy.ndarray
        ``(H, W, 3)`` float32 sRGB in ``[0, 1]``, the longer side ``size``.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> content = np.linspace(0, 1, 48 * 48 * 3).reshape(48, 48, 3)
    >>> style = (rng.random((48, 48, 3)) > 0.5).astype(float)   # a noisy texture
    >>> out = stylize(content, style, size=48, levels=2, steps=20, seed=0)
    >>> out.shape
    (48, 48, 3)
    >>> bool(patch_distance(out, style) < patch_distance(content, style))
    True
    """

    if not 3 <= patch_size <= 15 or patch_size % 2 == 0:
        raise ColorotError(f"patch_size must be odd, from 3 to 15, got {patch_size}")
    if content_weight < 0 or not 0 <= strength <= 1 or levels < 1 or size < 16:
        raise ColorotError("need content_weight >= 0, strength in [0, 1], levels >= 1 and size >= 16")
    steps = (steps,) * levels if isinstance(steps, int) else tuple(steps)
    if len(steps) < levels:
        steps = steps + (steps[-1],) * (levels - len(steps))
    device = resolve_device(device)
    generator = seeded_generator(seed, device)
    content_image = _fit_side(_as_tensor(content, "content", device), size)
    style_image = _fit_side(_as_tensor(style, "style", device), max(size, 64))
    # Color first: the content recolored by the engine is both the start and the content target.
    # the histogram itself (unsmoothed: the texture optimization that follows is the regularization)
    recolored = transfer(content_image, style_image, seed=seed, device=device, method="sliced", lut_blur=0, regrain_radius=0)
    mask = None
    if content_mask is not None:
        mask = torch.as_tensor(np.asarray(content_mask, dtype=np.float32), device=device)
        if mask.ndim != 2:
            raise ColorotError(f"content_mask must be (H, W), got shape {tuple(mask.shape)}")
        mask = F.interpolate(mask[None, None], size=content_image.shape[-2:], mode="bilinear").clamp(0, 1)
    total, done = sum(steps[:levels]), 0

    def tick() -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(done, total)

    output = None
    for level in range(levels):
        scale = 2.0 ** (level - levels + 1)
        target = _scaled(recolored, scale)
        if output is None:
            output = target.clone()
        else:
            output = F.interpolate(output, size=target.shape[-2:], mode="bilinear", align_corners=False)
        output = _optimize_level(output, target, _scaled(style_image, scale), content_weight, patch_size,
                                 n_projections, steps[level], learning_rate, generator, tick)
    result = recolored + strength * (output - recolored)
    if mask is not None:
        result = content_image + mask * (result - content_image)
    return result[0].clamp(0, 1).permute(1, 2, 0).detach().cpu().numpy()


def _scaled(image: torch.Tensor, scale: float) -> torch.Tensor:
    if scale >= 1:
        return image
    size = (max(round(image.shape[-2] * scale), 16), max(round(image.shape[-1] * scale), 16))
    return F.interpolate(image, size=size, mode="bilinear", antialias=True, align_corners=False)


def _optimize_level(output, target, style, content_weight, patch_size, n_projections, n_steps, learning_rate,
                    generator, tick) -> torch.Tensor:
    """Adam on the pixels of ``output``: sliced W2 of patches to ``style`` + content term to ``target``."""
    output = output.detach().clone().requires_grad_(True)
    optimizer = torch.optim.Adam([output], lr=learning_rate)
    for _ in range(n_steps):
        filters = _random_filters(n_projections, patch_size, generator, output.device)
        with torch.no_grad():
            style_sorted = _sorted_projections(style, filters, PATCHES_PER_STEP, generator)
        # A fresh random subset of the output's patches each step: over the steps every patch is pulled.
        ours = _sorted_projections(output, filters, PATCHES_PER_STEP, generator)
        loss = (ours - midpoint_quantiles(style_sorted, ours.shape[1])).square().mean()
        if content_weight > 0:
            loss = loss + content_weight * (output - target).square().mean()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        with torch.no_grad():
            output.clamp_(0, 1)
        tick()
    return output.detach()
