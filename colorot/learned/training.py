"""Training generators: the sliced Wasserstein loss (a minimum Kantorovich estimator), the regularity penalties,
and the optimization loop shared by the per-style and the style-conditioned generators."""

from __future__ import annotations

import math
from typing import Callable, Sequence

import torch
from torch import nn

from ..devices import resolve_device, seeded_generator
from ..errors import ColorotError
from ..options import DEFAULT_SEED
from ..pixels import image_to_pixels
from ..measures import sample_colors
from ..measures.colorspaces import luma_axis, to_space
from ..ot.one_d import midpoint_quantiles
from .generator import ColorGenerator, _chroma_part

__all__ = ["train_generator", "fit_generator", "sliced_loss", "projected_quantiles", "regularity_penalties"]


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

    Examples
    --------
    >>> import torch
    >>> g = torch.Generator().manual_seed(0)
    >>> colors = torch.rand(500, 3, generator=g)
    >>> roughness, order = regularity_penalties(lambda x: torch.zeros_like(x) + 0.1, colors, g)
    >>> float(roughness) < 1e-6   # a translation is perfectly smooth
    True
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
        Weight of the roughness term of :func:`colorot.learned.training.regularity_penalties`: larger
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
        The run of the random draws and the initial weights (None is :data:`colorot.options.DEFAULT_SEED`,
        as everywhere in colorot): training is reproducible on one device; torch's global state is left alone.
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

    photos = list(photos)
    if not photos:
        raise ColorotError("no photos to train on; pass at least one image")
    if n_steps < 1 or batch_size < 16 or n_directions < 1:
        raise ColorotError("n_steps, batch_size and n_directions must be positive (batch_size >= 16)")
    device = resolve_device(device)
    generator = seeded_generator(seed, device)
    with torch.random.fork_rng(devices=[]):  # the initial weights from the seed; torch's global state untouched
        torch.manual_seed(DEFAULT_SEED if seed is None else int(seed))
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
