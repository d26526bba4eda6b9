"""A style as the engine reads it: decoded, its colors in the source's encoding.

Every command that fits a map to a style photo -- ``transfer``, ``style``,
``fit``, ``lut``, ``train``, ``batch`` and ``video`` -- reads it here. The
style only supplies color statistics, so a JPEG style is decoded at a reduced
scale (both sides at least :data:`STYLE_SIDE` pixels), and its colors are
converted into the profile of the pixels they will be matched to (the
source's ICC profile; a video's frames are sRGB, BT.709 having sRGB's
primaries), with LittleCMS (:func:`colorot.io.icc.convert_to_profile`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from ..options import STYLE_SIDE
from .icc import convert_to_profile
from .images import ImageFile, read_image

__all__ = ["STYLE_SIDE", "read_style", "in_profile", "read_style_pixels"]



def read_style(path, *, max_side: int | None = STYLE_SIDE, max_pixels: int | None = None,
               notes: Callable[[ImageFile], None] | None = None) -> ImageFile:
    """Decode a style photo (``max_side=None`` decodes it whole, e.g. to match a mask); ``notes(image_file)``
    is called with it, to report what reading did."""
    style = read_image(Path(path), max_side=max_side, max_pixels=max_pixels)
    if notes is not None:
        notes(style)
    return style


def in_profile(style: ImageFile, profile: bytes | None) -> np.ndarray:
    """The style's pixels ``(H, W, 3|4)`` converted into ``profile`` (None: sRGB); unchanged when the two
    profiles are the same encoding."""
    return convert_to_profile(style.pixels, style.icc_profile, profile)


def read_style_pixels(path, profile: bytes | None, **options) -> np.ndarray:
    """:func:`read_style` then :func:`in_profile`: a style's pixels in the encoding of ``profile``.

    Examples
    --------
    >>> import os, tempfile, colorot
    >>> path = colorot.write_image(os.path.join(tempfile.mkdtemp(), "style.png"), np.full((4, 4, 3), 90, np.uint8))
    >>> read_style_pixels(path, None).shape
    (4, 4, 3)
    """
    return in_profile(read_style(path, **options), profile)
