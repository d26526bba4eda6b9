"""Reading and writing image files, keeping everything but the colors.

:func:`read_image` decodes a file into an :class:`ImageFile`: the pixels as
an ``(H, W, 3|4)`` array at the file's own depth (uint8, uint16 or float32),
EXIF orientation applied, plus what must survive the round trip (ICC
profile, EXIF with the orientation reset, JPEG quality tables and
subsampling). :func:`write_image` writes pixels back with that metadata,
atomically: to a temporary file in the destination folder, renamed over the
destination only once complete, so no partial file is ever left behind.

Pillow decodes most formats; 16-bit PNG goes through imagecodecs and 16-bit
or floating-point TIFF through tifffile, since Pillow would cut them to 8
bits. HEIC/HEIF needs the ``heic`` extra (pillow-heif).

What is kept, by format (read -> write):

============  ============================  =====  ====  =====
format        depths                        alpha  ICC   EXIF
============  ============================  =====  ====  =====
JPEG          8                             --     yes   yes
PNG           8, 16                         yes    yes   yes
TIFF          8, 16, 32-bit float           yes    yes   yes
WebP          8                             yes    yes   yes
AVIF          8 (deeper: read at 8, noted)  yes    yes   yes
HEIC/HEIF     8 (deeper: read at 8, noted)  yes    yes   yes
BMP           8                             yes    --    --
GIF           8, first frame; read only     yes    --    --
============  ============================  =====  ====  =====

A 10- or 12-bit AVIF or HEIF is decoded at 8 bits per channel (Pillow's
and pillow-heif's depth), and the reading note says so.
"""

from __future__ import annotations

import os
import struct
import threading
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import _codecs
from ..errors import ColorotError
from .files import _check_file
from .icc import cms_profile, is_gray_profile, profile_for_rgb

__all__ = ["ImageFile", "read_image", "read_mask", "read_icc_profile", "DEFAULT_MAX_PIXELS"]

#: Largest image read by default (width x height), against decompression bombs; a 150 MP
#: medium-format frame fits. Set ``COLOROT_MAX_PIXELS`` or pass ``max_pixels`` to change it.
DEFAULT_MAX_PIXELS = 250_000_000

_FORMATS = {
    ".jpg": "JPEG",
    ".jpeg": "JPEG",
    ".png": "PNG",
    ".tif": "TIFF",
    ".tiff": "TIFF",
    ".webp": "WEBP",
    ".avif": "AVIF",
    ".heic": "HEIF",
    ".heif": "HEIF",
    ".bmp": "BMP",
}
_METADATA_FORMATS = {"JPEG", "PNG", "TIFF", "WEBP", "AVIF", "HEIF"}  # write ICC and EXIF
_PIL_LIMIT = threading.Lock()
_TIFF_MAGIC = (b"II*\0", b"MM\0*", b"II+\0", b"MM\0+")
#: First-directory EXIF tags carried to the output: description, camera, orientation, resolution,
#: software, date, artist, copyright, and the pointers to the EXIF and GPS sub-directories.
_EXIF_KEPT_TAGS = {270, 271, 272, 274, 282, 283, 296, 305, 306, 315, 33432, 34665, 34853}


@dataclass
class ImageFile:
    """Decoded pixels and the metadata to write back with them.

    Attributes
    ----------
    pixels : numpy.ndarray, shape (H, W, 3|4)
        uint8, uint16 or float32, as stored in the file (grayscale replicated to RGB).
    path : pathlib.Path
    format : str
        Pillow's name of the file format (``"JPEG"``, ``"PNG"``, ``"TIFF"``...).
    icc_profile : bytes or None
        The profile the pixels are encoded in (None: sRGB is assumed).
    exif : bytes or None
        EXIF block with the orientation reset (the pixels are already turned).
    save_options : dict
        JPEG quantization tables and subsampling, to write at the source's quality.
    notes : list of str
        What was done on reading that the user should know (first frame of an
        animation, grayscale read as RGB, CMYK converted).

    Examples
    --------
    >>> import tempfile, os, numpy as np, colorot
    >>> path = colorot.write_image(os.path.join(tempfile.mkdtemp(), "gray16.png"), np.full((4, 6, 3), 40000, np.uint16))
    >>> image = read_image(path)
    >>> image.pixels.shape, image.pixels.dtype, image.format
    ((4, 6, 3), dtype('uint16'), 'PNG')
    """

    pixels: np.ndarray
    path: Path
    format: str | None = None
    icc_profile: bytes | None = None
    exif: bytes | None = None
    save_options: dict = field(default_factory=dict)
    notes: list = field(default_factory=list)


def _max_pixels(max_pixels: int | None) -> int:
    if max_pixels is not None:
        return int(max_pixels)
    value = os.environ.get("COLOROT_MAX_PIXELS")
    try:
        return int(value) if value else DEFAULT_MAX_PIXELS
    except ValueError:
        raise ColorotError(f"COLOROT_MAX_PIXELS must be a whole number, got {value!r}") from None


def _too_many(path: Path, pixels: int, limit: int) -> ColorotError:
    return ColorotError(
        f"{path}: {pixels:,} pixels is over the limit of {limit:,} "
        "(a guard against decompression bombs; raise it with --max-pixels or COLOROT_MAX_PIXELS)"
    )


def _corrupt(path: Path, error: Exception) -> ColorotError:
    message = str(error).splitlines()[0][:200] if str(error).strip() else type(error).__name__
    return ColorotError(f"{path}: corrupt, truncated or unsupported image ({message})")


def _open_pillow(path: Path, limit: int):
    """Open lazily with Pillow under colorot's own pixel limit (Pillow's is lifted meanwhile)."""
    from PIL import Image

    _register_heif()
    with _PIL_LIMIT:
        previous = Image.MAX_IMAGE_PIXELS
        Image.MAX_IMAGE_PIXELS = None  # checked below, against the caller's limit
        try:
            image = Image.open(path)
        except Image.UnidentifiedImageError:
            raise ColorotError(f"{path}: not an image, or a format colorot cannot read") from None
        finally:
            Image.MAX_IMAGE_PIXELS = previous
    width, height = image.size
    if width * height > limit:
        image.close()
        raise _too_many(path, width * height, limit)
    return image


_HEIF_REGISTERED = False


def _register_heif() -> None:
    """Let Pillow read and write HEIC/HEIF when the ``heic`` extra (pillow-heif) is installed."""
    global _HEIF_REGISTERED
    if not _HEIF_REGISTERED:
        try:
            from pillow_heif import register_heif_opener
        except ImportError:
            pass
        else:
            register_heif_opener()
        _HEIF_REGISTERED = True


def _pillow_pixels(image, notes: list) -> tuple[np.ndarray, bytes | None]:
    """An oriented Pillow image as an RGB(A) array at its own depth, and the profile it is now in."""
    mode, icc = image.mode, image.info.get("icc_profile")
    if mode in ("RGB", "RGBA"):
        return np.asarray(image), icc
    if mode == "CMYK":
        if icc:
            from PIL import ImageCms

            from .icc import cms_profile, srgb_profile

            image = ImageCms.profileToProfile(
                image, cms_profile(icc), cms_profile(None),
                renderingIntent=ImageCms.Intent.PERCEPTUAL, outputMode="RGB",
            )
            notes.append("CMYK converted to sRGB through its ICC profile")
            return np.asarray(image), srgb_profile()
        from .icc import srgb_profile

        # the naive conversion's RGB is read as sRGB, and a written output says so with an sRGB profile (README)
        notes.append("CMYK without a profile converted to sRGB naively (no profile to convert through)")
        return np.asarray(image.convert("RGB")), srgb_profile()
    if mode in ("L", "1", "LA", "La", "I;16", "I;16L", "I;16B", "I", "F"):
        notes.append("grayscale read as RGB (gray replicated); the output is RGB")
        alpha = None
        if mode in ("LA", "La"):
            alpha = np.asarray(image.getchannel("A"))
            image = image.getchannel("L")
        gray = np.asarray(image)
        if mode == "1":
            gray = gray.astype(np.uint8) * 255
        elif mode == "I":  # 32-bit integer: 16-bit PNG and TIFF samples land here
            gray = np.clip(gray, 0, 65535).astype(np.uint16)
        elif mode.startswith("I;16"):
            gray = gray.astype(np.uint16)
        elif mode == "F":
            gray = gray.astype(np.float32)
        channels = [gray] * 3 + ([alpha] if alpha is not None else [])
        return np.stack(channels, axis=-1), icc
    has_alpha = "A" in mode or "a" in mode or "transparency" in image.info
    if image.mode == "P" and "transparency" in image.info:
        image = image.convert("RGBA")
    return np.asarray(image.convert("RGBA" if has_alpha else "RGB")), icc


def _read_exif(image) -> bytes | None:
    """The EXIF block with Orientation reset to 1, or None."""
    from PIL import Image

    try:
        original = image.getexif()
        if not original:
            return None
        exif = Image.Exif()  # a copy: the image's own block still tells exif_transpose how to turn it
        exif.load(original.tobytes())
        _codecs.keep_exif_tags(exif, _EXIF_KEPT_TAGS)  # a TIFF's layout tags describe its own pixels only
        exif[0x0112] = 1  # Orientation: applied to the pixels
        return exif.tobytes()
    except Exception:  # noqa: BLE001 - a damaged EXIF block is dropped, not fatal
        return None


def _read(path: Path, max_side: int | None, limit: int) -> ImageFile:
    from PIL import ImageOps

    with open(path, "rb") as handle:
        head = handle.read(4096)
    notes: list = []
    if head[:4] in _TIFF_MAGIC:
        # TIFF: tifffile first, as Pillow cuts 16 bits to 8 and cannot read float RGB at all.
        decoded = _codecs.read_tiff(path, limit)
        if decoded is not None:
            pixels, icc, orientation = decoded
            return _from_array(path, pixels, "TIFF", icc, orientation, _tiff_exif(path, limit), notes)
    image = _open_pillow(path, limit)
    with image:
        image_format = image.format
        save_options = {}
        if image_format == "WEBP":
            save_options = {"lossless": b"VP8L" in head}
        if image_format == "PNG" and _codecs.png_bit_depth(head) == 16:
            pixels = _codecs.read_png16(path.read_bytes())
            exif = image.getexif()
            orientation = int(exif.get(0x0112, 1)) if exif else 1
            icc = image.info.get("icc_profile")
            return _from_array(path, pixels, image_format, icc, orientation, _read_exif(image), notes)
        if image_format == "JPEG":
            from PIL import JpegImagePlugin

            if image.mode != "CMYK":  # a CMYK JPEG's tables and sampling do not fit the RGB output
                save_options = {"qtables": image.quantization, "subsampling": JpegImagePlugin.get_sampling(image)}
            if max_side:
                image.draft("RGB", (max_side, max_side))
        if image_format in ("AVIF", "HEIF"):
            bits = _codecs.isobmff_bit_depth(path)
            if bits is not None and bits > 8:  # Pillow (and pillow-heif by default) decode them to 8 bits
                notes.append(f"{bits}-bit {image_format} read at 8 bits per channel (the decoder's depth); the "
                             "output is 8-bit")
        if getattr(image, "n_frames", 1) > 1:
            notes.append(f"{image.n_frames} frames: only the first is used")
        exif = _read_exif(image)
        image.load()
        ImageOps.exif_transpose(image, in_place=True)  # turned by its EXIF Orientation (no copy when upright)
        pixels, icc = _pillow_pixels(image, notes)
    return ImageFile(np.ascontiguousarray(pixels), path, image_format, icc, exif, save_options, notes)


def _rgb_profile(icc: bytes | None, notes: list) -> bytes | None:
    """The profile of the RGB pixels colorot reads: a gray profile (gray is replicated to RGB) becomes its RGB
    twin, never a gray profile on RGB pixels. A damaged profile (one LittleCMS cannot open) is dropped with a note:
    the pixels are read as sRGB, as libvips does."""
    if icc and not _opens(icc):
        notes.append("its embedded ICC profile is damaged (LittleCMS cannot read it): its colors are read as sRGB")
        return None
    if not is_gray_profile(icc):
        return icc
    try:
        return profile_for_rgb(icc)
    except (ValueError, struct.error) as error:
        notes.append(f"gray ICC profile unusable ({error}); read as sRGB")
        return None


def _opens(icc: bytes) -> bool:
    """Whether LittleCMS opens the ICC profile ``icc``."""
    from PIL import ImageCms

    try:
        cms_profile(icc)
    except (OSError, ImageCms.PyCMSError, ValueError, TypeError):
        return False
    return True


def _tiff_exif(path: Path, limit: int) -> bytes | None:
    """The EXIF of a TIFF that Pillow may not decode (float samples), if Pillow can parse its tags."""
    try:
        with _open_pillow(path, limit) as image:
            return _read_exif(image)
    except Exception:  # noqa: BLE001 - Pillow cannot open float RGB pages: read the tags with tifffile
        try:
            return _codecs.read_tiff_exif(path)
        except Exception:  # noqa: BLE001 - the pixels came from tifffile; EXIF is a bonus
            return None


def _from_array(path, pixels, image_format, icc, orientation, exif, notes) -> ImageFile:
    """An ImageFile from a decoded high-depth array (gray or RGB, with or without alpha)."""
    if pixels.ndim == 2:
        pixels = pixels[..., None]
    if pixels.ndim != 3 or pixels.shape[-1] not in (1, 2, 3, 4):
        raise ValueError(f"unexpected sample layout {pixels.shape}")
    if pixels.shape[-1] in (1, 2):
        notes.append("grayscale read as RGB (gray replicated); the output is RGB")
        pixels = np.concatenate([pixels[..., :1]] * 3 + [pixels[..., 1:]], axis=-1)
    pixels = _codecs.orient(pixels, orientation)
    return ImageFile(np.ascontiguousarray(pixels), path, image_format, icc, exif, {}, notes)


def read_image(path, *, max_side: int | None = None, max_pixels: int | None = None) -> ImageFile:
    """Decode an image file to an RGB or RGBA array at the file's own depth.

    Parameters
    ----------
    path : str or os.PathLike
        The file to read: JPEG, PNG, TIFF, WebP, AVIF, BMP, GIF (first frame),
        HEIC/HEIF (with the ``heic`` extra), and whatever else Pillow reads.
    max_side : int, optional
        Allow a JPEG to be decoded at a reduced scale (1/2, 1/4 or 1/8, by
        libjpeg's DCT scaling, much faster) as long as both sides stay at
        least ``max_side`` pixels. Used for style images, whose color
        statistics do not need every pixel.
    max_pixels : int, optional
        Refuse images with more pixels (default ``COLOROT_MAX_PIXELS`` or
        ``DEFAULT_MAX_PIXELS``).

    Returns
    -------
    ImageFile

    Raises
    ------
    ColorotError
        Missing, empty, corrupt, truncated, oversized or unsupported files,
        and directories; the message names the file.

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> from PIL import Image
    >>> path = os.path.join(tempfile.mkdtemp(), "gray.png")
    >>> Image.fromarray(np.full((2, 3), 7, dtype=np.uint8)).save(path)
    >>> image = read_image(path)
    >>> image.pixels.shape, image.pixels.dtype, image.notes
    ((2, 3, 3), dtype('uint8'), ['grayscale read as RGB (gray replicated); the output is RGB'])
    """
    path = Path(path)
    _check_file(path)
    limit = _max_pixels(max_pixels)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # decoders' warnings about damaged files: the error says it
            image = _read(path, max_side, limit)
        image.icc_profile = _rgb_profile(image.icc_profile, image.notes)
        return image
    except ColorotError:
        raise
    except _codecs._TooManyPixels as error:
        raise _too_many(path, error.pixels, limit) from None
    except MemoryError:
        raise ColorotError(f"{path}: not enough memory to decode this image") from None
    except PermissionError:
        raise ColorotError(f"{path}: permission denied") from None
    except Exception as error:  # noqa: BLE001 - decoders raise anything on damaged input
        raise _corrupt(path, error) from None


def read_mask(path, max_pixels: int | None = None) -> np.ndarray:
    """A mask image as weights: ``(H, W)`` float32 in ``[0, 1]``, its first channel divided by the depth's largest
    code (a gray image is read as RGB, so any mask a painter saves works; white = 1).

    Raises
    ------
    ColorotError
        As :func:`colorot.read_image`: a missing, corrupt or too large file.

    Examples
    --------
    >>> import tempfile, os
    >>> from PIL import Image
    >>> path = os.path.join(tempfile.mkdtemp(), "mask.png")
    >>> Image.new("L", (4, 2), 255).save(path)
    >>> read_mask(path).shape, float(read_mask(path).max())
    ((2, 4), 1.0)
    """
    from ..options import PIXEL_SCALES

    pixels = read_image(path, max_pixels=max_pixels).pixels[..., 0]
    return (pixels.astype("float32") / PIXEL_SCALES.get(pixels.dtype.name, 1.0)).clip(0, 1)


def read_icc_profile(path) -> bytes | None:
    """The ICC profile of an image file, read from its header only (None when it has none).

    The same profile :func:`read_image` reports, except for CMYK files, whose
    pixels that function converts to sRGB.
    """
    path = Path(path)
    _check_file(path)
    try:
        with open(path, "rb") as handle:
            if handle.read(4) in _TIFF_MAGIC:
                tiff_profile = _tiff_profile(path)
                if tiff_profile is not False:
                    return _rgb_profile(tiff_profile, [])
        with _open_pillow(path, 1 << 62) as image:
            return None if image.mode == "CMYK" else _rgb_profile(image.info.get("icc_profile"), [])
    except ColorotError:
        raise
    except Exception as error:  # noqa: BLE001 - decoders raise anything on damaged input
        raise _corrupt(path, error) from None


def _tiff_profile(path: Path):
    """The ICC profile of a TIFF's first page (None if it has none), or False for CMYK pages."""
    import tifffile

    with tifffile.TiffFile(path) as tiff:
        page = tiff.pages[0]
        if int(page.photometric) == 5:  # SEPARATED (CMYK): read_image converts it to sRGB
            return False
        tag = page.tags.get(34675)
        return bytes(tag.value) if tag is not None else None


