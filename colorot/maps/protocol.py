"""What a fitted color map is: the one interface that the engine's map, the classic methods' maps and the
learned generators implement, and that :func:`~colorot.maps.lut.bake_lut` bakes into a table."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import torch

__all__ = ["ColorMap"]


@runtime_checkable
class ColorMap(Protocol):
    """A function of color in a working space, possibly one per image of a batch.

    Implemented by :class:`colorot.ot.sliced.SlicedSteps` (the engine), the classic methods' maps
    (:class:`colorot.ot.linear.LinearMap`, :class:`colorot.ot.classic.NearestDisplacementMap`) and the learned
    generators seen as maps.

    Attributes
    ----------
    device : torch.device
        Where the map's parameters live (colors are moved there to be mapped).
    batch_shape : torch.Size
        The leading batch dimensions of the map (``(1,)`` or ``(B,)`` for one map per image).

    Examples
    --------
    >>> import torch
    >>> from colorot.ot.classic import fit_mkl
    >>> colors = torch.rand(1, 100, 3, generator=torch.Generator().manual_seed(0))
    >>> linear = fit_mkl(colors, colors ** 2)
    >>> isinstance(linear, ColorMap), linear(colors).shape
    (True, torch.Size([1, 100, 3]))
    """

    device: torch.device
    batch_shape: torch.Size

    def __call__(self, colors: torch.Tensor) -> torch.Tensor:
        """Map colors ``(*batch, n, 3)`` (float, working-space units) to colors of the same shape and dtype."""
        ...
