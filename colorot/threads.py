"""How many threads colorot's CPU work uses, and torch's thread setting scoped to colorot's own calls.

A machine is rarely idle. torch's CPU kernels run on OpenMP threads that spin
while they wait for work; for the small tensors of a fit (65,536 colors, a
few hundred operations) two threads gain a few tens of milliseconds on an
idle 2-core machine and lose hundreds when another process holds a core
(``benchmarks/contention.py``). So each of colorot's calls counts the
threads of other processes that are running (:func:`others_running`, from
the kernel's counts: about 0.1 ms) and gives its fitting and baking only the
cores left free (:func:`free_threads`); small per-pixel passes run on one
thread, and strips of large ones run in Python threads that block rather
than spin (Pillow's kernel, the tabulated lookup, the search for the table's
nodes an image reads).

The thread count is, in order: :func:`limit` (``colorot batch --jobs N``
gives each of its ``N`` workers ``cores // N``), ``COLOROT_THREADS``,
``OMP_NUM_THREADS``, the CPUs this process may run on. torch's own setting
is changed only inside colorot's calls, and restored when the last of them
returns: a host program keeps its settings.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import os
import queue
import threading
import time

from . import progress
from .errors import ColorotError

__all__ = ["cpu_threads", "free_threads", "others_running", "limit", "leaving", "torch_threads", "fitting",
           "for_work", "in_strips", "SMALL_WORK"]

#: Elements (pixels, colors) below which a torch pass runs on one thread: a 65^3 table, a 640 px copy.
SMALL_WORK = 1 << 20

_limit: int | None = None
_lock = threading.Lock()
_depth = 0
_saved: int | None = None
_local = threading.local()


def cpu_threads() -> int:
    """The number of threads colorot's CPU work may use (at least 1).

    Examples
    --------
    >>> with limit(1):
    ...     cpu_threads()
    1
    """
    if _limit is not None:
        return _limit
    for name in ("COLOROT_THREADS", "OMP_NUM_THREADS"):
        value = os.environ.get(name)
        if value:
            try:
                count = int(value)
            except ValueError:
                raise ColorotError(f"{name} must be a whole number of threads, got {value!r}") from None
            if count >= 1:
                return count
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


@contextlib.contextmanager
def limit(count: int):
    """Within the block, colorot's CPU work uses at most ``count`` threads (process-wide: for worker threads that
    each grade a photo)."""
    global _limit
    previous, _limit = _limit, max(1, int(count))
    try:
        yield
    finally:
        _limit = previous


@contextlib.contextmanager
def leaving(cores: int):
    """Within the block, the fits and bakes that this thread runs leave ``cores`` cores to work that this process
    runs meanwhile in another thread (a photo decoding while its style is read and fitted): :func:`free_threads`
    counts them as taken, so that torch's threads do not spin waiting for them. Other threads are not affected.

    Examples
    --------
    >>> with limit(2), leaving(1):
    ...     free_threads() <= 1
    True
    """
    previous = getattr(_local, "busy", 0)
    _local.busy = previous + max(0, int(cores))
    try:
        yield
    finally:
        _local.busy = previous


@contextlib.contextmanager
def torch_threads(count: int):
    """torch's intra-op threads set to ``count`` for the block; the host's setting is back once the last block
    (in any thread) has ended. Nested blocks restore their enclosing block's count."""
    import torch

    global _depth, _saved
    stack = getattr(_local, "stack", None)
    if stack is None:
        stack = _local.stack = []
    with _lock:
        if _depth == 0:
            _saved = torch.get_num_threads()
        _depth += 1
        stack.append(count)
        torch.set_num_threads(count)
    try:
        yield
    finally:
        with _lock:
            stack.pop()
            _depth -= 1
            if _depth == 0:
                torch.set_num_threads(_saved)
            elif stack:
                torch.set_num_threads(stack[-1])


def others_running() -> int:
    """How many threads of other processes are running or ready to run right now (Linux; 0 elsewhere).

    The kernel's count of runnable threads (``/proc/loadavg``) less this
    process's own (``/proc/self/task/*/stat``), the least of three reads a
    fraction of a millisecond apart, so that a passing blip is not taken for
    a busy machine: about 0.1 ms. Where ``/proc/loadavg`` holds no real count
    (a sandbox such as gVisor writes ``0/0``, though the reading thread itself
    runs), the threads in state ``R`` of the other processes in
    ``/proc/*/task`` are counted instead (a few milliseconds; only the
    processes this one can see). 0 where neither is readable.
    """
    counts = []
    for _ in range(3):
        total = _runnable_in_loadavg()
        if total is None:
            return _runnable_elsewhere()
        counts.append(max(0, total - _runnable_threads("/proc/self")))
    return min(counts)


def _runnable_in_loadavg(path: str = "/proc/loadavg") -> int | None:
    """The kernel's count of runnable threads, or None where /proc/loadavg is missing or not a real count."""
    try:
        with open(path) as handle:
            running, threads_total = handle.read().split()[3].split("/")
        running, threads_total = int(running), int(threads_total)
    except (OSError, ValueError, IndexError):
        return None
    return running if running >= 1 and threads_total >= 1 else None


def _runnable_threads(process: str) -> int:
    """How many threads of ``process`` (a /proc directory) are in state R; 0 if it is gone."""
    running = 0
    try:
        tasks = list(os.scandir(f"{process}/task"))
    except OSError:  # the process ended meanwhile
        return 0
    for task in tasks:
        try:
            with open(f"{task.path}/stat") as handle:
                status = handle.read()
            running += status[status.rindex(")") + 2] == "R"
        except (OSError, ValueError, IndexError):  # the thread ended meanwhile
            continue
    return running


def _runnable_elsewhere() -> int:
    """The threads in state R of the other processes visible in /proc (0 if they cannot be read or if the
    states are not real: this process's reading thread is running, so it must show R)."""
    if _runnable_threads("/proc/self") < 1:
        return 0
    mine = str(os.getpid())
    try:
        processes = [entry.path for entry in os.scandir("/proc") if entry.name.isdigit() and entry.name != mine]
    except OSError:
        return 0
    return sum(_runnable_threads(process) for process in processes)


#: Seconds for which a count of :func:`others_running` is reused (a transfer's fit and apply ask in turn).
RECOUNT_AFTER = 0.25
_last_count: tuple[float, int] = (-1.0, 0)


def free_threads() -> int:
    """:func:`cpu_threads`, less the cores other processes are using now and those this thread leaves to the
    process's other work (:func:`leaving`); at least 1."""
    global _last_count
    count = cpu_threads() - getattr(_local, "busy", 0)
    try:
        cores = len(os.sched_getaffinity(0)) - getattr(_local, "busy", 0)
    except AttributeError:
        return max(1, count)
    now = time.monotonic()
    when, others = _last_count
    if now - when > RECOUNT_AFTER:
        others = others_running()
        _last_count = (now, others)
    return max(1, min(count, cores - others))


def fitting(function):
    """Decorate a function that fits or bakes a map: its torch work runs on :func:`free_threads` threads, so
    that no thread spins waiting for a core another process holds (per-pixel passes inside it choose their
    own count with :func:`for_work`)."""
    import functools

    @functools.wraps(function)
    def run(*args, **kwargs):
        with torch_threads(free_threads()):
            return function(*args, **kwargs)

    return run


def for_work(elements: int) -> int:
    """The torch threads for a pass over ``elements`` values: one below :data:`SMALL_WORK`, else
    :func:`free_threads`."""
    return 1 if elements < SMALL_WORK else free_threads()


#: Threads in colorot's pool for strip-parallel work (more than a call uses: see :func:`in_strips`).
STRIP_POOL_SIZE = 8
_strip_pool = None


def in_strips(function, items, workers: int | None = None) -> list:
    """``[function(item) for item in items]``, at most ``workers`` at a time (default :func:`cpu_threads`), in
    colorot's one pool of Python threads: for strip-parallel work on images (Pillow's kernel, the tabulated
    lookup, the node search), where numpy and Pillow release the GIL and a waiting thread blocks rather than
    spins. Items are dealt round-robin to the workers, so more strips than workers still balance the load.
    Functions run here must not call :func:`in_strips` themselves. The share done is told to
    :func:`colorot.progress.report` as strips finish; a callback that raises stops the strips not yet begun.

    Examples
    --------
    >>> in_strips(lambda x: x * x, range(5), workers=2)
    [0, 1, 4, 9, 16]
    """
    global _strip_pool
    items = list(items)
    workers = max(1, min(workers or cpu_threads(), STRIP_POOL_SIZE, len(items)))
    if workers == 1:
        results = []
        for item in items:
            results.append(function(item))
            progress.report(len(results) / len(items))
        return results
    with _lock:
        if _strip_pool is None:
            _strip_pool = concurrent.futures.ThreadPoolExecutor(STRIP_POOL_SIZE, thread_name_prefix="colorot-strips")
    shares = [list(range(start, len(items), workers)) for start in range(workers)]
    results: list = [None] * len(items)
    stop, finished = threading.Event(), queue.SimpleQueue()  # a None for each item done, or a worker's error

    def run(share: list) -> None:
        for index in share:
            if stop.is_set():  # a progress callback, or another worker, stopped the call
                return
            try:
                results[index] = function(items[index])
            except BaseException as error:
                finished.put(error)
                raise
            finished.put(None)

    futures = [_strip_pool.submit(run, share) for share in shares]
    try:
        for count in range(1, len(items) + 1):
            if finished.get() is not None:
                stop.set()
                break
            progress.report(count / len(items))
        for future in futures:
            future.result()
    except BaseException:
        stop.set()
        concurrent.futures.wait(futures)
        raise
    return results
