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

import torch

__all__ = [
    "random_rotation",
    "random_directions",
    "quantile_function",
    "transport_1d",
    "wasserstein_1d",
    "sliced_wasserstein",
    "piecewise_linear",
    "SlicedSteps",
    "fit_sliced_steps",
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
    q, r = torch.linalg.qr(gaussian)
    q = q * torch.sign(torch.diagonal(r))
    return q.to(device=device, dtype=dtype)


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


def _cumulative_weights(weights: torch.Tensor | None, n: int, like: torch.Tensor) -> torch.Tensor:
    """Normalized weights of shape ``(..., n)`` (uniform when ``weights`` is None)."""
    if weights is None:
        return torch.full(like.shape, 1.0 / n, device=like.device, dtype=like.dtype)
    weights = weights.to(like.dtype)
    return weights / weights.sum(dim=-1, keepdim=True)


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
    order = values.argsort(dim=-1)
    sorted_values = values.gather(-1, order)
    probability = _cumulative_weights(None if weights is None else weights.gather(-1, order), values.shape[-1], values)
    cdf = probability.cumsum(dim=-1)
    levels = levels.to(values.dtype).expand(*values.shape[:-1], levels.shape[-1]).contiguous()
    # Tolerate the rounding of the cumulative sum at the top level.
    index = torch.searchsorted(cdf, levels - 1e-6 * levels)
    return sorted_values.gather(-1, index.clamp(max=values.shape[-1] - 1))


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
    order = source.argsort(dim=-1)
    probability = _cumulative_weights(
        None if source_weights is None else source_weights.gather(-1, order), source.shape[-1], source
    )
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
    tensor(6.3333)
    """
    cdfs = []
    for values, weights in ((source, source_weights), (target, target_weights)):
        order = values.argsort(dim=-1)
        w = _cumulative_weights(None if weights is None else weights.gather(-1, order), values.shape[-1], values)
        cdfs.append(w.cumsum(dim=-1))
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
    k = knots_in.shape[-1]
    right = torch.searchsorted(knots_in, values.contiguous()).clamp(1, k - 1)
    left = right - 1
    x0, x1 = knots_in.gather(-1, left), knots_in.gather(-1, right)
    y0, y1 = knots_out.gather(-1, left), knots_out.gather(-1, right)
    inside = y0 + (values - x0) * (y1 - y0) / (x1 - x0)
    below = values + (knots_out[..., :1] - knots_in[..., :1])
    above = values + (knots_out[..., -1:] - knots_in[..., -1:])
    return torch.where(values < knots_in[..., :1], below, torch.where(values > knots_in[..., -1:], above, inside))


class SlicedSteps:
    """The map fitted by iterative sliced transport: a composition of steps.

    Step ``s`` rotates colors into the orthonormal basis ``rotations[s]``, applies
    one increasing piecewise-linear map per axis (``knots_in[s]`` ->
    ``knots_out[s]``) and rotates back. Every step, hence the whole map, is a
    continuous function of color.

    Attributes
    ----------
    rotations : torch.Tensor, shape (S, d, d)
        One basis per step, shared by every map of a batch.
    knots_in, knots_out : torch.Tensor, shape (S, *batch, d, K)
        The 1-D maps; ``batch`` holds one map per image of a batch.
    """

    def __init__(self, rotations: torch.Tensor, knots_in: torch.Tensor, knots_out: torch.Tensor):
        self.rotations = rotations
        self.knots_in = knots_in
        self.knots_out = knots_out

    def __len__(self) -> int:
        return self.rotations.shape[0]

    def to(self, device=None, dtype=None) -> "SlicedSteps":
        return SlicedSteps(*(t.to(device=device, dtype=dtype) for t in (self.rotations, self.knots_in, self.knots_out)))

    def apply_step(self, index: int, colors: torch.Tensor) -> torch.Tensor:
        """Apply step ``index`` to colors of shape ``(*batch, n, d)``."""
        rotation = self.rotations[index]
        projected = (colors @ rotation).transpose(-1, -2)
        moved = _rowwise(piecewise_linear, projected, self.knots_in[index], self.knots_out[index])
        return colors + (moved - projected).transpose(-1, -2) @ rotation.T

    def __call__(self, colors: torch.Tensor) -> torch.Tensor:
        """Send colors of shape ``(*batch, n, d)`` through every step."""
        steps = self.to(device=colors.device, dtype=colors.dtype)
        for index in range(len(steps)):
            colors = steps.apply_step(index, colors)
        return colors


def _rowwise(function, values: torch.Tensor, *row_params: torch.Tensor) -> torch.Tensor:
    """Apply a row-by-row function to ``values`` of shape ``(*batch, d, n)``.

    ``row_params`` have shape ``(*batch, d, k)``; a batch of one broadcasts.
    """
    batch_shape = torch.broadcast_shapes(values.shape[:-1], *(p.shape[:-1] for p in row_params))
    values = values.expand(*batch_shape, values.shape[-1]).reshape(-1, values.shape[-1])
    params = [p.expand(*batch_shape, p.shape[-1]).reshape(-1, p.shape[-1]) for p in row_params]
    return function(values, *params).reshape(*batch_shape, -1)


def _step_knots(
    source_projected: torch.Tensor,
    target_projected: torch.Tensor,
    n_knots: int,
    smoothing: float,
    generator: torch.Generator | None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Knots of the monotone 1-D maps of one step (rows = directions).

    The source is smoothed by a Gaussian of standard deviation ``smoothing``
    before its quantiles are taken: the map's slope, hence the gain it gives
    to noise, is bounded where the source histogram has narrow peaks.
    """
    levels = torch.linspace(0, 1, n_knots, device=source_projected.device, dtype=source_projected.dtype)
    if smoothing > 0:
        noise = torch.randn(
            source_projected.shape, generator=generator, device=_gen_device(generator), dtype=source_projected.dtype
        ).to(source_projected.device)
        source_projected = source_projected + smoothing * noise
    knots_in = _sorted_quantiles(source_projected, levels)
    knots_out = _sorted_quantiles(target_projected, levels)
    # Strictly increasing input knots: separate ties by a negligible ramp.
    spread = (knots_in[..., -1:] - knots_in[..., :1]).clamp_min(1e-6)
    ramp = torch.arange(n_knots, device=knots_in.device, dtype=knots_in.dtype) * (1e-6 * spread / n_knots)
    knots_in = torch.cummax(knots_in, dim=-1).values + ramp
    return knots_in, knots_out


def _sorted_quantiles(values: torch.Tensor, levels: torch.Tensor) -> torch.Tensor:
    """Linearly interpolated quantiles (type 7) of each row at ``levels``."""
    sorted_values = values.sort(dim=-1).values
    position = levels * (values.shape[-1] - 1)
    lower = position.floor().long().clamp(max=values.shape[-1] - 2)
    fraction = position - lower
    below = sorted_values[..., lower]
    above = sorted_values[..., lower + 1]
    return below + fraction * (above - below)


def fit_sliced_steps(
    source: torch.Tensor,
    target: torch.Tensor,
    *,
    n_iter: int = 30,
    tol: float = 1e-4,
    n_knots: int = 128,
    smoothing: float = 0.0,
    generator: torch.Generator | None = None,
) -> tuple[SlicedSteps, torch.Tensor]:
    """Iterative sliced transport of ``source`` onto ``target``.

    Parameters
    ----------
    source : torch.Tensor, shape (*batch, n, d)
        Source samples (equal weights; subsample weighted data beforehand).
        A batch fits one map per cloud, all in the same tensor operations.
    target : torch.Tensor, shape (*batch, m, d)
        Target samples; ``m`` may differ from ``n``; a batch of one broadcasts.
    n_iter : int
        Maximum number of steps (random bases).
    tol : float
        Stop once the root-mean-square displacement of a step falls below
        ``tol`` for three steps in a row.
    n_knots : int
        Quantile levels per 1-D map (its number of linear pieces + 1).
    smoothing : float
        Standard deviation of the Gaussian that smooths the source's
        projected distribution at every step, in working-space units. Bounds
        the map's slope; 0 gives the raw quantile maps.
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
    rotations, knots_in, knots_out = [], [], []
    moved = source
    quiet_steps = 0
    for _ in range(n_iter):
        rotation = random_rotation(dim, generator, device=source.device, dtype=source.dtype)
        source_projected = (moved @ rotation).transpose(-1, -2)
        target_projected = (target @ rotation).transpose(-1, -2)
        step_in, step_out = _step_knots(source_projected, target_projected, n_knots, smoothing, generator)
        shifted = _rowwise(piecewise_linear, source_projected, step_in, step_out)
        displacement = (shifted - source_projected).transpose(-1, -2) @ rotation.T
        moved = moved + displacement
        rotations.append(rotation)
        knots_in.append(step_in)
        knots_out.append(step_out)
        rms = float(displacement.square().sum(dim=-1).mean(dim=-1).max().sqrt())
        quiet_steps = quiet_steps + 1 if rms < tol else 0
        if quiet_steps >= 3:
            break
    steps = SlicedSteps(torch.stack(rotations), torch.stack(knots_in), torch.stack(knots_out))
    return steps, moved
