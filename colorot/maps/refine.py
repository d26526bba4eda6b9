"""refine: rounds of regrain (a guided filter of the displacement) and re-transfer, from coarse to fine.

The rounds run on a reduced copy of a large image; the image itself gets the last round's filter (fitted on the
copy) and the last map (fitted on its own colors). Not a function of color: the output depends on where a pixel
is, which is how it keeps more of the source's detail at a closer look.

Each round filters the displacement from the source with a guided filter guided by the source's luma, then fits a
new map from the filtered image's colors to the style. The filter keeps the output locally affine in the source
(structure) and the new map brings the colors back onto the style. Each round costs a fraction of a transfer: the
maps of the rounds before the last are fitted on ``REFINE_ROUND_SAMPLES`` colors in at most ``REFINE_ROUND_ITER``
steps and baked on a ``REFINE_ROUND_LUT`` node grid; images longer than ``REFINE_SIDE`` run the rounds on a
reduced copy.
"""

from __future__ import annotations

import math

import torch

from .. import progress
from ..devices import seeded_generator
from ..pixels import PixelView
from ..measures import sample_colors
from ..measures.colorspaces import to_space
from .kernels import finish, from_unit
from .lut import PILLOW_LUT_MAX, used_nodes
from .regrain import filter_displacement

__all__ = ["refined_transform", "refine_radii", "REFINE_RADII", "REFINE_SIDE"]

#: Guided-filter radii of the first and last refine rounds when regrain_radius is 0, per long side; the rounds
#: between go from coarse to fine geometrically (one round: their geometric mean).
REFINE_RADII = (1 / 2, 1 / 64)

#: Refine rounds of a larger image run on a copy reduced to this long side; the image itself gets the last filter
#: (its coefficients fitted on the copy) and the last map (fitted on its own colors).
REFINE_SIDE = 640

#: The maps of the refine rounds before the last (the next round refits them) are fitted on this many sampled
#: colors, in at most this many steps, and baked on a grid of this size; the last map, which makes the output,
#: uses n_samples, n_iter and lut_size.
REFINE_ROUND_SAMPLES = 4096

REFINE_ROUND_ITER = 10

REFINE_ROUND_LUT = 33


@torch.no_grad()
def refined_transform(fitter, view: PixelView, strength: float, mask: torch.Tensor | None, notes: list | None = None):
    """A photo graded by ``fitter`` (a :class:`~colorot.fitting.MapFitter`) with ``refine`` rounds of regrain
    (guided filter) and re-transfer; the caller's image type back. ``notes`` (a list) gets what the last fit said
    of itself.

    Examples
    --------
    >>> import numpy as np, colorot
    >>> from colorot.pixels import image_to_pixels
    >>> rng = np.random.default_rng(0)
    >>> photo, style = rng.random((48, 48, 3)), rng.random((32, 32, 3)) ** 2
    >>> fitter = colorot.ColorTransfer(method="mkl", refine=2, seed=0).fit(style).fitter
    >>> out = refined_transform(fitter, image_to_pixels(photo), 1.0, None)
    >>> out.shape, bool(out.mean() < photo.mean())
    ((48, 48, 3), True)
    """
    options = fitter.options
    generator = seeded_generator(options.seed, fitter.device)
    pixels = view.pixels
    full_source = pixels[:, :3].to(torch.float32) / view.scale
    full_alpha = pixels[:, 3:].to(torch.float32) / view.scale
    # The rounds run on a reduced copy of a large image (the filter's wide windows and the maps' fits need no
    # more); the image itself gets the last round's filter, fitted on the copy, and its last map.
    full_size = tuple(view.size)
    size = _reduced_size(full_size, REFINE_SIDE)
    source, alpha, copy_mask = (_reduce(values, full_size, size) for values in (full_source, full_alpha, mask))
    if options.regrain_radius:
        radii = [max(1, round(options.regrain_radius * max(size) / max(full_size)))] * options.refine
    else:
        radii = refine_radii(max(size), options.refine)
    # An 8-bit photo's last map can go through Pillow's kernel (the output is rounded to 8 bits anyway).
    eight_bit = view.is_uint8_array and fitter.device.type == "cpu" and strength == 1.0 \
        and options.lut_size <= PILLOW_LUT_MAX
    moved = source
    rounds = options.refine + 1
    # The photo's structure against the style's, measured once (a regrain changes colors, not the scene).
    structure = fitter.shared_structure([view], 1)  # None for a method that does not read it
    for round_ in range(rounds):
        with progress.part(round_ / rounds, (round_ + 1) / rounds, f"refine: round {round_ + 1} of {rounds}"):
            last = round_ == options.refine
            if last and size != full_size:
                moved = filter_displacement(source, moved, size, radii[-1], options.regrain_eps,
                                            fine_source=full_source, fine_size=full_size)
                source, alpha, copy_mask, size = full_source, full_alpha, mask, full_size
            elif round_:
                moved = filter_displacement(source, moved, size, radii[round_ - 1], options.regrain_eps)
            n_samples = options.n_samples if last else min(options.n_samples, REFINE_ROUND_SAMPLES)
            lut_size = options.lut_size if last else min(options.lut_size, REFINE_ROUND_LUT)
            colors = sample_colors(torch.cat((moved, alpha), dim=1), 1.0, n_samples, generator,
                                   device=fitter.device, name="source", mask=copy_mask)
            steps, said = fitter.fit(to_space(colors, fitter.fit_space), generator,
                                     n_iter=options.n_iter if last else min(options.n_iter, REFINE_ROUND_ITER),
                                     structure=structure)
            if notes is not None:
                notes[:] = said
            # Bake only the nodes around the colors to be looked up (as transform does for 8-bit images): the
            # codes nearest to them fall in the same cell or the next, which used_nodes' margin covers.
            partial = fitter.bakes_partially(size)
            codes = None
            if partial or (last and eight_bit):
                codes = (moved.transpose(1, 2).reshape(-1, 3) * 255).clamp_(0, 255).round_().to(torch.uint8).numpy()
            lut = fitter.bake(steps, 1.0, used_nodes(codes, lut_size) if partial else None, size=lut_size)
            if last and eight_bit:
                # An 8-bit photo's last map reads the filtered colors rounded to 8 bits, with Pillow's kernel
                # (a third of the float lookup's time at 12 MP); the output is rounded to 8 bits anyway.
                moved = torch.from_numpy(lut.apply_uint8(codes.reshape(*size, 3))).reshape(1, -1, 3).transpose(1, 2)
                return finish(view, pixels, moved, mask)
            moved = lut.apply_pixels(moved, device=fitter.device)
    return finish(view, pixels, from_unit(torch.lerp(full_source, moved, strength), pixels, view.scale), mask)


def refine_radii(long_side: int, rounds: int) -> list:
    """The guided-filter radius of each refine round, in pixels, for an image of this long side.

    From ``REFINE_RADII[0]`` to ``REFINE_RADII[1]`` of the long side, geometrically: the first rounds make
    the displacement follow the source's large regions, the last ones its finer structure.

    Examples
    --------
    >>> refine_radii(512, 11)
    [256, 181, 128, 91, 64, 45, 32, 23, 16, 11, 8]
    >>> refine_radii(512, 1)
    [45]
    """
    first, last = (math.log2(long_side * fraction) for fraction in REFINE_RADII)
    if rounds == 1:
        return [max(1, round(2 ** ((first + last) / 2)))]
    return [max(1, round(2 ** (first + (last - first) * k / (rounds - 1)))) for k in range(rounds)]


def _reduced_size(size: tuple[int, int], side: int) -> tuple[int, int]:
    """``size`` (H, W) scaled down to a long side of ``side`` (unchanged when it is not longer)."""
    if max(size) <= side:
        return tuple(size)
    scale = side / max(size)
    return tuple(max(1, round(length * scale)) for length in size)


def _reduce(values: torch.Tensor | None, size: tuple[int, int], reduced: tuple[int, int]) -> torch.Tensor | None:
    """Pixels ``(B, C, H * W)`` (or mask weights ``(B, H * W)``) averaged down to ``reduced`` (area)."""
    if values is None or tuple(size) == tuple(reduced):
        return values
    if values.ndim == 3 and values.shape[1] == 0:  # no alpha
        return values.new_empty(values.shape[0], 0, reduced[0] * reduced[1])
    image = values.reshape(values.shape[0], -1, *size)
    pooled = torch.nn.functional.adaptive_avg_pool2d(image.to(torch.float32), reduced)
    return pooled.reshape(*values.shape[:-1], -1).to(values.dtype)

