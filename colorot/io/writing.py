"""Writing image files: pixels at the depth the format stores, with the source's ICC profile and EXIF, atomically
(see :mod:`colorot.io.files`), never an output colorot could not write."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import ColorotError
from . import _codecs
from .files import atomic_write
from .images import _FORMATS, _METADATA_FORMATS, ImageFile, _register_heif

__all__ = ["write_image", "check_output_path", "default_output"]


def _to_depth(pixels: np.ndarray, image_format: str) -> np.ndarray:
    """Pixels in a depth the format stores: uint16 and float32 kept where it can, else 8 bits."""
    if pixels.dtype == np.uint8:
        return pixels
    if image_format == "TIFF" and pixels.dtype in (np.uint16, np.float32):
        return pixels
    if image_format == "TIFF" and pixels.dtype.kind == "f":
        return pixels.astype(np.float32)
    if image_format == "PNG" and pixels.dtype == np.uint16:
        return pixels
    if pixels.dtype.kind == "f":
        pixels = np.clip(pixels, 0, 1)
        scale = 65535 if image_format == "PNG" else 255
        return np.round(pixels * scale).astype(np.uint16 if scale == 65535 else np.uint8)
    if pixels.dtype == np.uint16:
        return ((pixels.astype(np.uint32) * 255 + 32767) // 65535).astype(np.uint8)
    raise ColorotError(f"cannot write {pixels.dtype} pixels; use uint8, uint16 or float")


def check_output_path(path, *, folder_must_exist: bool = True, formats=None) -> Path:
    """Refuse, before any work, an output path colorot could not write: an unknown format (``formats``: the
    extensions allowed, default the image formats), a missing folder (unless the caller creates it), a
    directory. Reads nothing, imports no torch.

    Raises
    ------
    ColorotError
        One line naming the path and what to change.

    Examples
    --------
    >>> check_output_path("/no/such/folder/out.jpg")
    Traceback (most recent call last):
    ...
    colorot.errors.ColorotError: /no/such/folder: output folder does not exist
    """
    path = Path(path)
    formats = _FORMATS if formats is None else formats
    if path.is_dir():  # before the extension: a folder named without one is not a format problem
        raise ColorotError(f"{path}: is a directory; name a file (in it, say)")
    if path.suffix.lower() not in formats:
        raise ColorotError(f"{path}: unknown output format; use one of {', '.join(sorted(formats))}")
    if folder_must_exist and not path.parent.exists():
        raise ColorotError(f"{path.parent}: output folder does not exist")
    return path


#: The most EXIF bytes a JPEG holds: one APP1 segment of 64 KB, less its length field and "Exif\0\0".
JPEG_EXIF_BYTES = 65533


def exif_fits(image_format: str, exif: bytes | None) -> bool:
    """Whether ``exif`` fits a file of ``image_format`` (Pillow's name): a JPEG holds at most 64 KB of it."""
    return not exif or image_format != "JPEG" or len(exif) <= JPEG_EXIF_BYTES


def exif_note(path, like) -> str | None:
    """The note to show before writing ``like``'s metadata to ``path``, when its EXIF does not fit that format
    (it is then left out, the pixels and the ICC profile written): None when it fits."""
    exif = getattr(like, "exif", None)
    image_format = _FORMATS.get(Path(path).suffix.lower())
    if image_format is None or exif_fits(image_format, exif):
        return None
    return (f"its EXIF ({len(exif) // 1024} KB) does not fit a JPEG (64 KB at most): the output is written "
            "without EXIF")


def write_image(
    path,
    pixels: np.ndarray,
    *,
    like: ImageFile | None = None,
    quality: int | None = None,
    strip_metadata: bool = False,
    on_exists: str = "replace",
    through_link: bool = False,
) -> Path:
    """Write an ``(H, W, 3|4)`` array atomically, keeping ``like``'s metadata.

    The format follows the file extension. PNG keeps 16 bits; TIFF keeps 16
    bits and 32-bit float; other formats store 8 bits (deeper pixels are
    rounded). JPEG output keeps the input's quantization tables and chroma
    subsampling when the input was a JPEG (unless ``quality`` is given) and
    is quality 95, 4:4:4 otherwise. The ICC profile and EXIF (orientation
    reset) are written where the format allows; ``strip_metadata`` drops the
    EXIF (camera, place, time) but keeps the ICC profile, which defines what
    the pixel values mean. ``on_exists`` says what happens when the file
    exists at the moment of writing, and ``through_link`` whether a symbolic
    link's file is replaced rather than the link (see
    :func:`colorot.io.atomic_write`).

    Returns
    -------
    pathlib.Path
        The written file.

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> from colorot.io import read_image
    >>> out = os.path.join(tempfile.mkdtemp(), "deep.png")
    >>> pixels = np.full((2, 2, 3), 40000, dtype=np.uint16)
    >>> _ = write_image(out, pixels)
    >>> read_image(out).pixels.dtype
    dtype('uint16')
    """
    from PIL import Image

    path = check_output_path(path)
    image_format = _FORMATS[path.suffix.lower()]
    pixels = np.asarray(pixels)
    if pixels.ndim != 3 or pixels.shape[-1] not in (3, 4):
        raise ColorotError(f"{path}: pixels must be (H, W, 3) or (H, W, 4), got {pixels.shape}")
    if image_format == "JPEG" and pixels.shape[-1] == 4:
        raise ColorotError(f"{path}: JPEG has no alpha channel; write PNG, TIFF, WebP or AVIF instead")
    pixels = _to_depth(pixels, image_format)
    icc = like.icc_profile if like is not None else None
    exif = like.exif if like is not None and not strip_metadata else None
    if exif and not exif_fits(image_format, exif):
        exif = None  # callers say so before the work (exif_note)

    def save(handle) -> None:
        if image_format == "TIFF":  # any depth: tifffile writes the EXIF's and GPS's sub-directories, Pillow cannot
            handle.write(_codecs.write_tiff(pixels, icc, exif))
            return
        if pixels.dtype != np.uint8:
            handle.write(_codecs.write_png16(pixels, icc, exif))
            return
        if image_format == "HEIF":
            _register_heif()
        image = Image.fromarray(np.ascontiguousarray(pixels))
        options: dict = {}
        if image_format in _METADATA_FORMATS:
            if icc:
                options["icc_profile"] = icc
            if exif:
                options["exif"] = exif
        if image_format == "JPEG":
            if quality is None and like is not None and like.format == "JPEG" and like.save_options:
                options.update(like.save_options)
            else:
                options.update(quality=quality or 95, subsampling=0)
        elif image_format == "WEBP" and quality is None and like is not None and like.save_options.get("lossless"):
            options.update(lossless=True)  # a lossless WebP stays lossless
        elif image_format in ("WEBP", "AVIF", "HEIF"):
            options.update(quality=quality or 95)
        image.save(handle, format=image_format, **options)

    try:
        return atomic_write(path, save, on_exists=on_exists, through_link=through_link)
    except KeyError:
        if image_format == "HEIF":
            raise ColorotError(f"{path}: writing HEIC/HEIF needs the heic extra: pip install 'colorot[heic]'") from None
        raise


def default_output(source) -> Path:
    """Where a graded ``source`` goes by default: ``photo.jpg`` -> ``photo_colorot.jpg`` beside it (``.png`` for
    a format colorot cannot write).

    Examples
    --------
    >>> default_output("shots/photo.jpg").as_posix(), default_output("scan.psd").name
    ('shots/photo_colorot.jpg', 'scan_colorot.png')
    """
    source = Path(source)
    suffix = source.suffix if source.suffix.lower() in _FORMATS else ".png"
    return source.with_name(f"{source.stem}_colorot{suffix}")
