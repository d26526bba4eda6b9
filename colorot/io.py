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

============  ==========================  =====  ====  =====
format        depths                      alpha  ICC   EXIF
============  ==========================  =====  ====  =====
JPEG          8                           --     yes   yes
PNG           8, 16                       yes    yes   yes
TIFF          8, 16, 32-bit float         yes    yes   yes
WebP          8                           yes    yes   yes
AVIF          8                           yes    yes   yes
HEIC/HEIF     8 (``heic`` extra)          yes    yes   yes
BMP           8                           yes    --    --
GIF           8, first frame; read only   yes    --    --
============  ==========================  =====  ====  =====
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import struct
import tempfile
import threading
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import _codecs
from .errors import ColorotError
from .icc import is_gray_profile, profile_for_rgb

__all__ = ["ImageFile", "read_image", "write_image", "read_icc_profile", "same_file", "atomic_write", "atomic_output",
           "check_output_path", "check_input_file", "refuse_overwriting_inputs", "OutputExists", "DEFAULT_MAX_PIXELS"]

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


def check_input_file(path) -> Path:
    """Refuse, before any decoding, an input that is missing, a directory or empty (one line naming it)."""
    path = Path(path)
    _check_file(path)
    return path


def refuse_overwriting_inputs(output, inputs, *, in_place=None) -> None:
    """The one overwrite guard: refuse to write ``output`` over any of ``inputs`` (the same path, or the same
    file through a link), except over ``in_place``, the input the user asked to replace.

    Raises
    ------
    ColorotError
        ``"OUTPUT: refusing to overwrite its input INPUT; ..."``.

    Examples
    --------
    >>> refuse_overwriting_inputs("photo.jpg", ["photo.jpg", "look.jpg"], in_place="photo.jpg")
    >>> refuse_overwriting_inputs("look.jpg", ["photo.jpg", "look.jpg"])
    Traceback (most recent call last):
    ...
    colorot.errors.ColorotError: look.jpg: refusing to overwrite its input look.jpg; choose another output
    """
    for path in inputs:
        if path is None or (in_place is not None and Path(path) == Path(in_place)):
            continue
        if same_file(path, output):
            raise ColorotError(f"{output}: refusing to overwrite its input {path}; choose another output")


def _check_file(path: Path) -> None:
    if not path.exists():
        raise ColorotError(f"{path}: no such file")
    if path.is_dir():
        raise ColorotError(f"{path}: is a directory, not an image file")
    if path.stat().st_size == 0:
        raise ColorotError(f"{path}: empty file")


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
    from PIL import Image

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
            notes.append("CMYK converted to sRGB through its ICC profile; written as RGB")
            return np.asarray(image), srgb_profile()
        notes.append("CMYK without a profile converted to RGB naively; written as RGB")
        return np.asarray(image.convert("RGB")), None
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
        for tag in list(exif):
            if tag not in _EXIF_KEPT_TAGS:  # a TIFF's layout tags describe its own pixels, not the output's
                del exif[tag]
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
        if getattr(image, "n_frames", 1) > 1:
            notes.append(f"{image.n_frames} frames: only the first is used")
        exif = _read_exif(image)
        image.load()
        image = ImageOps.exif_transpose(image)
        pixels, icc = _pillow_pixels(image, notes)
    return ImageFile(np.ascontiguousarray(pixels), path, image_format, icc, exif, save_options, notes)


def _rgb_profile(icc: bytes | None, notes: list) -> bytes | None:
    """The profile of the RGB pixels colorot reads: a gray profile (gray is replicated to RGB) becomes its RGB
    twin, never a gray profile on RGB pixels."""
    if not is_gray_profile(icc):
        return icc
    try:
        return profile_for_rgb(icc)
    except (ValueError, struct.error) as error:
        notes.append(f"gray ICC profile unusable ({error}); read as sRGB")
        return None


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
        :data:`DEFAULT_MAX_PIXELS`).

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


def same_file(a, b) -> bool:
    """Whether two paths name the same file: the same path once resolved, or the same existing file
    (through a hard link, say)."""
    a, b = Path(a), Path(b)
    try:
        return a.resolve() == b.resolve() or (a.exists() and b.exists() and os.path.samefile(a, b))
    except OSError:
        return False


def _read_umask() -> int:
    """The process's umask, read once at import (setting it to read it is not safe while threads create files)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_UMASK = _read_umask()


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


def check_output_path(path, *, folder_must_exist: bool = True) -> Path:
    """Refuse, before any work, an output path colorot could not write: an unknown format, a missing folder
    (unless the caller creates it), a directory. Reads nothing, imports no torch.

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
    if _FORMATS.get(path.suffix.lower()) is None:
        raise ColorotError(f"{path}: unknown output format; use one of {', '.join(sorted(_FORMATS))}")
    if folder_must_exist and not path.parent.exists():
        raise ColorotError(f"{path.parent}: output folder does not exist")
    if path.is_dir():
        raise ColorotError(f"{path}: is a directory")
    return path


def write_image(
    path,
    pixels: np.ndarray,
    *,
    like: ImageFile | None = None,
    quality: int | None = None,
    strip_metadata: bool = False,
    on_exists: str = "replace",
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
    exists at the moment of writing (see :func:`atomic_write`).

    Returns
    -------
    pathlib.Path
        The written file.

    Examples
    --------
    >>> import numpy as np, tempfile, os
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

    def save(handle) -> None:
        if pixels.dtype != np.uint8:
            if image_format == "PNG":
                handle.write(_codecs.write_png16(pixels, icc, exif))
            else:
                handle.write(_codecs.write_tiff(pixels, icc, exif))
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
        elif image_format == "TIFF":
            options.update(compression="tiff_deflate")
        image.save(handle, format=image_format, **options)

    try:
        return atomic_write(path, save, on_exists=on_exists)
    except KeyError:
        if image_format == "HEIF":
            raise ColorotError(f"{path}: writing HEIC/HEIF needs the heic extra: pip install 'colorot[heic]'") from None
        raise


class OutputExists(ColorotError):
    """The output file appeared while colorot was writing it (another run, another photo), and the policy was
    not to replace it."""


#: What :func:`atomic_write` does when the output exists at the moment of writing.
ON_EXISTS = ("replace", "fail", "rename")


def atomic_write(path, save, *, on_exists: str = "replace") -> Path:
    """Call ``save(handle)`` on a temporary file in ``path``'s folder, then move it to ``path``.

    Nothing is left behind if ``save`` fails (or is interrupted), and a reader
    never sees a half-written file. A new file gets the mode that the user's
    umask gives new files; a file that is replaced keeps its mode (and its
    owner and group where the process may set them).

    Parameters
    ----------
    path : str or os.PathLike
        The file to write; its folder must exist.
    save : callable
        Writes the content to the binary file handle it is given.
    on_exists : {"replace", "fail", "rename"}
        What to do if ``path`` exists when the file is moved into place:
        replace it atomically; raise :class:`OutputExists`; or write
        ``name_1.ext``, ``name_2.ext``... instead, the first name free at
        that moment. ``"fail"`` and ``"rename"`` are decided by an exclusive
        hard link, so of two processes writing one name, exactly one wins.

    Returns
    -------
    pathlib.Path
        The path written (another name with ``on_exists="rename"``).

    Raises
    ------
    ColorotError
        The folder is missing or cannot be written, or the disk is full
        (one line that says which); :class:`OutputExists` as above.
    """
    with atomic_output(path, on_exists=on_exists) as (temporary, written):
        with open(temporary, "wb") as handle:
            save(handle)
    return written[0]


@contextlib.contextmanager
def atomic_output(path, *, on_exists: str = "replace", suffix: str = ".tmp"):
    """A temporary path next to ``path`` to write to, moved to ``path`` (see :func:`atomic_write`) when the block
    ends without an error, removed otherwise. Yields ``(temporary path, written)``, where ``written[0]`` is the
    final path once the block has ended (for writers, such as video muxers, that need a file name)."""
    if on_exists not in ON_EXISTS:
        raise ValueError(f"on_exists is one of {', '.join(ON_EXISTS)}, not {on_exists!r}")
    path = Path(path)
    folder = path.parent
    if not folder.exists():
        raise ColorotError(f"{folder}: output folder does not exist")
    try:
        descriptor, name = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=suffix, dir=folder)
    except OSError as error:
        raise _cannot_write(folder, error, what="cannot write into this folder") from None
    os.close(descriptor)
    temporary, written = Path(name), [path]
    try:
        yield temporary, written
        written[0] = _move_into_place(temporary, path, on_exists)
    except BaseException as error:
        temporary.unlink(missing_ok=True)
        if isinstance(error, OSError):
            raise _cannot_write(path, error) from None
        raise


def _move_into_place(temporary: Path, path: Path, on_exists: str) -> Path:
    """Give ``temporary`` the mode it should have and move it to ``path`` (or the name that ``on_exists`` picks)."""
    try:
        existing = os.stat(path)
    except OSError:
        existing = None
    if existing is not None and on_exists == "replace":
        os.chmod(temporary, stat.S_IMODE(existing.st_mode))
        with contextlib.suppress(OSError):  # only root, or the owner keeping its own group, may do this
            os.chown(temporary, existing.st_uid, existing.st_gid)
        os.replace(temporary, path)
        return path
    os.chmod(temporary, 0o666 & ~_UMASK)
    if on_exists == "replace":
        os.replace(temporary, path)
        return path
    candidates = [path] if on_exists == "fail" else _names_from(path)
    for candidate in candidates:
        try:
            os.link(temporary, candidate)  # fails if the name exists: exactly one writer gets it
        except FileExistsError:
            continue
        except OSError as error:
            if error.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV):
                raise
            # A file system without hard links: reserve the name with an exclusive create, then replace it.
            try:
                os.close(os.open(candidate, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
            except FileExistsError:
                continue
            os.replace(temporary, candidate)
            return candidate
        temporary.unlink()
        return candidate
    raise OutputExists(f"{path}: output exists (another run wrote it first); use --on-conflict skip, overwrite "
                       "or rename")


def _names_from(path: Path):
    """``path``, then ``name_1.ext``, ``name_2.ext``..."""
    yield path
    number = 1
    while True:
        yield path.with_name(f"{path.stem}_{number}{path.suffix}")
        number += 1


def _cannot_write(path: Path, error: OSError, what: str = "cannot write") -> ColorotError:
    if isinstance(error, PermissionError):
        return ColorotError(f"{path}: {what} (permission denied)")
    if error.errno == errno.ENOSPC:
        return ColorotError(f"{path}: {what} (no space left on the device)")
    if error.errno == errno.EROFS:
        return ColorotError(f"{path}: {what} (read-only file system)")
    return ColorotError(f"{path}: {what} ({error.strerror or error})")
