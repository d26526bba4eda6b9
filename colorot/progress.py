"""Progress of colorot's long calls, for whoever shows it: a callback set around a call, told how far the call's
current stage is, and able to stop it.

A window or a service that runs a grade in a worker thread wraps it in :func:`reporting`; the engine calls
:func:`report` where a long call can stop cleanly (between refine rounds, as the strips of a large image are
looked up). A callback that raises (a cancel) ends the call with that exception, after the strips already
running have finished; nothing the call would have returned is half-made. Without a callback, :func:`report`
costs one context-variable read. Torch-free.
"""

from __future__ import annotations

import contextlib
from contextvars import ContextVar
from typing import Callable, Iterator

__all__ = ["reporting", "report", "part", "active"]

#: ``callback(fraction, message)``: ``fraction`` in [0, 1] of the current stage, ``message`` a short phrase or None.
Callback = Callable[[float, "str | None"], None]

_callback: ContextVar[Callback | None] = ContextVar("colorot_progress", default=None)


@contextlib.contextmanager
def reporting(callback: Callback) -> Iterator[None]:
    """Send the progress of colorot's calls made in this thread (or task) to ``callback``.

    Parameters
    ----------
    callback : callable
        ``callback(fraction, message)``, with ``fraction`` a float in ``[0, 1]`` (how far the current stage is)
        and ``message`` a short phrase naming the stage, or None when the stage is unchanged. It runs in the
        calling thread; an exception it raises stops the call and is raised from it.

    Examples
    --------
    >>> seen = []
    >>> with reporting(lambda fraction, message: seen.append((fraction, message))):
    ...     report(0.5, "halfway")
    >>> seen
    [(0.5, 'halfway')]
    >>> report(1.0)  # no callback: nothing happens
    """
    token = _callback.set(callback)
    try:
        yield
    finally:
        _callback.reset(token)


def report(fraction: float, message: str | None = None) -> None:
    """Tell the callback of :func:`reporting`, if any, that the current stage is ``fraction`` done.

    Parameters
    ----------
    fraction : float
        How far the current stage is, clipped to ``[0, 1]``.
    message : str, optional
        A short phrase naming the stage, when it changes.

    Raises
    ------
    Exception
        Whatever the callback raises to stop the call (a window's cancel).

    Examples
    --------
    >>> class Cancelled(Exception):
    ...     pass
    >>> def cancel(fraction, message):
    ...     raise Cancelled
    >>> with reporting(cancel):
    ...     try:
    ...         report(0.25)
    ...     except Cancelled:
    ...         print("stopped at a quarter")
    stopped at a quarter
    """
    callback = _callback.get()
    if callback is not None:
        callback(min(max(float(fraction), 0.0), 1.0), message)


@contextlib.contextmanager
def part(start: float, stop: float, message: str | None = None) -> Iterator[None]:
    """Within this block, reports are a part ``[start, stop]`` of the enclosing stage (a loop's rounds, a
    call's steps), announced by ``message``; they never go back within it.

    Examples
    --------
    >>> seen = []
    >>> with reporting(lambda fraction, message: seen.append((fraction, message))):
    ...     for round_ in range(2):
    ...         with part(round_ / 2, (round_ + 1) / 2, f"round {round_ + 1}"):
    ...             report(1.0)
    >>> seen
    [(0.0, 'round 1'), (0.5, None), (0.5, 'round 2'), (1.0, None)]
    """
    outer = _callback.get()
    if outer is None:
        yield
        return
    outer(start, message)
    reached = [start]  # a part's share never goes back (several calls inside it each count from 0 to 1)

    def inner(fraction: float, text: str | None) -> None:
        reached[0] = max(reached[0], start + (stop - start) * fraction)
        outer(reached[0], text)

    token = _callback.set(inner)
    try:
        yield
    finally:
        _callback.reset(token)


def active() -> bool:
    """Whether a callback listens (a loop may then report finer steps)."""
    return _callback.get() is not None
