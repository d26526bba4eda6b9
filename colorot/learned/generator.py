"""The learned generator: a network whose push-forward of the source colors matches the style.

A minimum Kantorovich estimator (Peyré & Cuturi, *Computational Optimal
Transport*, ch. 9; Bassetti et al. 2006): a generator ``g_theta`` is trained
so that the distribution of ``g_theta(x)``, ``x`` drawn from the colors of a
set of photos, is close to the style's colors in sliced Wasserstein distance,

.. math:: \\min_\\theta \\; SW_2^2\\big((g_\\theta)_\\# \\mu_{photos}, \\nu_{style}\\big)
          + \\lambda \\, \\mathbb{E}\\,\\|J_{g_\\theta} - I\\|^2 ,

with fresh random directions at every step, so the loss is an unbiased
estimate of the sliced distance. The second term keeps the map smooth in
color (a finite-difference estimate of how far its Jacobian is from the
identity), so it does not amplify noise.

The generator here is a per-pixel color MLP with a residual,
``g(x) = x + f(x)``, in a working color space. By default it is split as
the engine's map is: the output's luma is an increasing piecewise-linear
function of the input's luma alone, started as the exact 1-D transport of
luma, and the MLP moves colors within the chroma plane only (its roughness
is the penalized part), so chroma noise cannot become luminance noise.
Being a function of color,
it is applied to every pixel through a 3D lookup table baked from it, so
applying a trained generator costs one table lookup per pixel: no fitting.
It is a look: saved as ``.safetensors`` (weights and JSON parameters, never
code), accepted by ``colorot apply``, ``lut`` and ``video``.

Training is in :mod:`colorot.learned.training`, files in :mod:`colorot.learned.files`; the
style-conditioned variant lives in :mod:`colorot.learned.conditioned`.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from torch import nn

from ..measures.colorspaces import SPACES, from_space, luma_axis, to_space
from ..errors import ColorotError
from ..ot.one_d import midpoint_quantiles
from ..io.files import atomic_write
from ..maps.lut import ColorLUT, bake_lut

__all__ = ["ColorGenerator", "SavedGenerator", "save_generator", "read_generator_file", "build_generator"]

GENERATOR_FORMAT = "colorot-generator"
#: 2: ColorGenerator's monotone_luma (a reader of version 1 refuses these files with a clear message).
GENERATOR_VERSION = 2


class SavedGenerator:
    """What both generators share: saving to ``.safetensors`` (the parameters in its JSON header)."""

    def parameters_dict(self) -> dict:
        raise NotImplementedError

    def save(self, path, metadata: dict | None = None) -> Path:
        """Write the weights and parameters to a ``.safetensors`` file, atomically."""
        return save_generator(path, self, metadata)


class ColorGenerator(SavedGenerator, nn.Module):
    """A per-pixel color map ``g(x) = x + f(x)``, ``f`` a small MLP, in a working color space.

    Parameters
    ----------
    space : {"rgb", "linear", "lab", "oklab"}
        Working space of the map (colors are converted from sRGB and back).
    hidden : int
        Width of the hidden layers.
    depth : int
        Number of hidden layers.
    monotone_luma : bool
        Split the map as colorot's engine does: the output's luma is an
        increasing function of the input's luma alone (piecewise linear,
        ``knots`` pieces, positive slopes), and the MLP moves colors only
        within the chroma plane. A map that lets chroma reach luma turns
        chroma noise into luminance noise; this one cannot. Off for files
        saved before it existed.
    knots : int
        Pieces of the luma map (their ends are set at quantiles of the
        training colors' luma by :func:`train_generator`).

    Examples
    --------
    >>> import torch
    >>> g = ColorGenerator()                        # the identity until trained
    >>> images = torch.rand(2, 3, 8, 8)
    >>> torch.allclose(g(images), images, atol=1e-5)
    True
    >>> torch.allclose(ColorGenerator(monotone_luma=True)(images), images, atol=1e-5)
    True
    """

    def __init__(self, space: str = "rgb", hidden: int = 64, depth: int = 2, monotone_luma: bool = False,
                 knots: int = 64):
        super().__init__()
        if space not in SPACES:
            raise ColorotError(f"unknown color space {space!r}; choose one of {', '.join(SPACES)}")
        if not (1 <= int(depth) <= 8 and 1 <= int(hidden) <= 1024):
            raise ColorotError(f"depth must be in 1..8 and hidden in 1..1024, got {depth}, {hidden}")
        if not 2 <= int(knots) <= 4096:
            raise ColorotError(f"knots must be in 2..4096, got {knots}")
        self.space, self.hidden, self.depth = space, int(hidden), int(depth)
        self.monotone_luma, self.knots = bool(monotone_luma), int(knots)
        widths = [3] + [self.hidden] * self.depth
        layers: list[nn.Module] = []
        for width_in, width_out in zip(widths[:-1], widths[1:]):
            layers += [nn.Linear(width_in, width_out), nn.SiLU()]
        last = nn.Linear(self.hidden, 3)
        nn.init.zeros_(last.weight)  # starts as the identity map
        nn.init.zeros_(last.bias)
        self.net = nn.Sequential(*layers, last)
        # Input normalization (set from the training colors): centred, unit-scale inputs train faster.
        self.register_buffer("center", torch.zeros(3))
        self.register_buffer("scale", torch.ones(3))
        if self.monotone_luma:
            axis = luma_axis(space).to(torch.float32)
            self.register_buffer("luma", axis)
            # Knots of the luma map, black to white until train_generator sets them at the data's quantiles.
            ends = to_space(torch.tensor([[0.0, 0.0, 0.0], [1.0, 1.0, 1.0]]), space) @ axis
            self.register_buffer("luma_knots", torch.linspace(float(ends[0]), float(ends[1]), self.knots + 1))
            # Log-slopes (0: slope 1, the identity): Adam moves them by about its step size per step, so a
            # crowded luma range can get the slope of 20 or more it needs within a training run.
            self.luma_slopes = nn.Parameter(torch.zeros(self.knots))
            self.luma_offset = nn.Parameter(torch.zeros(()))

    @torch.no_grad()
    def set_luma_map(self, lumas: torch.Tensor, target_lumas: torch.Tensor | None = None) -> None:
        """Place the luma map's knots where these luma values are, and start it as their 1-D transport map.

        The knots sit halfway between the values' quantiles and an even
        spacing of their range (fine where the colors crowd, never of zero
        width, even at an atom such as a black background). With
        ``target_lumas``, the map starts as the increasing (optimal) map from
        ``lumas`` to them: each knot goes to the target's quantile at the
        knot's mid-rank among ``lumas``. Training refines it.
        """
        values = lumas.flatten().float().sort().values
        levels = torch.linspace(0, 1, self.knots + 1, device=values.device)
        positions = (levels * (values.numel() - 1)).round().long()
        even = torch.linspace(float(values[0]), float(values[-1]), self.knots + 1, device=values.device)
        knots = 0.5 * (values[positions] + even)
        knots[-1] = knots[-1] + 1e-6  # the top piece keeps a width when every value is equal
        self.luma_knots.copy_(knots.to(self.luma_knots))
        if target_lumas is None:
            return
        below = torch.searchsorted(values, knots, right=False).float()
        at_or_below = torch.searchsorted(values, knots, right=True).float()
        ranks = (0.5 * (below + at_or_below) / values.numel()).clamp(0, 1)
        targets = midpoint_quantiles(target_lumas.flatten().float().sort().values[:, None], 4096, dim=0)[:, 0]
        mapped = targets[(ranks * (targets.numel() - 1)).round().long()]
        slopes = (mapped[1:] - mapped[:-1]) / (knots[1:] - knots[:-1])
        self.luma_slopes.copy_(slopes.clamp(1e-3, 1e3).log().to(self.luma_slopes))
        self.luma_offset.copy_((mapped[0] - knots[0]).to(self.luma_offset))

    def _luma_map(self, luma: torch.Tensor) -> torch.Tensor:
        """The increasing piecewise-linear map of luma (slopes of the end pieces extend past the knots)."""
        knots, slopes = self.luma_knots, self.luma_slopes.exp()
        # The map's value at each knot, then each luma from its piece's start (the end pieces extend).
        at_knots = torch.cat((slopes.new_zeros(1), torch.cumsum(slopes * (knots[1:] - knots[:-1]), dim=0)))
        piece = (torch.searchsorted(knots, luma.detach().contiguous()) - 1).clamp_(0, self.knots - 1)
        return knots[0] + self.luma_offset + at_knots[piece] + slopes[piece] * (luma - knots[piece])

    def map_colors(self, colors: torch.Tensor) -> torch.Tensor:
        """The map on working-space colors ``(..., 3)``."""
        shift = self.net((colors - self.center) / self.scale)
        if not self.monotone_luma:
            return colors + shift
        axis = self.luma
        luma = colors @ axis
        # The network moves colors within the chroma plane only; luma goes through the luma map.
        return colors + _chroma_part(shift, axis) + (self._luma_map(luma) - luma)[..., None] * axis

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """Recolor float sRGB images ``(..., 3|4, H, W)`` in ``[0, 1]`` (differentiable; alpha passes)."""
        if images.ndim < 3 or images.shape[-3] not in (3, 4):
            raise ColorotError(f"expected images (..., 3|4, H, W), got shape {tuple(images.shape)}")
        colors = images[..., :3, :, :].movedim(-3, -1)
        moved = from_space(self.map_colors(to_space(colors, self.space)), self.space).clamp(0, 1)
        out = moved.movedim(-1, -3).to(images.dtype)
        return torch.cat((out, images[..., 3:, :, :]), dim=-3) if images.shape[-3] == 4 else out

    @torch.no_grad()
    def to_lut(self, size: int = 65, strength: float = 1.0) -> ColorLUT:
        """Bake the map into a lookup table over the sRGB cube, ``size`` nodes per axis."""
        return bake_lut(_AsColorMap(self), self.space, size=size, strength=strength)

    def parameters_dict(self) -> dict:
        parameters = {"space": self.space, "hidden": self.hidden, "depth": self.depth}
        if self.monotone_luma:
            parameters.update(monotone_luma=True, knots=self.knots)
        return parameters


def _chroma_part(vectors: torch.Tensor, axis: torch.Tensor) -> torch.Tensor:
    """``vectors`` ``(..., 3)`` less their component along the unit luma ``axis``."""
    return vectors - (vectors @ axis)[..., None] * axis


class _AsColorMap:
    """What :func:`colorot.maps.lut.bake_lut` needs of a map: a call on ``(B, k, 3)``, a device
    and a batch shape."""

    def __init__(self, generator: ColorGenerator):
        self.generator = generator
        self.device = next(generator.parameters()).device
        self.batch_shape = torch.Size([1])

    def __call__(self, colors: torch.Tensor) -> torch.Tensor:
        return self.generator.map_colors(colors)


# -- files ---------------------------------------------------------------------------------------
def save_generator(path, model: nn.Module, metadata: dict | None = None) -> Path:
    """Write a generator's weights and its parameters (JSON) to ``.safetensors``, atomically.

    Examples
    --------
    >>> import tempfile, os, colorot
    >>> path = save_generator(os.path.join(tempfile.mkdtemp(), "look.safetensors"), ColorGenerator(hidden=8))
    >>> path.suffix, type(colorot.load_generator(path)).__name__
    ('.safetensors', 'ColorGenerator')
    """
    from safetensors.torch import save  # an optional dependency's import, kept where it is needed

    path = Path(path)
    if path.suffix.lower() != ".safetensors":
        raise ColorotError(f"{path}: a generator file ends in .safetensors")
    kind = type(model).__name__
    header = {"format": GENERATOR_FORMAT, "version": GENERATOR_VERSION, "kind": kind,
              "parameters": model.parameters_dict(), **(metadata or {})}
    tensors = {name: value.detach().to("cpu", torch.float32).contiguous() for name, value in model.state_dict().items()}
    blob = save(tensors, metadata={"colorot": json.dumps(header)})

    def write(handle) -> None:
        handle.write(blob)

    return atomic_write(path, write)


def read_generator_file(path) -> tuple[dict, dict]:
    """The tensors and the JSON header of a generator file, checked (format, version); never runs code."""
    from safetensors import SafetensorError  # an optional dependency's import, kept where it is needed
    from safetensors.torch import load

    path = Path(path)
    try:
        blob = path.read_bytes()
    except FileNotFoundError:
        raise ColorotError(f"{path}: no such file") from None
    except OSError as error:
        raise ColorotError(f"{path}: cannot read ({error.strerror or error})") from None
    try:
        tensors = load(blob)
        header = json.loads(_safetensors_metadata(blob).get("colorot", "null"))
    except (SafetensorError, ValueError, UnicodeDecodeError, OverflowError) as error:
        raise ColorotError(f"{path}: not a colorot generator file ({error})") from None
    if not isinstance(header, dict) or header.get("format") != GENERATOR_FORMAT:
        raise ColorotError(f"{path}: not a colorot generator file")
    if int(header.get("version", 0)) > GENERATOR_VERSION:
        raise ColorotError(f"{path}: generator format version {header['version']} is newer than this colorot reads")
    return tensors, header


def build_generator(kind: type, tensors: dict, header: dict, path, device=None) -> nn.Module:
    """A generator of class ``kind`` with the parameters of ``header`` and the weights ``tensors``, on ``device``,
    in evaluation mode; weights that do not fit, or are not finite, are refused."""
    check_declared_sizes(header.get("parameters", {}), tensors, path)
    try:
        model = kind(**header.get("parameters", {}))
        model.load_state_dict(tensors, strict=True)
    except (TypeError, RuntimeError, ColorotError) as error:
        raise ColorotError(f"{path}: the weights do not fit a {header['kind']} ({str(error).splitlines()[0]})") from None
    if not all(torch.isfinite(value).all() for value in tensors.values()):
        raise ColorotError(f"{path}: the weights hold NaN or infinite values")
    model.metadata = header
    return model.to(device or "cpu").eval()


def check_declared_sizes(parameters: dict, tensors: dict, path) -> None:
    """Refuse, before any layer is built, a header whose sizes the file's weights cannot hold: no width above the
    largest dimension of its tensors, no depth above their count (a 316-byte file declaring a width of 10^9 would
    otherwise allocate gigabytes before the weights are found not to fit)."""
    if not isinstance(parameters, dict):
        raise ColorotError(f"{path}: not a colorot generator file (parameters)")
    largest = max((max(value.shape, default=1) for value in tensors.values()), default=0)
    for name, value in parameters.items():
        if isinstance(value, bool) or not isinstance(value, int):
            continue
        limit = len(tensors) if name == "depth" else largest
        if not 0 <= value <= max(limit, 1):
            raise ColorotError(f"{path}: declares {name}={value}, which the weights in the file cannot hold")


def _safetensors_metadata(blob: bytes) -> dict:
    """The ``__metadata__`` of a safetensors header (an 8-byte length, then JSON)."""
    if len(blob) < 8:
        raise ValueError("file too short")
    length = int.from_bytes(blob[:8], "little")
    if length > len(blob) - 8:
        raise ValueError("header longer than the file")
    return json.loads(blob[8:8 + length].decode()).get("__metadata__") or {}
