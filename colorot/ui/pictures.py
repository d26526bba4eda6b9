"""Pixels for the page: screen-size previews, blends by strength and mask, masks resized, previews encoded for
the browser."""

from __future__ import annotations

import io as bytes_io

import numpy as np

from ..options import PIXEL_SCALES

__all__ = ["PREVIEW_SIDE", "eight_bit", "preview_of", "resize_mask", "mask_codes", "full_mask", "blend", "encode_preview"]

#: The long side of the previews the page shows (about 1 MP at 4:3).
PREVIEW_SIDE = 1280


def eight_bit(pixels: np.ndarray) -> np.ndarray:
    """Pixels of any colorot dtype as 8-bit codes for the browser (rounded), alpha kept."""
    if pixels.dtype == np.uint8:
        return pixels
    scale = PIXEL_SCALES.get(pixels.dtype.name, 1.0)
    return np.clip(np.round(pixels.astype(np.float32) / scale * 255), 0, 255).astype(np.uint8)


def preview_of(pixels: np.ndarray) -> np.ndarray:
    """8-bit pixels at most PREVIEW_SIDE on the long side (area resampling), alpha kept."""
    from PIL import Image

    eight = eight_bit(pixels)
    height, width = eight.shape[:2]
    factor = min(1.0, PREVIEW_SIDE / max(height, width))
    if factor == 1.0:
        return eight
    size = (max(1, round(width * factor)), max(1, round(height * factor)))
    mode = "RGBA" if eight.shape[-1] == 4 else "RGB"
    return np.asarray(Image.fromarray(eight, mode).resize(size, Image.Resampling.BOX))


def resize_mask(mask: np.ndarray, height: int, width: int) -> np.ndarray:
    """A float mask in ``[0, 1]`` resized (bilinear) to ``(height, width)``."""
    from PIL import Image

    if mask.shape == (height, width):
        return mask
    image = Image.fromarray(mask.astype(np.float32), "F").resize((width, height), Image.Resampling.BILINEAR)
    return np.clip(np.asarray(image), 0, 1)


def mask_codes(mask: np.ndarray, height: int, width: int) -> np.ndarray:
    """A float mask resized to a photo's ``(height, width)`` and rounded to 8-bit codes: the ``*_mask.png``
    written beside an export. The grade uses ``codes / 255``, as ``--source-mask`` reads that file, so that the
    command line gives the same bytes."""
    return np.round(resize_mask(mask, height, width) * 255).astype(np.uint8)


def full_mask(mask: np.ndarray | None, height: int, width: int) -> np.ndarray | None:
    """:func:`mask_codes` as weights in ``[0, 1]`` (float32, as :func:`colorot.io.read_mask` reads them)."""
    return None if mask is None else mask_codes(mask, height, width).astype(np.float32) / 255.0


def blend(pixels: np.ndarray, graded: np.ndarray, strength: float, mask) -> np.ndarray:
    """``x + strength * mask * (graded - x)`` on the colors (alpha kept), in the pixels' dtype."""
    weight = strength if mask is None else strength * mask[..., None]
    color = pixels[..., :3].astype(np.float32)
    moved = color + weight * (graded[..., :3].astype(np.float32) - color)
    if pixels.dtype.kind in "ui":
        moved = np.clip(np.round(moved), 0, np.iinfo(pixels.dtype).max)
    out = pixels.copy()
    out[..., :3] = moved.astype(pixels.dtype)
    return out


def encode_preview(pixels: np.ndarray, icc_profile: bytes | None = None, quality: int = 92,
                   subsampling: int = 2) -> bytes:
    """A preview as JPEG bytes (PNG when it has alpha), with the photo's ICC profile so the browser shows
    the colors the file means. The 100% view asks for ``quality=95, subsampling=0`` (4:4:4: chroma at every
    pixel, so a blotch or a color fringe is the grade's, not the preview's)."""
    from PIL import Image

    buffer = bytes_io.BytesIO()
    extra = {"icc_profile": icc_profile} if icc_profile else {}
    if pixels.shape[-1] == 4:
        Image.fromarray(pixels, "RGBA").save(buffer, "PNG", compress_level=1, **extra)
    else:
        Image.fromarray(pixels, "RGB").save(buffer, "JPEG", quality=quality, subsampling=subsampling, **extra)
    return buffer.getvalue()
