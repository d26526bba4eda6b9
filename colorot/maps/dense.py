"""A 3D LUT tabulated at every 8-bit color: one gather per pixel, numpy only.

A table applied to many 8-bit photos (a batch graded to one look, a video)
is worth evaluating once at all ``2**24`` colors (about 0.2 s and 64 MB),
after which grading a pixel is reading one word. This module does both with
numpy alone, so that applying a saved look to a folder of JPEGs never
imports torch (about a second of start-up); :meth:`colorot.maps.lut.ColorLUT.densify`
uses it too.

The tabulated outputs are the table's trilinear interpolation rounded to the
nearest code, as ``torch.nn.functional.grid_sample`` computes it (Pillow's
fixed-point kernel differs from it by one code at most, on about 1% of colors).
The packed words assume a little-endian machine (``AVAILABLE``).
"""

from __future__ import annotations

import sys

import numpy as np

from ..threads import cpu_threads, in_strips

__all__ = ["AVAILABLE", "DENSIFY_FROM", "tabulates", "tabulate_uint8", "lookup_uint8"]

#: The packed tables assume little-endian words; elsewhere callers keep another kernel.
AVAILABLE = sys.byteorder == "little"
SLAB = 8

#: From this many images on, a table applied to all of them is tabulated at every 8-bit color first
#: (:meth:`colorot.maps.lut.ColorLUT.densify`: about 0.2 s once, then about 5 ms instead of 23 ms per megapixel).
DENSIFY_FROM = 8


def tabulates(images: int, device=None, interpolation: str = "trilinear") -> bool:
    """Whether a table applied to ``images`` images (a batch's photos, a clip's frames) on ``device`` (a name or
    a ``torch.device``; None and ``"auto"`` as the CPU) is tabulated at every 8-bit color first: the one rule of
    batches, the window's batch and video. Its 8-bit images are then looked up in the tabulated table
    (:func:`lookup_uint8`), whatever their number, so that a photo gets the same bytes alone or among many.

    Examples
    --------
    >>> tabulates(24), tabulates(2), tabulates(24, "cuda"), tabulates(24, interpolation="tetrahedral")
    (True, False, False, False)
    """
    device = getattr(device, "type", device)
    return AVAILABLE and interpolation == "trilinear" and device in (None, "auto", "cpu") and images >= DENSIFY_FROM


def tabulate_uint8(table: np.ndarray, coordinates: np.ndarray | None = None) -> np.ndarray:
    """A ``(3, S, S, S)`` table's trilinear interpolation at every 8-bit color, rounded.

    Parameters
    ----------
    table : numpy.ndarray, shape (3, S, S, S)
        Output sRGB colors (values outside ``[0, 1]`` are interpolated, then
        the output is clipped); ``table[:, k, j, i]`` is the output for the
        input ``(i, j, k) / (S - 1)`` (red index fastest).
    coordinates : numpy.ndarray, shape (3, 256), optional
        The grid coordinate in ``[0, 1]`` that each code of red, green and
        blue reads (a table's domain or shaper, see
        :meth:`colorot.maps.shaper.Shaper.at_codes`); default ``code / 255``.

    Returns
    -------
    numpy.ndarray, shape (2**24,), uint32
        The output's red, green and blue in bytes 0, 1 and 2, indexed by
        ``red + 256 green + 65536 blue``.

    Notes
    -----
    Trilinear interpolation is separable: along blue, green and red in turn,
    for a slab of blues at a time (to keep the temporaries small).

    Examples
    --------
    >>> axis = np.linspace(0, 1, 5, dtype=np.float32)
    >>> blue, green, red = np.meshgrid(axis, axis, axis, indexing="ij")
    >>> dense = tabulate_uint8(np.stack((red, green, blue)))  # the identity
    >>> int(dense[10 + 256 * 20 + 65536 * 30]) == 10 | 20 << 8 | 30 << 16
    True
    """
    table = np.asarray(table, dtype=np.float32)
    size = table.shape[-1]
    if coordinates is None:
        coordinates = np.tile(np.arange(256, dtype=np.float64) / 255, (3, 1))
    position = np.clip(np.asarray(coordinates, dtype=np.float64), 0, 1) * (size - 1)
    low = np.minimum(np.floor(position), size - 2).astype(np.intp)  # per channel: red, green, blue
    weight = (position - low).astype(np.float32)

    def along(values: np.ndarray, axis: int, rows: slice = slice(None)) -> np.ndarray:
        channel = 3 - axis  # table axes 1, 2, 3 are blue, green, red
        shape = [1] * values.ndim
        shape[axis] = -1
        start = np.take(values, low[channel, rows], axis=axis)
        end = np.take(values, low[channel, rows] + 1, axis=axis)
        end -= start
        end *= weight[channel, rows].reshape(shape)
        end += start
        return end

    out = np.empty((256, 256, 256), dtype=np.uint32)  # [blue, green, red]
    codes = np.empty((3, SLAB, 256, 256), dtype=np.uint32)
    for start in range(0, 256, SLAB):  # slabs of blue: temporaries of a few MB, reused from the heap
        rows = slice(start, start + SLAB)
        values = along(along(along(table, 1, rows), 2), 3)  # (3, SLAB blues, 256 greens, 256 reds)
        values *= 255
        np.clip(np.rint(values, out=values), 0, 255, out=values)
        np.copyto(codes, values, casting="unsafe")
        codes[1] <<= 8
        codes[2] <<= 16
        np.bitwise_or(codes[0], codes[1], out=out[rows])
        out[rows] |= codes[2]
    return out.reshape(-1)


def lookup_uint8(dense: np.ndarray, image: np.ndarray, threads: int | None = None) -> np.ndarray:
    """Look up an 8-bit ``(..., 3|4)`` array in a table from :func:`tabulate_uint8` (alpha kept).

    Large images are looked up in strips by up to ``threads`` threads (numpy
    releases the GIL while it gathers; default: the CPU count, at most 4);
    callers that already keep every core busy pass 1.

    Examples
    --------
    >>> nodes = np.stack(np.meshgrid(*[np.linspace(0, 1, 9, dtype=np.float32)] * 3, indexing="ij")[::-1])
    >>> negative = tabulate_uint8(1 - nodes)
    >>> lookup_uint8(negative, np.array([[[0, 100, 255]]], dtype=np.uint8)).tolist()
    [[[255, 155, 0]]]
    """
    channels = image.shape[-1]
    source = np.ascontiguousarray(image).reshape(-1)
    out = np.empty(image.shape, dtype=np.uint8)
    count = source.size // channels
    workers = min(cpu_threads(), 4) if threads is None else max(1, threads)
    strips = max(1, min(workers, count // STRIP_PIXELS))
    bounds = [count * k // strips for k in range(strips + 1)]
    work = [(dense, source, out.reshape(-1), channels, a, b) for a, b in zip(bounds[:-1], bounds[1:]) if b > a]
    in_strips(lambda args: _lookup_strip(*args), work, strips)
    return out


#: Pixels per thread below which a lookup is not split.
STRIP_PIXELS = 1 << 18


def _lookup_strip(dense: np.ndarray, source: np.ndarray, out: np.ndarray, channels: int, start: int,
                  stop: int) -> None:
    """Pixels ``start:stop`` of the flat ``source`` looked up into the flat ``out``."""
    if channels == 4:
        packed = source[4 * start : 4 * stop].view(np.uint32)  # r, g, b, a in bytes 0..3 (little-endian words)
        moved = np.take(dense, packed & 0xFFFFFF)
        moved |= packed & 0xFF000000
        out[4 * start : 4 * stop].view(np.uint32)[:] = moved
        return
    count = stop - start
    index = np.empty(count, dtype=np.uint32)
    # Each pixel's three bytes plus the next pixel's first, read as one (unaligned) uint32 at a 3-byte stride;
    # the image's very last pixel has no byte after it and is read on its own.
    readable = count if 3 * stop < source.size else count - 1
    np.bitwise_and(np.ndarray((readable,), dtype=np.uint32, buffer=source, offset=3 * start, strides=(3,)),
                   0xFFFFFF, out=index[:readable])
    if readable < count:
        red, green, blue = (int(value) for value in source[-3:])
        index[-1] = red | green << 8 | blue << 16
    moved = np.take(dense, index).view(np.uint8).reshape(-1, 4)
    pixels = out[3 * start : 3 * stop].reshape(-1, 3)
    for channel in range(3):  # three strided byte copies: faster than one copy of a (N, 3) view
        pixels[:, channel] = moved[:, channel]
