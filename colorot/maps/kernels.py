"""Which lookup kernel applies a table to an image, and finishing the output (mask blend, alpha, caller's type).

One home for the choice among the kernels of :class:`~colorot.maps.lut.ColorLUT`: an 8-bit image on the CPU
goes through Pillow's fixed-point kernel or the tabulated lookup (:meth:`ColorLUT.apply_uint8`); everything
else (16-bit, float, any torch device, tetrahedral interpolation, a regrain filter) through
:meth:`ColorLUT.apply_pixels`.
"""

from __future__ import annotations

import torch

from ..pixels import PixelView
from .lut import ColorLUT
from .regrain import filter_displacement

__all__ = ["apply_table", "finish", "from_unit"]


@torch.no_grad()
def apply_table(
    lut: ColorLUT,
    view: PixelView,
    device: torch.device,
    mask: torch.Tensor | None = None,
    regrain: tuple[int, float] | None = None,
    interpolation: str = "trilinear",
    keep: torch.Tensor | None = None,
):
    """Apply a lookup table to an image view and rebuild the caller's type.

    ``mask`` (weights ``(B or 1, P)``) blends: ``x + mask * (T(x) - x)``, so 0 keeps a pixel bit for bit.
    ``regrain`` = ``(radius, eps)`` filters the displacement guided by the source
    (:func:`colorot.maps.regrain.filter_displacement`), except in the RGB directions that the projections
    ``keep`` ``(B or 1, 3, 3)`` keep.
    """
    if regrain is None and view.is_uint8_array and device.type == "cpu" and interpolation == "trilinear" \
            and lut.applies_uint8:
        moved = lut.apply_uint8(view.array)  # tabulated, or Pillow's trilinear kernel (<= 65 nodes); alpha kept
        if mask is None:
            return view.rebuild(moved)
        moved = torch.from_numpy(moved[..., :3]).reshape(1, -1, 3).transpose(1, 2)
        return finish(view, view.pixels, moved, mask)
    pixels = view.to(device).pixels
    if regrain is None:
        moved = lut.apply_pixels(pixels, scale=view.scale, device=device, interpolation=interpolation)
    else:
        source = pixels[:, :3].to(torch.float32) / view.scale
        moved = lut.apply_pixels(source, device=device, interpolation=interpolation)
        moved = from_unit(filter_displacement(source, moved, view.size, *regrain, keep=keep), pixels, view.scale)
    return finish(view, pixels, moved, mask)


def from_unit(colors: torch.Tensor, pixels: torch.Tensor, scale: float) -> torch.Tensor:
    """Float colors in ``[0, 1]`` back to the range and dtype of ``pixels`` (rounded for integer pixels)."""
    colors = colors * scale
    if not pixels.dtype.is_floating_point:
        colors = colors.round_().clamp_(0, scale)
    return colors.to(pixels.dtype)


def finish(view: PixelView, pixels: torch.Tensor, moved: torch.Tensor, mask: torch.Tensor | None):
    """Blend by the mask, put alpha back and rebuild the caller's type."""
    if mask is not None:
        original = pixels[:, :3].to(torch.float32)
        blended = original + mask.to(moved.device)[:, None, :] * (moved.to(torch.float32) - original)
        moved = (blended if pixels.dtype.is_floating_point else blended.round()).to(moved.dtype)
    if pixels.shape[1] == 4:
        moved = torch.cat((moved, pixels[:, 3:]), dim=1)
    return view.rebuild(moved)

