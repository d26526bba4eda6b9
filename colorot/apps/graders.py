"""Graders: the function that grades one photo of a batch, ``(source path, output path) -> figures``.

A style photo (one map fitted per photo, in batches on a GPU, or one over the whole shoot) or a look/LUT file
(tabulated at every 8-bit color and applied with numpy alone: torch is imported only for a photo of another
depth); a style per photo with ``--style-dir``. The same graders serve the local engine and each Ray actor.
"""

from __future__ import annotations

import glob
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable

from .. import io
from ..errors import ColorotError
from ..io import styles
from ..maps import dense as dense_lut
from . import looks
from .batch import IMAGE_SUFFIXES, Job

__all__ = ["make_grader", "paired_grader"]


def make_grader(
    look: Path,
    options: dict,
    *,
    shared_sources: list | None = None,
    table=None,
    quality: int | None = None,
    strip_metadata: bool = False,
    evaluate: bool = False,
    notes: Callable | None = None,
    interpolation: str = "trilinear",
    photos: int = 1,
    fit_batch: int = 1,
    workers: int = 1,
    on_exists: str = "replace",
) -> Callable[[Path, Path], dict]:
    """The function that grades one photo, ``(source path, output path) -> figures``.

    ``look`` is a style image (its colors sampled once; one map fitted per
    photo, or one over ``shared_sources``) or a look/LUT file; ``table``, when
    given, is applied as is (with ``interpolation``). ``notes(image_file)`` is
    called for the style and each photo read. ``photos``, the number of
    photos it will grade, decides whether one table is worth tabulating for
    8-bit photos (:func:`colorot.maps.dense.tabulates`). With one map per photo, ``fit_batch``
    photos arriving together from the worker threads are fitted in one
    batched call (:meth:`colorot.ColorTransfer.transform_each`: the same
    results, fewer and larger tensor operations, which is what a GPU needs).
    ``workers``, the number of threads that will call it, splits torch's
    threads among them. A look/LUT file applied to many photos (unless a
    device other than the CPU is asked for) is tabulated at every 8-bit color
    and applied to 8-bit photos with numpy alone: torch is imported only for
    a photo of another depth. ``on_exists`` is how each output is written
    (:func:`colorot.io.atomic_write`); the figures returned name the file
    written (``"written"``). Thread-safe; also what each Ray actor builds once.
    """
    look = Path(look)
    look_is_table = looks.is_lut_file(look)
    # One table for many 8-bit photos is tabulated and applied with numpy, whether it comes from a look file or
    # was fitted here over the shoot, so that both give the same files on any machine.
    can_tabulate = dense_lut.tabulates(dense_lut.DENSIFY_FROM, options.get("device"), interpolation)
    tabulates = dense_lut.tabulates(max(photos, len(shared_sources or ())), options.get("device"), interpolation)
    tabulated_options = dict(quality=quality, strip_metadata=strip_metadata, notes=notes, workers=workers,
                             on_exists=on_exists)
    # A LUT file is always tabulated for 8-bit photos, so that a photo gets the same bytes whether it is graded
    # alone or among many (Pillow's fixed-point kernel differs by a code on a few percent of colors).
    if table is None and look_is_table and can_tabulate and look.suffix.lower() != ".safetensors":
        table_array, shaper = looks.load_table(look)
        return _tabulated_grader(table_array, options, shaper=shaper, clamps_inputs=look.suffix.lower() != ".npz",
                                 **tabulated_options)
    style_file, models, lock = None, {}, threading.Lock()
    if not look_is_table and (table is None or evaluate):
        style_file = styles.read_style(look, notes=notes)
    if table is None and not look_is_table and shared_sources is not None:
        table = _shared_table(style_file, options, shared_sources, workers)
    if table is not None and tabulates and table.table.shape[0] == 1:
        return _tabulated_grader(table.table[0].detach().cpu().float().numpy(), options,
                                 style=style_file.pixels if evaluate and style_file is not None else None,
                                 **tabulated_options)
    from ..devices import resolve_device
    from ..estimator import ColorTransfer
    from ..pixels import image_to_pixels
    from ..maps.kernels import apply_table

    device = resolve_device(options.get("device"))
    if table is None and look_is_table:
        table = looks.load_lut(look, device)
    table = table.to(device) if table is not None else None
    tabulated = None
    if table is not None and dense_lut.tabulates(max(photos, len(shared_sources or ())), device, interpolation):
        tabulated = _in_background(table.densify)  # while the first photos decode

    def model_for(profile: bytes | None):
        key = profile or b""
        with lock:
            if key not in models:
                models[key] = ColorTransfer(**options).fit(styles.in_profile(style_file, profile))
            return models[key]

    batcher = _FitBatcher(model_for, fit_batch) if table is None and fit_batch > 1 else None

    def grade(source: Path, output: Path) -> dict:
        image = io.read_image(source)
        if notes is not None:
            notes(image)
        if table is not None:
            if tabulated is not None:
                tabulated.result()  # every photo goes through the tabulated table: the same files whatever the timing
            result = apply_table(table, image_to_pixels(image.pixels, str(source)), device,
                                    interpolation=interpolation)
        elif batcher is not None:
            result = batcher(image.icc_profile, image.pixels, str(source))
        else:
            result = model_for(image.icc_profile).transform(image.pixels)
        written = io.write_image(output, result, like=image, quality=quality, strip_metadata=strip_metadata,
                                 on_exists=on_exists)
        figures = _distance_to_style(result, style_file.pixels) if evaluate and style_file is not None else {}
        return {**figures, "written": written}

    return grade


def _tabulated_grader(table, options: dict, *, quality: int | None, strip_metadata: bool, notes: Callable | None,
                      workers: int, on_exists: str = "replace", style=None, shaper=None,
                      clamps_inputs: bool = False) -> Callable[[Path, Path], dict]:
    """Grade with a ``(3, S, S, S)`` table (read through ``shaper``, a :class:`~colorot.maps.shaper.Shaper`, if any;
    ``clamps_inputs`` as :class:`~colorot.maps.lut.ColorLUT` takes it)
    tabulated at every 8-bit color (:mod:`colorot.maps.dense`): one gather per pixel of an 8-bit RGB(A) photo, no
    torch; other photos go through the torch kernels, built on first need.
    With ``style`` (pixels), each result's sliced W2 to it is returned (this needs torch)."""
    import numpy as np

    coordinates = None if shaper is None else shaper.at_codes()
    dense = _in_background(dense_lut.tabulate_uint8, table, coordinates)  # while the first photos decode
    lock, torch_grader = threading.Lock(), []

    def grade(source: Path, output: Path) -> dict:
        image = io.read_image(source)
        if notes is not None:
            notes(image)
        pixels = image.pixels
        if pixels.dtype == np.uint8 and pixels.ndim == 3 and pixels.shape[-1] in (3, 4):
            result = dense_lut.lookup_uint8(dense.result(), pixels)  # in the threads the workers leave idle
        else:  # 16-bit, float or grayscale: the general kernel (torch)
            with lock:
                if not torch_grader:
                    from ..devices import resolve_device
                    from ..pixels import image_to_pixels
                    from ..maps.kernels import apply_table

                    device = resolve_device(options.get("device"))
                    lut = looks._as_lut(table, shaper, device=device, clamps_inputs=clamps_inputs)
                    torch_grader.append(lambda pixels, name: apply_table(lut, image_to_pixels(pixels, name), device))
            result = torch_grader[0](pixels, str(source))
        written = io.write_image(output, result, like=image, quality=quality, strip_metadata=strip_metadata,
                                 on_exists=on_exists)
        return {**({} if style is None else _distance_to_style(result, style)), "written": written}

    return grade


def _distance_to_style(result, style) -> dict:
    """The figures of ``--json`` for one graded photo: its sliced W2 to the style."""
    from ..measures.metrics import color_distance

    return {"sw2_to_style": round(color_distance(result, style), 5)}


def _in_background(function: Callable, *args):
    """``function(*args)`` started in a thread of its own; its future (``.result()`` waits, and raises what it
    raised)."""
    pool = ThreadPoolExecutor(1, thread_name_prefix="colorot-tabulate")
    future = pool.submit(function, *args)
    pool.shutdown(wait=False)  # the task still runs; the thread ends after it
    return future


class _FitBatcher:
    """Grades photos handed over by worker threads in batches of up to ``size``, one fitting thread.

    The thread takes the first waiting photo, waits up to ``wait`` seconds for
    more (until ``size``), and grades them with one
    :meth:`~colorot.ColorTransfer.transform_each` per ICC profile; a batch that
    fails is graded photo by photo, so one bad photo fails alone.
    """

    def __init__(self, model_for: Callable, size: int, wait: float = 0.1):
        self.model_for, self.size, self.wait = model_for, size, wait
        self.condition = threading.Condition()
        self.queue: list[tuple] = []
        threading.Thread(target=self._serve, daemon=True, name="colorot-fit-batcher").start()

    def __call__(self, profile: bytes | None, pixels, name: str):
        slot = {"done": threading.Event()}
        with self.condition:
            self.queue.append((profile, pixels, name, slot))
            self.condition.notify_all()
        slot["done"].wait()
        if "error" in slot:
            raise slot["error"]
        return slot["result"]

    def _serve(self) -> None:
        while True:
            with self.condition:
                self.condition.wait_for(lambda: self.queue)
                deadline = time.monotonic() + self.wait
                while len(self.queue) < self.size and (left := deadline - time.monotonic()) > 0:
                    self.condition.wait(left)
                taken, self.queue = self.queue[: self.size], self.queue[self.size :]
            for profile in dict.fromkeys(item[0] for item in taken):
                self._grade([item for item in taken if item[0] == profile])

    def _grade(self, items: list[tuple]) -> None:
        try:
            model = self.model_for(items[0][0])
            results = model.transform_each([item[1] for item in items]) if len(items) > 1 else None
        except Exception:  # noqa: BLE001 - graded one by one below, so that each photo reports its own error
            results = None
        for index, (_, pixels, name, slot) in enumerate(items):
            try:
                model = self.model_for(items[0][0])
                slot["result"] = results[index] if results is not None else model.transform(pixels)
            except BaseException as error:  # noqa: BLE001 - handed to the photo's worker, which records it
                slot["error"] = error if isinstance(error, ColorotError) else ColorotError(f"{name}: {error}")
            finally:
                slot["done"].set()  # a worker never waits forever


def _shared_table(look, options: dict, sources: list, workers: int | None = None):
    """The LUT of one map fitted over ``sources`` to the style ``look`` (a path or an ImageFile read already),
    unreadable sources left out (:func:`colorot.apps.grading.fit_shared_table`), read in ``workers`` threads."""
    from .grading import fit_shared_table

    return fit_shared_table(look, sources, options, skip_unreadable=True, workers=workers)


def paired_grader(style_dir: Path, jobs: list[Job], options: dict, **grader_options) -> Callable[[Path, Path], dict]:
    """Grade each photo to its own style: the image in ``style_dir`` at the photo's relative path, with the
    same name and any image extension (one grader, so one style sampling, per style)."""
    relatives = {job.source: job.relative or Path(job.source.name) for job in jobs}
    graders: dict = {}
    lock = threading.Lock()

    def grade(source: Path, output: Path) -> dict:
        relative = relatives[source]
        folder = Path(style_dir) / relative.parent
        styles = sorted(p for p in folder.glob(f"{glob.escape(relative.stem)}.*")
                        if p.suffix.lower() in IMAGE_SUFFIXES) if folder.is_dir() else []
        if not styles:
            raise ColorotError(f"{source}: no style {relative.stem}.* in {folder}")
        with lock:
            if styles[0] not in graders:
                graders[styles[0]] = make_grader(styles[0], options, **grader_options)
            grader = graders[styles[0]]
        return grader(source, output)

    return grade
