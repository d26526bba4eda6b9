"""The method registry: every ``method=`` / ``--method``, one line each, torch-free.

A line names the method's fitter (``"module:function"``, imported on first use, so that the command line and the
ui read the registry without importing torch), its intent, the working space it is defined in, the arguments its
fitter takes besides the two color clouds (:data:`ARGUMENTS`: which options of
:class:`~colorot.options.TransferOptions` it honours follows from them) and its defaults. A new method is one
module with its fitter and one line here, plus its tests; :class:`~colorot.ColorTransfer` passes each fitter
exactly the arguments its line names.

A fitter is called as ``fit(source, style, **arguments)`` with source colors ``(*batch, n, 3)`` and style colors
``(*batch or 1, m, 3)`` in its working space, and returns a :class:`~colorot.maps.protocol.ColorMap`, which is
baked into a lookup table and applied, saved and exported like any other.

The *look* (what was done to the reference, carried to the photo):

``"look"``
    colorot's default (:func:`colorot.learned.look_transfer.fit_look`): the unbalanced transport's affine grade
    where the two photos share their scene, the learned look model's grade where they do not, weighed by a scene
    gate.
``"unbalanced"``
    The affine grade fitted by unbalanced transport alone (:func:`colorot.ot.unbalanced.fit_unbalanced_affine`).

The *palette* (the reference's own colors and proportions):

``"sliced"``
    Iterative sliced transport of the full distribution (:func:`colorot.ot.sliced.fit_sliced`; Pitié et al.
    2007, Rabin et al. 2011).
``"mkl"``, ``"reinhard"``, ``"histogram"``, ``"emd"``
    The classic maps (:mod:`colorot.ot.classic`): the linear Monge-Kantorovich map between Gaussian fits,
    per-channel moments in CIELAB, per-channel histogram matching, exact OT on a subsample.
``"conditioned"``
    The shipped style-conditioned generator (:func:`colorot.learned.conditioned.fit_conditioned`): one forward
    pass, no fitting.

Examples
--------
>>> METHODS["sliced"].options
('keep_luma', 'monotone_luma', 'n_iter', 'n_knots', 'smoothing')
>>> METHODS["mkl"].fitter().__name__
'fit_mkl'
"""

from __future__ import annotations

import dataclasses
import importlib
from typing import Callable

__all__ = ["Method", "METHODS", "METHOD_NAMES", "DEFAULT_METHOD", "ARGUMENTS", "fit_notes"]

#: What a fitter may take besides the two clouds and the options of :class:`~colorot.options.TransferOptions`
#: (any field, passed under its own name), each with the options it is made from (the fitter computes it:
#: ``luma_axis`` is the working space's luma direction when ``monotone_luma`` or ``keep_luma`` is on, else None;
#: ``generator`` the seeded random stream; ``shared_structure`` the share of the photo's structure found in the
#: style, :mod:`colorot.measures.structure`; ``corresponding_colors`` the color pairs of a scene the two share,
#: :func:`colorot.measures.structure.corresponding_colors`; ``style_summary`` what the line's ``summarize``
#: function reads of the style alone, computed once per fitted style). A method with an option of its own adds a
#: field to the options object and names it in its line.
ARGUMENTS = {
    "reach": ("reach",),
    "keep_luma": ("keep_luma",),
    "luma_axis": ("monotone_luma", "keep_luma"),
    "neutral_axis": ("monotone_luma", "keep_luma"),
    "transport_luma": ("keep_luma",),
    "n_iter": ("n_iter",),
    "n_knots": ("n_knots",),
    "smoothing": ("smoothing",),
    "generator": (),
    "shared_structure": (),
    "corresponding_colors": (),
    "style_summary": (),
}


@dataclasses.dataclass(frozen=True)
class Method:
    """One way to fit a color map from a photo's colors to a style's, and its defaults.

    Parameters
    ----------
    fit : str or callable
        The fitter, ``"module:function"`` (imported on first use) or the function itself.
    intent : {"look", "palette"}
        What the method carries: the reference's grade, or its own colors.
    space : str or None
        The working space it is defined in (``"rgb"``, ``"lab"``...), None for the estimator's ``space``.
    takes : tuple of str
        The fitter's keyword arguments besides the two clouds: names of :data:`ARGUMENTS` or fields of
        :class:`~colorot.options.TransferOptions`.
    n_samples : int
        Colors drawn from each image when ``n_samples`` is not given.
    regrain : (int, float)
        The guided-filter regrain's default radius (pixels, 0: off) and eps.
    lut_blur : float
        The default blur of the map's displacement over the color cube (sRGB units).
    summarize : str or callable, optional
        What the fitter reads of the style alone, ``"module:function"`` or the function: called as
        ``summarize(style_colors)`` once per fitted style (``ColorTransfer.style_summary_``), its
        result passed to the fitter as ``style_summary`` (the line then takes it), so that a style graded onto
        many photos is read once.

    Examples
    --------
    >>> line = Method("colorot.ot.classic:fit_mkl", "palette")
    >>> line.fitter().__name__, line.options, line.n_samples
    ('fit_mkl', (), 65536)
    """

    fit: str | Callable
    intent: str
    space: str | None = None
    takes: tuple[str, ...] = ()
    n_samples: int = 1 << 16
    regrain: tuple[int, float] = (0, 1e-3)
    lut_blur: float = 0.0
    summarize: str | Callable | None = None

    def __post_init__(self):
        if self.intent not in ("look", "palette") or not all(isinstance(name, str) for name in self.takes):
            raise ValueError(f"a method has intent look or palette and takes argument names: {self}")
        if (self.summarize is not None) != ("style_summary" in self.takes):
            raise ValueError(f"a method with a summarize function takes style_summary, and only then: {self}")

    @property
    def options(self) -> tuple[str, ...]:
        """The options of :class:`~colorot.options.TransferOptions` that this method honours beyond those every
        method honours, sorted."""
        return tuple(sorted({option for name in self.takes for option in ARGUMENTS.get(name, (name,))}))

    def fitter(self) -> Callable:
        """The fitting function (imported on first call)."""
        return _resolve(self.fit)

    def summarizer(self) -> Callable | None:
        """The function that reads the style alone (imported on first call), None for a method without one."""
        return None if self.summarize is None else _resolve(self.summarize)


def _resolve(function: str | Callable) -> Callable:
    """A function given as itself or as ``"module:function"``."""
    if callable(function):
        return function
    module, _, name = function.partition(":")
    return getattr(importlib.import_module(module), name)


#: The methods of ``method=`` / ``--method``, the default first.
#:
#: * ``n_samples``: the unbalanced fit bins the colors, so its cost grows only with the binning, and more colors
#:   bring two runs with different seeds closer. 2^17 (benchmarks/stability.py, 20 pairs at 512 px): seeds 0.66
#:   codes apart (median), 2^18: 0.40, at 1.27x and 1.56x the time of v0.1's sliced default at 12 MP (1.0x).
#: * ``regrain`` and ``lut_blur`` of ``sliced`` and ``histogram``: their maps are 1-D quantile matches, which
#:   steepen wherever the reference's colors spread wider than the photo's (a plain sky's noise came out 2.9x,
#:   median, 17.9x at most, over the sample pairs of benchmarks/flat_noise.py; one white sky split into colors
#:   158 codes apart from inputs 3 codes apart). The blur of the displacement over the color cube bounds the
#:   map's rate of change, and the guided-filter regrain (radius 8 px; eps 4e-3 keeps edges of more than 16
#:   codes' spread) shifts the photo's noise instead of amplifying it (tests/test_palette.py).
METHODS = {
    "look": Method("colorot.learned.look_transfer:fit_look", "look", "rgb", n_samples=1 << 17,
                   takes=("reach", "keep_luma", "luma_axis", "shared_structure", "corresponding_colors",
                          "style_summary"), summarize="colorot.learned.look_transfer:summarize_style"),
    "unbalanced": Method("colorot.ot.unbalanced:fit_unbalanced_affine", "look", n_samples=1 << 17,
                         takes=("reach", "keep_luma", "luma_axis")),
    "sliced": Method("colorot.ot.sliced:fit_sliced", "palette", regrain=(8, 4e-3), lut_blur=0.08,
                     takes=("n_iter", "n_knots", "smoothing", "luma_axis", "transport_luma", "neutral_axis",
                            "generator")),
    "mkl": Method("colorot.ot.classic:fit_mkl", "palette"),
    "reinhard": Method("colorot.ot.classic:fit_reinhard", "palette", "lab"),
    "histogram": Method("colorot.ot.classic:fit_histogram", "palette", "rgb", regrain=(8, 4e-3), lut_blur=0.08),
    "emd": Method("colorot.ot.classic:fit_emd", "palette"),
    "conditioned": Method("colorot.learned.conditioned:fit_conditioned", "palette", "rgb"),
}

#: The registry's names, in order.
METHOD_NAMES = tuple(METHODS)

#: The method of a call that names none: the transport's grade where the two photos share their scene (their
#: structure says so: :mod:`colorot.measures.structure`), the learned look where they do not
#: (benchmarks/look_recovery.py).
DEFAULT_METHOD = "look"


def fit_notes(fitted) -> list[str]:
    """What a fitted map says about its fit, one line each: its ``describe()`` (the default: which way its scene
    gate leaned) and its ``warnings`` (a transport that left most colors unmatched, with what to try).

    Examples
    --------
    >>> import torch
    >>> from colorot.ot.unbalanced import fit_unbalanced_affine
    >>> g = torch.Generator().manual_seed(0)
    >>> photo, style = torch.rand(1, 4000, 3, generator=g) * 0.2, torch.rand(1, 4000, 3, generator=g) * 0.2 + 0.8
    >>> notes = fit_notes(fit_unbalanced_affine(photo, style, reach=0.05))
    >>> len(notes), notes[0].startswith("warning: the transport matched only")
    (1, True)
    """
    notes = [fitted.describe()] if hasattr(fitted, "describe") else []
    return notes + list(getattr(fitted, "warnings", []))
