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

The style-conditioned variant lives in :mod:`colorot.conditioned`.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Callable, Sequence

import torch
from torch import nn

from .colorspaces import SPACES, from_space, luma_axis, to_space
from .errors import ColorotError
from .sliced import midpoint_quantiles
from .transport_map import ColorLUT, bake_lut

__all__ = ["ColorGenerator", "SavedGenerator", "train_generator", "sliced_loss", "projected_quantiles",
           "regularity_penalties", "fit_generator", "save_generator", "load_generator"]

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
    """What :func:`colorot.transport_map.bake_lut` needs of a map: a call on ``(B, k, 3)``, a device
    and a batch shape."""

    def __init__(self, generator: ColorGenerator):
        self.generator = generator
        self.device = next(generator.parameters()).device
        self.batch_shape = torch.Size([1])

    def __call__(self, colors: torch.Tensor) -> torch.Tensor:
        return self.generator.map_colors(colors)


def sliced_loss(moved: torch.Tensor, quantiles: torch.Tensor, directions: torch.Tensor) -> torch.Tensor:
    """Monte-Carlo squared sliced W2 between ``moved`` ``(..., n, 3)`` and a target given by its quantiles.

    ``quantiles`` ``(..., n, K)`` holds the target's quantile function along each
    direction (columns of ``directions``, ``(3, K)``) at the levels
    ``(i + 0.5) / n``; the sorted projections of ``moved`` are compared with
    them (averaged over leading batch axes). Differentiable in ``moved``.
    """
    projected = (moved @ directions).sort(dim=-2).values
    return ((projected - quantiles) ** 2).mean(dim=-2).sum(dim=-1).mean() * (3 / directions.shape[1])


def projected_quantiles(colors: torch.Tensor, directions: torch.Tensor, n_levels: int) -> torch.Tensor:
    """Quantiles ``(..., n_levels, K)`` of ``colors`` ``(..., m, 3)`` projected on ``directions`` ``(3, K)`` at the
    levels ``(i + 0.5) / n_levels`` (linear interpolation of the order statistics, any ``m``)."""
    return midpoint_quantiles((colors @ directions).sort(dim=-2).values, n_levels, dim=-2)


def regularity_penalties(
    shift: Callable[[torch.Tensor], torch.Tensor],
    colors: torch.Tensor,
    generator: torch.Generator,
    luma: torch.Tensor | None = None,
    step: float = 0.02,
) -> tuple[torch.Tensor, torch.Tensor]:
    """How far ``x + shift(x)`` is from a translation near ``colors``, and how far from keeping luma order.

    The first is ``||(shift(x + h u) - shift(x)) / h||^2`` for random unit
    ``u`` (a finite-difference estimate of ``||J - I||^2``). The second (0
    without a ``luma`` axis) is the mean squared shortfall of the output's
    luma slope along that axis below 0.1: a map that flattens or inverts luma
    locally breaks edges and textures.
    """
    direction = torch.randn(colors.shape, generator=generator, device=generator.device).to(colors.device)
    direction = direction / direction.norm(dim=-1, keepdim=True)
    base = shift(colors)
    rough = (((shift(colors + step * direction) - base) / step) ** 2).sum(dim=-1).mean()
    if luma is None:
        return rough, torch.zeros((), device=colors.device)
    slope = 1 + ((shift(colors + step * luma) - base) @ luma) / step
    return rough, torch.relu(0.1 - slope).square().mean()


def train_generator(
    style,
    photos: Sequence,
    *,
    space: str = "rgb",
    n_steps: int = 400,
    batch_size: int = 4096,
    n_directions: int = 32,
    learning_rate: float = 5e-3,
    smoothness: float = 1e-3,
    order: float = 1.0,
    fidelity: float = 0.02,
    hidden: int = 64,
    depth: int = 2,
    monotone_luma: bool = True,
    n_samples: int = 1 << 16,
    tolerance: float = 1e-3,
    seed: int | None = None,
    device=None,
    progress: Callable[[int, float], None] | None = None,
) -> ColorGenerator:
    """Train a :class:`ColorGenerator` that maps the colors of ``photos`` to the style's.

    Parameters
    ----------
    style : array, PIL image or tensor
        The look to learn.
    photos : sequence of images
        The photos whose pooled colors are the generator's input (a shoot, a
        clip's frames); ``n_samples`` colors in all are drawn from them.
    space : str
        Working color space.
    n_steps : int
        Maximum number of Adam steps.
    batch_size : int
        Source colors per step (style quantiles come from all ``n_samples``).
    n_directions : int
        Random directions per step of the sliced loss.
    learning_rate : float
        Adam's initial step size (cosine-decayed to a tenth).
    smoothness : float
        Weight of the roughness term of :func:`regularity_penalties`: larger
        keeps the map closer to a translation (smoother, less contrast added
        to noise), at the training colors and over the whole color cube.
    order : float
        Weight of its luma-order term: keeps the output's luma an increasing
        function of the input's (a map that only matches distributions may
        invert luma, which breaks the image's structure).
    fidelity : float
        Weight of the mean squared displacement ``|g(x) - x|^2``: among the
        maps that match the style, prefer those that move colors least (the
        optimal transport map's defining property).
    hidden, depth : int
        The MLP's width and number of hidden layers.
    monotone_luma : bool
        Luma mapped by an increasing function of luma alone, the network
        moving chroma only (see :class:`ColorGenerator`): the structure of
        dark, noisy photos survives. ``False`` lets the network move luma too
        (the ``order`` term then only discourages inverting it).
    n_samples : int
        Colors drawn from the style and, pooled, from the photos.
    tolerance : float
        Early stop: training ends when the smoothed loss has improved by less
        than this fraction over the last 100 steps.
    seed : int, optional
        Makes training reproducible on one device.
    device : str or torch.device, optional
        Where to train (``"auto"`` picks the GPU when there is one).
    progress : callable, optional
        Called as ``progress(step, loss)`` after every step.

    Returns
    -------
    ColorGenerator
        In evaluation mode, on ``device``.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> style, photo = rng.random((32, 32, 3)) ** 2, rng.random((32, 32, 3))
    >>> g = train_generator(style, [photo], n_steps=30, batch_size=512, seed=0)
    >>> from colorot.api import apply_lut
    >>> out = apply_lut(g.to_lut(17), photo)
    >>> bool(out.mean() < photo.mean())
    True
    """
    from .api import _generator, resolve_device
    from ._convert import image_to_pixels
    from .measures import sample_colors

    photos = list(photos)
    if not photos:
        raise ColorotError("no photos to train on; pass at least one image")
    if n_steps < 1 or batch_size < 16 or n_directions < 1:
        raise ColorotError("n_steps, batch_size and n_directions must be positive (batch_size >= 16)")
    device = resolve_device(device)
    generator = _generator(seed, device)
    if seed is not None:
        torch.manual_seed(seed)  # the network's initial weights
    model = ColorGenerator(space, hidden, depth, monotone_luma=monotone_luma).to(device)

    def colors_of(image, name, count):
        view = image_to_pixels(image, name)
        return to_space(sample_colors(view.pixels, view.scale, count, generator, device=device, name=name),
                        space).reshape(-1, 3)

    with torch.no_grad():
        style_colors = colors_of(style, "style", n_samples)
        per_photo = max(n_samples // len(photos), 1024)
        pool = torch.cat([colors_of(photo, f"photo {i}", per_photo) for i, photo in enumerate(photos)])
        model.center.copy_(pool.mean(dim=0))
        model.scale.copy_(pool.std(dim=0).clamp_min(1e-3))
        if monotone_luma:  # the luma map starts as the exact 1-D transport of luma, as the engine's first step
            model.set_luma_map(pool @ model.luma, style_colors @ model.luma)
        # The style is fixed: its quantiles along a bank of directions are computed once, and each
        # step draws its directions from the bank (sorting the style at every step would dominate).
        bank = _unit_columns(torch.randn(3, 256, generator=generator, device=generator.device).to(device))
        bank_quantiles = projected_quantiles(style_colors[: 8 * batch_size], bank, batch_size)

    def targets(step: int):
        pick = torch.randint(bank.shape[1], (n_directions,), generator=generator, device=generator.device)
        pick = pick.to(device)
        return _draw(pool, batch_size, generator), bank_quantiles[:, pick], bank[:, pick]

    luma = luma_axis(space).to(device=device, dtype=torch.float32)
    fit_generator(model, targets, n_steps=n_steps, learning_rate=learning_rate, smoothness=smoothness,
                  tolerance=tolerance, generator=generator, space=space, luma=luma, order=order,
                  fidelity=fidelity, progress=progress)
    return model.eval()


def _unit_columns(matrix: torch.Tensor) -> torch.Tensor:
    return matrix / matrix.norm(dim=0, keepdim=True)


def _draw(pool: torch.Tensor, count: int, generator: torch.Generator) -> torch.Tensor:
    index = torch.randint(pool.shape[0], (count,), generator=generator, device=generator.device)
    return pool[index.to(pool.device)]


def fit_generator(
    model: nn.Module,
    targets: Callable[[int], tuple[torch.Tensor, torch.Tensor, torch.Tensor]],
    *,
    n_steps: int,
    learning_rate: float,
    smoothness: float,
    tolerance: float,
    generator: torch.Generator,
    space: str = "rgb",
    luma: torch.Tensor | None = None,
    order: float = 1.0,
    fidelity: float = 0.0,
    progress: Callable[[int, float], None] | None = None,
    map_colors: Callable[[int, torch.Tensor], torch.Tensor] | None = None,
) -> list[float]:
    """The training loop shared by the generators: Adam on the sliced loss plus the smoothness term.

    ``targets(step)`` gives the step's source colors ``(n, 3)`` (working
    space), the target's quantiles ``(n, K)`` and the directions ``(3, K)``
    (see :func:`sliced_loss`); ``map_colors(step, colors)`` (default
    ``model.map_colors``) moves the source colors. The smoothness term is
    taken at the source colors and at random colors of the sRGB cube
    (converted to ``space``). Returns the losses.
    """
    if map_colors is None:
        def map_colors(step, colors):
            return model.map_colors(colors)
    optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(step / n_steps, 1.0)))
    )
    if getattr(model, "monotone_luma", False):
        # The luma map is the 1-D transport of luma (increasing by construction, as steep as the two histograms
        # ask): the roughness is the chroma shift's only, and there is no luma order left to penalize.
        def shift(step, colors):
            return _chroma_part(map_colors(step, colors) - colors, model.luma)
        luma = None
    else:
        def shift(step, colors):
            return map_colors(step, colors) - colors
    losses, smoothed, history = [], None, []
    patience = max(n_steps // 5, 50)
    model.train()
    for step in range(n_steps):
        source, quantiles, directions = targets(step)
        moved = map_colors(step, source)
        loss = sliced_loss(moved, quantiles, directions)
        total = loss
        if smoothness > 0:
            # The map must stay regular off the training colors too (new photos show new colors): the
            # penalty is also taken at random colors of the whole sRGB cube.
            cube = torch.rand((*source.shape[:-2], source.shape[-2] // 4, 3), generator=generator,
                              device=generator.device).to(source.device)
            probes = torch.cat((source, to_space(cube, space)), dim=-2)
            rough, disorder = regularity_penalties(lambda colors: shift(step, colors), probes, generator, luma)
            total = total + smoothness * rough + order * disorder
        if fidelity > 0:
            total = total + fidelity * (moved - source).square().sum(dim=-1).mean()
        optimizer.zero_grad(set_to_none=True)
        total.backward()
        optimizer.step()
        schedule.step()
        value = loss.item()
        if not math.isfinite(value):
            raise ColorotError("training diverged (the loss is not finite); lower the learning rate")
        losses.append(value)
        smoothed = value if smoothed is None else 0.99 * smoothed + 0.01 * value
        history.append(smoothed)
        if progress is not None:
            progress(step + 1, value)
        if step >= patience and min(history[:-patience]) - min(history[-patience:]) < tolerance * smoothed:
            break  # no real progress over the last `patience` steps
    model.eval()
    return losses


# -- files ---------------------------------------------------------------------------------------
def save_generator(path, model: nn.Module, metadata: dict | None = None) -> Path:
    """Write a generator's weights and its parameters (JSON) to ``.safetensors``, atomically."""
    from safetensors.torch import save

    from .io import atomic_write

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


def load_generator(path, device=None) -> nn.Module:
    """Read a generator file written by :func:`save_generator` (never runs code from it).

    Examples
    --------
    >>> import tempfile, os, torch
    >>> path = ColorGenerator(hidden=8).save(os.path.join(tempfile.mkdtemp(), "g.safetensors"), {"style": "x"})
    >>> model = load_generator(path)
    >>> type(model).__name__, model.hidden, model.metadata["style"]
    ('ColorGenerator', 8, 'x')
    """
    from safetensors import SafetensorError
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
    from .conditioned import ConditionedGenerator  # imports this module: not at the top

    kind = {"ColorGenerator": ColorGenerator, "ConditionedGenerator": ConditionedGenerator}.get(header.get("kind"))
    if kind is None:
        raise ColorotError(f"{path}: unknown generator kind {header.get('kind')!r}")
    try:
        model = kind(**header.get("parameters", {}))
        model.load_state_dict(tensors, strict=True)
    except (TypeError, RuntimeError, ColorotError) as error:
        raise ColorotError(f"{path}: the weights do not fit a {header['kind']} ({str(error).splitlines()[0]})") from None
    if not all(torch.isfinite(value).all() for value in tensors.values()):
        raise ColorotError(f"{path}: the weights hold NaN or infinite values")
    model.metadata = header
    return model.to(device or "cpu").eval()


def _safetensors_metadata(blob: bytes) -> dict:
    """The ``__metadata__`` of a safetensors header (an 8-byte length, then JSON)."""
    if len(blob) < 8:
        raise ValueError("file too short")
    length = int.from_bytes(blob[:8], "little")
    if length > len(blob) - 8:
        raise ValueError("header longer than the file")
    return json.loads(blob[8:8 + length].decode()).get("__metadata__") or {}
