"""Options and defaults shared by the library and the command line, torch-free (the CLI reads them for ``--help``
without importing torch, so the two cannot drift)."""

from __future__ import annotations

import dataclasses
from typing import Any

from .errors import ColorotError
from .methods import DEFAULT_METHOD, METHOD_NAMES, METHODS

__all__ = ["TransferOptions", "DEFAULTS", "DEFAULT_SEED", "SPACES", "METHOD_NAMES", "DEFAULT_METHOD", "METHOD_INTENTS", "LUT_SIZE", "STYLE_SIDE", "PIXEL_SCALES", "default_samples", "check_strength", "mix_weights", "offered_options", "offered_name"]

#: Working color spaces of the engine (see :mod:`colorot.measures.colorspaces`).
SPACES = ("rgb", "linear", "lab", "oklab")

#: The *look* (what was done to the reference, carried to the photo) or the *palette* (the reference's own colors
#: and proportions) of each method of the registry (:data:`colorot.methods.METHODS`).
METHOD_INTENTS = {name: method.intent for name, method in METHODS.items()}

#: The seed of a call without one: the same output every run; another seed selects another run.
DEFAULT_SEED = 0

#: Nodes per axis of the table a map is baked into, and of a saved look.
LUT_SIZE = 65

#: A JPEG style may be decoded at a reduced scale as long as both sides stay at least this long.
STYLE_SIDE = 1024

#: The value of a full-scale sample, by integer dtype name (floats are in ``[0, 1]``).
PIXEL_SCALES = {"uint8": 255.0, "uint16": 65535.0}

#: Defaults shared by the function, the estimator and the command line.
DEFAULTS = dict(
    space="rgb",
    n_iter=30,
    n_samples=1 << 16,
    smoothing=0.005,
    n_knots=128,
    lut_size=LUT_SIZE,
    monotone_luma=True,
    reach=0.32,
)

def default_samples(method: str) -> int:
    """Colors drawn from each image to fit ``method`` when ``n_samples`` is not given (its registry line)."""
    return METHODS[method].n_samples


def check_strength(strength: float) -> float:
    """``strength`` as a float in ``[0, 1]``, else a one-line error."""
    strength = float(strength)
    if not 0.0 <= strength <= 1.0:
        raise ColorotError(f"strength must be between 0 and 1, got {strength}")
    return strength


def mix_weights(weights, n_styles: int) -> list:
    """The styles' weights, normalized to sum 1 (equal when None)."""
    if weights is None:
        return [1.0 / n_styles] * n_styles
    weights = [float(w) for w in weights]
    if len(weights) != n_styles:
        raise ColorotError(f"got {len(weights)} weights for {n_styles} styles")
    if any(not w >= 0 for w in weights) or sum(weights) <= 0:
        raise ColorotError(f"weights must be non-negative with a positive sum, got {weights}")
    return [w / sum(weights) for w in weights]


def _whole_in(value, low: int, high: int) -> bool:
    """Whether ``value`` is a whole number (not a bool) in ``[low, high)``, however large or odd its type."""
    try:
        return not isinstance(value, bool) and int(value) == value and low <= int(value) < high
    except (TypeError, ValueError, OverflowError):
        return False


def _option(default, kind: type, help: str, *, name: str | None = None, shown=None, **limits):
    """A field of :class:`TransferOptions` that the command line and the ui offer: its type (``str``, ``int``,
    ``float`` or ``bool``), its help, its name there (``--regrain`` for ``regrain_radius``), the default shown
    (``"auto"`` for None) and its ``choices`` or range (``low``, ``high``, ``low_open``), ``metavar``."""
    return dataclasses.field(default=default, metadata=dict(kind=kind, help=help, name=name, shown=shown, **limits))


def offered_options(*names: str) -> list[dataclasses.Field]:
    """The fields of :class:`TransferOptions` that the command line and the ui offer, by field name (all of them
    when none is given), each with its ``metadata`` (see ``_option``)."""
    fields = {field.name: field for field in dataclasses.fields(TransferOptions) if field.metadata}
    return [fields[name] for name in names or fields]


def offered_name(field: dataclasses.Field) -> str:
    """An option's name on the command line (``--`` and dashes) and in the ui's form: ``regrain`` for
    ``regrain_radius``, else the field's own."""
    return field.metadata["name"] or field.name


@dataclasses.dataclass(frozen=True)
class TransferOptions:
    """The options of a transfer, checked once: what :class:`colorot.ColorTransfer` takes (see it for each
    option's meaning), torch-free, so that the command line and the ui check a request without importing torch.

    Each option is checked and normalized on construction (``n_samples``, ``regrain_radius`` and ``lut_blur``
    None become the method's defaults, from its line in :data:`colorot.methods.METHODS`);
    an option out of range raises :class:`~colorot.errors.ColorotError` with one line naming it.

    Examples
    --------
    >>> TransferOptions(method="mkl").n_samples
    65536
    >>> TransferOptions(method="mkl", reach=0.5, keep_luma=True).ignored()  # doctest: +NORMALIZE_WHITESPACE
    ["warning: keep_luma=True is ignored by method 'mkl' (it applies to look, unbalanced, sliced)",
     "warning: reach=0.5 is ignored by method 'mkl' (it applies to look, unbalanced)"]
    >>> TransferOptions(reach=-1)
    Traceback (most recent call last):
    ...
    colorot.errors.ColorotError: reach must be positive and at most 1e6, or inf (balanced), got -1.0
    """

    space: str = _option(DEFAULTS["space"], str, "Color space the distributions are matched in.", choices=SPACES)
    strength: float = _option(1.0, float, "0 keeps the colors, 1 is the full transfer.", low=0.0, high=1.0)
    seed: int | None = _option(None, int, "Another run of the random draws [default: 0: the same output every run].")
    device: Any = _option(None, str, "auto, cpu, cuda or cuda:N.", shown="auto")
    n_iter: int = DEFAULTS["n_iter"]
    n_samples: int | None = None
    smoothing: float = DEFAULTS["smoothing"]
    n_knots: int = DEFAULTS["n_knots"]
    lut_size: int = DEFAULTS["lut_size"]
    monotone_luma: bool = DEFAULTS["monotone_luma"]
    lut_blur: float | None = None
    keep_luma: bool = _option(False, bool, "Match only chroma; every pixel keeps its luma.")
    method: str = _option(DEFAULT_METHOD, str, (
        "The look (what was done to the style photo): look, the transport's grade where the two photos share their "
        "scene and the learned look where they do not (a style photo of another scene); unbalanced, the "
        "transport's grade alone. The palette (the style's own colors): sliced (its histogram in full), histogram, "
        "mkl, reinhard, emd, or the pretrained generator (conditioned)."), choices=METHOD_NAMES)
    reach: float | None = _option(DEFAULTS["reach"], float, (
        "look and unbalanced: how far (in standard deviations of the photos' colors) a color may travel before it "
        "is left unmatched; inf copies the style's proportions too."), low=0.0, low_open=True)
    regrain_radius: int | None = _option(None, int, (
        "Filter the color shift guided by the photo (radius in pixels) so noise is shifted, not amplified; 0 = off "
        "[default: 8 for the palette methods sliced and histogram, else 0]."), name="regrain", low=0,
        metavar="RADIUS")
    regrain_eps: float | None = None
    refine: int = _option(0, int, (
        "Rounds of regrain and re-transfer: closer to the style with more of the photo's detail kept, not a "
        "function of color (about 4x the time of a plain transfer at 12 MP); 11 meets both quality targets on "
        "every sample pair"), low=0, metavar="ROUNDS")

    def __post_init__(self):
        def normal(name, value):
            object.__setattr__(self, name, value)

        if self.method not in METHODS:
            raise ColorotError(f"unknown method {self.method!r}; choose one of {', '.join(METHODS)}")
        if self.space not in SPACES:
            raise ColorotError(f"unknown color space {self.space!r}; choose one of {', '.join(SPACES)}")
        normal("n_samples", default_samples(self.method) if self.n_samples is None else self.n_samples)
        if self.regrain_radius is None:  # refine picks its own radii when none is given
            normal("regrain_radius", METHODS[self.method].regrain[0] if not self.refine else 0)
        if self.regrain_eps is None:
            normal("regrain_eps", METHODS[self.method].regrain[1] if not self.refine else 1e-3)
        if self.lut_blur is None:
            normal("lut_blur", METHODS[self.method].lut_blur)
        if not float(self.lut_blur) >= 0:
            raise ColorotError(f"lut_blur must be non-negative, got {self.lut_blur}")
        for name, low in (("n_iter", 1), ("n_samples", 16), ("n_knots", 2), ("regrain_radius", 0), ("refine", 0)):
            if int(getattr(self, name)) < low:
                raise ColorotError(f"{name} must be at least {low}, got {getattr(self, name)}")
            normal(name, int(getattr(self, name)))
        if not 2 <= int(self.lut_size) <= 256:
            raise ColorotError(f"lut_size must be between 2 and 256, got {self.lut_size}")
        if not float(self.smoothing) >= 0:
            raise ColorotError(f"smoothing must be non-negative, got {self.smoothing}")
        if self.seed is not None and not _whole_in(self.seed, 0, 1 << 63):
            raise ColorotError(f"seed must be a whole number from 0 to 2^63 - 1, got {self.seed}")
        reach = None if self.reach is None else float(self.reach)
        if reach is not None and not (0 < reach <= 1e6 or reach == float("inf")):
            raise ColorotError(f"reach must be positive and at most 1e6, or inf (balanced), got {reach}")
        if not float(self.regrain_eps) > 0:
            raise ColorotError(f"regrain_eps must be positive, got {self.regrain_eps}")
        for name, kind in (("strength", check_strength), ("lut_size", int), ("smoothing", float),
                           ("monotone_luma", bool), ("lut_blur", float), ("keep_luma", bool),
                           ("regrain_eps", float)):
            normal(name, kind(getattr(self, name)))
        normal("reach", reach)

    @property
    def fit_space(self) -> str:
        """The working space the map is fitted in: the method's own where its line fixes one (Lab for Reinhard),
        else ``space``."""
        return METHODS[self.method].space or self.space

    def ignored(self) -> list[str]:
        """One warning line per option set away from its default that the chosen method does not use
        (:attr:`colorot.methods.Method.options`)."""
        defaults = {field.name: field.default for field in dataclasses.fields(self)}
        lines = []
        for name in sorted({name for method in METHODS.values() for name in method.options}):
            if name not in METHODS[self.method].options and getattr(self, name) != defaults[name]:
                users = ", ".join(method for method, spec in METHODS.items() if name in spec.options)
                lines.append(f"warning: {name}={getattr(self, name)!r} is ignored by method {self.method!r} "
                             f"(it applies to {users})")
        return lines
