"""Options and defaults shared by the library and the command line, torch-free (the CLI reads them for ``--help``
without importing torch, so the two cannot drift)."""

from __future__ import annotations

from .errors import ColorotError

__all__ = ["DEFAULTS", "DEFAULT_SEED", "SPACES", "METHOD_NAMES", "DEFAULT_METHOD", "METHOD_INTENTS", "LUT_SIZE", "STYLE_SIDE", "PIXEL_SCALES", "METHOD_SAMPLES", "default_samples", "check_strength", "mix_weights"]

#: Working color spaces of the engine (see :mod:`colorot.measures.colorspaces`).
SPACES = ("rgb", "linear", "lab", "oklab")

#: Methods of ``method=`` / ``--method`` (:data:`colorot.ot.methods.METHODS`), by intent. The *look* (what was
#: done to the reference, carried to the photo): ``unbalanced`` (the default: the transport's grade) and ``look``
#: (the transport's grade where the scene is shared, the learned look where it is not). The *palette* (the
#: reference's own colors and proportions): ``sliced``, ``histogram``, ``mkl``, ``reinhard``, ``emd`` and the
#: shipped ``conditioned`` generator.
METHOD_NAMES = ("unbalanced", "look", "sliced", "mkl", "reinhard", "histogram", "emd", "conditioned")

#: The method of a call that names none: the transport's grade, the best there is where the two photos share their
#: scene. ``look`` leads across scenes but does not yet tell every shared scene apart (benchmarks/look_recovery.py).
DEFAULT_METHOD = "unbalanced"

#: The intent of each method: ``"look"`` (the reference's grade) or ``"palette"`` (the reference's colors).
METHOD_INTENTS = {"look": "look", "unbalanced": "look", "sliced": "palette", "mkl": "palette",
                  "reinhard": "palette", "histogram": "palette", "emd": "palette", "conditioned": "palette"}

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
    lut_blur=0.0,
    reach=0.32,
)


#: Colors drawn from each image by a method that needs more than ``DEFAULTS["n_samples"]``: the unbalanced fit
#: bins the colors, so its cost grows only with the binning, and more colors bring two runs with different seeds
#: closer. 2^17 (benchmarks/stability.py, 20 pairs at 512 px): seeds 0.66 codes apart (median), 2^18: 0.40, at
#: 1.27x and 1.56x the time of v0.1's sliced default at 12 MP (1.0x).
METHOD_SAMPLES = {"unbalanced": 1 << 17, "look": 1 << 17}


def default_samples(method: str) -> int:
    """Colors drawn from each image to fit ``method`` when ``n_samples`` is not given."""
    return METHOD_SAMPLES.get(method, DEFAULTS["n_samples"])


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
