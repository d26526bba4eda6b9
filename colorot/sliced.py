"""One-dimensional optimal transport, the sliced Wasserstein distance and
iterative sliced distribution transfer, in PyTorch.

In one dimension optimal transport is solved exactly by sorting: the monotone
map :math:`T = Q_y \\circ F_x` sends each quantile of the source to the same
quantile of the target. In higher dimension, the *sliced* Wasserstein distance
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

import numpy as np
import torch

from . import threads

__all__ = [
    "random_rotation",
    "random_directions",
    "quantile_function",
    "transport_1d",
    "wasserstein_1d",
    "sliced_wasserstein",
    "piecewise_linear",
    "SlicedStep",
    "SlicedSteps",
    "fit_sliced_steps",
    "chroma_step_bases",
    "midpoint_quantiles",
    "sliced_barycenter",
]


def random_rotation(
    dim: int,
    generator: torch.Generator | None = None,
    *,
    device=None,
    dtype=torch.float32,
) -> torch.Tensor:
    """A uniformly random orthonormal basis (Haar measure on O(d)).

    The QR decomposition of a Gaussian matrix, with column signs fixed so that
    the distribution is exactly uniform (Mezzadri 2007).

    Returns
    -------
    torch.Tensor, shape (dim, dim)
        Orthonormal columns: ``R.T @ R == I``.

    Examples
    --------
    >>> import torch
    >>> rotation = random_rotation(3, torch.Generator().manual_seed(0))
    >>> torch.allclose(rotation.T @ rotation, torch.eye(3), atol=1e-6)
    True
    """
    device = torch.device("cpu") if device is None else torch.device(device)
    gaussian = torch.randn(dim, dim, generator=generator, dtype=torch.float64, device=_gen_device(generator))
    return torch.from_numpy(_haar(gaussian.cpu().numpy())).to(device=device, dtype=dtype)


def _haar(gaussian: np.ndarray) -> np.ndarray:
    """Uniformly random orthonormal bases from Gaussian matrices ``(..., d, d)``: QR with the signs of
    ``R``'s diagonal moved into ``Q`` (tiny LAPACK calls, faster in numpy than through torch)."""
    q, r = np.linalg.qr(gaussian)
    return q * np.sign(np.diagonal(r, axis1=-2, axis2=-1))[..., None, :]


def random_directions(
    n_directions: int,
    dim: int,
    generator: torch.Generator | None = None,
    *,
    device=None,
    dtype=torch.float32,
) -> torch.Tensor:
    """``n_directions`` independent uniform unit vectors, shape ``(dim, n_directions)``."""
    gaussian = torch.randn(dim, n_directions, generator=generator, dtype=torch.float64, device=_gen_device(generator))
    directions = gaussian / gaussian.norm(dim=0, keepdim=True)
    return directions.to(device=device, dtype=dtype)


def _gen_device(generator: torch.Generator | None) -> torch.device:
    return torch.device("cpu") if generator is None else generator.device


def _sorted_masses(values: torch.Tensor, weights: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
    """The sorting order of each row of ``values`` and the normalized masses in that order
    (uniform when ``weights`` is None)."""
    order = values.argsort(dim=-1)
    if weights is None:
        return order, torch.full(values.shape, 1.0 / values.shape[-1], device=values.device, dtype=values.dtype)
    weights = weights.gather(-1, order).to(values.dtype)
    return order, weights / weights.sum(dim=-1, keepdim=True)


def quantile_function(
    values: torch.Tensor,
    levels: torch.Tensor,
    weights: torch.Tensor | None = None,
) -> torch.Tensor:
    """Quantiles of weighted 1-D samples, row by row.

    The generalized inverse of the (right-continuous, step) cumulative
    distribution: ``Q(u) = min {v : F(v) >= u}``, the convention under which
    ``Q_y(F_x(.))`` is the optimal 1-D map between discrete measures.

    Parameters
    ----------
    values : torch.Tensor, shape (..., n)
        Samples; each row is one measure.
    levels : torch.Tensor, shape (..., k) or (k,)
        Probability levels in ``[0, 1]``.
    weights : torch.Tensor, shape (..., n), optional
        Non-negative weights (uniform when omitted).

    Returns
    -------
    torch.Tensor, shape (..., k)

    Examples
    --------
    >>> import torch
    >>> quantile_function(torch.tensor([3.0, 1.0, 2.0]), torch.tensor([0.1, 0.5, 1.0]))
    tensor([1., 2., 3.])
    """
    order, probability = _sorted_masses(values, weights)
    sorted_values = values.gather(-1, order)
    cdf = probability.cumsum(dim=-1)
    levels = levels.to(values.dtype).expand(*values.shape[:-1], levels.shape[-1]).contiguous()
    # Tolerate the rounding of the cumulative sum at the top level.
    index = torch.searchsorted(cdf, levels - 1e-6 * levels)
    return sorted_values.gather(-1, index.clamp(max=values.shape[-1] - 1))


def midpoint_quantiles(sorted_values: torch.Tensor, n_levels: int, dim: int = -1) -> torch.Tensor:
    """Quantiles at the levels ``(i + 0.5) / n_levels`` of samples sorted along ``dim``.

    Linear interpolation of the order statistics, for any number of samples;
    the sorted samples themselves when there are ``n_levels`` of them. The
    sliced losses of the generators and of patch style transfer compare sorted
    projections of one size with another's quantiles through it.

    Examples
    --------
    >>> import torch
    >>> midpoint_quantiles(torch.tensor([0.0, 1.0, 2.0, 3.0]), 2)
    tensor([0.5000, 2.5000])
    """
    n = sorted_values.shape[dim]
    if n == n_levels:
        return sorted_values
    values = sorted_values.movedim(dim, -1)
    position = ((torch.arange(n_levels, device=values.device, dtype=values.dtype) + 0.5) * (n / n_levels) - 0.5)
    position = position.clamp(0, n - 1)
    low = position.floor().long()
    high = (low + 1).clamp(max=n - 1)
    fraction = position - low
    return (values[..., low] * (1 - fraction) + values[..., high] * fraction).movedim(-1, dim)


def transport_1d(
    source: torch.Tensor,
    target: torch.Tensor,
    source_weights: torch.Tensor | None = None,
    target_weights: torch.Tensor | None = None,
) -> torch.Tensor:
    """Optimal 1-D transport of every source sample, row by row.

    Each sample ``x`` moves to ``Q_target(F_source(x))``, evaluated at the middle
    of the probability mass ``x`` carries, so samples of equal size and weight
    are matched by sorting and unequal sizes by quantile matching.

    Parameters
    ----------
    source : torch.Tensor, shape (..., n)
    target : torch.Tensor, shape (..., m)
    source_weights, target_weights : torch.Tensor, optional
        Non-negative weights, uniform when omitted.

    Returns
    -------
    torch.Tensor, shape (..., n)
        Where each source sample is sent.

    Examples
    --------
    >>> import torch
    >>> transport_1d(torch.tensor([0.3, 0.1, 0.2]), torch.tensor([10.0, 30.0, 20.0]))
    tensor([30., 10., 20.])
    """
    order, probability = _sorted_masses(source, source_weights)
    middle = probability.cumsum(dim=-1) - probability / 2
    moved_sorted = quantile_function(target, middle, target_weights)
    return torch.empty_like(moved_sorted).scatter_(-1, order, moved_sorted)


def wasserstein_1d(
    source: torch.Tensor,
    target: torch.Tensor,
    source_weights: torch.Tensor | None = None,
    target_weights: torch.Tensor | None = None,
    p: float = 2.0,
) -> torch.Tensor:
    """Exact ``W_p^p`` between weighted 1-D samples, row by row.

    The integral over ``u`` in ``[0, 1]`` of ``|Q_source(u) - Q_target(u)|^p``,
    computed exactly on the union of both step functions' breakpoints.

    Returns
    -------
    torch.Tensor, shape (...)

    Examples
    --------
    >>> import torch
    >>> wasserstein_1d(torch.tensor([0.0, 1.0]), torch.tensor([2.0, 3.0, 4.0]))
    tensor(6.5000)
    """
    cdfs = []
    for values, weights in ((source, source_weights), (target, target_weights)):
        cdfs.append(_sorted_masses(values, weights)[1].cumsum(dim=-1))
    breakpoints, _ = torch.cat(cdfs, dim=-1).clamp(0, 1).sort(dim=-1)
    zero = torch.zeros_like(breakpoints[..., :1])
    lower = torch.cat((zero, breakpoints[..., :-1]), dim=-1)
    mass = (breakpoints - lower).clamp_min(0)
    middle = (breakpoints + lower) / 2
    gap = quantile_function(source, middle, source_weights) - quantile_function(target, middle, target_weights)
    return (mass * gap.abs() ** p).sum(dim=-1)


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
    POT's :func:`ot.sliced_wasserstein_distance` computes. The clouds may have
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
        Seed of the directions (None draws from torch's global generator).
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
        generator = None if seed is None else torch.Generator().manual_seed(seed)
        directions = random_directions(n_projections, source.shape[-1], generator)
    directions = directions.to(device=source.device, dtype=source.dtype)
    source_projected = (source @ directions).transpose(-1, -2)
    target_projected = (target.to(source.dtype) @ directions).transpose(-1, -2)

    if source_weights is None and target_weights is None and source.shape[-2] == target.shape[-2]:
        # Equal sizes and weights: the 1-D plans match sorted samples one to one.
        gap = source_projected.sort(dim=-1).values - target_projected.sort(dim=-1).values
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


def piecewise_linear(values: torch.Tensor, knots_in: torch.Tensor, knots_out: torch.Tensor) -> torch.Tensor:
    """Evaluate increasing piecewise-linear maps row by row.

    The map goes through the points ``(knots_in[j], knots_out[j])`` and
    continues beyond the first and last knot as a translation (slope 1), so it
    is defined, continuous and monotone on the whole line.

    Parameters
    ----------
    values : torch.Tensor, shape (r, n)
    knots_in : torch.Tensor, shape (r, k)
        Strictly increasing along the last axis.
    knots_out : torch.Tensor, shape (r, k)
        Non-decreasing along the last axis.

    Examples
    --------
    >>> import torch
    >>> piecewise_linear(torch.tensor([[-1.0, 0.5, 3.0]]), torch.tensor([[0.0, 1.0]]), torch.tensor([[0.0, 2.0]]))
    tensor([[-1.,  1.,  4.]])
    """
    return evaluate_pieces(values, knots_in, *linear_pieces(knots_in, knots_out))


def linear_pieces(knots_in: torch.Tensor, knots_out: torch.Tensor, tail_slope: float = 1.0
                  ) -> tuple[torch.Tensor, torch.Tensor]:
    """Slopes and intercepts of the pieces of :func:`piecewise_linear`, each of shape ``(..., k + 1)``.

    Piece ``j`` covers ``[knots_in[j-1], knots_in[j])``; pieces ``0`` and
    ``k`` are the tails, of slope ``tail_slope`` (1: a translation; 0: the
    end values, for a map that must not leave the target's range).
    """
    slopes = torch.diff(knots_out, dim=-1) / torch.diff(knots_in, dim=-1)
    tails = slopes.new_full((), tail_slope).expand(*slopes.shape[:-1], 1)
    slopes = torch.cat((tails, slopes, tails), dim=-1)
    anchors_in = torch.cat((knots_in[..., :1], knots_in), dim=-1)
    anchors_out = torch.cat((knots_out[..., :1], knots_out), dim=-1)
    return slopes, torch.addcmul(anchors_out, slopes, anchors_in, value=-1)


def evaluate_pieces(
    values: torch.Tensor, knots_in: torch.Tensor, slopes: torch.Tensor, intercepts: torch.Tensor
) -> torch.Tensor:
    """Evaluate the maps given by :func:`linear_pieces` at ``values`` of shape ``(r, n)``."""
    segment = find_segments(knots_in, values.contiguous())
    return torch.addcmul(intercepts.gather(-1, segment), slopes.gather(-1, segment), values)


#: Rows of at least this many values are searched through uniform buckets on the CPU (:func:`find_segments`).
BUCKETS_FROM = 4096


def find_segments(knots: torch.Tensor, values: torch.Tensor, bins_per_knot: int = 16) -> torch.Tensor:
    """``torch.searchsorted(knots, values, right=True)`` for rows ``(r, k)`` and ``(r, n)``, exactly, faster on the CPU.

    On the CPU, each value's bucket in a uniform grid of ``bins_per_knot * k``
    buckets over the row's knots gives the segment at the bucket's start in
    one gather; the guess is checked (``knots[s - 1] <= v < knots[s]``) and
    the few values of buckets that hold a knot (and NaN) are searched as
    before. About twice as fast as a binary search over 128 knots, which
    mispredicts a branch at nearly every level.

    Examples
    --------
    >>> knots = torch.tensor([[0.0, 1.0, 2.0]])
    >>> find_segments(knots, torch.tensor([[-5.0, 0.0, 0.5, 1.0, 3.0]])).tolist()
    [[0, 1, 1, 2, 3]]
    """
    if values.device.type != "cpu" or values.shape[-1] < BUCKETS_FROM or knots.shape[-1] < 2:
        return torch.searchsorted(knots, values, right=True)
    rows, count = knots.shape
    n_bins = bins_per_knot * count
    low = knots[:, :1]
    span = knots[:, -1:] - low
    edges = low + span * (torch.arange(n_bins, dtype=knots.dtype) / n_bins)
    # The segment at each bucket's start, with a bucket for everything below the first knot (segment 0) and
    # one for everything from the last knot on (segment k).
    first = torch.cat((torch.zeros_like(knots[:, :1], dtype=torch.long), torch.searchsorted(knots, edges, right=True),
                       torch.full_like(knots[:, :1], count, dtype=torch.long)), dim=1)
    scale = n_bins / span.clamp_min(torch.finfo(knots.dtype).tiny)
    position = torch.nan_to_num((values - low).mul_(scale), nan=0.0).clamp_(-1, n_bins).floor_().add_(1)
    guess = first.gather(1, position.long())
    infinity = knots.new_full((rows, 1), float("inf"))
    right = (values >= torch.cat((-infinity, knots), dim=1).gather(1, guess))
    right &= values < torch.cat((knots, infinity), dim=1).gather(1, guess)
    if not bool(right.all()):
        for row in range(rows):
            where = (~right[row]).nonzero().squeeze(1)
            if len(where):
                guess[row, where] = torch.searchsorted(knots[row], values[row, where], right=True)
    return guess


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
        moved = _evaluate_rows(projected, self.knots_in, self.slopes, self.intercepts)
        return self.moves.T @ (moved - projected)


class SlicedSteps:
    """The map fitted by iterative sliced transport: a composition of
    :class:`SlicedStep`, hence a continuous function of color.

    Attributes
    ----------
    steps : list of SlicedStep
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


def _broadcast_shapes(*shapes) -> torch.Size:
    """The broadcast of several shapes (``torch.broadcast_shapes`` imports sympy: 0.3 s at start-up)."""
    ndim = max(len(shape) for shape in shapes)
    padded = [(1,) * (ndim - len(shape)) + tuple(shape) for shape in shapes]
    result = []
    for sizes in zip(*padded):
        larger = {size for size in sizes if size != 1}
        if len(larger) > 1:
            raise ValueError(f"shapes {shapes} do not broadcast")
        result.append(larger.pop() if larger else 1)
    return torch.Size(result)


def _evaluate_rows(values: torch.Tensor, *row_params: torch.Tensor) -> torch.Tensor:
    """:func:`evaluate_pieces` on ``values`` of shape ``(*batch, d, n)``, one map per row.

    ``row_params`` (knots, slopes, intercepts) have shape ``(*batch, d, K)``;
    a batch of one broadcasts.
    """
    batch_shape = _broadcast_shapes(values.shape[:-1], *(p.shape[:-1] for p in row_params))

    def rows(tensor: torch.Tensor) -> torch.Tensor:
        if tensor.shape[:-1] != batch_shape:
            tensor = tensor.expand(*batch_shape, tensor.shape[-1])
        return tensor.reshape(-1, tensor.shape[-1])

    return evaluate_pieces(rows(values), *map(rows, row_params)).reshape(*batch_shape, -1)


def _histogram_quantiles(values: torch.Tensor, levels: torch.Tensor, bins: int = 4096) -> torch.Tensor:
    """Quantiles of each row of ``values`` at ``levels``, from a fine histogram.

    Linear interpolation of the cumulative histogram over ``bins`` equal bins
    between each row's minimum and maximum: exact at levels 0 and 1, within
    one bin width elsewhere, and O(n) instead of the O(n log n) of sorting.
    """
    lowest = values.min(dim=-1, keepdim=True).values
    highest = values.max(dim=-1, keepdim=True).values
    width = (highest - lowest).clamp_min(1e-12) / bins
    index = ((values - lowest) / width).long().clamp_(0, bins - 1)
    counts = torch.zeros(*values.shape[:-1], bins, device=values.device, dtype=values.dtype)
    counts.scatter_add_(-1, index, torch.ones_like(values))
    cdf = torch.cat((torch.zeros_like(counts[..., :1]), counts.cumsum(dim=-1)), dim=-1) / values.shape[-1]
    levels = levels.to(values.dtype).expand(*values.shape[:-1], levels.shape[-1]).contiguous()
    upper = torch.searchsorted(cdf, levels).clamp_(1, bins)
    below, above = cdf.gather(-1, upper - 1), cdf.gather(-1, upper)
    fraction = ((levels - below) / (above - below).clamp_min(1e-12)).clamp(0, 1)
    return lowest + (upper - 1 + fraction) * width


class _Quantiles:
    """Quantiles of rows of samples at fixed ``levels`` (shape ``(K,)``).

    On the CPU, from a fine histogram (O(n), see :func:`_histogram_quantiles`);
    on accelerators, where sorting is fast and every kernel launch counts,
    the nearest order statistic (the level off by at most ``0.5 / n``).
    """

    def __init__(self, n_samples: int, levels: torch.Tensor, exact: bool | None = None):
        self.levels = levels
        self.exact = levels.device.type != "cpu" if exact is None else exact
        self.nearest = (levels * (n_samples - 1)).round().long().clamp_(0, n_samples - 1)
        self.ramp = torch.arange(levels.shape[-1], device=levels.device, dtype=levels.dtype) * (1e-6 / levels.shape[-1])

    def increasing(self, values: torch.Tensor) -> torch.Tensor:
        """The quantiles, with ties separated by a negligible ramp (1e-6 of their spread)."""
        knots = self(values)
        spread = (knots[..., -1:] - knots[..., :1]).clamp_min(1e-6)
        if not self.exact:  # order statistics are sorted already
            knots = torch.cummax(knots, dim=-1).values
        return torch.addcmul(knots, self.ramp, spread)

    def __call__(self, values: torch.Tensor) -> torch.Tensor:
        if not self.exact:
            return _histogram_quantiles(values, self.levels)
        return values.sort(dim=-1).values.index_select(-1, self.nearest)


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


def _draw_bases(
    n_iter: int, dim: int, luma_axis: torch.Tensor | None, max_tilt: float, generator: torch.Generator | None
) -> tuple[torch.Tensor, torch.Tensor]:
    """The projection directions and moves of every step, shape ``(n_iter, d, k)`` and ``(n_iter, k, d)``.

    Without ``luma_axis``: uniformly random orthonormal bases (Haar measure:
    QR of a Gaussian matrix with the signs of ``R``'s diagonal fixed,
    Mezzadri 2007), moving along the same directions.

    With a unit ``luma_axis`` ``u``: two directions tilted out of the chroma
    plane, and chroma-only moves. With orthonormal chroma vectors ``c1, c2``
    (perpendicular to ``u``, uniformly oriented) and tilts ``t1, t2`` uniform
    in ``[-max_tilt, max_tilt]``, the directions are ``cos(t) c + sin(t) u``
    and each moves along ``c / cos(t)``: the color's luma never changes, its
    projection on the other direction does not either, and its projection on
    this one changes by exactly the 1-D step.

    Drawn on the CPU in a few vectorized calls (tiny batched QR
    decompositions), from a generator seeded by ``generator``.
    """
    if generator is not None and generator.device.type != "cpu":
        seed = int(torch.randint(0, 2**62, (1,), generator=generator, device=generator.device))
        generator = torch.Generator().manual_seed(seed)
    gaussian = torch.randn(n_iter, dim, dim, generator=generator, dtype=torch.float64).numpy()
    if luma_axis is None:
        rotations = _haar(gaussian)
        return torch.from_numpy(rotations), torch.from_numpy(rotations.transpose(0, 2, 1).copy())
    axis = luma_axis.detach().to("cpu", torch.float64).numpy()
    axis = axis / np.linalg.norm(axis)
    gaussian[:, :, 0] = axis
    chroma = np.linalg.qr(gaussian)[0][:, :, 1:3]  # orthonormal, perpendicular to the luma axis
    tilt = (torch.rand(n_iter, 1, 2, generator=generator, dtype=torch.float64).numpy() * 2 - 1) * max_tilt
    directions = chroma * np.cos(tilt) + axis[None, :, None] * np.sin(tilt)
    moves = (chroma / np.cos(tilt)).transpose(0, 2, 1)
    return torch.from_numpy(directions), torch.from_numpy(moves.copy())


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
    source : torch.Tensor, shape (*batch, n, d)
        Source samples (equal weights; subsample weighted data beforehand).
        A batch fits one map per cloud, all in the same tensor operations.
    target : torch.Tensor, shape (*batch, m, d)
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
        vanish on neutral colors (see :func:`chroma_step_bases`), moving
        colors at constant luma: a target with no chroma (a black-and-white
        style) is reached, every color made neutral, and a narrow chroma
        distribution (a toned print) is matched rather than approached.
    generator : torch.Generator, optional
        Source of randomness (bases and smoothing noise).

    Returns
    -------
    steps : SlicedSteps
        The fitted map, a function of color.
    moved : torch.Tensor, shape (*batch, n, d)
        ``steps(source)``, the transported samples.
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


def _chroma_directions(target: torch.Tensor, luma_axis: torch.Tensor, neutral_axis: torch.Tensor) -> torch.Tensor:
    """The last step's directions, ``(*batch, d, 2)``: the chroma coordinates of :func:`chroma_step_bases` less
    their least-squares trend in the target's luma. Along them, a target whose chroma follows its luma (a toned
    print: ``c = k * luma``; a black-and-white photo: ``c = 0``) is one point, which every color is then moved to:
    such a look is reached exactly. ``target`` is laid out ``(*batch, d, m)``."""
    base = chroma_step_bases(luma_axis, neutral_axis)[0].to(device=target.device, dtype=target.dtype)
    axis = (luma_axis / luma_axis.norm()).to(device=target.device, dtype=target.dtype)
    with threads.torch_threads(1):  # sums over the samples: the same bits whatever the machine's thread count
        luma = axis @ target  # (*batch, m)
        chroma = base.T @ target  # (*batch, 2, m)
        luma = luma - luma.mean(dim=-1, keepdim=True)
        chroma = chroma - chroma.mean(dim=-1, keepdim=True)
        slope = (chroma * luma[..., None, :]).sum(dim=-1) / (luma.square().sum(dim=-1, keepdim=True) + 1e-12)
    return base - axis[:, None] * slope[..., None, :]


def chroma_step_bases(luma_axis: torch.Tensor, neutral_axis: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Projections that vanish on neutral colors, and moves that keep luma: ``(d, 2)`` and ``(2, d)``.

    The directions ``A`` are an orthonormal basis of the plane perpendicular
    to ``neutral_axis`` (a fixed one: the same for every fit; the fit tilts
    them along the luma axis by the target's luma-chroma trend, which keeps
    the property below, since the moves keep luma); the moves
    ``M = (B (A^T B)^{-1})^T``, with ``B`` a basis of the plane perpendicular
    to ``luma_axis``, change each projection by exactly its 1-D step and the
    other not at all (``A^T M^T = I``), and never change luma. In Lab/Oklab
    both planes are the ``(a, b)`` plane; in RGB the neutral axis is
    ``R = G = B`` and the luma axis Rec. 709's weights, so the moves are
    oblique.

    Examples
    --------
    >>> from colorot.colorspaces import luma_axis, neutral_axis
    >>> directions, moves = chroma_step_bases(luma_axis("rgb"), neutral_axis("rgb"))
    >>> torch.allclose(directions.T @ moves.T, torch.eye(2, dtype=torch.float64))
    True
    >>> bool((moves @ luma_axis("rgb")).abs().max() < 1e-12), bool((directions.T @ neutral_axis("rgb")).abs().max() < 1e-12)
    (True, True)
    """
    def plane(axis: torch.Tensor) -> torch.Tensor:  # an orthonormal basis (d, d - 1) perpendicular to ``axis``
        axis = axis.detach().to("cpu", torch.float64)
        basis = torch.cat([axis[:, None] / axis.norm(), torch.eye(len(axis), dtype=torch.float64)], dim=1)
        return torch.linalg.qr(basis)[0][:, 1:]

    directions, chroma = plane(neutral_axis), plane(luma_axis)
    moves = chroma @ torch.linalg.inv(directions.T @ chroma)
    return directions, moves.T.contiguous()


def sliced_barycenter(
    clouds: torch.Tensor,
    weights: torch.Tensor,
    *,
    n_iter: int = 30,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """The sliced Wasserstein barycenter of several point clouds of equal size.

    Rabin et al. (2011): starting from the cloud of largest weight, each
    step draws a random orthonormal basis and moves every point so that, along
    each direction, the cloud's quantiles become the weighted mean of the
    clouds' quantiles (the 1-D Wasserstein barycenter), all directions at once.

    Parameters
    ----------
    clouds : torch.Tensor, shape (K, *batch, n, d)
    weights : torch.Tensor, shape (K,)
        Non-negative, summing to 1.
    n_iter : int
        Number of random bases.
    generator : torch.Generator, optional

    Returns
    -------
    torch.Tensor, shape (*batch, n, d)

    Examples
    --------
    >>> import torch
    >>> a, b = torch.zeros(1, 100, 3), torch.ones(1, 100, 3)
    >>> middle = sliced_barycenter(torch.stack([a, b]), torch.tensor([0.25, 0.75]))
    >>> torch.allclose(middle, torch.full_like(a, 0.75), atol=1e-5)
    True
    """
    dim = clouds.shape[-1]
    weights = weights.to(device=clouds.device, dtype=clouds.dtype).view(-1, *([1] * (clouds.ndim - 1)))
    barycenter = clouds[int(weights.flatten().argmax())].clone()
    for _ in range(n_iter):
        rotation = random_rotation(dim, generator, device=clouds.device, dtype=clouds.dtype)
        projected = barycenter @ rotation
        target = (weights * (clouds @ rotation).sort(dim=-2).values).sum(dim=0)
        moved = torch.empty_like(projected).scatter_(-2, projected.argsort(dim=-2), target)
        barycenter = barycenter + (moved - projected) @ rotation.T
    return barycenter
