"""The one error type colorot raises for bad input."""

from __future__ import annotations

__all__ = ["ColorotError"]


class ColorotError(ValueError):
    """Bad input or a failed operation, with a message that says what to do.

    A subclass of :class:`ValueError`, so code that already catches
    ``ValueError`` keeps working. The command-line tool prints the message on
    one line and exits with a non-zero status.
    """
