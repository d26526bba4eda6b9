"""ICC profiles: telling them apart and converting colors between them.

colorot fits and applies its map in the *source's* RGB encoding, so the
source's pixels are never converted (nor their depth reduced). When the
style is encoded with another profile, its pixels -- which only supply
color statistics -- are converted into the source's profile first, with
LittleCMS (Pillow's :mod:`PIL.ImageCms`, relative colorimetric intent). An
image without a profile is taken to be sRGB.
"""

from __future__ import annotations

import functools
import io

import numpy as np

__all__ = ["srgb_profile", "cms_profile", "same_profile", "convert_to_profile"]


@functools.lru_cache(maxsize=1)
def srgb_profile() -> bytes:
    """The bytes of LittleCMS's built-in sRGB profile.

    Examples
    --------
    >>> srgb_profile()[36:40]
    b'acsp'
    """
    from PIL import ImageCms

    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def cms_profile(data: bytes | None):
    """A LittleCMS profile (:class:`PIL.ImageCms.ImageCmsProfile`) from ICC bytes; None is sRGB."""
    from PIL import ImageCms

    return ImageCms.ImageCmsProfile(io.BytesIO(data or srgb_profile()))


def same_profile(a: bytes | None, b: bytes | None) -> bool:
    """Whether two profiles (None = sRGB) describe the same encoding: the same tags byte for byte,
    and the same color spaces in the 128-byte header (whose dates and creator may differ)."""
    if a == b:  # both None (sRGB), or the same bytes
        return True
    a, b = a or srgb_profile(), b or srgb_profile()
    return a == b or (a[128:] == b[128:] and a[16:24] == b[16:24])


def convert_to_profile(pixels: np.ndarray, source: bytes | None, target: bytes | None) -> np.ndarray:
    """Convert ``(H, W, 3|4)`` pixels from profile ``source`` to profile ``target`` (None = sRGB).

    The conversion runs at 8 bits (LittleCMS through Pillow): colorot uses it
    for style images, whose colors are only sampled. Alpha passes through.

    Examples
    --------
    >>> import numpy as np
    >>> gray = np.full((2, 2, 3), 128, dtype=np.uint8)
    >>> convert_to_profile(gray, None, None)[0, 0].tolist()
    [128, 128, 128]
    """
    if same_profile(source, target):
        return pixels
    from PIL import Image, ImageCms

    rgb = _to_uint8(pixels[..., :3])
    image = ImageCms.profileToProfile(
        Image.fromarray(np.ascontiguousarray(rgb), "RGB"),
        cms_profile(source),
        cms_profile(target),
        renderingIntent=ImageCms.Intent.RELATIVE_COLORIMETRIC,
        outputMode="RGB",
    )
    converted = np.asarray(image)
    if pixels.shape[-1] == 4:
        converted = np.concatenate([converted, _to_uint8(pixels[..., 3:])], axis=-1)
    return converted


def _to_uint8(values: np.ndarray) -> np.ndarray:
    """uint8, uint16 or float-in-[0, 1] samples as uint8."""
    if values.dtype == np.uint8:
        return values
    scale = 65535.0 if values.dtype == np.uint16 else 1.0
    return np.clip(np.round(values.astype(np.float64) * (255 / scale)), 0, 255).astype(np.uint8)
