"""A 3D LUT tabulated at every 8-bit color: one gather per pixel, numpy only.

A table applied to many 8-bit photos (a batch graded to one look, a video)
is worth evaluating once at all ``2**24`` colors (about 0.2 s and 64 MB),
after which grading a pixel is reading one word. This module does both with
numpy alone, so that applying a saved look to a folder of JPEGs never
imports torch (about a second of start-up); :meth:`colorot.ColorLUT.densify`
uses it too.

The tabulated outputs are the table's trilinear interpolation rounded to the
nearest code, as :func:`torch.nn.functional.grid_sample` computes it (Pillow's
fixed-point kernel differs from it by one code at most, on about 1% of colors).
The packed words assume a little-endian machine (:data:`AVAILABLE`).
"""

from __future__ import annotations

import sys

import numpy as np

__all__ = ["AVAILABLE", "tabulate_uint8", "lookup_uint8"]

#: The packed tables assume little-endian words; elsewhere callers keep another kernel.
AVAILABLE = sys.byteorder == "little"


def tabulate_uint8(table: np.ndarray) -> np.ndarray:
    """A ``(3, S, S, S)`` table's trilinear interpolation at every 8-bit color, rounded.

    Parameters
    ----------
    table : numpy.ndarray, shape (3, S, S, S)
        Output sRGB colors in ``[0, 1]``; ``table[:, k, j, i]`` is the output
        for the input ``(i, j, k) / (S - 1)`` (red index fastest).

    Returns
    -------
    numpy.ndarray, shape (2**24,), uint32
        The output's red, green and blue in bytes 0, 1 and 2, indexed by
        ``red + 256 green + 65536 blue``.

    Notes
    -----
    Trilinear interpolation is separable: along red, then green, then blue
    (in slabs of blue, to bound memory).

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
    position = np.arange(256, dtype=np.float64) * (size - 1) / 255
    low = np.minimum(np.floor(position), size - 2).astype(np.intp)
    weight = (position - low).astype(np.float32)

    def along(values: np.ndarray, axis: int, rows: slice = slice(None)) -> np.ndarray:
        shape = [1] * values.ndim
        shape[axis] = -1
        start = np.take(values, low[rows], axis=axis)
        end = np.take(values, low[rows] + 1, axis=axis)
        end -= start
        end *= weight[rows].reshape(shape)
        end += start
        return end

    planes = along(along(table, 3), 2)  # (3, S blues, 256 greens, 256 reds)
    out = np.empty((256, 256, 256), dtype=np.uint32)  # [blue, green, red]
    for start in range(0, 256, 32):
        rows = slice(start, start + 32)
        values = along(planes, 1, rows)
        values *= 255
        codes = np.clip(np.rint(values, out=values), 0, 255, out=values).astype(np.uint32)
        codes[1] <<= 8
        codes[2] <<= 16
        np.bitwise_or(codes[0], codes[1], out=out[rows])
        out[rows] |= codes[2]
    return out.reshape(-1)


def lookup_uint8(dense: np.ndarray, image: np.ndarray) -> np.ndarray:
    """Look up an 8-bit ``(..., 3|4)`` array in a table from :func:`tabulate_uint8` (alpha kept).

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
    if source.size == 0:
        return out
    if channels == 4:
        packed = source.view(np.uint32)  # r, g, b, a in bytes 0..3 (little-endian words)
        moved = np.take(dense, packed & 0xFFFFFF)
        moved |= packed & 0xFF000000
        out.reshape(-1).view(np.uint32)[:] = moved
        return out
    count = source.size // 3
    index = np.empty(count, dtype=np.uint32)
    # Each pixel's three bytes plus the next pixel's first, read as one (unaligned) uint32 at a 3-byte stride.
    np.bitwise_and(np.ndarray((count - 1,), dtype=np.uint32, buffer=source, strides=(3,)), 0xFFFFFF,
                   out=index[:-1])
    red, green, blue = (int(value) for value in source[-3:])
    index[-1] = red | green << 8 | blue << 16
    moved = np.take(dense, index).view(np.uint8).reshape(-1, 4)
    pixels = out.reshape(-1, 3)
    for channel in range(3):  # three strided byte copies: faster than one copy of a (N, 3) view
        pixels[:, channel] = moved[:, channel]
    return out
