"""Looks: a fitted map saved to a file, exported as a 3D LUT (the formats are in :mod:`colorot.maps.lut_files`,
re-exported here), read back.

A *trained generator* (``.safetensors``, see :mod:`colorot.learned.generator`) is a
look too: it is baked into a table when loaded.

A *look file* (``.npz``, numpy's plain array archive, read with
``allow_pickle=False`` so that loading never runs code) holds the fitted map
baked on a 65^3 grid of the sRGB cube, with its parameters and a format
version as JSON. A *cube file* (``.cube``, the Adobe/Resolve text format: red
index fastest, ``LUT_3D_SIZE``, ``DOMAIN_MIN``/``DOMAIN_MAX``, sRGB-encoded
values in ``[0, 1]``) and a *Hald CLUT* (a 16-bit PNG) carry the same table to
other software (DaVinci Resolve, Photoshop, ffmpeg's ``lut3d``, darktable).

The map is fitted on the source's colors, but the table covers the whole
cube: off the source's colors the sliced map extends itself (every 1-D map
continues as a translation beyond its last knot), so colors a photo never
showed still move smoothly, as their neighbours do.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..errors import ColorotError
from ..io import ImageFile, atomic_write, read_image, styles
from ..maps.lut_files import (_as_lut, _checked_table, _hald_level, _read_cube, _read_hald, looks_like_hald,  # noqa: F401
                            read_cube, read_hald, write_cube, write_hald)
from ..maps.shaper import Shaper
from ..options import LUT_SIZE, default_samples

if TYPE_CHECKING:  # torch is imported only when a table is built: applying a look to 8-bit photos needs none
    from ..maps.lut import ColorLUT

__all__ = [
    "save_look", "load_look", "write_cube", "read_cube", "write_hald", "read_hald", "load_lut", "is_lut_file",
    "fit_lut_from_files", "read_fit_inputs", "load_table", "looks_like_hald", "lut_kind", "table_error",
]

#: Photos fitted together (a shoot, a shared map) are sampled from JPEGs decoded at a reduced scale, both sides
#: staying at least this long (1/4 of a 1 MP photo, 1/8 of a 12 MP one): that changes the map less than
#: another seed does.
SHOOT_SAMPLE_SIDE = 128
LOOK_FORMAT = "colorot-look"
LOOK_VERSION = 1


def save_look(path, lut: ColorLUT, parameters: dict | None = None, *, on_exists: str = "replace") -> Path:
    """Save a look: the table of ``lut`` (one image's) and its parameters, atomically (``on_exists`` as for
    :func:`colorot.io.atomic_write`).

    Examples
    --------
    >>> import tempfile, os
    >>> from colorot.maps.lut import ColorLUT, identity_grid
    >>> table = identity_grid(5).T.reshape(3, 5, 5, 5)
    >>> path = save_look(os.path.join(tempfile.mkdtemp(), "look.npz"), ColorLUT(table), {"space": "rgb"})
    >>> load_look(path)[1]["space"]
    'rgb'
    """
    path = Path(path)
    if path.suffix.lower() != ".npz":
        raise ColorotError(f"{path}: a look file ends in .npz")
    table = lut.without_shaper().table[0].detach().cpu().float().numpy()
    metadata = {"format": LOOK_FORMAT, "version": LOOK_VERSION, "size": int(table.shape[-1]), **(parameters or {})}
    encoded = np.frombuffer(json.dumps(metadata).encode(), dtype=np.uint8)

    def save(handle) -> None:
        np.savez_compressed(handle, table=table, metadata=encoded)

    return atomic_write(path, save, on_exists=on_exists)


def load_look(path, device=None) -> tuple[ColorLUT, dict]:
    """Load a look file: its table (on ``device``) and its parameters. Never runs code from the file.

    Examples
    --------
    >>> import tempfile, os, numpy as np, colorot
    >>> style = np.random.default_rng(0).random((32, 32, 3)) ** 2
    >>> path = save_look(os.path.join(tempfile.mkdtemp(), "dark.npz"), colorot.fit_lut(style, size=9, seed=0),
    ...                  {"style": "dark"})
    >>> lut, parameters = load_look(path)
    >>> lut.size, parameters["style"], parameters["format"]
    (9, 'dark', 'colorot-look')
    """
    table, metadata = _read_look(Path(path))
    return _as_lut(table, device=device), metadata


def _read_look(path: Path) -> tuple[np.ndarray, dict]:
    try:
        with np.load(path, allow_pickle=False) as archive:
            metadata = json.loads(bytes(archive["metadata"]).decode())
            table = np.asarray(archive["table"], dtype=np.float32)
    except FileNotFoundError:
        raise ColorotError(f"{path}: no such file") from None
    except Exception as error:  # noqa: BLE001 - zip, json and array errors alike
        raise ColorotError(f"{path}: not a colorot look file ({type(error).__name__}: {error})") from None
    if not isinstance(metadata, dict) or metadata.get("format") != LOOK_FORMAT:
        raise ColorotError(f"{path}: not a colorot look file")
    if int(metadata.get("version", 0)) > LOOK_VERSION:
        raise ColorotError(f"{path}: look format version {metadata['version']} is newer than this colorot reads")
    return _checked_table(table, path), metadata


def lut_kind(path) -> str | None:
    """What kind of lookup table a file is: ``"look"`` (``.npz``), ``"generator"`` (``.safetensors``),
    ``"cube"``, ``"hald"`` (a PNG or TIFF whose content is a Hald CLUT, see :func:`looks_like_hald`), or None for
    anything else (a photo: a style)."""
    path = Path(path)
    suffix = path.suffix.lower()
    kinds = {".npz": "look", ".safetensors": "generator", ".cube": "cube"}
    if suffix in kinds:
        return kinds[suffix]
    if suffix not in (".png", ".tif", ".tiff"):
        return None
    try:
        stat = path.stat()
    except OSError:
        return None
    return "hald" if _hald_content(str(path.resolve()), stat.st_size, stat.st_mtime_ns) else None


@functools.lru_cache(maxsize=8)
def _hald_content(path: str, size: int, mtime: int) -> bool:
    try:
        from PIL import Image

        with Image.open(path) as image:
            if _hald_level(*image.size) is None:
                return False
        return looks_like_hald(read_image(path).pixels)
    except Exception:  # noqa: BLE001 - not an image: whoever reads it as a style reports that
        return False


def is_lut_file(path) -> bool:
    """A look file, a trained generator, a ``.cube``, or a Hald CLUT image (told from its content)."""
    return lut_kind(path) is not None


def read_fit_inputs(style, sources=(), *, source_max_side: int = 2048, skip_unreadable: bool = False,
                    notes=None, keep_pixels: int | None = None,
                    workers: int = 1) -> tuple[np.ndarray, list[np.ndarray]]:
    """The pixels a map (or a generator) is fitted on, read from files: the style's (a path, or an
    :class:`~colorot.io.ImageFile` already read; a list of them gives a list) converted into the first source's
    ICC profile, and the sources'.

    ``source_max_side`` lets JPEG sources decode at a reduced scale (their
    colors are sampled); ``keep_pixels`` keeps that many pixels of each source
    (drawn at random with a seed fixed by the source's position, as a
    ``(1, keep_pixels, C)`` array), which bounds the memory of a large set;
    ``workers`` threads decode in parallel. ``skip_unreadable`` leaves out
    sources that cannot be read (a batch reports them later) instead of
    failing; ``notes(image_file)`` is called for each file read, in order.

    Examples
    --------
    >>> import tempfile, os, numpy as np, colorot
    >>> folder = tempfile.mkdtemp()
    >>> rng = np.random.default_rng(0)
    >>> style = colorot.write_image(os.path.join(folder, "style.png"), rng.integers(0, 256, (8, 8, 3), dtype=np.uint8))
    >>> photo = colorot.write_image(os.path.join(folder, "photo.png"), rng.integers(0, 256, (40, 50, 3), dtype=np.uint8))
    >>> style_pixels, photos = read_fit_inputs(style, [photo, photo], keep_pixels=100, workers=2)
    >>> style_pixels.shape, [p.shape for p in photos]
    ((8, 8, 3), [(1, 100, 3), (1, 100, 3)])
    """
    import dataclasses
    from concurrent.futures import ThreadPoolExecutor


    several_styles = isinstance(style, (list, tuple))
    style_files = [item if isinstance(item, ImageFile) else styles.read_style(item, notes=notes)
                   for item in (style if several_styles else [style])]

    def read(item: tuple[int, object]):
        index, source = item
        try:
            image = read_image(source, max_side=source_max_side)
        except ColorotError as error:
            if skip_unreadable:
                return None
            return error
        pixels = image.pixels
        if keep_pixels is not None and pixels.shape[0] * pixels.shape[1] > keep_pixels:
            flat = pixels.reshape(-1, pixels.shape[-1])
            image = dataclasses.replace(image, pixels=flat[np.random.default_rng(index).integers(0, len(flat),
                                                                                                keep_pixels)][None])
        return image

    with ThreadPoolExecutor(max(1, workers)) as pool:
        read_files = list(pool.map(read, enumerate(sources)))
    images, profile = [], None
    for image in read_files:
        if isinstance(image, ColorotError):
            raise image
        if image is None:
            continue
        if notes is not None:
            notes(image)
        profile = profile or image.icc_profile
        images.append(image.pixels)
    if sources and not images:
        raise ColorotError("no readable photo to fit the shared map on")
    converted = [styles.in_profile(style_file, profile) for style_file in style_files]
    return (converted if several_styles else converted[0]), images


def fit_lut_from_files(
    style,
    sources=(),
    *,
    size: int = LUT_SIZE,
    skip_unreadable: bool = False,
    notes=None,
    workers: int | None = None,
    weights=None,
    **options,
) -> ColorLUT:
    """One table fitted from image files, read by :func:`read_fit_inputs` (several styles are mixed by
    ``weights``); the other options go to :func:`colorot.fit_lut`. Without sources, the whole sRGB cube is the
    source.

    One source is read whole (JPEGs above 2048 px at a reduced scale), so
    that its table reproduces ``transfer`` on it. Several sources (a shoot)
    contribute ``n_samples`` colors in all, so each is read from a JPEG
    decoded at a reduced scale (both sides at least ``SHOOT_SAMPLE_SIDE``
    pixels) and keeps a random subset of its pixels, in ``workers`` threads
    (default: the CPU count, at most 8): ``colorot fit`` on a shoot and
    ``colorot batch --shared-map`` on it fit the same map.

    Examples
    --------
    >>> import tempfile, os, numpy as np, colorot
    >>> folder = tempfile.mkdtemp()
    >>> rng = np.random.default_rng(0)
    >>> style = colorot.write_image(os.path.join(folder, "style.png"), (rng.random((32, 32, 3)) ** 2 * 255).astype(np.uint8))
    >>> photo = colorot.write_image(os.path.join(folder, "photo.png"), (rng.random((32, 32, 3)) * 255).astype(np.uint8))
    >>> fit_lut_from_files(style, [photo], size=9, seed=0).size
    9
    """
    import os

    from ..api import fit_lut

    sources = list(sources)
    several = len(sources) > 1
    n_samples = options.get("n_samples") or default_samples(options.get("method", "unbalanced"))
    style_pixels, images = read_fit_inputs(
        style, sources, source_max_side=SHOOT_SAMPLE_SIDE if several else 2048, skip_unreadable=skip_unreadable,
        notes=notes, keep_pixels=max(1 << 14, 4 * n_samples // len(sources)) if several else None,
        workers=min(os.cpu_count() or 1, 8) if workers is None else workers,
    )
    return fit_lut(style_pixels, images or None, size=size, weights=weights, **options)


def table_error(table: ColorLUT, reference: ColorLUT, *, n_colors: int = 100_000, seed: int = 0
                ) -> tuple[float, float]:
    """How far ``table`` (a smaller export, say) is from ``reference`` (the look), in 8-bit codes: the 99th
    percentile and the largest, over ``n_colors`` colors drawn uniformly in the RGB cube, of the largest channel
    difference between the two lookups.

    Examples
    --------
    >>> from colorot.maps.lut import ColorLUT, identity_grid
    >>> curve = ColorLUT(identity_grid(65).T.reshape(3, 65, 65, 65) ** 2)
    >>> [round(e, 1) for e in table_error(curve.resized(3), curve)]
    [15.9, 15.9]
    """
    import torch

    colors = torch.rand((1, 3, n_colors), generator=torch.Generator().manual_seed(seed))
    gap = (table.to("cpu").apply_pixels(colors) - reference.to("cpu").apply_pixels(colors)).abs().amax(dim=1) * 255
    return float(gap.quantile(0.99)), float(gap.max())


def load_lut(path, device=None, size: int | None = None) -> ColorLUT:
    """A look file (``.npz``), a trained generator (``.safetensors``, baked on a ``size``^3 grid, 65 by
    default), a ``.cube`` file or a Hald CLUT image, by extension.

    ``size`` resizes a look file's table too; ``.cube`` and Hald tables are returned as they are.

    Examples
    --------
    >>> import tempfile, os, numpy as np, colorot
    >>> style = np.random.default_rng(0).random((32, 32, 3)) ** 2
    >>> cube = write_cube(os.path.join(tempfile.mkdtemp(), "dark.cube"), colorot.fit_lut(style, size=9, seed=0))
    >>> load_lut(cube).size
    9
    """
    suffix = Path(path).suffix.lower()
    if suffix == ".safetensors":
        from ..learned.files import load_generator

        model = load_generator(path, device)
        if getattr(model, "needs_style", False):
            raise ColorotError(f"{path}: a style-conditioned generator needs a style; use colorot transfer "
                               "--method conditioned")
        return model.to_lut(size or LUT_SIZE)
    if suffix == ".npz":
        table = load_look(path, device)[0]
        return table if size is None else table.resized(size)
    return _as_lut(*load_table(path), device=device, clamps_inputs=True)  # a .cube or Hald file


def load_table(path) -> tuple[np.ndarray, Shaper | None]:
    """The ``(3, S, S, S)`` float32 table of a look file (``.npz``), a ``.cube`` file or a Hald CLUT image, as a
    numpy array, with its input :class:`~colorot.maps.shaper.Shaper` (None unless a ``.cube`` file has a domain other
    than ``[0, 1]`` or a 1-D part). No torch needed; a trained generator is refused: :func:`load_lut` bakes it.

    Examples
    --------
    >>> import tempfile, os
    >>> from colorot.maps.lut import ColorLUT, identity_grid
    >>> darker = ColorLUT(identity_grid(5).T.reshape(3, 5, 5, 5) * 0.8)
    >>> table, shaper = load_table(save_look(os.path.join(tempfile.mkdtemp(), "darker.npz"), darker))
    >>> table.shape, table.dtype, float(table.max()), shaper
    ((3, 5, 5, 5), dtype('float32'), 0.800000011920929, None)
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".npz":
        return _read_look(path)[0], None
    if suffix == ".cube":
        return _read_cube(path)
    if suffix == ".safetensors":
        raise ColorotError(f"{path}: a trained generator is baked by load_lut, not read as a table")
    return _read_hald(path), None
