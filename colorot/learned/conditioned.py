"""The style-conditioned generator: any style in one forward pass, no per-style training.

The network takes, besides a pixel's color, a permutation-invariant
encoding of the two color distributions, the source's and the style's: their
quantile functions along fixed directions (sorted projections, which is
also what the sliced Wasserstein distance compares). A small encoder turns
the two encodings into a context vector, which modulates the per-pixel MLP
(feature-wise affine modulation, FiLM). It is trained once, on pairs built
from photos under random color augmentations, with the sliced W2 loss of
:mod:`colorot.learned.generator`; its weights (about 100 KB) ship in the package.

Applying it: encode the two images (a few thousand sampled colors each),
bake the conditioned map into a lookup table, look every pixel up. No
iterations, no optimization.
"""

from __future__ import annotations

import math
from pathlib import Path

import torch
from torch import nn

from ..devices import resolve_device, seeded_generator
from ..errors import ColorotError
from ..pixels import image_to_pixels
from ..measures import sample_colors
from ..measures.colorspaces import REC709_LUMA, SPACES, from_space, luma_axis, to_space
from .generator import SavedGenerator, build_generator, read_generator_file
from .training import _draw, _unit_columns, fit_generator, projected_quantiles
from ..maps.lut import ColorLUT, bake_lut

__all__ = ["ConditionedGenerator", "load_pretrained", "fit_conditioned", "encode_colors", "PRETRAINED"]

PRETRAINED = Path(__file__).resolve().parent / "weights" / "conditioned.safetensors"


def encode_colors(colors: torch.Tensor, directions: torch.Tensor, n_levels: int) -> torch.Tensor:
    """Quantile functions of ``colors`` ``(B, n, 3)`` along ``directions`` ``(3, K)`` at ``n_levels``
    levels: ``(B, K * n_levels)``, invariant to the order of the colors."""
    quantiles = projected_quantiles(colors, directions, n_levels)  # (B, n_levels, K)
    return quantiles.transpose(-1, -2).reshape(colors.shape[0], -1)


class ConditionedGenerator(SavedGenerator, nn.Module):
    """A color map ``g(x | source, style) = x + f(x, c)``, ``c`` encoding the two color distributions.

    Parameters
    ----------
    space : str
        Working color space.
    n_directions, n_levels : int
        The encoding: quantiles at ``n_levels`` levels along ``n_directions``
        fixed directions, for each of the two distributions.
    context : int
        Width of the context vector.
    hidden, depth : int
        Width and number of hidden layers of the per-pixel MLP.

    Examples
    --------
    >>> import torch
    >>> g = ConditionedGenerator()
    >>> source, style = torch.rand(1, 500, 3), torch.rand(1, 400, 3) ** 2
    >>> g.map_colors(source, g.context(source, style)).shape
    torch.Size([1, 500, 3])
    """

    needs_style = True  # not a look by itself: it maps colors given a source and a style

    def __init__(self, space: str = "rgb", n_directions: int = 13, n_levels: int = 16, context: int = 64,
                 hidden: int = 64, depth: int = 2):
        super().__init__()
        if space not in SPACES:
            raise ColorotError(f"unknown color space {space!r}; choose one of {', '.join(SPACES)}")
        self.space, self.n_directions, self.n_levels = space, int(n_directions), int(n_levels)
        self.context_width, self.hidden, self.depth = int(context), int(hidden), int(depth)
        # Fixed directions: the 3 axes, the 6 face diagonals' and the 4 body diagonals' first 13 of a
        # deterministic set (no randomness, so the encoding is the same everywhere).
        self.register_buffer("directions", _fixed_directions(self.n_directions))
        width = 2 * self.n_directions * self.n_levels
        self.encoder = nn.Sequential(nn.Linear(width, 128), nn.SiLU(), nn.Linear(128, self.context_width), nn.SiLU())
        self.inputs = nn.Linear(3, self.hidden)
        self.layers = nn.ModuleList(nn.Linear(self.hidden, self.hidden) for _ in range(self.depth - 1))
        self.film = nn.Linear(self.context_width, 2 * self.hidden * self.depth)
        nn.init.zeros_(self.film.weight)
        nn.init.zeros_(self.film.bias)
        self.output = nn.Linear(self.hidden, 3)
        nn.init.zeros_(self.output.weight)  # starts as the identity map
        nn.init.zeros_(self.output.bias)

    def parameters_dict(self) -> dict:
        return {"space": self.space, "n_directions": self.n_directions, "n_levels": self.n_levels,
                "context": self.context_width, "hidden": self.hidden, "depth": self.depth}

    def context(self, source_colors: torch.Tensor, style_colors: torch.Tensor) -> torch.Tensor:
        """Context ``(B, context)`` from source and style colors ``(B, n, 3)`` (working space)."""
        directions = self.directions.to(source_colors.dtype)
        codes = torch.cat((encode_colors(source_colors, directions, self.n_levels),
                           encode_colors(style_colors, directions, self.n_levels)), dim=-1)
        return self.encoder(codes)

    def map_colors(self, colors: torch.Tensor, context: torch.Tensor) -> torch.Tensor:
        """The map on working-space colors ``(B, n, 3)`` given contexts ``(B, context)``."""
        modulation = self.film(context).reshape(context.shape[0], self.depth, 2, 1, self.hidden)
        hidden = self.inputs(colors)
        for index in range(self.depth):
            if index > 0:
                hidden = self.layers[index - 1](hidden)
            hidden = torch.nn.functional.silu(hidden * (1 + modulation[:, index, 0]) + modulation[:, index, 1])
        return colors + self.output(hidden)

    @torch.no_grad()
    def to_lut(self, source_colors: torch.Tensor, style_colors: torch.Tensor, size: int = 65,
               strength: float = 1.0) -> ColorLUT:
        """Bake the map for these sRGB color samples ``(B, n, 3)`` into ``(B, ...)`` lookup tables."""
        source_colors = to_space(source_colors, self.space)
        style_colors = to_space(style_colors, self.space)
        context = self.context(source_colors, style_colors)
        return bake_lut(_ContextMap(self, context), self.space, size=size, strength=strength)

    def forward(self, images: torch.Tensor, styles: torch.Tensor, n_samples: int = 4096) -> torch.Tensor:
        """Recolor float sRGB images ``(B, 3|4, H, W)`` with the colors of ``styles`` ``(B or 1, 3, H', W')``.

        The distributions are encoded from ``n_samples`` evenly spaced pixels
        of each; differentiable in the images.
        """
        if images.ndim != 4 or styles.ndim != 4 or images.shape[1] not in (3, 4) or styles.shape[1] not in (3, 4):
            raise ColorotError("expected images (B, 3|4, H, W) and styles (B or 1, 3|4, H, W)")
        colors = to_space(images[:, :3].flatten(2).transpose(1, 2), self.space)
        style_colors = to_space(styles[:, :3].flatten(2).transpose(1, 2), self.space)
        context = self.context(_even(colors, n_samples), _even(style_colors, n_samples).expand(len(colors), -1, -1))
        moved = from_space(self.map_colors(colors, context), self.space).clamp(0, 1)
        out = moved.transpose(1, 2).reshape(images.shape[0], 3, *images.shape[2:]).to(images.dtype)
        return torch.cat((out, images[:, 3:]), dim=1)


def _even(colors: torch.Tensor, count: int) -> torch.Tensor:
    """``count`` evenly spaced rows of ``(B, n, 3)`` (all of them when fewer)."""
    step = max(colors.shape[1] // count, 1)
    return colors[:, ::step]


class _ContextMap:
    """A conditioned generator with its context fixed, as :func:`bake_lut` calls a map."""

    def __init__(self, model: ConditionedGenerator, context: torch.Tensor):
        self.model, self.context = model, context
        self.device = context.device
        self.batch_shape = context.shape[:1]

    def __call__(self, colors: torch.Tensor) -> torch.Tensor:
        return self.model.map_colors(colors.expand(len(self.context), -1, -1), self.context)


def _fixed_directions(count: int) -> torch.Tensor:
    """Unit directions ``(3, count)``: the axes, then the body and face diagonals, then a golden spiral."""
    candidates = [(1, 0, 0), (0, 1, 0), (0, 0, 1), (1, 1, 1), (1, 1, -1), (1, -1, 1), (-1, 1, 1),
                  (1, 1, 0), (1, -1, 0), (1, 0, 1), (1, 0, -1), (0, 1, 1), (0, 1, -1)]
    vectors = [torch.tensor(c, dtype=torch.float64) for c in candidates[:count]]
    golden = math.pi * (3 - math.sqrt(5))
    for index in range(count - len(vectors)):
        z = 1 - 2 * (index + 0.5) / (count - len(candidates))
        radius = math.sqrt(1 - z * z)
        vectors.append(torch.tensor((radius * math.cos(golden * index), radius * math.sin(golden * index), z),
                                    dtype=torch.float64))
    matrix = torch.stack(vectors, dim=1)
    return (matrix / matrix.norm(dim=0, keepdim=True)).to(torch.float32)


def load_pretrained(device=None) -> ConditionedGenerator:
    """The shipped style-conditioned generator (trained by ``benchmarks/train_conditioned.py``).

    Examples
    --------
    >>> import torch
    >>> model = load_pretrained()
    >>> source, style = torch.rand(1, 2000, 3), torch.rand(1, 2000, 3) ** 3   # a much darker style
    >>> bool(model.to_lut(source, style, size=9).table.mean() < 0.5)
    True
    """
    if not PRETRAINED.exists():
        raise ColorotError(f"the pretrained conditioned generator is missing ({PRETRAINED})")
    tensors, header = read_generator_file(PRETRAINED)
    return build_generator(ConditionedGenerator, tensors, header, PRETRAINED, device)


def fit_conditioned(source: torch.Tensor, style: torch.Tensor) -> _ContextMap:
    """The ``"conditioned"`` method (:data:`colorot.methods.METHODS`): the shipped generator's map from
    ``source`` to ``style`` colors (sRGB, ``(B, n, 3)``), one forward pass, no fitting.

    Examples
    --------
    >>> import torch
    >>> g = torch.Generator().manual_seed(0)
    >>> source, style = torch.rand(1, 2000, 3, generator=g), torch.rand(1, 2000, 3, generator=g) ** 3
    >>> bool(fit_conditioned(source, style)(source).mean() < source.mean())   # a much darker style
    True
    """
    model = load_pretrained(source.device)
    source, style = source.reshape(-1, *source.shape[-2:]), style.reshape(-1, *style.shape[-2:])
    style = style.expand(source.shape[0], -1, -1)
    return _ContextMap(model, model.context(source, style))


def augment_colors(colors: torch.Tensor, generator: torch.Generator, strength: float = 1.0) -> torch.Tensor:
    """Random color grades of sRGB colors ``(B, n, 3)``, one per row: channel gains, a gamma, a
    saturation change and a small channel mix, clipped to ``[0, 1]`` (the training pairs' variety)."""
    batch, device = colors.shape[0], colors.device

    def normal(*shape):
        return torch.randn(*shape, generator=generator, device=generator.device).to(device) * strength

    gains = torch.exp(0.25 * normal(batch, 1, 3))
    gamma = torch.exp(0.35 * normal(batch, 1, 1))
    saturation = torch.exp(0.45 * normal(batch, 1, 1))
    mix = torch.eye(3, device=device) + 0.08 * normal(batch, 3, 3)
    graded = (colors.clamp(0, 1) ** gamma) * gains
    luma = graded @ torch.tensor(REC709_LUMA, device=device)[:, None]
    graded = luma + saturation * (graded - luma)
    return (graded @ mix.transpose(1, 2)).clamp(0, 1)


def train_conditioned(
    photos,
    *,
    space: str = "rgb",
    n_steps: int = 3000,
    pairs_per_step: int = 16,
    n_colors: int = 4096,
    n_directions: int = 32,
    learning_rate: float = 3e-3,
    smoothness: float = 1e-3,
    seed: int | None = 0,
    device=None,
    progress=None,
) -> ConditionedGenerator:
    """Train a :class:`ConditionedGenerator` on random pairs of augmented ``photos``.

    Each step draws ``pairs_per_step`` (source, style) pairs: two photos
    (possibly the same one), each under its own random color grade
    (:func:`augment_colors`), ``n_colors`` colors each; the loss is the sliced
    W2 between the mapped source colors and the style's, with the smoothness
    terms of :func:`colorot.learned.training.regularity_penalties`.
    """

    photos = list(photos)
    if len(photos) < 2:
        raise ColorotError("train the conditioned generator on at least two photos")
    device = resolve_device(device)
    generator = seeded_generator(seed, device)
    if seed is not None:
        torch.manual_seed(seed)
    model = ConditionedGenerator(space).to(device)
    pools = []
    for index, photo in enumerate(photos):
        view = image_to_pixels(photo, f"photo {index}")
        pools.append(sample_colors(view.pixels, view.scale, 1 << 16, generator, device=device)[0].clamp(0, 1))
    drawn = {}  # the step's (source, style) colors: targets draws them, map_colors conditions on them

    def draw_pairs():
        picks = torch.randint(len(pools), (2, pairs_per_step), generator=generator, device=generator.device)
        source = torch.stack([_draw(pools[int(i)], n_colors, generator) for i in picks[0]])
        style = torch.stack([_draw(pools[int(i)], n_colors, generator) for i in picks[1]])
        return to_space(augment_colors(source, generator), space), to_space(augment_colors(style, generator), space)

    def targets(step):
        source, style = draw_pairs()
        directions = _unit_columns(torch.randn(3, n_directions, generator=generator, device=generator.device))
        directions = directions.to(device)
        drawn["pair"] = (source, style)
        return source, projected_quantiles(style, directions, n_colors), directions

    def map_colors(step, colors):
        return model.map_colors(colors, model.context(*drawn["pair"]))

    fit_generator(model, targets, n_steps=n_steps, learning_rate=learning_rate, smoothness=smoothness,
                  tolerance=0.0, generator=generator, space=space, fidelity=0.02,
                  luma=luma_axis(space).to(device=device, dtype=torch.float32), progress=progress,
                  map_colors=map_colors)
    return model.eval()
