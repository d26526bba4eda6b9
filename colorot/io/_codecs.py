"""Decoders and encoders for what Pillow cannot hold: 16-bit RGB(A) PNG and
16-bit or floating-point TIFF (through imagecodecs and tifffile), and EXIF
orientation applied to plain arrays.

Pillow reads a 16-bit RGB PNG or TIFF as 8 bits without a word; these paths
keep every bit. Metadata (ICC profile, EXIF) is handled by the caller.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_bit_depth(head: bytes) -> int | None:
    """The bit depth from a PNG's IHDR chunk (``head``: the file's first 26 bytes), None if not a PNG."""
    if len(head) < 26 or not head.startswith(_PNG_SIGNATURE) or head[12:16] != b"IHDR":
        return None
    return head[24]


def read_png16(data: bytes) -> np.ndarray:
    """Decode a 16-bit PNG to a uint16 array ``(H, W)``, ``(H, W, 2)``, ``(H, W, 3)`` or ``(H, W, 4)``."""
    import imagecodecs

    return np.asarray(imagecodecs.png_decode(data))


def _chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def write_png16(pixels: np.ndarray, icc_profile: bytes | None, exif: bytes | None) -> bytes:
    """Encode a uint16 ``(H, W, 3|4)`` array as PNG, with ``iCCP`` and ``eXIf`` chunks after ``IHDR``."""
    import imagecodecs

    encoded = bytes(imagecodecs.png_encode(np.ascontiguousarray(pixels), level=6))
    extra = b""
    if icc_profile:
        extra += _chunk(b"iCCP", b"ICC profile\x00\x00" + zlib.compress(icc_profile))
    if exif:
        extra += _chunk(b"eXIf", exif[6:] if exif.startswith(b"Exif\x00\x00") else exif)
    end_of_header = len(_PNG_SIGNATURE) + 8 + 13 + 4  # signature, IHDR length + type, payload, CRC
    return encoded[:end_of_header] + extra + encoded[end_of_header:]


_TIFF_INTERCOLOR_PROFILE = 34675
_TIFF_ORIENTATION = 274


def read_tiff(path: Path, max_pixels: int) -> tuple[np.ndarray, bytes | None, int] | None:
    """Decode the first page of a TIFF with more than 8 bits per sample, keeping its depth.

    Returns ``(pixels (H, W[, S]), icc_profile, orientation)``, or None when
    the page is one Pillow reads faithfully (8-bit, palette, CMYK, YCbCr...).
    Raises ``ValueError`` for pages over ``max_pixels``.
    """
    import tifffile

    with tifffile.TiffFile(path) as tiff:
        page = tiff.pages[0]
        photometric = int(page.photometric)
        if page.dtype == np.uint8 or photometric not in (1, 2):  # MINISBLACK, RGB
            return None
        if page.imagelength * page.imagewidth > max_pixels:
            raise _TooManyPixels(page.imagewidth, page.imagelength)
        pixels = page.asarray()
        axes = page.axes
        if "S" in axes and axes.index("S") < axes.index("Y"):  # planar configuration: samples first
            pixels = np.moveaxis(pixels, axes.index("S"), -1)
        tags = page.tags
        icc = tags[_TIFF_INTERCOLOR_PROFILE].value if _TIFF_INTERCOLOR_PROFILE in tags else None
        orientation = int(tags[_TIFF_ORIENTATION].value) if _TIFF_ORIENTATION in tags else 1
    if pixels.dtype.kind == "f":
        pixels = pixels.astype(np.float32, copy=False)
    elif pixels.dtype != np.uint16:
        raise ValueError(f"{pixels.dtype} samples; colorot reads 8 and 16-bit integer and float TIFF")
    return pixels, (bytes(icc) if icc else None), orientation


#: EXIF sub-directory pointers, and the tag just below each that stands in for it while tifffile
#: writes the file (tifffile will not write the pointers themselves); patched afterwards.
_SUBDIRECTORY_PLACEHOLDERS = {34665: 34664, 34853: 34852}
#: First-directory text tags carried from EXIF: description, make, model, software, date, artist, copyright.
_TEXT_TAGS = (270, 271, 272, 305, 306, 315, 33432)


def keep_exif_tags(exif, kept: set) -> None:
    """Delete from a PIL ``Image.Exif`` the first directory's tags not in ``kept``, and a blank resolution
    (:func:`drop_blank_resolution`)."""
    for tag in list(exif):
        if tag not in kept:
            del exif[tag]
    drop_blank_resolution(exif)


def drop_blank_resolution(exif) -> None:
    """Delete a resolution of one pixel per no unit (what tifffile writes when a photo has none) from a PIL
    ``Image.Exif``: no resolution is said then."""
    if exif.get(296) == 1 and exif.get(282) == exif.get(283) == 1:
        for tag in (282, 283, 296):
            del exif[tag]


def _resolution(exif) -> dict:
    """tifffile's ``resolution`` and ``resolutionunit`` from a photo's EXIF, where it holds a sound one (positive
    finite pixels per inch or centimetre, or per no unit); else none, and tifffile writes 1/1 per no unit."""
    try:
        x, y, unit = float(exif[282]), float(exif[283]), int(exif.get(296, 2))
    except (KeyError, TypeError, ValueError, ZeroDivisionError):
        return {}
    if not (0 < x < 1e9 and 0 < y < 1e9) or unit not in (1, 2, 3):
        return {}
    return {"resolution": (x, y), "resolutionunit": unit}


def write_tiff(pixels: np.ndarray, icc_profile: bytes | None, exif: bytes | None = None) -> bytes:
    """Encode a uint8, uint16 or float32 ``(H, W, 3|4)`` array as a deflate-compressed RGB(A) TIFF.

    The ICC profile goes in tag 34675; EXIF's text tags go in the first
    directory and its EXIF and GPS sub-directories are appended and pointed to.
    """
    import io

    import tifffile
    from PIL import Image

    extratags = []
    if icc_profile:
        extratags.append((_TIFF_INTERCOLOR_PROFILE, "B", len(icc_profile), icc_profile, True))
    subdirectories = {}
    resolution = {}
    if exif:
        parsed = Image.Exif()
        parsed.load(exif)
        resolution = _resolution(parsed)
        for tag in _TEXT_TAGS:
            if isinstance(parsed.get(tag), str) and parsed[tag]:
                extratags.append((tag, "s", 0, parsed[tag], True))
        for pointer, placeholder in _SUBDIRECTORY_PLACEHOLDERS.items():
            entries = parsed.get_ifd(pointer) if pointer in parsed else {}
            if entries:
                subdirectories[placeholder] = (pointer, entries)
                extratags.append((placeholder, "I", 1, 0, True))
    buffer = io.BytesIO()
    tifffile.imwrite(
        buffer,
        np.ascontiguousarray(pixels),
        photometric="rgb",
        extrasamples=["unassalpha"] if pixels.shape[-1] == 4 else None,
        compression="zlib",
        predictor=True,
        extratags=extratags,
        metadata=None,
        software=False,
        **resolution,
    )
    return _append_subdirectories(buffer.getvalue(), subdirectories)


def _append_subdirectories(data: bytes, subdirectories: dict) -> bytes:
    """Append EXIF/GPS directories to a little-endian classic TIFF and point its placeholder tags at them."""
    if not subdirectories:
        return data
    import io

    import tifffile
    from PIL import TiffImagePlugin

    with tifffile.TiffFile(io.BytesIO(data)) as tiff:
        if tiff.is_bigtiff or tiff.byteorder != "<":
            return data  # not expected from tifffile's defaults below 4 GB; keep the pixels, drop EXIF
        entry_offsets = {placeholder: tiff.pages[0].tags[placeholder].offset for placeholder in subdirectories}
    data = bytearray(data)
    for placeholder, (pointer, entries) in subdirectories.items():
        data += b"\0" * (len(data) % 2)  # directories start on a word boundary
        directory = TiffImagePlugin.ImageFileDirectory_v2()
        for tag, value in entries.items():
            directory[tag] = value
        at = entry_offsets[placeholder]
        data[at : at + 12] = struct.pack("<HHII", pointer, 4, 1, len(data))  # LONG offset to the directory
        data += directory.tobytes(len(data))
    return bytes(data)


def read_tiff_exif(path: Path) -> bytes | None:
    """EXIF of a TIFF read through tifffile (for pages Pillow cannot open): text tags and the EXIF and
    GPS sub-directories, as an EXIF block."""
    import tifffile
    from PIL import Image, TiffImagePlugin

    exif = Image.Exif()
    with tifffile.TiffFile(path) as tiff:
        tags = tiff.pages[0].tags
        for tag in _TEXT_TAGS:
            if tag in tags and isinstance(tags[tag].value, str):
                exif[tag] = tags[tag].value
        if all(tag in tags for tag in (282, 283, 296)):  # the resolution, as Pillow's pages give it
            for tag in (282, 283):
                value = tags[tag].value
                exif[tag] = TiffImagePlugin.IFDRational(*value) if isinstance(value, tuple) else value
            exif[296] = int(tags[296].value)
            drop_blank_resolution(exif)
        for pointer in _SUBDIRECTORY_PLACEHOLDERS:
            if pointer in tags and isinstance(tags[pointer].value, dict):
                directory = exif.get_ifd(pointer)
                for name, value in tags[pointer].value.items():
                    code = tifffile.TIFF.TAGS.get(name) if isinstance(name, str) else name
                    if code is None:
                        continue
                    if isinstance(value, tuple) and len(value) == 2 and all(isinstance(v, int) for v in value):
                        value = TiffImagePlugin.IFDRational(*value)
                    directory[code] = value
    return exif.tobytes() if len(exif) or exif.get_ifd(34665) else None


class _TooManyPixels(ValueError):
    def __init__(self, width: int, height: int):
        super().__init__(f"{width}x{height}")
        self.pixels = width * height


def orient(pixels: np.ndarray, orientation: int) -> np.ndarray:
    """Apply an EXIF/TIFF orientation (1-8) to an ``(H, W, ...)`` array, as a viewer would display it."""
    operations = {
        2: lambda a: a[:, ::-1],
        3: lambda a: a[::-1, ::-1],
        4: lambda a: a[::-1],
        5: lambda a: np.swapaxes(a, 0, 1),
        6: lambda a: np.swapaxes(a, 0, 1)[:, ::-1],
        7: lambda a: np.swapaxes(a, 0, 1)[::-1, ::-1],
        8: lambda a: np.swapaxes(a, 0, 1)[::-1],
    }
    operation = operations.get(orientation)
    return pixels if operation is None else np.ascontiguousarray(operation(pixels))


def isobmff_bit_depth(path) -> int | None:
    """The largest channel depth an AVIF or HEIF file declares (its ``pixi`` property box, ISO/IEC 23008-12
    6.5.6: version and flags, a channel count, one depth byte per channel), None when it declares none."""
    with open(path, "rb") as handle:
        head = handle.read(1 << 16)  # the meta box comes first; its properties fit well within this
    index = head.find(b"pixi")
    if index < 4 or index + 9 > len(head):
        return None
    channels = head[index + 8]
    depths = head[index + 9:index + 9 + channels]
    return max(depths) if channels and len(depths) == channels else None
