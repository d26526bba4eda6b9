"""The sliced Wasserstein distance and iterative sliced distribution transfer, in PyTorch.

One-dimensional transport (``colorot.ot.one_d``) is solved exactly by
sorting. In higher dimension, the *sliced* Wasserstein distance
averages this 1-D cost over random directions [1]_, and Pitié's iterative
distribution transfer [2]_ (Rabin's sliced projection [1]_) matches two point
clouds by repeating: draw a random orthonormal basis, solve the 1-D problem
along each of its axes, move the points.

References
----------
.. [1] J. Rabin, G. Peyré, J. Delon, M. Bernot, "Wasserstein barycenter and its
   application to texture mixing", SSVM 2011.
.. [2] F. Pitié, A. Kokaram, R. Dahyot, "N-dimensional probability density
   function transfer and its application to colour transfer", ICCV 2005.
"""

from __future__ import annotations

import math

import torch

from .. import threads
from ..options import DEFAULT_SEED
from .directions import _chroma_directions, _draw_bases, _gen_device, chroma_step_bases, random_directions
from .one_d import _Quantiles, sorted_values, wasserstein_1d
from .pieces import _broadcast_shapes, evaluate_rows, linear_pieces

__all__ = [
    "sliced_wasserstein",
    "SlicedStep",
    "SlicedSteps",
    "fit_sliced_steps",
    "fit_sliced",
]


def sliced_wasserstein(
    source: torch.Tensor,
    target: torch.Tensor,
    source_weights: torch.Tensor | None = None,
    target_weights: torch.Tensor | None = None,
    *,
    n_projections: int = 128,
    p: float = 2.0,
    seed: int | None = 0,
    directions: torch.Tensor | None = None,
) -> torch.Tensor:
    """Sliced Wasserstein distance between two weighted point clouds.

    .. math:: SW_p(\\mu, \\nu) = \\Big(\\mathbb{E}_{\\theta}\\,
              W_p^p(\\theta_\\# \\mu, \\theta_\\# \\nu)\\Big)^{1/p}

    estimated with ``n_projections`` uniform random directions, the quantity
    POT's ``ot.sliced_wasserstein_distance`` computes. The clouds may have
    different sizes and weights.

    Parameters
    ----------
    source : torch.Tensor, shape (n, d) or (B, n, d)
    target : torch.Tensor, shape (m, d) or (B, m, d)
    source_weights, target_weights : torch.Tensor, shape (n,) / (m,), optional
        Non-negative weights, uniform when omitted.
    n_projections : int
        Number of random directions.
    p : float
        Order of the distance.
    seed : int or None
        Seed of the directions (None is :data:`colorot.options.DEFAULT_SEED`, as everywhere in colorot).
    directions : torch.Tensor, shape (d, k), optional
        Use these unit directions instead of random ones.

    Returns
    -------
    torch.Tensor
        A scalar, or shape ``(B,)`` for batched input.

    Examples
    --------
    >>> import torch
    >>> x = torch.zeros(100, 3)
    >>> float(sliced_wasserstein(x, x + 1.0, n_projections=2000))  # ~ |shift| / sqrt(3)
    1.0...
    """
    if directions is None:
        generator = torch.Generator().manual_seed(DEFAULT_SEED if seed is None else int(seed))
        directions = random_directions(n_projections, source.shape[-1], generator)
    directions = directions.to(device=source.device, dtype=source.dtype)
    # (*batch, k, n), contiguous: sorting along a strided axis costs 2.5x as much (bit-identical result)
    source_projected = (source @ directions).transpose(-1, -2).contiguous()
    target_projected = (target.to(source.dtype) @ directions).transpose(-1, -2).contiguous()

    if source_weights is None and target_weights is None and source.shape[-2] == target.shape[-2]:
        # Equal sizes and weights: the 1-D plans match sorted samples one to one.
        gap = sorted_values(source_projected) - sorted_values(target_projected)
        return (gap.abs() ** p).mean(dim=-1).mean(dim=-1) ** (1 / p)

    def expand(weights, projected):
        return None if weights is None else weights.to(source.dtype).unsqueeze(-2).expand_as(projected)

    cost = wasserstein_1d(
        source_projected,
        target_projected,
        expand(source_weights, source_projected),
        expand(target_weights, target_projected),
        p=p,
    )
    return cost.mean(dim=-1) ** (1 / p)


class SlicedStep:
    """One step of a sliced transport map: project, move each projection by a
    monotone 1-D map, displace the color accordingly.

    .. math:: x \\mapsto x + \\big(h(x D) - x D\\big) M

    where the columns of ``D`` are the projection directions, ``h`` applies the
    piecewise-linear map ``knots_in[j] -> knots_out[j]`` to column ``j``, and
    the rows of ``M`` are the directions the colors move along. An orthonormal
    basis with ``M = D.T`` is Pitié's step; the *luma-preserving* steps move
    only within the chroma plane, with ``M`` chosen so that ``x D`` still
    changes by exactly ``h(x D) - x D``.

    Attributes
    ----------
    directions : torch.Tensor, shape (d, k)
    moves : torch.Tensor, shape (k, d)
    knots_in, knots_out : torch.Tensor, shape (*batch, k, K)
    tail_slope : float
        Slope of ``h`` beyond the first and last knots: 1 (a translation) or
        0 (projections stay within the target's range).
    """

    def __init__(self, directions, moves, knots_in, knots_out, tail_slope: float = 1.0):
        self.directions = directions
        self.moves = moves
        self.knots_in = knots_in
        self.knots_out = knots_out
        self.tail_slope = tail_slope
        self.slopes, self.intercepts = linear_pieces(knots_in, knots_out, tail_slope)

    def tensors(self) -> tuple[torch.Tensor, ...]:
        return (self.directions, self.moves, self.knots_in, self.knots_out)

    def to(self, device=None, dtype=None) -> "SlicedStep":
        same_device = device is None or torch.device(device) == self.knots_in.device
        if same_device and (dtype is None or dtype == self.knots_in.dtype):
            return self
        return SlicedStep(*(t.to(device=device, dtype=dtype) for t in self.tensors()), tail_slope=self.tail_slope)

    def __call__(self, colors: torch.Tensor) -> torch.Tensor:
        """Apply the step to colors of shape ``(*batch, n, d)``."""
        return self.apply_channels_first(colors.transpose(-1, -2)).transpose(-1, -2)

    def apply_channels_first(self, colors: torch.Tensor) -> torch.Tensor:
        """Apply the step to colors laid out ``(*batch, d, n)`` (no transposed copies)."""
        projected = self.directions.transpose(-1, -2) @ colors
        return colors + self.shift(projected)

    def shift(self, projected: torch.Tensor) -> torch.Tensor:
        """The color displacement, ``(*batch, d, n)``, of colors whose projections are ``projected``."""
        moved = evaluate_rows(projected, self.knots_in, self.slopes, self.intercepts)
        return self.moves.T @ (moved - projected)


class SlicedSteps:
    """The map fitted by iterative sliced transport: a composition of
    ``SlicedStep``, hence a continuous function of color.

    Attributes
    ----------
    steps : list of SlicedStep

    Examples
    --------
    >>> import torch
    >>> g = torch.Generator().manual_seed(0)
    >>> source, target = torch.rand(1, 1000, 3, generator=g), torch.rand(1, 1000, 3, generator=g) + 1
    >>> steps = fit_sliced_steps(source, target, n_iter=5, generator=g)[0]
    >>> isinstance(steps, SlicedSteps), bool((steps(source).mean() - target.mean()).abs() < 0.05)
    (True, True)
    """

    def __init__(self, steps: list[SlicedStep]):
        self.steps = list(steps)

    def __len__(self) -> int:
        return len(self.steps)

    @property
    def batch_shape(self) -> torch.Size:
        return _broadcast_shapes(*(step.knots_in.shape[:-2] for step in self.steps))

    @property
    def device(self) -> torch.device:
        return self.steps[0].directions.device

    def to(self, device=None, dtype=None) -> "SlicedSteps":
        return SlicedSteps([step.to(device=device, dtype=dtype) for step in self.steps])

    def __call__(self, colors: torch.Tensor) -> torch.Tensor:
        """Send colors of shape ``(*batch, n, d)`` through every step."""
        channels_first = colors.transpose(-1, -2).contiguous()
        for step in self.steps:
            channels_first = step.to(device=colors.device, dtype=colors.dtype).apply_channels_first(channels_first)
        return channels_first.transpose(-1, -2)


def _step_from_projections(
    projected: torch.Tensor,
    knots_out: torch.Tensor,
    directions: torch.Tensor,
    moves: torch.Tensor,
    quantiles: _Quantiles,
    noise: torch.Tensor | None,
    tail_slope: float = 1.0,
) -> SlicedStep:
    """The step whose 1-D maps send the (smoothed) ``projected`` source to quantiles ``knots_out``.

    The source's projections are smoothed -- ``noise``, Gaussian with the
    standard deviation ``smoothing``, is added -- before their quantiles are
    taken, which bounds the slope of the map, hence the gain it gives to
    noise, where the source's histogram has narrow peaks.
    """
    if noise is not None:
        projected = projected + noise
    return SlicedStep(directions, moves, quantiles.increasing(projected), knots_out, tail_slope)


def _smoothing_noise(
    shape: tuple[int, ...], smoothing: float, generator: torch.Generator | None, like: torch.Tensor
) -> torch.Tensor | None:
    """Gaussian noise of standard deviation ``smoothing`` (None when it is 0), on ``like``'s device."""
    if smoothing <= 0:
        return None
    noise = torch.randn(shape, generator=generator, device=_gen_device(generator), dtype=like.dtype)
    return noise.to(like.device).mul_(smoothing)


def _fit_step(
    colors: torch.Tensor,
    target: torch.Tensor,
    directions: torch.Tensor,
    moves: torch.Tensor,
    n_knots: int,
    smoothing: float,
    generator: torch.Generator | None,
) -> SlicedStep:
    """Fit the monotone 1-D maps of one step (one per direction).

    ``colors`` and ``target`` are laid out channels first, ``(*batch, d, n)``.
    """
    levels = torch.linspace(0, 1, n_knots, device=colors.device, dtype=colors.dtype)
    knots_out = _Quantiles(target.shape[-1], levels)(directions.T @ target)
    projected = directions.T @ colors
    noise = _smoothing_noise(projected.shape, smoothing, generator, projected)
    return _step_from_projections(projected, knots_out, directions, moves, _Quantiles(colors.shape[-1], levels), noise)


_BLOCK = 10  # steps whose target quantiles and smoothing noise are drawn together


def fit_sliced_steps(
    source: torch.Tensor,
    target: torch.Tensor,
    *,
    n_iter: int = 30,
    tol: float = 1e-4,
    n_knots: int = 128,
    smoothing: float = 0.0,
    luma_axis: torch.Tensor | None = None,
    max_tilt: float = math.pi / 3,
    transport_luma: bool = True,
    neutral_axis: torch.Tensor | None = None,
    generator: torch.Generator | None = None,
) -> tuple[SlicedSteps, torch.Tensor]:
    """Iterative sliced transport of ``source`` onto ``target``.

    Without ``luma_axis``, each step is Pitié's: a random orthonormal basis,
    one 1-D optimal transport per axis, all applied at once. With a
    ``luma_axis`` ``u``, the first step transports the luma ``x . u`` alone
    (a monotone 1-D map) and every later step moves colors only
    perpendicular to ``u``, along two random directions tilted out of the
    chroma plane, so that the output's luma is an increasing function of the
    input's luma -- image structure is kept exactly -- while the tilted
    projections still couple luma and chroma, and the joint distribution
    converges to the target's.

    Parameters
    ----------
    source : torch.Tensor, shape (..., n, d)
        Source samples (equal weights; subsample weighted data beforehand).
        A batch fits one map per cloud, all in the same tensor operations.
    target : torch.Tensor, shape (..., m, d)
        Target samples; ``m`` may differ from ``n``; a batch of one broadcasts.
    n_iter : int
        Maximum number of steps.
    tol : float
        Stop once the root-mean-square displacement of a step falls below
        ``tol`` for three steps in a row.
    n_knots : int
        Quantile levels per 1-D map (its number of linear pieces + 1).
    smoothing : float
        Standard deviation of the Gaussian that smooths the source's
        projected distribution at every step, in working-space units. Bounds
        the map's slope; 0 gives the raw quantile maps.
    luma_axis : torch.Tensor, shape (d,), optional
        Unit vector of the luma axis in the working space.
    max_tilt : float
        Largest tilt (radians) of the luma-preserving directions.
    transport_luma : bool
        With ``luma_axis``: False skips the luma step and does not tilt the
        directions, so every color keeps its luma and the chroma
        distribution (the projection on the chroma plane) is matched.
    neutral_axis : torch.Tensor, shape (d,), optional
        With ``luma_axis``: the direction of the neutral colors. A last step
        matches exactly, by 1-D transport, two chroma coordinates that
        vanish on neutral colors (see :func:`colorot.ot.directions.chroma_step_bases`), moving
        colors at constant luma: a target with no chroma (a black-and-white
        style) is reached, every color made neutral, and a narrow chroma
        distribution (a toned print) is matched rather than approached.
    generator : torch.Generator, optional
        Source of randomness (bases and smoothing noise).

    Returns
    -------
    steps : SlicedSteps
        The fitted map, a function of color.
    moved : torch.Tensor, shape (..., n, d)
        ``steps(source)``, the transported samples.

    Examples
    --------
    >>> import torch
    >>> g = torch.Generator().manual_seed(0)
    >>> source, target = torch.rand(1, 2000, 3, generator=g), torch.rand(1, 2000, 3, generator=g) ** 2
    >>> steps, moved = fit_sliced_steps(source, target, n_iter=10, generator=g)
    >>> torch.allclose(steps(source), moved, atol=1e-5), len(steps) <= 10
    (True, True)
    """
    dim = source.shape[-1]
    # Channels first, (*batch, d, n): projections are then rows, with no transposed copies.
    moved = source.transpose(-1, -2).contiguous()
    target = target.transpose(-1, -2).contiguous()
    levels = torch.linspace(0, 1, n_knots, device=source.device, dtype=source.dtype)
    source_quantiles = _Quantiles(moved.shape[-1], levels)
    target_quantiles = _Quantiles(target.shape[-1], levels)
    steps = []
    batch_shape, n_samples = moved.shape[:-2], moved.shape[-1]

    # Images that have converged stop moving: their later steps are exact identities (output knots =
    # input knots: slope 1, intercept 0), so each image's map is the one it gets when fitted alone.
    active = torch.ones(batch_shape, dtype=torch.bool, device=source.device)
    all_active = True  # active.all(), kept on the host: reading the tensor every step would stall an accelerator

    def run(directions, moves, knots_out, noise, tail_slope: float = 1.0) -> torch.Tensor:
        nonlocal moved
        projected = directions.transpose(-1, -2) @ moved
        step = _step_from_projections(projected, knots_out, directions, moves, source_quantiles, noise, tail_slope)
        if not all_active:
            frozen = torch.where(active[..., None, None], step.knots_out, step.knots_in)
            step = SlicedStep(directions, moves, step.knots_in, frozen, tail_slope)
        steps.append(step)
        shift = step.shift(projected)
        moved = moved + shift
        return shift

    # The smoothing noise is drawn once for the whole batch (shape of one image, broadcast), so that an
    # image's fit does not depend on the other images in its batch.
    if luma_axis is not None and transport_luma:
        axis = (luma_axis / luma_axis.norm()).to(device=source.device, dtype=source.dtype)[:, None]
        noise = _smoothing_noise((*(1,) * len(batch_shape), 1, n_samples), smoothing, generator, moved)
        run(axis, axis.T, target_quantiles(axis.T @ target), noise)
    directions, moves = (
        t.to(device=source.device, dtype=source.dtype)
        for t in _draw_bases(n_iter, dim, luma_axis, max_tilt if transport_luma else 0.0, generator)
    )
    # Reading a step's size back from an accelerator stalls its queue: there it is read every 10 steps.
    check_every = 1 if source.device.type == "cpu" else 10
    step_sizes = []
    for index in range(n_iter):
        within = index % _BLOCK
        if within == 0:
            # The target's quantiles along the directions of several steps, and their smoothing noise, at once.
            block = directions[index : index + _BLOCK]
            stacked = block.permute(1, 0, 2).reshape(dim, -1)
            block_shape = (block.shape[0], block.shape[2])
            target_knots = target_quantiles(stacked.T @ target).unflatten(-2, block_shape)
            noise = _smoothing_noise((*(1,) * len(batch_shape), *block_shape, n_samples), smoothing, generator, moved)
        step_noise = None if noise is None else noise[..., within, :, :]
        shift = run(directions[index], moves[index], target_knots[..., within, :, :], step_noise)
        if check_every - index % check_every <= 3:  # mean square displacement of each image
            with threads.torch_threads(1):  # a sum whose bits must not depend on the thread count
                step_sizes.append(shift.square().sum(dim=-2).mean(dim=-1))
        if len(step_sizes) >= 3 and (index + 1) % check_every == 0:
            active = active & ~(torch.stack(step_sizes[-3:]) < tol**2).all(dim=0)
            any_active, all_active = torch.stack((active.any(), active.all())).tolist()  # one read
            if not any_active:
                break
    if luma_axis is not None and neutral_axis is not None:
        directions = _chroma_directions(target, luma_axis, neutral_axis)
        moves = chroma_step_bases(luma_axis, neutral_axis)[1].to(device=source.device, dtype=source.dtype)
        noise = _smoothing_noise((*(1,) * len(batch_shape), 2, n_samples), smoothing, generator, moved)
        run(directions, moves, target_quantiles(directions.transpose(-1, -2) @ target), noise, tail_slope=0.0)
    return SlicedSteps(steps), moved.transpose(-1, -2)


def fit_sliced(source: torch.Tensor, style: torch.Tensor, **options) -> SlicedSteps:
    """The ``"sliced"`` method (:data:`colorot.methods.METHODS`): :func:`fit_sliced_steps`, the fitted map only.

    Examples
    --------
    >>> import torch
    >>> g = torch.Generator().manual_seed(0)
    >>> source, target = torch.rand(1, 2000, 3, generator=g), torch.rand(1, 2000, 3, generator=g) ** 2
    >>> steps = fit_sliced(source, target, n_iter=10, generator=g)
    >>> bool(sliced_wasserstein(steps(source), target) < 0.3 * sliced_wasserstein(source, target))
    True
    """
    return fit_sliced_steps(source, style, **options)[0]
