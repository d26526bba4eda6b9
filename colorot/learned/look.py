"""The learned look model: from a reference photo's colors, the grade that was applied to an ungraded photo to
make it, as a function of color that can be applied to any other photo.

A distribution matcher (the default transport, ``sliced``, ``mkl``) cannot tell a reference's *grade* from its
*scene*: given a forest, it gives a portrait the forest's greens. This model holds a prior of what ungraded photos
look like, learned by construction as Neural Preset (Ke et al., CVPR 2023) and Deep Preset (Ho & Zhou, WACV 2021)
learn theirs: photos under random grades, the network asked to recover the grade from the graded photo's colors
alone (:mod:`colorot.learned.look_training`). Unlike theirs it reads color *statistics*, not pixels (so it is
small, fast and trained from a few dozen licensed photos on a CPU), and its output is a parametric grade:

1. per-channel monotone tone curves (16 linear pieces each),
2. an affine channel mix around mid-grey,
3. shadow / mid-tone / highlight color offsets (split toning), weighted by the Bernstein polynomials of luma,
4. a smooth residual on a ``5^3`` lattice (trilinear),

each output clipped to ``[0, 1]``. It is a function of sRGB color, so a LUT, a look file, a batch and a video
reproduce it exactly. Trained with the mean CIELAB error to the truth, the network predicts the grade it expects
given the reference, which shrinks toward "no change" where the colors cannot tell grade from scene.

Files: ``.safetensors`` with the weights and a JSON header (format ``colorot-look``, version, parameters);
never code. The shipped weights (``weights/look.safetensors``) are made by ``training/train_look.py``.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import ColorotError
from ..measures.colorspaces import REC709_LUMA, from_space, rgb_to_lab, to_space
from ..ot.one_d import sorted_values
from .generator import _safetensors_metadata, check_declared_sizes

__all__ = ["LookModel", "LookMap", "look_features", "apply_grade", "load_look", "PRETRAINED_LOOK", "LOOK_FORMAT",
           "LOOK_VERSION", "N_GRADE_PARAMETERS"]

PRETRAINED_LOOK = Path(__file__).resolve().parent / "weights" / "look.safetensors"
LOOK_FORMAT = "colorot-look"
LOOK_VERSION = 2

#: Quantile levels of each channel read by :func:`look_features`.
LEVELS = 17
#: Soft luma bands over which the mean chroma is read.
BANDS = 6
#: Pieces of each tone curve, and nodes per axis of the residual lattice.
PIECES, LATTICE = 16, 5
N_GRADE_PARAMETERS = 3 * (PIECES + 1) + 12 + 9 + 3 * LATTICE ** 3
#: The largest file a look may be (the shipped one is about 1 MB): bigger declared sizes are refused unread.
MAX_FILE_BYTES = 64 << 20
_UNIT_SLOPE = math.log(math.e - 1)  # softplus(_UNIT_SLOPE) = 1
#: Inputs of the scene gate (:func:`colorot.learned.look_transfer.scene_features`).
GATE_FEATURES = 5


def look_features(colors: torch.Tensor) -> torch.Tensor:
    """Order-free statistics of a photo's colors, the model's input.

    Parameters
    ----------
    colors : torch.Tensor
        ``(B, n, 3)`` sRGB colors in ``[0, 1]``, any float dtype (a few thousand per photo are enough).

    Returns
    -------
    torch.Tensor
        ``(B, F)`` features: the quantile functions of R, G, B, CIELAB L, a, b and chroma, the mean a and b
        within soft luma bands and the bands' masses, and the covariances of RGB and Lab. Differentiable.

    Examples
    --------
    >>> import torch
    >>> look_features(torch.rand(2, 1000, 3)).shape
    torch.Size([2, 149])
    """
    colors = colors.clamp(0, 1)
    lab = rgb_to_lab(colors) / torch.tensor([100.0, 100.0, 100.0], dtype=colors.dtype, device=colors.device)
    chroma = lab[..., 1:].norm(dim=-1, keepdim=True)
    levels = torch.linspace(0.02, 0.98, LEVELS, dtype=colors.dtype, device=colors.device)
    stacked = torch.cat([colors, lab, chroma], dim=-1)  # (B, n, 7)
    quantiles = _quantiles(stacked.transpose(1, 2), levels).reshape(colors.shape[0], -1)
    centers = torch.linspace(0, 1, BANDS, dtype=colors.dtype, device=colors.device)
    bands = torch.softmax(-((lab[..., :1] - centers) ** 2) / (2 * (0.5 / BANDS) ** 2), dim=-1)  # (B, n, BANDS)
    mass = bands.sum(dim=1)  # (B, BANDS)
    mean_chroma = (bands.transpose(1, 2) @ lab[..., 1:]) / (mass[..., None] + 1.0)  # (B, BANDS, 2)
    return torch.cat([quantiles, mean_chroma.reshape(colors.shape[0], -1), mass / colors.shape[1],
                      _covariance(colors), _covariance(lab)], dim=-1)


def _quantiles(values: torch.Tensor, levels: torch.Tensor) -> torch.Tensor:
    """Quantiles ``(..., L)`` of ``values`` ``(..., n)`` at ``levels`` (linear interpolation, as ``torch.quantile``;
    sorted along the last, contiguous axis, by :func:`~colorot.ot.one_d.sorted_values`)."""
    ordered = sorted_values(values.contiguous())
    position = levels * (ordered.shape[-1] - 1)
    low = position.floor().long()
    high = (low + 1).clamp(max=ordered.shape[-1] - 1)
    fraction = position - low
    return ordered[..., low] * (1 - fraction) + ordered[..., high] * fraction


def _covariance(colors: torch.Tensor) -> torch.Tensor:
    centered = colors - colors.mean(dim=1, keepdim=True)
    covariance = centered.transpose(1, 2) @ centered / colors.shape[1]
    rows, cols = torch.triu_indices(3, 3)
    return covariance[:, rows, cols] * 10


def apply_grade(colors: torch.Tensor, parameters: torch.Tensor) -> torch.Tensor:
    """Apply the parametric grade ``parameters`` ``(B, P)`` to sRGB ``colors`` ``(B, n, 3)``; zeros are the identity.

    Examples
    --------
    >>> import torch
    >>> colors = torch.rand(1, 100, 3)
    >>> torch.allclose(apply_grade(colors, torch.zeros(1, N_GRADE_PARAMETERS)), colors, atol=1e-6)
    True
    """
    batch = parameters.shape[0]
    dtype = colors.dtype
    parameters = parameters.to(dtype)
    curves, rest = parameters.split([3 * (PIECES + 1), parameters.shape[1] - 3 * (PIECES + 1)], dim=1)
    mix, tones, lattice = rest.split([12, 9, 3 * LATTICE ** 3], dim=1)
    out = _tone_curves(colors.clamp(0, 1), curves.reshape(batch, 3, PIECES + 1))
    matrix = torch.eye(3, dtype=dtype, device=colors.device) + 0.5 * mix[:, :9].reshape(batch, 3, 3)
    out = 0.5 + (out - 0.5) @ matrix.transpose(1, 2) + 0.2 * mix[:, None, 9:]
    luma = (out @ torch.tensor(REC709_LUMA, dtype=dtype, device=colors.device)).clamp(0, 1)[..., None]
    weights = torch.cat([(1 - luma) ** 2, 2 * luma * (1 - luma), luma ** 2], dim=-1)  # (B, n, 3) Bernstein
    out = (out + 0.2 * weights @ tones.reshape(batch, 3, 3)).clamp(0, 1)
    grid = (out * 2 - 1).reshape(batch, -1, 1, 1, 3)
    residual = F.grid_sample(lattice.reshape(batch, 3, LATTICE, LATTICE, LATTICE), grid, mode="bilinear",
                             padding_mode="border", align_corners=True)  # (B, 3, n, 1, 1), x indexes the last axis
    return (out + 0.2 * residual.reshape(batch, 3, -1).transpose(1, 2)).clamp(0, 1)


def _tone_curves(colors: torch.Tensor, curves: torch.Tensor) -> torch.Tensor:
    """Monotone piecewise-linear curves per channel: ``curves[:, c, 0]`` lifts the start, the others set each
    piece's slope (softplus, 1 at zero)."""
    start = 0.2 * curves[..., :1]
    slopes = F.softplus(curves[..., 1:] + _UNIT_SLOPE) / PIECES
    ends = torch.cat([start, start + slopes.cumsum(dim=-1)], dim=-1)  # (B, 3, PIECES + 1)
    position = colors.transpose(1, 2) * PIECES  # (B, 3, n)
    index = position.floor().clamp(0, PIECES - 1)
    fraction = position - index
    index = index.long()
    low, high = ends.gather(-1, index), ends.gather(-1, index + 1)
    return (low + fraction * (high - low)).transpose(1, 2)


class LookModel(nn.Module):
    """The network: color statistics of a reference -> the parameters of its grade (:func:`apply_grade`).

    Parameters
    ----------
    hidden : int
        Width of the two hidden layers.
    reads_photo : bool
        Read the photo's statistics beside the reference's: the photo is one more sample of how an ungraded
        photo looks (and, where the two share their scene, shows the correspondence).

    Examples
    --------
    >>> import torch
    >>> model = LookModel()                       # untrained: every grade is the identity
    >>> photo, reference = torch.rand(1, 500, 3), torch.rand(1, 800, 3) ** 2
    >>> torch.allclose(model.grade(photo, model(reference, photo)), photo, atol=1e-6)
    True
    """

    def __init__(self, hidden: int = 128, reads_photo: bool = True):
        super().__init__()
        self.hidden, self.reads_photo = int(hidden), bool(reads_photo)
        features = look_features(torch.rand(1, 64, 3)).shape[1] * (2 if reads_photo else 1)
        self.register_buffer("feature_mean", torch.zeros(features))
        self.register_buffer("feature_scale", torch.ones(features))
        self.net = nn.Sequential(nn.Linear(features, hidden), nn.SiLU(), nn.Linear(hidden, hidden), nn.SiLU(),
                                 nn.Linear(hidden, N_GRADE_PARAMETERS))
        nn.init.zeros_(self.net[-1].weight)
        nn.init.zeros_(self.net[-1].bias)
        # The scene gate (colorot.learned.look_transfer): two logistic functions of GATE_FEATURES features, the
        # weight on the transport and the strength of the look.
        self.register_buffer("gate_weight", torch.zeros(2, GATE_FEATURES))
        self.register_buffer("gate_bias", torch.zeros(2))
        self.metadata: dict = {}

    def forward(self, reference: torch.Tensor | None, photo: torch.Tensor | None = None, noise: float = 0.0,
                generator: torch.Generator | None = None, *,
                reference_features: torch.Tensor | None = None) -> torch.Tensor:
        """Grade parameters ``(B, P)`` from reference colors ``(B, n, 3)`` and, for a model that reads it, the
        photo's colors ``(B, m, 3)`` (sRGB in ``[0, 1]``); ``noise`` (training only) perturbs the normalized
        features. ``reference_features``: the reference's :meth:`reference_features` ``(B, F)``, when read
        already (the reference's colors are then not read)."""
        features = self.features(reference, photo, reference_features=reference_features)
        features = (features - self.feature_mean) / self.feature_scale
        if noise:
            features = features + noise * torch.randn(features.shape, generator=generator, dtype=features.dtype)
        return self.net(features)

    def reference_features(self, reference: torch.Tensor) -> torch.Tensor:
        """The reference's part of the network's input, ``(B, F)``, from its colors ``(B, n, 3)``: what a reference
        graded onto many photos gives each of them."""
        return look_features(reference.to(self.feature_mean.dtype))

    def features(self, reference: torch.Tensor | None, photo: torch.Tensor | None = None, *,
                 reference_features: torch.Tensor | None = None) -> torch.Tensor:
        """The network's input ``(B, F)``: the reference's statistics (``reference_features`` when given), then the
        photo's when it reads them."""
        features = self.reference_features(reference) if reference_features is None else reference_features
        if not self.reads_photo:
            return features
        if photo is None:
            raise ColorotError("this look model reads the photo's colors too; pass them")
        return torch.cat([features, look_features(photo.to(self.feature_mean.dtype))], dim=-1)

    @staticmethod
    def grade(colors: torch.Tensor, parameters: torch.Tensor) -> torch.Tensor:
        """Apply grade ``parameters`` ``(B, P)`` to sRGB ``colors`` ``(B, n, 3)``."""
        return apply_grade(colors, parameters)

    def save(self, path, metadata: dict | None = None) -> Path:
        """Write the weights and a JSON header to a ``.safetensors`` file, atomically."""
        from safetensors.torch import save

        header = {"format": LOOK_FORMAT, "version": LOOK_VERSION,
                  "parameters": {"hidden": self.hidden, "reads_photo": self.reads_photo},
                  **(metadata or {})}
        blob = save({k: v.detach().cpu().contiguous() for k, v in self.state_dict().items()},
                    metadata={"colorot": json.dumps(header)})
        path = Path(path)
        partial = path.with_name(f".{path.name}.tmp")
        partial.write_bytes(blob)
        partial.replace(path)
        return path


def _check_header(blob: bytes, path) -> dict:
    """The colorot header of a look model file, checked (format, version) before any tensor is read. Declared
    tensor shapes and offsets are checked by safetensors itself when the tensors are read (a small file declaring
    huge tensors is refused there without allocating them); declared layer sizes by
    :func:`~colorot.learned.generator.check_declared_sizes`."""
    try:
        colorot = json.loads(_safetensors_metadata(blob).get("colorot", "null"))
    except (ValueError, TypeError, UnicodeDecodeError, AttributeError) as error:
        raise ColorotError(f"{path}: not a colorot look model file ({error})") from None
    if not isinstance(colorot, dict) or colorot.get("format") != LOOK_FORMAT:
        raise ColorotError(f"{path}: not a colorot look model file")
    if int(colorot.get("version", 0)) > LOOK_VERSION:
        raise ColorotError(f"{path}: look model format version {colorot['version']} is newer than this colorot reads")
    return colorot


def load_look(path=None, device=None, *, partial: bool = False) -> LookModel:
    """Read a look model file (default: the shipped one), checked; never runs code from it.

    ``partial=True`` (training only) reads the network of a file whose scene gate has another shape, leaving the
    gate at zero, to be fitted again.

    Raises
    ------
    ColorotError
        If the file is missing, not a look model file, of another version, or its weights do not fit.

    Examples
    --------
    >>> model = load_look()
    >>> model.metadata["format"]
    'colorot-look'
    """
    from safetensors import SafetensorError
    from safetensors.torch import load

    path = Path(PRETRAINED_LOOK if path is None else path)
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise ColorotError(f"{path}: too large for a look model file ({path.stat().st_size} bytes)")
        blob = path.read_bytes()
    except FileNotFoundError:
        raise ColorotError(f"{path}: no such file") from None
    except OSError as error:
        raise ColorotError(f"{path}: cannot read ({error.strerror or error})") from None
    header = _check_header(blob, path)
    if int(header.get("version", 0)) < LOOK_VERSION and not partial:
        raise ColorotError(f"{path}: look model format version {header.get('version')} is older than this colorot "
                           f"reads ({LOOK_VERSION}: a scene gate of {GATE_FEATURES} features); train it again "
                           "with training/train_look.py")
    try:
        tensors = load(blob)
    except (SafetensorError, ValueError) as error:
        raise ColorotError(f"{path}: not a colorot look model file ({str(error).splitlines()[0]})") from None
    check_declared_sizes(header.get("parameters", {}), tensors, path)
    try:
        model = LookModel(**header.get("parameters", {}))
        if partial:
            tensors = {k: v for k, v in tensors.items() if not k.startswith("gate_")}
        model.load_state_dict(tensors, strict=not partial)
    except (SafetensorError, TypeError, RuntimeError, ValueError) as error:
        raise ColorotError(f"{path}: the weights do not fit a look model ({str(error).splitlines()[0]})") from None
    if not all(torch.isfinite(value).all() for value in tensors.values()):
        raise ColorotError(f"{path}: the weights hold NaN or infinite values")
    model.metadata = header
    return model.to(device or "cpu").eval()


class LookMap:
    """A fitted grade as a map of color in a working space (what the estimator bakes into its table).

    Parameters
    ----------
    parameters : torch.Tensor
        ``(*batch, P)`` grade parameters (:func:`apply_grade`).
    space : str
        The working space the map is called in; the grade itself acts on sRGB.
    """

    def __init__(self, parameters: torch.Tensor, space: str = "rgb"):
        self.parameters, self.space = parameters, space

    @property
    def device(self) -> torch.device:
        return self.parameters.device

    @property
    def batch_shape(self) -> torch.Size:
        return self.parameters.shape[:-1]

    def __call__(self, colors: torch.Tensor) -> torch.Tensor:
        shape = colors.shape
        flat = colors.reshape(-1, *shape[-2:])
        parameters = self.parameters.reshape(-1, self.parameters.shape[-1]).expand(flat.shape[0], -1)
        rgb = from_space(flat, self.space) if self.space != "rgb" else flat
        graded = apply_grade(rgb, parameters)
        return (to_space(graded, self.space) if self.space != "rgb" else graded).reshape(shape)
