"""Grading files with a look, one function per workflow: a photo (:func:`grade_file`), a clip (:func:`grade_clip`),
one map over a shoot (:func:`fit_shared_table`). The command line and the window call these; each reads, fits or
loads, applies and writes (atomically, metadata kept) as the others do.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

from .. import io, threads
from ..errors import ColorotError
from ..io import styles as style_files
from ..options import LUT_SIZE

__all__ = ["GradedFile", "grade_file", "grade_clip", "fit_shared_table"]


@dataclass
class GradedFile:
    """What :func:`colorot.grade_file` wrote, and what its fit said of itself (:func:`colorot.methods.fit_notes`).

    Examples
    --------
    >>> GradedFile(Path("graded.jpg"), ["look: scene gate 0.12 -> leaned on the look"]).fit_notes
    ['look: scene gate 0.12 -> leaned on the look']
    """

    path: Path
    fit_notes: list[str] = field(default_factory=list)


def _say(notes: Callable[[str], None] | None):
    """The callback for the notes of the files read (``"path: note"`` lines), None to keep them."""
    def show(image_file) -> None:
        for note in image_file.notes:
            if notes is not None:
                notes(f"{image_file.path}: {note}")

    return show


def grade_file(source, styles: Sequence, output, *, options: dict | None = None, weights=None, source_mask=None,
               style_masks: Sequence = (), quality: int | None = None, strip_metadata: bool = False,
               max_pixels: int | None = None, notes: Callable[[str], None] | None = None) -> GradedFile:
    """Grade the photo file ``source`` to the style photo files ``styles`` (mixed by ``weights``) and write
    ``output`` at the source's depth, with its ICC profile, EXIF and alpha (what ``colorot transfer`` does).

    Parameters
    ----------
    source, output : path
        The photo and where the result goes (written atomically; ``output`` may be ``source``).
    styles : sequence of paths
        Style photos, read in the source's ICC profile (JPEGs decoded at a reduced scale unless masked).
    options : dict, optional
        :class:`colorot.ColorTransfer` parameters.
    weights : sequence of float, optional
        The styles' mix.
    source_mask, style_masks : path, sequence of paths
        Grayscale masks (:func:`colorot.io.read_mask`): which pixels define the statistics and change.
    quality, strip_metadata, max_pixels
        As :func:`colorot.write_image` and :func:`colorot.read_image` take them.
    notes : callable, optional
        Called with one line for each thing worth saying about the files read and written.

    Returns
    -------
    GradedFile

    Raises
    ------
    ColorotError
        An unreadable file, a mask of the wrong size, an option out of range.

    Examples
    --------
    >>> import tempfile, os, numpy as np, colorot
    >>> folder = tempfile.mkdtemp()
    >>> rng = np.random.default_rng(0)
    >>> photo = colorot.write_image(os.path.join(folder, "photo.png"), (rng.random((32, 48, 3)) * 255).astype(np.uint8))
    >>> style = colorot.write_image(os.path.join(folder, "style.png"), (rng.random((32, 32, 3)) ** 2 * 255).astype(np.uint8))
    >>> graded = grade_file(photo, [style], os.path.join(folder, "graded.png"), options={"method": "mkl"})
    >>> graded.path.name, colorot.read_image(graded.path).pixels.shape
    ('graded.png', (32, 48, 3))
    """
    from ..estimator import ColorTransfer
    from ..io.writing import exif_note
    from .looks import lut_kind

    if style_masks and len(style_masks) != len(styles):
        raise ColorotError(f"got {len(style_masks)} style masks for {len(styles)} styles; give one per style")
    show = _say(notes)
    source_profile = io.read_icc_profile(source)
    # Decode the source in the background while the styles are read and sampled. Masks are read whole: a style
    # mask must match its style, which is then decoded at full size too.
    with ThreadPoolExecutor(1) as pool, threads.leaving(1):  # the decoder holds one core meanwhile
        source_job = pool.submit(io.read_image, source, max_pixels=max_pixels)
        style_pixels = []
        for style in styles:
            if lut_kind(style) == "hald" and notes is not None:
                notes(f"{style}: looks like a Hald CLUT, used here as a style photo; colorot apply applies it "
                      "as a lookup table")
            style_pixels.append(style_files.read_style_pixels(
                style, source_profile, max_side=None if style_masks else style_files.STYLE_SIDE,
                max_pixels=max_pixels, notes=show))
        model = ColorTransfer(**(options or {}))
        masks = [_mask_of(path, image, style, max_pixels) for path, image, style in zip(style_masks, style_pixels,
                                                                                            styles)] or None
        model.fit(style_pixels, weights=weights, style_mask=masks)
        source_file = source_job.result()
    show(source_file)
    note = None if strip_metadata else exif_note(output, source_file)
    if note and notes is not None:
        notes(f"{source}: {note}")
    weights_of_pixels = _mask_of(source_mask, source_file.pixels, source, max_pixels) if source_mask else None
    result = model.transform(source_file.pixels, source_mask=weights_of_pixels)
    written = io.write_image(output, result, like=source_file, quality=quality, strip_metadata=strip_metadata,
                             through_link=Path(output) == Path(source))  # in place through a link: its file
    return GradedFile(written, list(model.fit_notes_))


def _mask_of(path, pixels, photo, max_pixels: int | None):
    """The mask file ``path`` (:func:`colorot.io.read_mask`), refused in one line naming both files unless it has
    the size of its photo's ``pixels``."""
    from ..io.images import read_mask

    mask = read_mask(path, max_pixels)
    if mask.shape != pixels.shape[:2]:
        raise ColorotError(f"{path}: the mask is {mask.shape[1]} x {mask.shape[0]} pixels but {photo} is "
                           f"{pixels.shape[1]} x {pixels.shape[0]}; a mask has its photo's size")
    return mask


def fit_shared_table(styles, sources: Sequence, options: dict | None = None, *, weights=None,
                     skip_unreadable: bool = False, workers: int | None = None, notes=None):
    """One map fitted over the photo files ``sources`` (a shoot) to ``styles`` (a path, an
    :class:`~colorot.io.ImageFile` or a list of them, mixed by ``weights``), as a
    :class:`~colorot.maps.lut.ColorLUT` of :data:`~colorot.options.LUT_SIZE` nodes: what ``colorot fit``,
    ``colorot batch --shared-map`` and the window's shared batch fit (each photo sampled from a reduced decode,
    :func:`colorot.apps.looks.fit_lut_from_files`).

    Examples
    --------
    >>> import tempfile, os, numpy as np, colorot
    >>> folder = tempfile.mkdtemp()
    >>> rng = np.random.default_rng(0)
    >>> shoot = [colorot.write_image(os.path.join(folder, f"{i}.png"), (rng.random((24, 24, 3)) * 255).astype(np.uint8))
    ...          for i in range(2)]
    >>> style = colorot.write_image(os.path.join(folder, "style.png"), (rng.random((24, 24, 3)) ** 2 * 255).astype(np.uint8))
    >>> table = fit_shared_table(style, shoot, {"method": "mkl"})
    >>> table.size, bool(table.table.mean() < 0.5)   # one 65^3 table, darker like the style
    (65, True)
    """
    from .looks import fit_lut_from_files

    return fit_lut_from_files(styles, sources, size=LUT_SIZE, skip_unreadable=skip_unreadable, workers=workers,
                              weights=weights, notes=notes, **(options or {}))


def grade_clip(source, look, output, *, frames: int = 24, crf: int = 18, hdr: str = "refuse",
               options: dict | None = None, notes: Callable[[str], None] | None = None,
               progress: Callable[[int, int], None] | None = None) -> Path:
    """Grade the clip ``source`` with one map and write ``output`` (what ``colorot video`` does).

    ``look`` is a style photo, whose map is fitted on ``frames`` frames sampled across the clip (so that the
    colors do not flicker), or a look file, ``.cube`` or Hald CLUT, applied as it is. Frame rate, size, bit
    depth, color tags and audio are kept (:func:`colorot.apps.video.grade_video`; ``crf`` and ``hdr`` as it
    takes them); ``progress(frames, total)`` is told the frames written as they are (``total``: the clip's
    declared frame count, 0 when it declares none), once the clip is checked and the map fitted.

    Raises
    ------
    ColorotError
        Before any work: an unreadable clip, an output it cannot write, an HDR clip with a style photo (whose
        colors are SDR) or with ``hdr="refuse"``; then a corrupt frame (nothing is left behind).

    Examples
    --------
    >>> import colorot
    >>> callable(colorot.grade_clip)
    True
    """
    from ..api import fit_lut
    from ..devices import resolve_device
    from . import video as clips
    from .looks import load_lut, lut_kind

    options = dict(options or {})
    clip = clips.probe_clip(source)
    clips.plan_output(clip, output, hdr)  # a container, depth or audio that cannot be written: refused now
    is_table = lut_kind(look) is not None
    if clip.hdr is not None and not is_table:
        raise ColorotError(f"--hdr codes grades an HDR clip's code values with a LUT made for them (.cube, look "
                           f"file, Hald CLUT); {Path(look).name} is a photo, whose colors are SDR")
    for kind in sorted(set(clip.dropped)):
        if notes is not None:
            notes(f"{Path(source).name}: {clip.dropped.count(kind)} {kind} stream(s) not carried into the output "
                  "(colorot writes its video and audio)")
    device = resolve_device(options.get("device"))
    if is_table:
        table = load_lut(look, device)
    else:
        if notes is not None:
            notes(f"fitting the map on {frames} frames sampled across {Path(source).name}")
        # Decoded frames are sRGB-encoded (BT.709 has sRGB's primaries): the style is converted into sRGB.
        style = style_files.read_style_pixels(look, None, notes=_say(notes))
        table = fit_lut(style, clips.sample_frames(source, frames, clip=clip), size=LUT_SIZE, **options)
    told = None if progress is None else (lambda count: progress(count, clip.frames))
    return clips.grade_video(source, output, clips.lut_applier(table, device, clip.frames or 1 << 30), crf=crf,
                             hdr=hdr, progress=told, clip=clip)
