"""Batch grading of photo folders: find the inputs, plan the outputs, then grade every photo in a pool of
workers (the graders are in :mod:`colorot.apps.graders`, the Ray engine in :mod:`colorot.apps.ray_engine`).

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
import os
import signal
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from .. import threads
from ..errors import ColorotError
from ..io import _FORMATS, OutputExists, refuse_overwriting_inputs

__all__ = ["Job", "collect_inputs", "plan_jobs", "run_jobs", "IMAGE_SUFFIXES"]

IMAGE_SUFFIXES = {*_FORMATS, ".gif"}  # what colorot writes, and GIF, which it only reads
CONFLICTS = ("skip", "overwrite", "rename", "error")
#: How each --on-conflict policy writes (:func:`colorot.io.atomic_write`'s ``on_exists``): decided at the moment
#: of writing, so that two runs into one folder never overwrite each other's files.
ON_EXISTS = {"skip": "fail", "error": "fail", "rename": "rename", "overwrite": "replace"}


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
    """Output paths under ``output_dir`` mirroring the inputs' relative paths.

    An input that is another input's output (a folder graded into itself with ``--suffix``, run again) is
    left out: a run never grades its own outputs. With ``on_conflict="rename"`` the free name is chosen when
    the file is written (:func:`colorot.io.atomic_write`), so that concurrent runs do not pick the same one.
    """
    if on_conflict not in CONFLICTS:
        raise ColorotError(f"on_conflict must be one of {', '.join(CONFLICTS)}")
    if extension is not None and output_extension(Path("x"), extension).lower() not in _FORMATS:
        raise ColorotError(f"--format {extension}: unknown output format; use one of "
                           f"{', '.join(sorted(e.lstrip('.') for e in _FORMATS))}")
    inputs = _without_outputs(inputs, output_dir, suffix, extension)
    jobs, planned = [], set()
    for source, relative in inputs:
        output = output_dir / relative.parent / f"{relative.stem}{suffix}{output_extension(relative, extension)}"
        if output in planned:
            raise ColorotError(f"{output}: two inputs would be written here; use --suffix or keep the tree")
        planned.add(output)
        job = Job(source, output, relative, on_conflict)
        try:
            refuse_overwriting_inputs(output, (source,))
        except ColorotError as error:
            job.status, job.error = "failed", f"{error} (--output-dir or --suffix)"
            jobs.append(job)
            continue
        if output.exists():
            if on_conflict == "skip":
                job.status = "skipped"
            elif on_conflict == "error":
                job.status, job.error = "failed", (f"{source}: output exists at {output} (use --on-conflict skip, "
                                                   "overwrite or rename)")
        jobs.append(job)
    return jobs


def _without_outputs(inputs: list, output_dir: Path, suffix: str, extension: str | None) -> list:
    """The inputs less those that another input's output would be (resolved paths)."""
    output_of = {os.path.realpath(output_dir / relative.parent / f"{relative.stem}{suffix}"
                                  f"{output_extension(relative, extension)}"): index
                 for index, (_, relative) in enumerate(inputs)}
    # An input named as its own output is kept: the overwrite guard refuses it with a message.
    return [(source, relative) for index, (source, relative) in enumerate(inputs)
            if output_of.get(os.path.realpath(source), index) == index]


def output_extension(source: Path, extension: str | None = None) -> str:
    """The output's extension: ``extension`` when given, else the source's when colorot writes that format,
    else ``.png``."""
    ext = extension or (source.suffix if source.suffix.lower() in _FORMATS else ".png")
    return ext if ext.startswith(".") else "." + ext


class Stopped(BaseException):
    """The run was stopped by a signal: the photos in progress were finished, the others not started. A
    BaseException, as KeyboardInterrupt is: no ``except Exception`` takes it for a failure."""

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
    """SIGINT, SIGTERM and SIGHUP call ``handler`` for the block's duration (in the main thread; elsewhere,
    nothing)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    numbers = (signal.SIGINT, signal.SIGTERM) + ((signal.SIGHUP,) if hasattr(signal, "SIGHUP") else ())
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


