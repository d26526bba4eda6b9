"""Batch grading of photo folders: plan the outputs, then grade every photo in a pool of workers.

Each photo is decoded, transferred and encoded by one worker (Pillow, libjpeg
and torch release the GIL, so threads run in parallel); outputs are written
atomically, so an interrupted run leaves no partial file, and
``on_conflict="skip"`` makes a second run resume where the first stopped.
One bad file is recorded in the manifest and the others go on.
"""

from __future__ import annotations

import contextlib
import fnmatch
import glob
import json
import os
import signal
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from . import threads
from .errors import ColorotError
from .io import _FORMATS, OutputExists

__all__ = ["Job", "collect_inputs", "plan_jobs", "run_jobs", "IMAGE_SUFFIXES"]

IMAGE_SUFFIXES = {*_FORMATS, ".gif"}  # what colorot writes, and GIF, which it only reads
CONFLICTS = ("skip", "overwrite", "rename", "error")
#: How each --on-conflict policy writes (:func:`colorot.io.atomic_write`'s ``on_exists``): decided at the moment
#: of writing, so that two runs into one folder never overwrite each other's files.
ON_EXISTS = {"skip": "fail", "error": "fail", "rename": "rename", "overwrite": "replace"}
#: From this many photos on, a table applied to all of them is tabulated at every 8-bit color first
#: (:meth:`colorot.ColorLUT.densify`: about 0.2 s once, then about 5 ms instead of 23 ms per megapixel).
DENSIFY_FROM = 8


@dataclass
class Job:
    """One photo to grade: where it comes from and where it goes."""

    source: Path
    output: Path
    relative: Path | None = None  # the source's path relative to the folder it was found in
    on_conflict: str = "error"  # what to do if the output exists when it is written (see CONFLICTS)
    status: str = "pending"  # written, skipped, failed (pending: not started when the run was stopped)
    error: str | None = None
    seconds: float = 0.0
    figures: dict = field(default_factory=dict)

    def record(self) -> dict:
        return {"input": str(self.source), "output": str(self.output), "status": self.status,
                "error": self.error, "seconds": round(self.seconds, 4), **self.figures}


def collect_inputs(inputs: Iterable[str], *, recursive: bool = False, stdin=None,
                   exclude: Path | None = None) -> list[tuple[Path, Path]]:
    """Expand files, folders, glob patterns and ``-`` (paths on ``stdin``) into ``(file, relative path)``.

    A folder contributes its image files (all the tree's with ``recursive``),
    each with its path relative to the folder; a glob pattern its matches,
    each relative to the pattern's fixed part (``cards/**/*.jpg``: relative
    to ``cards``), so that outputs mirror the tree and two folders' files of
    one name stay apart; a file, or a path from stdin, contributes its name.
    Folders are walked following symbolic links, each real folder once (a
    link loop is not followed twice), and never into ``exclude`` (the output
    folder: a resumed run must not grade its own outputs).
    """
    found: list[tuple[Path, Path]] = []
    for item in inputs:
        if item == "-":
            lines = (stdin or sys.stdin).read().splitlines()
            found.extend((Path(line), Path(Path(line).name)) for line in lines if line.strip())
            continue
        path = Path(item)
        if path.is_dir():
            files = _walk(path, ["**", "*"] if recursive else ["*"], exclude, hidden=True)
            found.extend((p, r) for p, r in files if p.suffix.lower() in IMAGE_SUFFIXES)
        elif not path.exists() and glob.has_magic(item):
            root, parts = _fixed_part(item)
            if not recursive:
                parts = ["*" if part == "**" else part for part in parts]
            found.extend(_walk(root, parts, exclude, hidden=False))
        else:
            found.append((path, Path(path.name)))  # missing files fail later, in the manifest
    return found


def _fixed_part(pattern: str) -> tuple[Path, list[str]]:
    """A glob pattern's folder without wildcards, and the components after it."""
    parts = Path(pattern).parts
    fixed = next(index for index, part in enumerate(parts) if glob.has_magic(part))
    return Path(*parts[:fixed]) if fixed else Path("."), list(parts[fixed:])


def _walk(root: Path, parts: list[str], exclude: Path | None, *, hidden: bool) -> list[tuple[Path, Path]]:
    """The files below ``root`` whose relative path matches the glob components ``parts`` (``**``: any number
    of folders), sorted, with their paths relative to ``root``. Each real folder is entered once; names starting
    with a dot match only a component that starts with one, unless ``hidden``."""
    skip = _real(exclude) if exclude is not None else None
    deepest = None if "**" in parts else len(parts) - 1
    seen, matches = set(), []
    for folder, folders, files in os.walk(root, followlinks=True):
        folder_path = Path(folder)
        depth = len(folder_path.relative_to(root).parts)
        identity = _identity(folder_path)
        if identity in seen or (skip is not None and depth > 0 and _real(folder_path) == skip):
            folders[:] = []
            continue
        seen.add(identity)
        folders.sort()
        if deepest is not None and depth >= deepest:
            folders[:] = []
        for name in sorted(files):
            relative = folder_path.relative_to(root) / name
            if _matches(parts, relative.parts, hidden):
                matches.append((folder_path / name, relative))
    return sorted(matches, key=lambda match: match[1].parts)


def _identity(folder: Path):
    try:
        info = folder.stat()
        return info.st_dev, info.st_ino
    except OSError:
        return str(folder)


def _real(path: Path) -> Path:
    return Path(os.path.realpath(path))


def _matches(parts: list[str], names: tuple, hidden: bool) -> bool:
    """Whether path components ``names`` match glob components ``parts``."""
    if not parts:
        return not names
    if not names:
        return parts == ["**"] * len(parts)
    name = names[0]
    if not hidden and name.startswith(".") and not parts[0].startswith("."):
        return False
    if parts[0] == "**":
        return _matches(parts[1:], names, hidden) or _matches(parts, names[1:], hidden)
    return fnmatch.fnmatchcase(name, parts[0]) and _matches(parts[1:], names[1:], hidden)


def plan_jobs(
    inputs: list[tuple[Path, Path]],
    output_dir: Path,
    *,
    suffix: str = "",
    extension: str | None = None,
    on_conflict: str = "error",
) -> list[Job]:
    """Output paths under ``output_dir`` mirroring the inputs' relative paths."""
    from .io import same_file

    if on_conflict not in CONFLICTS:
        raise ColorotError(f"on_conflict must be one of {', '.join(CONFLICTS)}")
    if extension is not None and output_extension(Path("x"), extension).lower() not in _FORMATS:
        raise ColorotError(f"--format {extension}: unknown output format; use one of "
                           f"{', '.join(sorted(e.lstrip('.') for e in _FORMATS))}")
    jobs, planned = [], set()
    for source, relative in inputs:
        output = output_dir / relative.parent / f"{relative.stem}{suffix}{output_extension(relative, extension)}"
        if output in planned:
            raise ColorotError(f"{output}: two inputs would be written here; use --suffix or keep the tree")
        planned.add(output)
        job = Job(source, output, relative, on_conflict)
        if same_file(source, output):
            job.status, job.error = "failed", (f"{output}: refusing to overwrite its input {source}; choose "
                                               "another --output-dir or --suffix")
        elif output.exists():
            if on_conflict == "skip":
                job.status = "skipped"
            elif on_conflict == "error":
                job.status, job.error = "failed", (f"{source}: output exists at {output} (use --on-conflict skip, "
                                                   "overwrite or rename)")
            elif on_conflict == "rename":
                job.output = _free_name(output)
        jobs.append(job)
    return jobs


def output_extension(source: Path, extension: str | None = None) -> str:
    """The output's extension: ``extension`` when given, else the source's when colorot writes that format,
    else ``.png``."""
    ext = extension or (source.suffix if source.suffix.lower() in _FORMATS else ".png")
    return ext if ext.startswith(".") else "." + ext


def _free_name(path: Path) -> Path:
    number = 1
    while True:
        candidate = path.with_name(f"{path.stem}_{number}{path.suffix}")
        if not candidate.exists():
            return candidate
        number += 1


class Stopped(Exception):
    """The run was stopped by a signal: the photos in progress were finished, the others not started."""

    def __init__(self, signal_number: int):
        super().__init__(signal_number)
        self.signal_number = signal_number

    @property
    def exit_status(self) -> int:
        """128 + the signal's number, as a shell reports a process that a signal ended (130, 143)."""
        return 128 + self.signal_number


def run_jobs(
    jobs: list[Job],
    grade: Callable[[Path, Path], dict | None],
    *,
    workers: int = 1,
    progress: Callable[[int], None] | None = None,
    on_stop: Callable[[int, int], None] | None = None,
) -> list[Job]:
    """Run ``grade(source, output)`` for every pending job in a pool of ``workers`` threads.

    A :class:`ColorotError` (or any other exception) fails that job only.
    Each worker's photo uses its share of colorot's threads (``cores //
    workers``). Called from the main thread, SIGINT (Ctrl-C) and SIGTERM stop the run,
    however many arrive: the jobs not started stay ``pending``, the running
    ones finish their atomic writes (no temporary file is left), every
    worker has ended when :class:`Stopped` is raised, so the jobs' statuses
    are a true summary. ``on_stop(signal number, photos in progress)`` is
    called at each signal (to say what is happening).
    """
    pending = [job for job in jobs if job.status == "pending"]
    stop = threading.Event()
    running = [0]
    lock = threading.Lock()

    def work(job: Job) -> Job:
        with lock:
            if stop.is_set():
                return job
            running[0] += 1
        try:
            return _grade_job(job, grade)
        finally:
            with lock:
                running[0] -= 1

    received: list[int] = []

    def on_signal(number, frame) -> None:
        received.append(number)
        stop.set()
        if on_stop is not None:
            on_stop(number, running[0])

    # jobs x threads <= cores: each worker's photo gets its share of colorot's threads.
    with _signals_handled(on_signal), threads.limit(threads_per_worker(workers)), \
            ThreadPoolExecutor(max(1, workers)) as pool:
        futures = [pool.submit(work, job) for job in pending]
        for future in as_completed(futures):
            job = future.result()
            if progress is not None and job.status != "pending":
                progress(1)
    if received:
        raise Stopped(received[0])
    return jobs


@contextlib.contextmanager
def _signals_handled(handler):
    """SIGINT and SIGTERM call ``handler`` for the block's duration (in the main thread; elsewhere, nothing)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    numbers = (signal.SIGINT, signal.SIGTERM)
    previous = {number: signal.signal(number, handler) for number in numbers}
    try:
        yield
    finally:
        for number, old in previous.items():
            signal.signal(number, old)


def _grade_job(job: Job, grade: Callable[[Path, Path], dict | None]) -> Job:
    """Run ``grade`` for one job and record its status, error, time and figures; never raises."""
    start = time.perf_counter()
    try:
        _make_folder(job.output.parent)
        figures = dict(grade(job.source, job.output) or {})
        job.output = Path(figures.pop("written", job.output))
        job.figures, job.status = figures, "written"
    except OutputExists as error:
        if job.on_conflict == "skip":
            job.status = "skipped"
        else:
            job.status, job.error = "failed", f"{job.source}: {error}"
    except ColorotError as error:
        job.status, job.error = "failed", str(error)
    except OSError as error:
        job.status, job.error = "failed", f"{job.source}: {error.strerror or error}"
    except Exception as error:  # noqa: BLE001 - one bad file never stops the batch
        job.status, job.error = "failed", f"{job.source}: {type(error).__name__}: {error}"
    job.seconds = time.perf_counter() - start
    return job


def _make_folder(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ColorotError(f"{folder}: cannot create the output folder ({error.strerror or error})") from None


def threads_per_worker(workers: int) -> int:
    """Split colorot's CPU threads (:func:`colorot.threads.cpu_threads`) among the workers."""
    return max(1, threads.cpu_threads() // max(1, workers))


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
    8-bit photos (:data:`DENSIFY_FROM`). With one map per photo, ``fit_batch``
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
    import threading

    from . import dense_lut, io, looks, styles

    look = Path(look)
    look_is_table = looks.is_lut_file(look)
    # One table for many 8-bit photos is tabulated and applied with numpy, whether it comes from a look file or
    # was fitted here over the shoot, so that both give the same files on any machine.
    can_tabulate = interpolation == "trilinear" and options.get("device") in (None, "auto", "cpu") \
        and dense_lut.AVAILABLE
    tabulates = can_tabulate and max(photos, len(shared_sources or ())) >= DENSIFY_FROM
    tabulated_options = dict(quality=quality, strip_metadata=strip_metadata, notes=notes, workers=workers,
                             on_exists=on_exists)
    # A LUT file is always tabulated for 8-bit photos, so that a photo gets the same bytes whether it is graded
    # alone or among many (Pillow's fixed-point kernel differs by a code on about 1% of colors).
    if table is None and look_is_table and can_tabulate and look.suffix.lower() != ".safetensors":
        table_array, shaper = looks.load_table(look)
        return _tabulated_grader(table_array, options, shaper=shaper, **tabulated_options)
    style_file, models, lock = None, {}, threading.Lock()
    if not look_is_table and (table is None or evaluate):
        style_file = styles.read_style(look, notes=notes)
    if table is None and not look_is_table and shared_sources is not None:
        table = _shared_table(style_file, options, shared_sources, workers)
    if table is not None and tabulates and table.table.shape[0] == 1:
        return _tabulated_grader(table.table[0].detach().cpu().float().numpy(), options,
                                 style=style_file.pixels if evaluate and style_file is not None else None,
                                 **tabulated_options)
    from . import api
    from ._convert import image_to_pixels

    device = api.resolve_device(options.get("device"))
    if table is None and look_is_table:
        table = looks.load_lut(look, device)
    table = table.to(device) if table is not None else None
    tabulated = None
    if table is not None and device.type == "cpu" and interpolation == "trilinear" and \
            max(photos, len(shared_sources or ())) >= DENSIFY_FROM:
        tabulated = _in_background(table.densify)  # while the first photos decode

    def model_for(profile: bytes | None):
        key = profile or b""
        with lock:
            if key not in models:
                models[key] = api.ColorTransfer(**options).fit(styles.in_profile(style_file, profile))
            return models[key]

    batcher = _FitBatcher(model_for, fit_batch) if table is None and fit_batch > 1 else None

    def grade(source: Path, output: Path) -> dict:
        image = io.read_image(source)
        if notes is not None:
            notes(image)
        if table is not None:
            if tabulated is not None:
                tabulated.result()  # every photo goes through the tabulated table: the same files whatever the timing
            result = api._apply_lut(table, image_to_pixels(image.pixels, str(source)), device,
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
                      workers: int, on_exists: str = "replace", style=None, shaper=None) -> Callable[[Path, Path], dict]:
    """Grade with a ``(3, S, S, S)`` table (read through ``shaper``, a :class:`~colorot.shaper.Shaper`, if any)
    tabulated at every 8-bit color (:mod:`colorot.dense_lut`): one gather per pixel of an 8-bit RGB(A) photo, no
    torch; other photos go through the torch kernels, built on first need.
    With ``style`` (pixels), each result's sliced W2 to it is returned (this needs torch)."""
    import threading

    import numpy as np

    from . import dense_lut, io

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
                    from . import api
                    from ._convert import image_to_pixels
                    from .looks import _as_lut

                    device = api.resolve_device(options.get("device"))
                    lut = _as_lut(table, shaper, device=device)
                    torch_grader.append(lambda pixels, name: api._apply_lut(lut, image_to_pixels(pixels, name), device))
            result = torch_grader[0](pixels, str(source))
        written = io.write_image(output, result, like=image, quality=quality, strip_metadata=strip_metadata,
                                 on_exists=on_exists)
        return {**({} if style is None else _distance_to_style(result, style)), "written": written}

    return grade


def _distance_to_style(result, style) -> dict:
    """The figures of ``--json`` for one graded photo: its sliced W2 to the style."""
    from .metrics import color_distance

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
        import threading

        self.model_for, self.size, self.wait = model_for, size, wait
        self.condition = threading.Condition()
        self.queue: list[tuple] = []
        threading.Thread(target=self._serve, daemon=True, name="colorot-fit-batcher").start()

    def __call__(self, profile: bytes | None, pixels, name: str):
        import threading

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


def run_jobs_on_ray(
    jobs: list[Job],
    look: Path,
    options: dict,
    *,
    address: str | None = None,
    actors: int | None = None,
    shared_map: bool = False,
    quality: int | None = None,
    strip_metadata: bool = False,
    evaluate: bool = False,
    extension: str | None = None,
) -> list[Job]:
    """Run the pending jobs with Ray Data: the photos' bytes in, graded files' bytes out.

    Ray's binary-file reader reads each photo (on whichever node runs the read
    task, so the photos must be on storage every node sees) and feeds its
    bytes to an actor pool in which each actor builds the grader once (a GPU
    per actor when the cluster has GPUs); an actor decodes, grades and
    encodes with the local engine's code and returns the encoded file, which
    is written here, atomically: only this node needs to see the output
    folder. ``extension`` is the plan's output extension (see
    :func:`plan_jobs`). With ``shared_map`` the map is fitted here, from the
    photos, and sent to the actors.
    """
    try:
        import ray
    except ImportError:
        raise ColorotError("--engine ray needs the ray extra: pip install 'colorot[ray]'") from None
    import logging

    import numpy as np

    from .io import atomic_write, read_image

    pending = [job for job in jobs if job.status == "pending"]
    by_path = {}
    for job in pending:
        if job.source.is_file():
            by_path[os.path.abspath(job.source)] = job
        else:  # missing or a folder: fails here with the local engine's message
            _grade_job(job, lambda source, output: read_image(source))
    if not by_path:
        return jobs
    ray.init(address=address, ignore_reinit_error=True, include_dashboard=False, log_to_driver=False,
             logging_level=logging.ERROR)
    context = ray.data.DataContext.get_current()  # importing Ray Data sets its loggers up: quiet them after
    context.enable_progress_bars = False
    for name in ("ray", "ray.data"):
        logging.getLogger(name).setLevel(logging.ERROR)
    table = None
    if shared_map:
        table = _shared_table(look, options, [job.source for job in by_path.values()])
    gpus = int(ray.cluster_resources().get("GPU", 0))
    cpus = int(ray.cluster_resources().get("CPU", 1))
    count = actors or max(1, gpus or cpus)
    table_array = None if table is None else table.table.detach().cpu().numpy()
    photos_per_actor = len(by_path) // count

    class Grader:
        def __init__(self):
            lut = None
            if table_array is not None:
                import torch

                from .transport_map import ColorLUT

                lut = ColorLUT(torch.from_numpy(table_array))
            # One CPU per actor: as many workers as CPUs, so that torch and the lookups use one thread each
            # (and a look file applied to 8-bit photos never loads torch).
            self.grade = make_grader(look, options, table=lut, quality=quality, strip_metadata=strip_metadata,
                                     evaluate=evaluate, photos=photos_per_actor, workers=os.cpu_count() or 1)

        def __call__(self, batch: dict) -> dict:
            import tempfile

            rows = {"path": [], "status": [], "error": [], "seconds": [], "figures": [], "output": []}
            for path, data in zip(batch["path"], batch["bytes"]):
                with tempfile.TemporaryDirectory(prefix="colorot-") as folder:
                    source = Path(folder) / f"photo{Path(path).suffix}"
                    source.write_bytes(data)
                    output = Path(folder) / f"graded{output_extension(Path(path), extension)}"
                    job = _grade_job(Job(source, output), self.grade)
                    rows["output"].append(output.read_bytes() if job.status == "written" else b"")
                rows["path"].append(path)
                rows["status"].append(job.status)
                rows["error"].append((job.error or "").replace(str(source), str(path)))
                rows["seconds"].append(job.seconds)
                rows["figures"].append(json.dumps(job.figures))
            return {name: np.array(values, dtype=object if name == "output" else None)
                    for name, values in rows.items()}

    # Reading is I/O: no CPU reserved for it, or the actors, which take every CPU, would starve it.
    dataset = ray.data.read_binary_files(list(by_path), include_paths=True, num_cpus=0,
                                         override_num_blocks=min(len(by_path), count * 4))
    graded = dataset.map_batches(Grader, batch_size=1, compute=ray.data.ActorPoolStrategy(size=count),
                                 num_gpus=1 if gpus else 0, num_cpus=0 if gpus else 1)
    try:
        for row in graded.iter_rows():  # streamed: each graded file is written as soon as it arrives
            job = by_path.get(os.path.abspath("/" + str(row["path"]).lstrip("/")))
            if job is None:
                continue
            job.status, job.seconds = str(row["status"]), float(row["seconds"])
            job.error = str(row["error"]) or None
            job.figures = json.loads(str(row["figures"]))
            if job.status == "written":
                try:
                    job.output.parent.mkdir(parents=True, exist_ok=True)
                    job.output = atomic_write(job.output, lambda handle, data=row["output"]: handle.write(data),
                                              on_exists=ON_EXISTS[job.on_conflict])
                except OutputExists as error:
                    job.status, job.error = ("skipped", None) if job.on_conflict == "skip" else ("failed", str(error))
                except (ColorotError, OSError) as error:
                    job.status, job.error = "failed", str(error)
    finally:
        ray.shutdown()  # actors end here, not when the process exits (which Ray reports as an error)
    for job in by_path.values():
        if job.status == "pending":
            job.status, job.error = "failed", f"{job.source}: not processed by the Ray job"
    return jobs


def _shared_table(look, options: dict, sources: list, workers: int | None = None):
    """The LUT of one map fitted over ``sources`` to the style ``look`` (a path or an ImageFile read already),
    unreadable sources left out: what ``colorot fit`` fits on them (:func:`colorot.looks.fit_lut_from_files`:
    each photo sampled from a reduced decode, ``n_samples`` colors in all), read in ``workers`` threads."""
    from .looks import fit_lut_from_files

    return fit_lut_from_files(look, sources, size=65, skip_unreadable=True, workers=workers, **options)


def paired_grader(style_dir: Path, jobs: list[Job], options: dict, **grader_options) -> Callable[[Path, Path], dict]:
    """Grade each photo to its own style: the image in ``style_dir`` at the photo's relative path, with the
    same name and any image extension (one grader, so one style sampling, per style)."""
    import threading

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
