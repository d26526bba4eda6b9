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
import struct

import numpy as np

from ..options import PIXEL_SCALES

__all__ = ["srgb_profile", "cms_profile", "same_profile", "convert_to_profile", "is_gray_profile",
           "rgb_profile_from_gray", "profile_for_rgb"]


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
    scale = PIXEL_SCALES.get(values.dtype.name, 1.0)
    return np.clip(np.round(values.astype(np.float64) * (255 / scale)), 0, 255).astype(np.uint8)


def is_gray_profile(data: bytes | None) -> bool:
    """Whether ICC profile bytes describe gray pixels (data color space ``GRAY`` in the header).

    Examples
    --------
    >>> is_gray_profile(srgb_profile()), is_gray_profile(None)
    (False, False)
    """
    return bool(data) and len(data) >= 20 and data[16:20] == b"GRAY"


def profile_for_rgb(data: bytes | None) -> bytes | None:
    """The profile of RGB pixels made from an image that carried ``data``: a gray profile becomes
    :func:`rgb_profile_from_gray`'s RGB twin (gray replicated to R = G = B means the same colors through it);
    any other profile, or None, is returned as it is.

    Raises
    ------
    ValueError
        A gray profile without a usable gray tone curve (``kTRC``).
    """
    return rgb_profile_from_gray(data) if is_gray_profile(data) else data


def rgb_profile_from_gray(gray: bytes) -> bytes:
    """An RGB profile under which ``R = G = B = v`` means what gray ``v`` means under ``gray``.

    A gray ICC profile maps a value ``v`` to the PCS color ``kTRC(v)`` times
    the PCS white (ICC.1:2022, section F.2, monochrome input). A matrix/TRC
    RGB profile maps ``(r, g, b)`` to ``M (TRC(r), TRC(g), TRC(b))``, where the
    columns of ``M`` (the colorants) add up to the PCS white. With the
    colorants of LittleCMS's sRGB profile and ``kTRC`` as each channel's tone
    curve, gray replicated to RGB keeps its meaning exactly, and its pixels
    need no conversion (no loss of depth). The profile ID is left zero (not
    computed), as the specification allows.

    Parameters
    ----------
    gray : bytes
        A gray ICC profile (any version) with a ``kTRC`` tag.

    Returns
    -------
    bytes
        An ICC v4 display RGB profile.

    Raises
    ------
    ValueError
        ``gray`` is not a gray profile, or it has no ``kTRC`` tag.

    Examples
    --------
    >>> gray = _build_profile(_gray_header(), {b"desc": _mluc("Gray Gamma 2.2"), b"wtpt": _tags(srgb_profile())[b"wtpt"],
    ...                                        b"kTRC": b"curv" + bytes(4) + struct.pack(">IH", 1, 563)})
    >>> rgb = rgb_profile_from_gray(gray)
    >>> rgb[16:20], _tags(rgb)[b"rTRC"] == _tags(gray)[b"kTRC"]
    (b'RGB ', True)
    """
    if not is_gray_profile(gray):
        raise ValueError("not a gray ICC profile")
    gray_tags = _tags(gray)
    if b"kTRC" not in gray_tags:
        raise ValueError("the gray ICC profile has no gray tone curve (kTRC)")
    tags = dict(_tags(srgb_profile()))
    for channel in (b"rTRC", b"gTRC", b"bTRC"):
        tags[channel] = gray_tags[b"kTRC"]
    tags[b"desc"] = _mluc(f"RGB from gray: {_description(gray_tags) or 'unnamed gray profile'}"[:120])
    tags.pop(b"chrm", None)  # sRGB's phosphors no longer name the whole encoding
    return _build_profile(srgb_profile()[:128], tags)


def _tags(profile: bytes) -> dict:
    """An ICC profile's tags, ``{signature: data}``, in the order of its tag table."""
    count = struct.unpack(">I", profile[128:132])[0]
    tags = {}
    for index in range(count):
        signature, offset, size = struct.unpack(">4sII", profile[132 + 12 * index : 144 + 12 * index])
        if offset + size > len(profile):
            raise ValueError("a tag of the ICC profile runs past its end")
        tags[signature] = profile[offset : offset + size]
    return tags


def _build_profile(header: bytes, tags: dict) -> bytes:
    """An ICC profile from a 128-byte header and ``{signature: data}`` tags (shared data stored once)."""
    table_size = 4 + 12 * len(tags)
    body, entries, stored = b"", [], {}
    offset = 128 + table_size
    for signature, data in tags.items():
        if data not in stored:
            stored[data] = offset + len(body)
            body += data + bytes(-len(data) % 4)  # each tag starts on a 4-byte boundary
        entries.append(struct.pack(">4sII", signature, stored[data], len(data)))
    size = 128 + table_size + len(body)
    header = struct.pack(">I", size) + header[4:84] + bytes(16) + header[100:128]  # size; profile ID not computed
    return header + struct.pack(">I", len(tags)) + b"".join(entries) + body


def _mluc(text: str) -> bytes:
    """A ``multiLocalizedUnicodeType`` tag holding ``text`` in en-US."""
    encoded = text.encode("utf-16-be")
    return b"mluc" + bytes(4) + struct.pack(">II2s2sII", 1, 12, b"en", b"US", len(encoded), 28) + encoded


def _description(tags: dict) -> str:
    """The profile description (``desc``: v2 ``textDescriptionType`` or v4 ``mluc``), or ''."""
    data = tags.get(b"desc", b"")
    try:
        if data[:4] == b"desc":
            length = struct.unpack(">I", data[8:12])[0]
            return data[12 : 12 + length].split(b"\0")[0].decode("ascii", "replace")
        if data[:4] == b"mluc":
            length, offset = struct.unpack(">II", data[20:28])
            return data[offset : offset + length].decode("utf-16-be", "replace")
    except struct.error:
        pass
    return ""


def _gray_header() -> bytes:
    """A 128-byte header for a gray display profile (v4), e.g. to build one with :func:`_build_profile`."""
    srgb = srgb_profile()
    return srgb[:12] + b"mntr" + b"GRAY" + srgb[20:128]
