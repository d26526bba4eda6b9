"""What the window holds: opened files, grades (a fitted map with its options), masks, and where exports go.

No web here: the server (:mod:`colorot.ui.server`) turns requests into these calls. Every file the page sends
is kept in one temporary folder, removed by :meth:`Workspace.close`; every file written goes into the output
folder, under a plain file name (never a path from the page), atomically, never over a file that exists (a
``_1``, ``_2`` suffix is added) and never over an opened file.
"""

from __future__ import annotations

import itertools
import re
import shutil
import tempfile
import threading
import weakref
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .. import io, progress
from ..errors import ColorotError
from ..io.styles import STYLE_SIDE, read_style_pixels
from .checks import check_look, check_options, check_table, engine_options
from .pictures import blend, eight_bit, full_mask, mask_codes, preview_of, resize_mask

__all__ = ["Workspace", "Opened", "Grade"]

_SAFE_NAME = re.compile(r"^[^/\\:\x00-\x1f]+$")

#: Grades a page keeps (its newest: the page goes back to a photo's grade without refitting it; older ones are
#: dropped: each holds a fitted map and previews), and masks a photo keeps (a grade on its way may still name the
#: one before).
GRADES_KEPT, MASKS_KEPT = 8, 2


@dataclass
class Opened:
    """A file the user opened: a photo (or style photo), or a lookup table (``kind``: ``"image"``, ``"look"``,
    ``"generator"``, ``"cube"``, ``"hald"``). ``original`` is its path on disk when it was named on the command
    line (never written over)."""

    id: str
    name: str
    path: Path
    kind: str
    original: Path | None = None
    page: str | None = None  # the page that sent it (its files are dropped when it closes); None: the command line
    image: io.ImageFile | None = None
    preview: np.ndarray | None = None  # (h, w, 3|4) uint8, the long side at most PREVIEW_SIDE

    def describe(self) -> dict:
        shape = self.image.pixels.shape if self.image is not None else (0, 0)
        preview = self.preview.shape if self.preview is not None else (0, 0)
        return {"id": self.id, "name": self.name, "kind": self.kind, "width": int(shape[1]),
                "height": int(shape[0]), "preview": [int(preview[1]), int(preview[0])],
                "notes": list(self.image.notes) if self.image is not None else []}


@dataclass
class Grade:
    """A photo, a look (style photos with weights, or one table), options and a mask: the map fitted once."""

    id: str
    photo: Opened
    look: list  # [(Opened, weight)]
    options: dict
    mask: np.ndarray | None  # (h, w) float32 in [0, 1] at the preview's size, or None
    model: object = None  # a fitted ColorTransfer, or None for a table
    table: object = None  # a ColorLUT, for a look that is a table
    refined_preview: np.ndarray | None = None  # refine: the preview at full strength (a slider then blends)
    full_strength_preview: np.ndarray | None = None  # regrain: the same, filled on the first preview
    at_nodes: object = None  # the map at the LUT's nodes (maps.lut.MapAtNodes), filled on the first preview
    full_render: tuple | None = None  # (strength, pixels): the 100% view's last full-resolution render
    page: str | None = None  # the page that asked for it
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def style_photos(self) -> list:
        return [opened for opened, _ in self.look if opened.kind == "image"]


class Workspace:
    """The files, grades and output folder of one ``colorot ui`` session.

    Parameters
    ----------
    output_dir : path
        The only folder exports are written in (created if missing).
    max_pixels : int, optional
        Refuse larger images (the CLI's decompression-bomb guard).
    """

    def __init__(self, output_dir, max_pixels: int | None = None):
        self.output_dir = Path(output_dir).resolve()
        self.max_pixels = max_pixels
        self.folder = Path(tempfile.mkdtemp(prefix="colorot-ui-"))
        # Removed by close(), or else when the workspace is collected or the interpreter exits.
        self._remove_folder = weakref.finalize(self, shutil.rmtree, self.folder, ignore_errors=True)
        self.files: dict[str, Opened] = {}
        self.grades: dict[str, Grade] = {}
        self.masks: dict[str, tuple[str, np.ndarray]] = {}  # id -> (photo id, (h, w) float32 at its preview size)
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def close(self) -> None:
        """Remove every file the page sent (the temporary folder)."""
        self._remove_folder()

    def _new_id(self, prefix: str) -> str:
        with self._lock:
            return f"{prefix}{next(self._ids)}"

    # -- opening ---------------------------------------------------------------------------------------------
    def open_bytes(self, name: str, data: bytes, page: str | None = None) -> Opened:
        """Keep a file a page sent (under a name of ours, with its extension) and read it; ``page`` names the
        page, whose files :meth:`forget_page` removes when it closes.

        Raises
        ------
        ColorotError
            A file that is not an image, a look or a LUT colorot can read, or one over the pixel limit.
        """
        name = Path(str(name or "file")).name
        name = name if name.strip(". ") else "file"  # "", ".", "..": a name of ours
        opened_id = self._new_id("f")
        folder = self.folder / opened_id
        path = folder / (re.sub(r"[^\w.\- ]", "_", name).lstrip(".") or "file")
        try:
            folder.mkdir()
            path.write_bytes(data)
            return self._register(opened_id, name, path, None, page)
        except ColorotError as error:
            shutil.rmtree(folder, ignore_errors=True)
            raise ColorotError(str(error).replace(str(path), name)) from None
        except Exception as error:  # noqa: BLE001 - a file from the page never shows a traceback
            shutil.rmtree(folder, ignore_errors=True)
            raise ColorotError(f"{name}: cannot be read ({type(error).__name__})") from None

    def open_path(self, path) -> Opened:
        """Open a file named on the command line (read in place; never written over)."""
        path = Path(path)
        io.check_input_file(path)
        return self._register(self._new_id("f"), path.name, path, path.resolve())

    def _register(self, opened_id: str, name: str, path: Path, original: Path | None,
                  page: str | None = None) -> Opened:
        from ..apps.looks import load_lut, lut_kind

        kind = lut_kind(path) or "image"
        opened = Opened(opened_id, name, path, kind, original, page)
        if kind == "image":
            opened.image = io.read_image(path, max_pixels=self.max_pixels)
            opened.preview = preview_of(opened.image.pixels)
        else:
            load_lut(path)  # read now: a broken table is refused when it is opened
        with self._lock:
            self.files[opened_id] = opened
        return opened

    def open_mask(self, photo_id: str, data: bytes) -> str:
        """Keep a mask the page sent for a photo (its painting, or a mask file), read as ``--source-mask`` is
        (its first channel in ``[0, 1]``, under the pixel limit) and resized to the photo's preview; its id."""
        photo = self.get(photo_id, "image")
        mask_id = self._new_id("m")
        path = self.folder / f"{mask_id}.mask"
        try:
            path.write_bytes(data)
            values = io.read_mask(path, self.max_pixels)
        except ColorotError as error:
            raise ColorotError(str(error).replace(str(path), "the mask")) from None
        finally:
            path.unlink(missing_ok=True)
        with self._lock:
            self.masks[mask_id] = (photo.id, resize_mask(values, *photo.preview.shape[:2]))
            older = [key for key, (photo_id, _) in self.masks.items() if photo_id == photo.id][:-MASKS_KEPT]
            for key in older:
                del self.masks[key]
        return mask_id

    def forget_page(self, page: str) -> int:
        """Drop what a closed page sent (its files, removed from disk), its grades (even of the command line's
        files, which stay open) and the grades and masks made of its files. The number of files removed."""
        if not page:
            return 0
        with self._lock:
            for grade_id in [key for key, grade in self.grades.items() if grade.page == page]:
                del self.grades[grade_id]
        return self.forget({key for key, opened in list(self.files.items()) if opened.page == page})

    def forget(self, gone: set) -> int:
        """Drop opened files (a page's copies are removed from disk; a file named on the command line is only
        closed, never touched) and the grades and masks made of them; the number dropped."""
        with self._lock:
            gone = {opened_id for opened_id in gone if opened_id in self.files}
            dropped = [self.files.pop(opened_id) for opened_id in gone]
            for grade_id in [key for key, grade in self.grades.items() if not self._holds(grade)]:
                del self.grades[grade_id]
            for mask_id in [key for key, (photo_id, _) in self.masks.items() if photo_id not in self.files]:
                del self.masks[mask_id]
        for opened in dropped:
            if opened.original is None and self.folder in opened.path.parents:
                shutil.rmtree(opened.path.parent, ignore_errors=True)
        return len(dropped)

    def _holds(self, grade: Grade) -> bool:
        """Whether every file a grade is made of is still open."""
        return grade.photo.id in self.files and all(opened.id in self.files for opened, _ in grade.look)

    def shown(self, message: str) -> str:
        """A message with the paths of the page's files replaced by the names the page knows them by."""
        for opened in list(self.files.values()):
            if opened.original is None:
                message = message.replace(str(opened.path), opened.name)
        return message.replace(str(self.folder), "the upload folder")

    def get(self, opened_id: str, kind: str | None = None) -> Opened:
        opened = self.files.get(str(opened_id))
        if opened is None:
            raise ColorotError(f"no opened file {opened_id!r}")
        if kind == "image" and opened.kind != "image":
            raise ColorotError(f"{opened.name} is a lookup table, not a photo")
        return opened

    # -- grading ---------------------------------------------------------------------------------------------
    def grade(self, photo_id: str, look: list, options: dict, mask: np.ndarray | None = None,
              page: str | None = None, *, keep: bool = True) -> Grade:
        """Fit the map of ``photo`` to ``look`` (``[(file id, weight)]``: style photos, or one table) once.

        The map is fitted on the photo at full resolution (with ``mask`` as its statistics), as
        ``colorot transfer`` fits it: previews and the export apply that same map. ``keep``: the grade is kept
        for previews (the newest :data:`GRADES_KEPT` of ``page``), else only returned (a batch's).
        """
        from .. import api

        photo = self.get(photo_id, "image")
        chosen = [(self.get(file_id), weight) for file_id, weight in check_look(look)]
        if not chosen:
            raise ColorotError("open a look first: a style photo, a look file, a .cube or a Hald CLUT")
        options = check_options(options)
        grade = Grade(self._new_id("g"), photo, chosen, options, mask, page=page)
        tables = [opened for opened, _ in chosen if opened.kind != "image"]
        if tables:
            if len(chosen) > 1:
                raise ColorotError(f"{tables[0].name} is a lookup table: it is the whole look, not one of a mix")
            from ..apps.looks import load_lut

            grade.table = load_lut(tables[0].path)
        else:
            model = api.ColorTransfer(**engine_options(options))
            styles = self._styles(chosen, photo)
            weights = [weight for _, weight in chosen]
            if options["refine"]:
                model.fit(styles, weights=weights)
                grade.refined_preview = model.transform(photo.preview, source_mask=mask)
            else:
                model.fit(styles, [photo.image.pixels], weights=weights,
                          source_mask=full_mask(mask, *photo.image.pixels.shape[:2]))
            grade.model = model
        progress.report(1.0)  # a job cancelled meanwhile (a superseded refit) stores nothing
        if keep:
            with self._lock:
                if not self._holds(grade):  # a file closed meanwhile (its page left)
                    raise ColorotError("a file of this grade was closed; open it again")
                self.grades[grade.id] = grade
                older = [key for key, kept in self.grades.items() if kept.page == page][:-GRADES_KEPT]
                for key in older:
                    del self.grades[key]
        return grade

    def _styles(self, chosen: list, photo: Opened) -> list:
        """The style photos' pixels, read as ``colorot transfer`` reads them: in the photo's ICC profile."""
        return [read_style_pixels(opened.path, photo.image.icc_profile, max_side=STYLE_SIDE,
                                  max_pixels=self.max_pixels) for opened, _ in chosen]

    def get_grade(self, grade_id: str) -> Grade:
        grade = self.grades.get(str(grade_id))
        if grade is None:
            raise ColorotError(f"no grade {grade_id!r}; grade the photo again")
        return grade

    def render(self, grade: Grade, strength: float, *, full: bool = False) -> np.ndarray:
        """The graded photo (``full``) or its preview at ``strength`` in ``[0, 1]``.

        The preview applies the fitted map exactly as the export does (on the preview's pixels); with
        ``refine``, whose result is not a function of color, the preview at full strength is blended.
        """
        from .. import api

        strength = float(np.clip(strength, 0.0, 1.0))
        pixels = grade.photo.image.pixels if full else grade.photo.preview
        mask = full_mask(grade.mask, *pixels.shape[:2]) if full else grade.mask
        with grade.lock:
            if grade.table is not None:
                graded = api.apply_lut(grade.table, pixels)
                return blend(pixels, graded, strength, mask)
            if full:
                return grade.model.transform(pixels, strength=strength, source_mask=mask)
            if grade.options["refine"]:
                return blend(pixels, grade.refined_preview, strength, None)
            if grade.model.regrain_radius:  # asked for, or the method's default (the palette methods')
                # The guided filter is linear in the shift it filters: the preview blends the full-strength one
                # (the filter's radius scaled to the preview's pixels).
                if grade.full_strength_preview is None:
                    grade.full_strength_preview = _regrained_preview(grade.model, grade, pixels)
                return blend(pixels, grade.full_strength_preview, strength, mask)
            if grade.at_nodes is None:  # a strength change then re-tables the map, evaluating nothing again
                grade.at_nodes = _at_nodes(grade.model, grade.model.lut_size)
            return blend(pixels, api.apply_lut(grade.at_nodes.table(strength), pixels), 1.0, mask)

    def render_full_view(self, grade: Grade, strength: float) -> np.ndarray:
        """The 100% view: the export's pixels at ``strength``, in 8 bits (the newest one is kept)."""
        strength = float(np.clip(strength, 0.0, 1.0))
        kept = grade.full_render
        if kept is None or kept[0] != strength:
            kept = grade.full_render = (strength, eight_bit(self.render(grade, strength, full=True)))
        return kept[1]

    def grade_batch(self, photo_ids: list, look: list, options: dict, strength: float, shared: bool,
                    job=None) -> dict:
        """Grade and export several opened photos: one map each, or one ``shared`` map fitted over all of
        them (one consistent look). A photo that fails is reported and the others go on."""

        written, failed = [], []
        shared_grade = None
        tables = any(self.get(file_id).kind != "image" for file_id, _ in look)
        if shared and len(photo_ids) > 1 and not tables and not int(options.get("refine") or 0):
            if job is not None:
                job.step(f"fitting one map over {len(photo_ids)} photos", 0)
            from ..apps.grading import fit_shared_table
            from ..maps.dense import tabulates

            first = self.get(photo_ids[0], "image")
            checked = check_options(options)
            chosen = [(self.get(file_id), weight) for file_id, weight in check_look(look)]
            # The map colorot batch --shared-map fits on the same files, applied as it applies it.
            table = fit_shared_table([opened.path for opened, _ in chosen],
                                     [self.get(photo_id, "image").path for photo_id in photo_ids],
                                     engine_options(checked), weights=[weight for _, weight in chosen])
            if tabulates(len(photo_ids), checked.get("device")):
                table.densify()
            shared_grade = Grade(self._new_id("g"), first, chosen, checked, None, None, table)
        for done, photo_id in enumerate(photo_ids):
            photo = self.get(photo_id, "image")
            if job is not None:
                job.step(f"{photo.name} ({done + 1} of {len(photo_ids)})", done)
            try:
                with progress.part(0.0, 0.3):  # each photo's share of the bar: its fit, then its export
                    grade = self.grade(photo_id, look, options, keep=False) if shared_grade is None else \
                        Grade(self._new_id("g"), photo, shared_grade.look, shared_grade.options, None,
                              shared_grade.model, shared_grade.table)
                with progress.part(0.3, 1.0):
                    written.append(str(self.export_photo(grade, strength)))
            except ColorotError as error:
                failed.append({"name": photo.name, "error": self.shown(str(error))})
            if job is not None:  # what is written so far stays in the job's result, even if it is cancelled
                job.result = {"written": list(written), "failed": list(failed)}
        return {"written": written, "failed": failed}

    # -- writing ---------------------------------------------------------------------------------------------
    def output_path(self, name: str) -> Path:
        """``name`` inside the output folder: a plain file name, or refused (no folders, no ``..``)."""
        name = str(name).strip()
        if not name or name in (".", "..") or name.startswith(".") or not _SAFE_NAME.match(name) \
                or Path(name).name != name:
            raise ColorotError(f"{name!r} is not a plain file name; exports go into {self.output_dir}")
        if len(name.encode("utf-8")) > 200:  # room for a _1 suffix and a temporary name within 255 bytes
            raise ColorotError(f"{name[:40]}...: the file name is too long (200 bytes at most)")
        path = (self.output_dir / name).resolve()
        if path.parent != self.output_dir:
            raise ColorotError(f"{name!r} is outside the output folder {self.output_dir}")
        originals = [opened.original for opened in list(self.files.values()) if opened.original is not None]
        if path in originals:
            raise ColorotError(f"{name}: that is an opened photo; colorot never writes over its inputs")
        return path

    def photo_name(self, grade: Grade, name: str | None = None) -> Path:
        """Where :meth:`export_photo` writes: ``name`` (checked: a plain name, a format colorot writes), or the
        photo's name with ``_colorot``."""
        path = self.output_path(name or io.default_output(Path(grade.photo.name)).name)
        io.check_output_path(path, folder_must_exist=False)
        return path

    def export_photo(self, grade: Grade, strength: float, name: str | None = None,
                     quality: int | None = None) -> Path:
        """The full-resolution graded photo, through colorot's faithful writer (depth, ICC, EXIF, alpha)."""
        path = self.photo_name(grade, name)
        self.output_dir.mkdir(parents=True, exist_ok=True)
        with progress.part(0.0, 0.85):
            graded = self.render(grade, strength, full=True)
        progress.report(0.85, "writing")
        written = io.write_image(path, graded, like=grade.photo.image, quality=quality, on_exists="rename")
        if grade.mask is not None:  # the mask beside it, so that the CLI can redo the same grade
            codes = mask_codes(grade.mask, *graded.shape[:2])
            io.write_image(written.with_name(f"{written.stem}_mask.png"), codes[..., None].repeat(3, -1),
                           on_exists="rename")
        return written

    def export_table(self, grade: Grade, strength: float, kind: str, size: int = 33) -> Path:
        """The grade as a ``.cube`` (``size`` 17, 33 or 65) or a look file (``.npz``), named after the photo."""
        from ..apps import looks

        check_table(kind, size)
        if grade.options["refine"] and grade.table is None:
            raise ColorotError("refine is not a function of color: it has no LUT; export the photo instead")
        table = self._table_of(grade, strength, size)
        stem = Path(grade.photo.name).stem
        path = self.output_path(f"{stem}_colorot.cube" if kind == "cube" else f"{stem}_colorot.npz")
        self.output_dir.mkdir(parents=True, exist_ok=True)
        if kind == "cube":
            return looks.write_cube(path, table, on_exists="rename")
        return looks.save_look(path, table, {"strength": strength, **grade.options}, on_exists="rename")

    def _table_of(self, grade: Grade, strength: float, size: int):
        """The grade's table on a ``size``^3 grid, as ``colorot lut`` bakes it."""
        from .. import api
        from ..maps.lut import ColorLUT, identity_grid

        if grade.table is None:
            return _at_nodes(grade.model, size).table(strength)
        grid = identity_grid(size).reshape(1, -1, 3).numpy()
        moved = grid + strength * (api.apply_lut(grade.table, grid) - grid)
        import torch

        return ColorLUT(torch.from_numpy(np.ascontiguousarray(moved.reshape(-1, 3).T.reshape(3, size, size, size))))


def _at_nodes(model, size: int):
    """A fitted model's map at the nodes of a ``size``^3 grid (its table at any strength)."""
    from ..maps.lut import MapAtNodes

    return MapAtNodes(model.steps_, model.fit_space, size=size, blur=model.lut_blur)


def _regrained_preview(model, grade: Grade, preview: np.ndarray) -> np.ndarray:
    """The preview graded at full strength by the photo's map, its regrain's radius scaled to the preview."""
    from ..pixels import image_to_pixels

    scale = max(preview.shape[:2]) / max(grade.photo.image.pixels.shape[:2])
    fitter = model.fitter.with_options(regrain_radius=max(1, round(model.regrain_radius * scale)))
    return fitter.apply(model.lut_, image_to_pixels(preview, "preview"))
