"""The one error type colorot raises for bad input."""

from __future__ import annotations

__all__ = ["ColorotError"]


class ColorotError(ValueError):
    """Bad input or a failed operation, with a message that says what to do.

    A subclass of :class:`ValueError`, so code that already catches
    ``ValueError`` keeps working. The command-line tool prints the message on
    one line and exits with a non-zero status.

    Examples
    --------
    >>> import numpy as np, colorot
    >>> try:
    ...     colorot.transfer(np.zeros((4, 4, 3)), np.zeros((4, 4, 3)), space="hsv")
    ... except colorot.ColorotError as error:
    ...     print(error)
    unknown color space 'hsv'; choose one of rgb, linear, lab, oklab
    """
