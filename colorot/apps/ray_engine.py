"""``colorot batch --engine ray``: the same graders in a Ray Data actor pool, the files written here."""

from __future__ import annotations

import contextlib
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Callable

from ..errors import ColorotError
from ..io import OutputExists, atomic_write
from .batch import ON_EXISTS, Job, _grade_job, output_extension
from .graders import _shared_table, make_grader

__all__ = ["run_jobs_on_ray"]


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
    progress: Callable[[int], None] | None = None,
    say: Callable[[str], None] | None = None,
    verbose: bool = False,
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

    ``progress(n)`` is called as photos finish (failed ones too), ``say(line)`` before the steps that take a
    while (starting Ray, fitting a shared map); Ray's own logs are kept to fatal errors unless ``verbose``.
    """
    try:
        import ray
    except ImportError:
        raise ColorotError("--engine ray needs the ray extra: pip install 'colorot[ray]'") from None
    from ..io import read_image

    pending = [job for job in jobs if job.status == "pending"]
    by_path = {}
    for job in pending:
        if job.source.is_file():
            by_path[os.path.abspath(job.source)] = job
        else:  # missing or a folder: fails here with the local engine's message
            _grade_job(job, lambda source, output: read_image(source))
    if not by_path:
        return jobs
    say = say or (lambda line: None)
    say("starting Ray" + (f" at {address}" if address else " here (its workers start and import torch: "
                                                                 "about 10-50 s)"))
    with contextlib.nullcontext() if verbose else _ray_logs_to_file():
        _start_ray(ray, address, verbose)
        try:
            _grade_on_ray(ray, by_path, look, options, shared_map, actors, dict(
                quality=quality, strip_metadata=strip_metadata, evaluate=evaluate), extension, progress, say)
        finally:
            ray.shutdown()  # actors end here, not when the process exits (which Ray reports as an error)
    for job in by_path.values():
        if job.status == "pending":
            job.status, job.error = "failed", f"{job.source}: not processed by the Ray job"
    return jobs


def _grade_on_ray(ray, by_path: dict, look, options, shared_map, actors, output_options, extension, progress,
                  say) -> None:
    table = None
    if shared_map:
        say(f"fitting one map over {len(by_path)} photos")
        table = _shared_table(look, options, [job.source for job in by_path.values()])
    gpus = int(ray.cluster_resources().get("GPU", 0))
    cpus = int(ray.cluster_resources().get("CPU", 1))
    count = actors or max(1, gpus or cpus)
    table_array = None if table is None else table.table.detach().cpu().numpy()
    photos_per_actor = len(by_path) // count

    grader = _grader_class(look, options, table_array, dict(**output_options, photos=photos_per_actor), extension)

    # Reading is I/O: no CPU reserved for it, or the actors, which take every CPU, would starve it.
    dataset = ray.data.read_binary_files(list(by_path), include_paths=True, num_cpus=0,
                                         override_num_blocks=min(len(by_path), count * 4))
    graded = dataset.map_batches(grader, batch_size=1, compute=ray.data.ActorPoolStrategy(size=count),
                                 num_gpus=1 if gpus else 0, num_cpus=0 if gpus else 1)
    if progress is not None:
        progress(0)  # grading starts: the bar appears
    for row in graded.iter_rows():  # streamed: each graded file is written as soon as it arrives
        job = by_path.get(os.path.abspath("/" + str(row["path"]).lstrip("/")))
        if job is None:
            continue
        _write_result(job, row)
        if progress is not None:
            progress(1)


@contextlib.contextmanager
def _ray_logs_to_file():
    """Ray's core writes its log lines (warnings among them, at ERROR level) straight to file descriptor 2: for
    the run, that descriptor goes to a temporary file, while ``sys.stderr`` (colorot's lines, the progress bar)
    still reaches the terminal. The file is removed after a run that ends normally, kept (and named) otherwise."""
    sys.stderr.flush()
    saved = os.dup(2)
    log = tempfile.NamedTemporaryFile(prefix="colorot-ray-", suffix=".log", delete=False)
    os.dup2(log.fileno(), 2)
    previous, sys.stderr = sys.stderr, os.fdopen(os.dup(saved), "w", buffering=1)
    failed = True
    try:
        yield
        failed = False
    finally:
        sys.stderr.flush()
        sys.stderr.close()
        sys.stderr = previous
        os.dup2(saved, 2)
        os.close(saved)
        log.close()
        if failed:
            print(f"colorot: Ray's log: {log.name}", file=sys.stderr)
        else:
            os.unlink(log.name)


def _start_ray(ray, address: str | None, verbose: bool = False) -> None:
    """Join (or start) the Ray cluster with its logs and progress bars quiet (unless ``verbose``)."""
    import logging

    if verbose:
        ray.init(address=address, ignore_reinit_error=True, include_dashboard=False)
        return
    ray.init(address=address, ignore_reinit_error=True, include_dashboard=False, log_to_driver=False,
             logging_level=logging.ERROR)
    context = ray.data.DataContext.get_current()  # importing Ray Data sets its loggers up: quiet them after
    context.enable_progress_bars = False
    for name in ("ray", "ray.data"):
        logging.getLogger(name).setLevel(logging.ERROR)


def _write_result(job: Job, row: dict) -> None:
    """Record an actor's result for ``job`` and write its encoded file here, atomically, by the conflict policy."""
    job.status, job.seconds = str(row["status"]), float(row["seconds"])
    job.error = str(row["error"]) or None
    job.figures = json.loads(str(row["figures"]))
    if job.status != "written":
        return
    try:
        job.output.parent.mkdir(parents=True, exist_ok=True)
        job.output = atomic_write(job.output, lambda handle: handle.write(row["output"]),
                                  on_exists=ON_EXISTS[job.on_conflict])
    except OutputExists as error:
        job.status, job.error = ("skipped", None) if job.on_conflict == "skip" else ("failed", str(error))
    except (ColorotError, OSError) as error:
        job.status, job.error = "failed", str(error)


def _grader_class(look: Path, options: dict, table_array, grader_options: dict, extension: str | None) -> type:
    """The Ray actor class: it builds the grader once (a table, when one is sent), then grades photos' bytes."""
    import numpy as np

    class Grader:
        def __init__(self):
            lut = None
            if table_array is not None:
                import torch

                from ..maps.lut import ColorLUT

                lut = ColorLUT(torch.from_numpy(table_array))
            # One CPU per actor: as many workers as CPUs, so that torch and the lookups use one thread each
            # (and a look file applied to 8-bit photos never loads torch).
            self.grade = make_grader(look, options, table=lut, workers=os.cpu_count() or 1,
                                         **grader_options)

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

    return Grader
