"""Long jobs of the window (fitting a map, exporting at full resolution, a batch): run in a worker thread, with
progress the page polls and a cancel flag checked between steps and wherever the engine reports progress
(:mod:`colorot.progress`: between refine rounds, as the strips of a large photo are looked up)."""

from __future__ import annotations

import itertools
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Callable

from .. import progress
from ..errors import ColorotError

__all__ = ["Job", "JobRunner", "Cancelled"]


class Cancelled(Exception):
    """Raised at a job's next step once the user cancelled it."""


@dataclass
class Job:
    """One job: ``state`` is ``"running"``, ``"done"``, ``"failed"`` or ``"cancelled"``; ``done`` of ``total``
    steps (a float: the current step's share done is added), the current ``message``, the ``result`` (a dict)
    or the ``error`` (one line)."""

    id: str
    total: int = 1
    done: float = 0
    message: str = ""
    state: str = "running"
    result: dict = field(default_factory=dict)
    error: str | None = None
    cancel_requested: threading.Event = field(default_factory=threading.Event)
    page: str | None = None  # the page that asked for it
    _step: tuple[int, str] = (0, "")  # the current step: its number and its message

    def step(self, message: str, done: int | None = None) -> None:
        """Begin a step (``done`` steps are behind it); raises :class:`Cancelled` when the user asked to stop."""
        if self.cancel_requested.is_set():
            raise Cancelled
        done = self._step[0] if done is None else done
        self._step, self.message, self.done = (done, message), message, done

    def report(self, fraction: float, message: str | None = None) -> None:
        """The engine's progress within the current step (a :func:`colorot.progress.reporting` callback);
        raises :class:`Cancelled` when the user asked to stop, which ends the engine's call there."""
        if self.cancel_requested.is_set():
            raise Cancelled
        done, step_message = self._step
        self.done = min(done + fraction, self.total)
        if message:
            self.message = f"{step_message}: {message}" if step_message else message

    def describe(self) -> dict:
        return {"id": self.id, "state": self.state, "done": self.done, "total": self.total,
                "message": self.message, "result": self.result, "error": self.error}


class JobRunner:
    """Runs jobs one after another in a worker thread (the CPU is shared: two fits at once are each slower)."""

    def __init__(self, shown: Callable[[str], str] = str):
        self._shown = shown  # how an error is put to the page (the workspace names its files as the page does)
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="colorot-ui")
        self._jobs: dict[str, Job] = {}
        self._ids = itertools.count(1)

    def submit(self, work: Callable[[Job], dict], total: int = 1, page: str | None = None) -> Job:
        job = Job(f"j{next(self._ids)}", total=total, page=page, message="waiting for the job before it")
        self._jobs[job.id] = job
        self._pool.submit(self._run, job, work)
        return job

    def _run(self, job: Job, work: Callable[[Job], dict]) -> None:
        try:
            job.step("starting")
            with progress.reporting(job.report):
                job.result = work(job) or {}
            job.state, job.done = "done", job.total
        except Cancelled:
            job.state, job.message = "cancelled", "cancelled"
        except ColorotError as error:
            job.state, job.error = "failed", self._shown(str(error))
        except MemoryError:
            job.state, job.error = "failed", "out of memory; try a smaller photo"
        except Exception as error:  # noqa: BLE001 - the page gets one line, never a traceback
            job.state, job.error = "failed", self._shown(f"unexpected {type(error).__name__}: {error}")

    def get(self, job_id: str) -> Job:
        job = self._jobs.get(job_id)
        if job is None:
            raise ColorotError(f"no job {job_id!r}")
        return job

    def cancel_page(self, page: str) -> None:
        """Cancel the jobs a closed page asked for."""
        for job in list(self._jobs.values()):
            if page and job.page == page:
                job.cancel_requested.set()

    def shutdown(self) -> None:
        for job in self._jobs.values():
            job.cancel_requested.set()
        self._pool.shutdown(wait=True, cancel_futures=True)
