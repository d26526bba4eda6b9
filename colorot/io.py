"""Reading and writing image files.

:func:`read_image` decodes a file into an :class:`ImageFile`: the pixels as
an ``(H, W, C)`` array with EXIF orientation applied, plus what must survive
the round trip (ICC profile, EXIF, JPEG quality tables and subsampling).
:func:`write_image` writes pixels back with that metadata, atomically: to a
temporary file in the destination folder, renamed over the destination only
once complete, so no partial file is ever left behind.
"""

from __future__ import annotations

import os
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .errors import ColorotError

__all__ = ["ImageFile", "read_image", "write_image", "same_file"]

_FORMATS = {
    ".jpg": "JPEG",
    ".jpeg": "JPEG",
    ".png": "PNG",
    ".tif": "TIFF",
    ".tiff": "TIFF",
    ".webp": "WEBP",
    ".bmp": "BMP",
}


@dataclass
class ImageFile:
    """Decoded pixels and the metadata to write back with them."""

    pixels: np.ndarray
    path: Path
    format: str | None = None
    icc_profile: bytes | None = None
    exif: bytes | None = None
    save_options: dict = field(default_factory=dict)


def _open(path: Path):
    from PIL import Image

    if not path.exists():
        raise ColorotError(f"{path}: no such file")
    if path.is_dir():
        raise ColorotError(f"{path}: is a directory, not an image file")
    if path.stat().st_size == 0:
        raise ColorotError(f"{path}: empty file")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            return Image.open(path)
    except Image.UnidentifiedImageError:
        raise ColorotError(f"{path}: not an image, or a format colorot cannot read") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ColorotError(f"{path}: too many pixels (over Pillow's decompression-bomb limit)") from None
    except OSError as error:
        if error.errno is not None:
            raise ColorotError(f"{path}: cannot open ({error.strerror})") from None
        raise ColorotError(f"{path}: corrupt or truncated image ({error})") from None


def read_image(path, *, max_side: int | None = None) -> ImageFile:
    """Decode an image file to an RGB or RGBA array.

    Parameters
    ----------
    path : str or os.PathLike
        The file to read.
    max_side : int, optional
        Allow a JPEG to be decoded at a reduced scale (1/2, 1/4 or 1/8, by
        libjpeg's DCT scaling, much faster) as long as both sides stay at
        least ``max_side`` pixels. Used for style images, whose color
        statistics do not need every pixel.

    Returns
    -------
    ImageFile

    Raises
    ------
    ColorotError
        Missing, empty, corrupt, truncated or unsupported files.
    """
    from PIL import Image, ImageOps

    path = Path(path)
    image = _open(path)
    try:
        with image:
            image_format = image.format
            save_options = {}
            if image_format == "JPEG":
                from PIL import JpegImagePlugin

                save_options = {
                    "qtables": image.quantization,
                    "subsampling": JpegImagePlugin.get_sampling(image),
                }
                if max_side:
                    image.draft("RGB", (max_side, max_side))
            icc_profile = image.info.get("icc_profile")
            exif = image.getexif()
            image.load()
            image = ImageOps.exif_transpose(image)
            if image.mode not in ("RGB", "RGBA"):
                has_alpha = "A" in image.mode or "transparency" in image.info
                image = image.convert("RGBA" if has_alpha else "RGB")
            pixels = np.asarray(image)
    except ColorotError:
        raise
    except (OSError, SyntaxError, ValueError, EOFError) as error:
        raise ColorotError(f"{path}: corrupt or truncated image ({error})") from None
    exif_bytes = None
    if exif:
        exif[0x0112] = 1  # Orientation: already applied to the pixels
        exif_bytes = exif.tobytes()
    return ImageFile(pixels, path, image_format, icc_profile, exif_bytes, save_options)


def same_file(a, b) -> bool:
    """Whether two paths name the same file: the same path once resolved, or the same existing file
    (through a hard link, say)."""
    a, b = Path(a), Path(b)
    try:
        return a.resolve() == b.resolve() or (a.exists() and b.exists() and os.path.samefile(a, b))
    except OSError:
        return False


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_image(path, pixels: np.ndarray, *, like: ImageFile | None = None, quality: int | None = None) -> Path:
    """Write an ``(H, W, 3|4)`` uint8 array atomically, keeping ``like``'s metadata.

    The format follows the file extension. JPEG output keeps the input's
    quantization tables and chroma subsampling when the input was a JPEG
    (unless ``quality`` is given) and is quality 95, 4:4:4 otherwise; the ICC
    profile and EXIF (orientation reset) are written where the format allows.

    Returns
    -------
    pathlib.Path
        The written file.
    """
    from PIL import Image

    path = Path(path)
    image_format = _FORMATS.get(path.suffix.lower())
    if image_format is None:
        raise ColorotError(f"{path}: unknown output format; use one of {', '.join(sorted(_FORMATS))}")
    if not path.parent.exists():
        raise ColorotError(f"{path.parent}: output folder does not exist")
    image = Image.fromarray(np.ascontiguousarray(pixels))
    options: dict = {}
    if like is not None:
        if like.icc_profile:
            options["icc_profile"] = like.icc_profile
        if like.exif and image_format in ("JPEG", "PNG", "TIFF", "WEBP"):
            options["exif"] = like.exif
    if image_format == "JPEG":
        if image.mode == "RGBA":
            raise ColorotError(f"{path}: JPEG has no alpha channel; write PNG, TIFF or WebP instead")
        if quality is None and like is not None and like.format == "JPEG" and like.save_options:
            options.update(like.save_options)
        else:
            options.update(quality=quality or 95, subsampling=0)
    elif image_format == "WEBP":
        options.update(quality=quality or 95)
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            image.save(handle, format=image_format, **options)
        os.chmod(temporary, 0o666 & ~_umask())
        os.replace(temporary, path)
    except BaseException as error:
        Path(temporary).unlink(missing_ok=True)
        if isinstance(error, OSError):
            raise ColorotError(f"{path}: cannot write ({error.strerror or error})") from None
        raise
    return path
