"""LUT file formats: the ``.cube`` text format and the Hald CLUT image, read as the tools users trust read them.

A *cube file* (the Adobe/Resolve text format: red index fastest, ``LUT_3D_SIZE``, a domain, optionally a 1-D
shaper before the 3-D table in Resolve's dialect) and a *Hald CLUT* (an image whose pixels are the table)
carry a table to other software (DaVinci Resolve, Photoshop, ffmpeg's ``lut3d``, darktable) and back. Reading
never needs torch until a :class:`~colorot.maps.lut.ColorLUT` is built.

References: Adobe, *Cube LUT Specification 1.0* (2013); Blackmagic Design, DaVinci Resolve's LUT format;
Eskil Steenberg's Hald CLUT format (as ImageMagick's ``-hald-clut`` and darktable read it).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..errors import ColorotError
from ..io.files import atomic_write
from ..io.images import read_image
from ..io.writing import write_image
from ..options import PIXEL_SCALES
from .shaper import Shaper

if TYPE_CHECKING:  # torch is imported only when a table is built
    from .lut import ColorLUT

__all__ = ["write_cube", "read_cube", "write_hald", "read_hald", "looks_like_hald"]


def _checked_table(table: np.ndarray, path: Path) -> np.ndarray:
    if table.ndim != 4 or table.shape[0] != 3 or len(set(table.shape[1:])) != 1 or not 2 <= table.shape[1] <= 256:
        raise ColorotError(f"{path}: a 3D LUT table has shape (3, S, S, S), got {table.shape}")
    if not np.isfinite(table).all():
        raise ColorotError(f"{path}: the LUT holds NaN or infinite values")
    return np.ascontiguousarray(table, dtype=np.float32)


def _as_lut(table: np.ndarray, shaper: Shaper | None = None, *, device=None, clamps_inputs: bool = False
            ) -> ColorLUT:
    import torch

    from .lut import ColorLUT

    return ColorLUT(torch.from_numpy(table).to(device), shaper, clamps_inputs=clamps_inputs)


def write_cube(path, lut: ColorLUT, title: str = "colorot look", *, on_exists: str = "replace") -> Path:
    """Write a ``.cube`` file (Adobe/Resolve 3D LUT, red index fastest, domain ``[0, 1]``), atomically;
    ``on_exists`` as for :func:`colorot.io.atomic_write`.

    Examples
    --------
    >>> import tempfile, os, numpy as np, colorot
    >>> style = np.random.default_rng(0).random((32, 32, 3)) ** 2
    >>> path = write_cube(os.path.join(tempfile.mkdtemp(), "dark.cube"), colorot.fit_lut(style, size=5, seed=0))
    >>> path.read_text().splitlines()[1:4]
    ['LUT_3D_SIZE 5', 'DOMAIN_MIN 0.0 0.0 0.0', 'DOMAIN_MAX 1.0 1.0 1.0']
    """
    table = lut.without_shaper().table[0].clamp(0, 1).detach().cpu().double().numpy()
    size = table.shape[-1]
    rows = table.reshape(3, -1).T  # (b, g, r) index order with r fastest, as the table is laid out
    header = f'TITLE "{title}"\nLUT_3D_SIZE {size}\nDOMAIN_MIN 0.0 0.0 0.0\nDOMAIN_MAX 1.0 1.0 1.0\n'
    body = "\n".join(f"{r:.6f} {g:.6f} {b:.6f}" for r, g, b in rows)

    def save(handle) -> None:
        handle.write((header + body + "\n").encode())

    return atomic_write(Path(path), save, on_exists=on_exists)


def read_cube(path, device=None) -> ColorLUT:
    """Read a ``.cube`` LUT as the readers colorists trust read it (colour-science, OpenColorIO, Resolve).

    Keywords and numbers may be separated by any whitespace. Understood:
    ``TITLE``; ``LUT_3D_SIZE``; ``LUT_1D_SIZE`` (a per-channel 1-D table:
    alone, it is the whole LUT; before a 3-D table, as Resolve writes, it is
    the 3-D table's shaper); the domain of a table in Adobe's spelling
    (``DOMAIN_MIN r g b`` / ``DOMAIN_MAX r g b``) or Resolve's
    (``LUT_1D_INPUT_RANGE lo hi``, ``LUT_3D_INPUT_RANGE lo hi``), honoured
    by rescaling the input. Table values outside ``[0, 1]`` are kept: the
    lookup interpolates, then clips its output (as ffmpeg's ``lut3d`` does).

    Parameters
    ----------
    path : str or os.PathLike
        The ``.cube`` file.
    device : torch.device or str, optional
        Where the table goes.

    Returns
    -------
    ColorLUT
        The 3-D table (a 2-node identity for a 1-D-only file) with its
        :class:`~colorot.maps.shaper.Shaper` when the domain is not ``[0, 1]`` or
        the file has a 1-D part.

    Raises
    ------
    ColorotError
        A missing or unreadable file, a row that is not three numbers, a
        wrong row count, an empty or reversed domain, video-range keywords
        (``LUT_IN_VIDEO_RANGE``/``LUT_OUT_VIDEO_RANGE``) or any other keyword
        that could change what the numbers mean: one line that says which.

    Examples
    --------
    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "identity.cube")
    >>> rows = [f"{r / 1}\\t{g / 1} {b / 1}" for b in (0, 1) for g in (0, 1) for r in (0, 1)]
    >>> _ = open(path, "w").write("LUT_3D_SIZE\\t2\\n" + "\\n".join(rows) + "\\n")
    >>> lut = read_cube(path)
    >>> lut.size, lut.table[0, :, 1, 0, 1].tolist()   # blue 1, green 0, red 1
    (2, [1.0, 0.0, 1.0])
    """
    return _as_lut(*_read_cube(Path(path)), device=device, clamps_inputs=True)


#: Keywords that say a table expects or gives video-range (legal) values: refused, not guessed.
_VIDEO_RANGE_KEYWORDS = ("LUT_IN_VIDEO_RANGE", "LUT_OUT_VIDEO_RANGE")


def _read_cube(path: Path) -> tuple[np.ndarray, Shaper | None]:
    """The ``(3, S, S, S)`` table of a ``.cube`` file and its shaper (None when it reads ``[0, 1]`` directly)."""
    header, rows = _parse_cube(path)
    size_1d, size_3d = header.get("LUT_1D_SIZE"), header.get("LUT_3D_SIZE")
    if size_1d is None and size_3d is None:
        raise ColorotError(f"{path}: missing or invalid LUT_3D_SIZE (nor a LUT_1D_SIZE)")
    for key, size in (("LUT_1D_SIZE", size_1d), ("LUT_3D_SIZE", size_3d)):
        if size is not None and not 2 <= size <= (65536 if key == "LUT_1D_SIZE" else 256):
            raise ColorotError(f"{path}: {key} {size} is out of range")
    expected = (size_1d or 0) + (size_3d or 0) ** 3
    if len(rows) != expected:
        parts = " + ".join(f"{k} {v}" for k, v in (("LUT_1D_SIZE", size_1d), ("LUT_3D_SIZE", size_3d)) if v)
        raise ColorotError(f"{path}: {parts} needs {expected} rows, found {len(rows)} (truncated?)")
    values = np.asarray(rows, dtype=np.float64).reshape(-1, 3)
    domain_1d, domain_3d = _cube_domains(path, header, size_1d, size_3d)
    if not np.isfinite(values).all():
        raise ColorotError(f"{path}: the LUT holds NaN or infinite values")
    if size_3d is None:  # a 1-D LUT alone: its curves are the shaper, read through an identity table
        shaper = Shaper(values.T, domain_1d)
        return _checked_table(_identity_table(2), path), shaper
    table = values[size_1d or 0:].T.reshape(3, size_3d, size_3d, size_3d)
    low, high = domain_3d
    if size_1d is not None:
        shaper = Shaper(((values[:size_1d] - low) / (high - low)).T, domain_1d)
    elif np.array_equal(domain_3d, [[0.0] * 3, [1.0] * 3]):
        shaper = None
    else:
        shaper = Shaper.linear(low, high)
    return _checked_table(table.astype(np.float32), path), shaper


def _parse_cube(path: Path) -> tuple[dict, list]:
    """A ``.cube`` file's keywords (``{keyword: value}``) and its data rows (three floats each)."""
    try:
        # utf-8-sig: a byte-order mark that some editors write is not part of the text (else the first keyword
        # would read as "\ufeffLUT_3D_SIZE", which a terminal prints as the keyword itself)
        lines = path.read_text(encoding="utf-8-sig", errors="strict").splitlines()
    except FileNotFoundError:
        raise ColorotError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ColorotError(f"{path}: not a text .cube file ({error})") from None
    header, rows = {}, []
    for number, line in enumerate(lines, 1):
        tokens = line.split()
        if not tokens or tokens[0].startswith("#"):
            continue
        key = tokens[0]
        if key == "TITLE":  # the title may hold a '#'
            continue
        tokens = line.split("#")[0].split()
        try:
            if _is_number(key):
                if len(tokens) != 3:
                    raise ValueError("expected three numbers")
                rows.append([float(token) for token in tokens])
                continue
            if rows:
                raise ValueError(f"keyword {key} after the table's rows")
            if key in header:
                raise ValueError(f"{key} given twice")
            header[key] = _cube_keyword(path, key, tokens[1:])
        except ColorotError:
            raise
        except ValueError as error:
            raise ColorotError(f"{path}:{number}: cannot read {line.strip()[:40]!r} ({error})") from None
    return header, rows


def _cube_keyword(path: Path, key: str, arguments: list) -> object:
    """The value of one ``.cube`` keyword; a keyword that colorot cannot honour is refused."""
    if key in ("LUT_1D_SIZE", "LUT_3D_SIZE"):
        if len(arguments) != 1:
            raise ValueError("expected one whole number")
        return int(arguments[0])
    if key in ("DOMAIN_MIN", "DOMAIN_MAX"):
        if len(arguments) != 3:
            raise ValueError("expected three numbers")
        return [float(value) for value in arguments]
    if key in ("LUT_1D_INPUT_RANGE", "LUT_3D_INPUT_RANGE"):
        if len(arguments) != 2:
            raise ValueError("expected two numbers, the lowest and highest input")
        return [float(value) for value in arguments]
    if key in _VIDEO_RANGE_KEYWORDS:
        raise ColorotError(f"{path}: {key}: a table for video-range (legal) values; colorot applies full-range "
                           "tables (convert it to full range in the software that made it)")
    raise ColorotError(f"{path}: unknown keyword {key}; colorot does not guess what it does to the table")


def _cube_domains(path: Path, header: dict, size_1d, size_3d) -> tuple[np.ndarray, np.ndarray]:
    """The input domains, ``(2, 3)`` each, of a file's 1-D and 3-D tables (``[0, 1]`` where none is given)."""
    unit = np.array([[0.0] * 3, [1.0] * 3])
    adobe = None
    if "DOMAIN_MIN" in header or "DOMAIN_MAX" in header:
        if size_1d is not None and size_3d is not None:
            raise ColorotError(f"{path}: DOMAIN_MIN/DOMAIN_MAX in a file with both a 1-D and a 3-D table: "
                               "which table it bounds is ambiguous; use LUT_1D_INPUT_RANGE/LUT_3D_INPUT_RANGE")
        adobe = np.array([header.get("DOMAIN_MIN", unit[0]), header.get("DOMAIN_MAX", unit[1])], dtype=np.float64)
    domains = []
    for key, size in (("LUT_1D_INPUT_RANGE", size_1d), ("LUT_3D_INPUT_RANGE", size_3d)):
        resolve = header.get(key)
        if resolve is not None and size is None:
            raise ColorotError(f"{path}: {key} without its table")
        domain = unit if resolve is None else np.repeat(np.asarray(resolve, float)[:, None], 3, axis=1)
        if adobe is not None and size is not None:
            if resolve is not None and not np.array_equal(adobe, domain):
                raise ColorotError(f"{path}: DOMAIN_MIN/DOMAIN_MAX and {key} disagree")
            domain = adobe
        if not (np.isfinite(domain).all() and (domain[1] > domain[0]).all()):
            raise ColorotError(f"{path}: the domain {domain.tolist()} is empty or reversed")
        domains.append(domain)
    return domains[0], domains[1]


def _identity_table(size: int) -> np.ndarray:
    """The identity map on a ``size``-node grid, shape ``(3, size, size, size)``, red index fastest."""
    axis = np.linspace(0.0, 1.0, size, dtype=np.float32)
    blue, green, red = np.meshgrid(axis, axis, axis, indexing="ij")
    return np.stack((red, green, blue))


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def hald_level_of(size: int) -> int:
    """The level of a Hald CLUT holding a ``size``-node table (its square root), or a one-line error.

    Examples
    --------
    >>> hald_level_of(64)
    8
    """
    level = math.isqrt(size)
    if level * level != size or level < 2:
        raise ColorotError(f"a Hald CLUT needs a square table size (16, 36, 64, 144...), got {size}")
    return level


def write_hald(path, lut: ColorLUT) -> Path:
    """Write a Hald CLUT: a 16-bit PNG of ``level^3 x level^3`` pixels for a table of size ``level^2``.

    Examples
    --------
    >>> import tempfile, os, numpy as np, colorot
    >>> style = np.random.default_rng(0).random((32, 32, 3)) ** 2
    >>> path = write_hald(os.path.join(tempfile.mkdtemp(), "hald.png"), colorot.fit_lut(style, size=16, seed=0))
    >>> colorot.read_image(path).pixels.shape, colorot.read_image(path).pixels.dtype
    ((64, 64, 3), dtype('uint16'))
    """
    lut = lut.without_shaper(lut.size)
    level = hald_level_of(lut.size)
    table = lut.table[0].clamp(0, 1).detach().cpu().double().numpy()
    pixels = np.round(table.reshape(3, -1).T * 65535).astype(np.uint16)  # red fastest, then green, then blue
    return write_image(path, pixels.reshape(level**3, level**3, 3))


def read_hald(path, device=None) -> ColorLUT:
    """Read a Hald CLUT image (8 or 16-bit) as a lookup table.

    Examples
    --------
    >>> import tempfile, os, numpy as np, colorot
    >>> style = np.random.default_rng(0).random((32, 32, 3)) ** 2
    >>> lut = colorot.fit_lut(style, size=16, seed=0)
    >>> back = read_hald(write_hald(os.path.join(tempfile.mkdtemp(), "hald.png"), lut))
    >>> back.size, bool((back.table - lut.table.cpu()).abs().max() < 1e-4)
    (16, True)
    """
    return _as_lut(_read_hald(Path(path)), device=device, clamps_inputs=True)


def _read_hald(path: Path) -> np.ndarray:
    pixels = read_image(path).pixels[..., :3]
    if _hald_level(pixels.shape[1], pixels.shape[0]) is None:
        raise ColorotError(f"{path}: a Hald CLUT is a square of level^3 pixels, got {pixels.shape[1]}x{pixels.shape[0]}")
    return _checked_table(_hald_table(pixels), path)


def _hald_table(pixels: np.ndarray) -> np.ndarray:
    """The ``(3, S, S, S)`` table laid out in a Hald CLUT image's ``(S^1.5, S^1.5, 3)`` pixels (red fastest)."""
    scale = PIXEL_SCALES.get(pixels.dtype.name, 1.0)
    size = _hald_level(pixels.shape[1], pixels.shape[0]) ** 2
    return (pixels[..., :3].reshape(-1, 3).astype(np.float32) / scale).T.reshape(3, size, size, size)


def _hald_level(width: int, height: int) -> int | None:
    """The level of a Hald CLUT image of this size (a square of level^3 pixels a side), else None."""
    level = round(width ** (1 / 3))
    return level if width == height and level**3 == width and level >= 2 else None


def looks_like_hald(pixels: np.ndarray) -> bool:
    """Whether an image's pixels are a Hald CLUT: its size alone does not tell (a 512 px photo is the size of a
    level-8 Hald CLUT), its content does.

    Laid out as a table, a Hald CLUT is a grade of the identity ramps: the
    sum of its output R, G and B never falls along any input axis (at least
    95% of the steps, within 1.5 codes), and grows along at least one (by
    at least 5% of the range on average: a grade that keeps only the red
    channel is still one). A photo's neighbouring pixels, rows and bands of
    rows fall as often as they rise. A grade that inverts colors is not
    recognised: apply it with ``colorot apply``, which reads any image of a
    Hald CLUT's size as one.

    Examples
    --------
    >>> from colorot.maps.lut import identity_grid
    >>> hald = (identity_grid(16).numpy().reshape(64, 64, 3) ** 0.8 * 255).round().astype(np.uint8)
    >>> looks_like_hald(hald), looks_like_hald(np.random.default_rng(0).integers(0, 256, (64, 64, 3), np.uint8))
    (True, False)
    """
    if pixels.ndim != 3 or pixels.shape[-1] < 3 or _hald_level(pixels.shape[1], pixels.shape[0]) is None:
        return False
    total = _hald_table(pixels).sum(axis=0)  # (S, S, S): [blue, green, red]
    tolerance = 1.5 / 255
    if any((np.diff(total, axis=axis) >= -tolerance).mean() < 0.95 for axis in (2, 1, 0)):
        return False
    rises = [(np.take(total, -1, axis=axis) - np.take(total, 0, axis=axis)).mean() for axis in (2, 1, 0)]
    return bool(max(rises) >= 0.05 * 3)
