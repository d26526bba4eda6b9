"""The input side of a 3D LUT: its domain and an optional 1-D shaper, numpy only.

A ``.cube`` file may say that its 3-D table covers inputs other than
``[0, 1]`` (``DOMAIN_MIN``/``DOMAIN_MAX`` in Adobe's specification,
``LUT_3D_INPUT_RANGE`` in Resolve's), and Resolve's files may put a per-channel
1-D table (a *shaper*, over ``LUT_1D_INPUT_RANGE``) before the 3-D one. Both
change which node of the 3-D table an input color reads. :class:`Shaper`
holds that input side as one per-channel piecewise-linear function from an
input value to the 3-D table's grid coordinate in ``[0, 1]``; a table without
one reads the color itself. This is how colour-science (``LUTSequence`` of a
``LUT3x1D`` and a ``LUT3D``), OpenColorIO and ffmpeg's ``lut3d`` read them.

References: Adobe, *Cube LUT Specification 1.0* (2013); Blackmagic Design,
*DaVinci Resolve* LUT documentation (``.cube`` with shaper).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Shaper"]


@dataclass(frozen=True, eq=False)
class Shaper:
    """A per-channel piecewise-linear map from input values to a 3-D table's grid coordinates.

    Parameters
    ----------
    values : numpy.ndarray, shape (3, N), float
        For each channel (red, green, blue), the grid coordinate in ``[0, 1]``
        at ``N >= 2`` evenly spaced input values; coordinates outside
        ``[0, 1]`` are clamped to the table's faces when read.
    domain : numpy.ndarray, shape (2, 3), float
        The input values of the first and the last node, per channel
        (``domain[0] < domain[1]``). Inputs outside it take the end values.

    Examples
    --------
    >>> shaper = Shaper.linear([0, 0, 0], [2, 2, 2])   # a table over [0, 2]
    >>> shaper(np.array([[0.5, 1.0, 3.0]])).tolist()
    [[0.25, 0.5, 1.0]]
    """

    values: np.ndarray
    domain: np.ndarray

    def __post_init__(self) -> None:
        values = np.asarray(self.values, dtype=np.float64)
        domain = np.asarray(self.domain, dtype=np.float64)
        if values.ndim != 2 or values.shape[0] != 3 or values.shape[1] < 2 or domain.shape != (2, 3):
            raise ValueError(f"a shaper has values (3, N >= 2) and a domain (2, 3), got {values.shape}, {domain.shape}")
        if not (np.isfinite(values).all() and np.isfinite(domain).all() and (domain[1] > domain[0]).all()):
            raise ValueError("a shaper's values must be finite and its domain increasing")
        object.__setattr__(self, "values", values)
        object.__setattr__(self, "domain", domain)

    @classmethod
    def linear(cls, low, high) -> "Shaper":
        """The shaper of a table over ``[low, high]`` per channel: coordinate ``(x - low) / (high - low)``."""
        return cls(np.tile([0.0, 1.0], (3, 1)), np.stack([np.asarray(low, float), np.asarray(high, float)]))

    def __call__(self, colors: np.ndarray) -> np.ndarray:
        """Grid coordinates, in ``[0, 1]``, of ``(..., 3)`` input colors (float64)."""
        colors = np.asarray(colors, dtype=np.float64)
        out = np.empty(colors.shape, dtype=np.float64)
        nodes = np.arange(self.values.shape[1], dtype=np.float64)
        for channel in range(3):
            low, high = self.domain[:, channel]
            position = (colors[..., channel] - low) / (high - low) * (len(nodes) - 1)
            out[..., channel] = np.interp(position, nodes, self.values[channel])
        return np.clip(out, 0.0, 1.0, out=out)

    def at_codes(self, levels: int = 256) -> np.ndarray:
        """The grid coordinate of every code ``k / (levels - 1)``, per channel: shape ``(3, levels)``."""
        codes = np.linspace(0.0, 1.0, levels)
        return self(np.repeat(codes[:, None], 3, axis=1)).T.copy()
