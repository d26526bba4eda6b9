"""Unbalanced entropic transport, and the affine grade it fits: colorot's default map.

Matching two photos' color histograms exactly copies their *proportions*: when the style shows more sky than
the photo, part of the photo must turn sky-colored. A grade is not that. It is a smooth function of color that
the two photos share, and most of it is affine in RGB (white balance, channel mixing, lift/gain, tinting,
desaturation). So the default map is the affine map ``x -> x @ A.T + t`` that best aligns the photo's colors
with the style's under *unbalanced* transport: colors with no counterpart on the other side within a reach are
left unmatched (their mass is destroyed or created at a cost) instead of being forced onto the rest.

It is fitted by majorize-minimize steps, as robust point-set registration with partial transport does
(Bai et al., "Sliced optimal partial transport", CVPR 2023): given the current map, the unbalanced entropic plan
between the mapped photo and the style (Chizat, Peyré, Schmitzer & Vialard, "Scaling algorithms for unbalanced
optimal transport problems", Math. Comp. 2018; log-domain Sinkhorn as in Séjourné et al. 2019); given the plan,
the affine map by weighted least squares onto each color's barycentric projection, weighted by the mass that the
plan transports. The steps start from the identity and stop after ``n_steps``: the grade is grown from "no
change" as far as the matched colors support it (more steps drift toward the balanced fit; measured in
``benchmarks/look_recovery.py``).

Both clouds are first reduced to weighted points on a fixed grid of ``bins**3`` nodes by linear binning: a few hundred
points whatever the photo's size (a coarser grid where a cloud would fill more than ``MAX_POINTS`` nodes), which move continuously with the colors, so the fit is deterministic given the
colors, changes little with the random draw, a crop or a re-encode, and costs milliseconds. The reach and the blur are set relative to the two clouds' spread, so they mean
the same in every working space.
"""

from __future__ import annotations

import torch

from .. import progress
from ..options import DEFAULTS
from .linear import LinearMap, flat_directions, moments
from .one_d import linear_quantiles

__all__ = ["DEFAULT_REACH", "binned_measure", "unbalanced_sinkhorn", "fit_unbalanced_affine"]

#: Default reach, in standard deviations of the two clouds' colors (``rho = (reach * sigma)^2``).
DEFAULT_REACH = DEFAULTS["reach"]

#: Entropic blur, in the same unit (``eps = (blur * sigma)^2``).
BLUR = 0.15

#: The binning grid spans these quantiles of each cloud's colors per axis.
BOX_QUANTILE = 0.001

#: Below this share of the photo's colors matched (``LinearMap.matched_share``), a fit stays near the identity:
#: the ``look`` method widens the reach, and a plain ``unbalanced`` fit says so in its ``warnings`` (:func:`colorot.methods.fit_notes`).
LOW_MATCHED_SHARE = 0.5

#: Shrinkage of the matrix toward the identity, relative to the colors' variance (``sigma^2``).
RIDGE = 0.005

#: At most this many binned points per cloud: a cloud that fills more of the grid (noise, a uniform cube of
#: colors when no photo is given) is binned on a coarser grid. Photos fill 400-670 nodes of 12^3 (the sample
#: photos); a uniform cloud all 1728, and each Sinkhorn iteration costs the product of the two counts.
MAX_POINTS = 800


def trilinear_corners(position: torch.Tensor, size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The 8 nodes of each point's cell on a ``size``^3 grid and the point's trilinear shares of them: ``(n, 8)``
    flat node indices (first axis slowest) and ``(n, 8)`` shares summing to 1, for ``(n, 3)`` positions in grid
    units (``[0, size - 1]`` per axis). Corner ``(i, j, k)`` of a cell is column ``4i + 2j + k``."""
    corner = position.floor().clamp(max=size - 2)
    fraction = position - corner
    both = torch.stack([1 - fraction, fraction], dim=-1)  # (n, 3, 2): outer products of (1 - f, f) per axis
    shares = (both[:, 0, :, None, None] * both[:, 1, None, :, None] * both[:, 2, None, None, :]).reshape(-1, 8)
    base = corner.long()
    steps = torch.tensor([((offset >> 2) & 1) * size * size + ((offset >> 1) & 1) * size + (offset & 1)
                          for offset in range(8)], device=position.device)
    return ((base[:, 0] * size + base[:, 1]) * size + base[:, 2])[:, None] + steps, shares


def binned_measure(colors: torch.Tensor, bins: int = 12, box: tuple | None = None
                   ) -> tuple[torch.Tensor, torch.Tensor]:
    """A cloud reduced to weighted points on a ``bins``^3 grid, by linear binning (Wand 1994).

    Each color spreads its unit mass over the 8 nodes of its grid cell with trilinear weights; a node's point is
    the weighted mean of the colors it received. Unlike counting colors per cell, the result moves continuously
    with the colors, so resampling, cropping or re-encoding a photo moves it little.

    Parameters
    ----------
    colors : torch.Tensor
        ``(n, 3)`` colors in a working space.
    bins : int
        Grid nodes per axis (at least 2).
    box : tuple of torch.Tensor, optional
        ``(low, high)``, each ``(3,)``: the grid's extent; colors outside are clamped to it for the binning only.
        Default: the cloud's own 0.1% and 99.9% quantiles per axis. Each cloud on its own grid matters: on a grid
        shared by both clouds, the points of both are pulled toward the same nodes and a fit between them toward
        the identity; a cloud's own grid moves with its colors (an affine grade per channel moves it exactly).

    Returns
    -------
    points, weights : torch.Tensor
        ``(k, 3)`` float64 points of the ``k <= bins**3`` nodes that received mass, and their ``(k,)`` masses,
        summing to 1. The masses' mean of the points is the cloud's mean.

    Examples
    --------
    >>> import torch
    >>> points, weights = binned_measure(torch.tensor([[0.0, 0, 0], [1, 1, 1]]), bins=2)
    >>> points.tolist(), weights.tolist()
    ([[0.0, 0.0, 0.0], [1.0, 1.0, 1.0]], [0.5, 0.5])
    """
    colors = colors.float()  # float32 is plenty for masses and means, and halves the cost
    if box is None:  # the cloud's own extent, robust to a few stray colors
        low, high = linear_quantiles(colors[:: max(len(colors) // 65536, 1)], torch.tensor(
            [BOX_QUANTILE, 1 - BOX_QUANTILE], device=colors.device), dim=0)
    else:
        low, high = (bound.to(colors) for bound in box)
    high = torch.maximum(high, low + 1e-6)
    position = ((colors - low) / (high - low) * (bins - 1)).clamp(0, bins - 1)
    keys, shares = trilinear_corners(position, bins)
    keys = keys.reshape(-1)
    mass = torch.zeros(bins ** 3, dtype=colors.dtype, device=colors.device).index_add_(0, keys, shares.reshape(-1))
    sums = torch.zeros(bins ** 3, 3, dtype=colors.dtype, device=colors.device).index_add_(
        0, keys, (colors[:, None] * shares[..., None]).reshape(-1, 3))
    used = mass > 1e-6 * len(colors) / bins ** 3
    mass, sums = mass[used].double(), sums[used].double()
    return sums / mass[:, None], mass / mass.sum()


#: Log-kernel values are clamped from below here before ``exp``: ``exp(-80)`` is 2e-35, nothing beside a row's largest
#: term (1) in float32 and no mass in a plan. The clamp is for speed: the vectorized ``exp`` leaves its fast path
#: for arguments far below the float range, which a Sinkhorn's ``-cost / eps`` mostly are (8x slower there).
EXP_FLOOR = -80.0


def _exp(values: torch.Tensor) -> torch.Tensor:
    """``exp(values)``, arguments below :data:`EXP_FLOOR` taken at the floor."""
    return values.clamp(min=EXP_FLOOR).exp_()


def _logsumexp(values: torch.Tensor, dim: int) -> torch.Tensor:
    """``torch.logsumexp(values, dim)`` for finite ``values``, each term's exponent clamped at :data:`EXP_FLOOR`
    below the largest."""
    largest = values.amax(dim=dim, keepdim=True)
    return (values - largest).clamp_(min=EXP_FLOOR).exp_().sum(dim=dim).log_() + largest.squeeze(dim)


def unbalanced_sinkhorn(cost: torch.Tensor, log_a: torch.Tensor, log_b: torch.Tensor, eps: float, rho: float | None,
                        n_iter: int, potentials: tuple | None = None) -> tuple[torch.Tensor, tuple]:
    """Entropic unbalanced transport plan, log-domain Sinkhorn with KL marginal penalties (Chizat et al. 2018).

    Minimizes ``<P, C> + eps KL(P | a b^T) + rho KL(P 1 | a) + rho KL(P^T 1 | b)``; ``rho=None`` is the balanced
    problem (marginals enforced).

    Parameters
    ----------
    cost : torch.Tensor
        ``(n, m)`` transport costs (squared distances).
    log_a, log_b : torch.Tensor
        ``(n,)`` and ``(m,)`` log-masses of the two measures.
    eps : float
        Entropic regularization, in the cost's unit (``blur ** 2``).
    rho : float or None
        Marginal penalty, in the cost's unit (``reach ** 2``); None for balanced transport.
    n_iter : int
        Sinkhorn iterations.
    potentials : tuple of torch.Tensor, optional
        ``(f, g)`` to start from (a warm start).

    Returns
    -------
    plan : torch.Tensor
        ``(n, m)`` transport plan.
    potentials : tuple of torch.Tensor
        The dual potentials ``(f, g)``, to warm-start the next call.

    Examples
    --------
    >>> import torch
    >>> cost = torch.tensor([[0.0, 1.0], [1.0, 0.0]])
    >>> log_mass = torch.tensor([0.5, 0.5]).log()
    >>> plan, _ = unbalanced_sinkhorn(cost, log_mass, log_mass, eps=0.01, rho=None, n_iter=50)
    >>> plan.diagonal().tolist()
    [0.5, 0.5]
    """
    f, g = potentials if potentials is not None else (torch.zeros_like(log_a), torch.zeros_like(log_b))
    damping = 1.0 if rho is None else rho / (rho + eps)
    kernel = cost / -eps  # the log-kernel, once; its transpose contiguous for the column updates
    kernel_t = kernel.T.contiguous()
    for _ in range(n_iter):
        f = -damping * eps * _logsumexp(kernel + (log_b + g / eps), dim=1)
        g = -damping * eps * _logsumexp(kernel_t + (log_a + f / eps), dim=1)
    return _exp(log_a[:, None] + log_b + (f[:, None] + g - cost) / eps), (f, g)


def _symmetric_sinkhorn(cost: torch.Tensor, log_a: torch.Tensor, eps: float, rho: float | None, n_iter: int,
                        potential: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
    """The plan of a measure onto itself: one potential, updated by averaging (Feydy et al. 2019), one
    log-sum-exp per iteration."""
    f = torch.zeros_like(log_a) if potential is None else potential
    damping = 1.0 if rho is None else rho / (rho + eps)
    kernel = cost / -eps
    for _ in range(n_iter):
        f = 0.5 * (f - damping * eps * _logsumexp(kernel + (log_a + f / eps), dim=1))
    return _exp(log_a[:, None] + log_a + (f[:, None] + f - cost) / eps), f


def _affine_fit(points: torch.Tensor, targets: torch.Tensor, weights: torch.Tensor, ridge: float) -> torch.Tensor:
    """``(4, 3)`` ``W`` with ``[1, x] @ W ~ targets`` by weighted least squares, the matrix shrunk toward the
    identity by ``ridge`` (a Gaussian prior: directions in which the colors hardly vary keep the identity)."""
    mean = weights @ points
    centered = points - mean
    weighted = centered * weights[:, None]
    eye = torch.eye(3, dtype=points.dtype, device=points.device)
    matrix = torch.linalg.solve(centered.T @ weighted + ridge * eye, weighted.T @ (targets - weights @ targets)
                                + ridge * eye).T
    offset = weights @ targets - mean @ matrix.T
    return torch.cat([offset[None], matrix.T])


def _fit_one(source: torch.Tensor, style: torch.Tensor, reach: float | None, n_steps: int, n_sinkhorn: int,
             bins: int) -> tuple[torch.Tensor, float]:
    """``(4, 3)`` affine parameters ``W`` (``[1, x] @ W``) for one pair of ``(n, 3)`` clouds, and the share of the
    source's mass that the last plan transports (1 for balanced transport)."""
    points, mass = binned_measure(source, bins)
    targets, target_mass = binned_measure(style, bins)
    largest = max(len(points), len(targets))
    if largest > MAX_POINTS:  # the same coarser grid for both, as few nodes as the fuller cloud allows
        bins = max(4, int(bins * (MAX_POINTS / largest) ** (1 / 3)))
        points, mass = binned_measure(source, bins)
        targets, target_mass = binned_measure(style, bins)
    spread = 0.5 * (_variance(points, mass) + _variance(targets, target_mass))
    eps = (BLUR ** 2) * spread
    rho = None if reach is None or reach == float("inf") else reach ** 2 * spread
    features = torch.cat([torch.ones_like(points[:, :1]), points], dim=1)
    weights = torch.eye(4, 3, dtype=torch.float64, device=points.device).roll(1, dims=0)  # the identity map
    log_a, log_b = mass.float().log(), target_mass.float().log()
    styled, potentials, self_potentials = targets.float(), None, None
    for step in range(n_steps):
        mapped = features @ weights
        iterations = n_sinkhorn if step == 0 else max(n_sinkhorn // 3, 1)  # warm-started after the first
        plan, potentials = unbalanced_sinkhorn(torch.cdist(mapped.float(), styled) ** 2, log_a, log_b, eps, rho,
                                               iterations, potentials)
        plan = plan.double()
        moved = plan.sum(dim=1)
        projection = plan @ targets / moved[:, None].clamp_min(1e-300)  # barycentric projection
        # Entropic blur pulls each barycentric projection toward its neighbours' mean, which would shrink the map;
        # the mapped cloud's projection onto itself is pulled the same way, so that pull is subtracted (the
        # debiasing of Sinkhorn divergences, Feydy et al. 2019).
        self_plan, self_potentials = _symmetric_sinkhorn(torch.cdist(mapped.float(), mapped.float()) ** 2, log_a,
                                                         eps, rho, iterations, self_potentials)
        self_plan = self_plan.double()
        self_moved = self_plan.sum(dim=1)
        projection = projection - self_plan @ mapped / self_moved[:, None].clamp_min(1e-300) + mapped
        weights = _affine_fit(points, projection, moved / moved.sum().clamp_min(1e-300), RIDGE * spread)
        progress.report((step + 1) / n_steps)  # a window's Cancel stops the fit here
    return weights, float(moved.sum()) if rho is not None else 1.0


def _variance(points: torch.Tensor, mass: torch.Tensor) -> float:
    mean = mass @ points
    return float(mass @ ((points - mean) ** 2).sum(dim=1)) + 1e-12


def _flatten_where_style_is_flat(matrix: torch.Tensor, offset: torch.Tensor, style: torch.Tensor
                                 ) -> tuple[torch.Tensor, torch.Tensor]:
    """Give the output no spread in the directions where the style has none (a black-and-white style has no
    chroma, a toned one varies along one line): project the map's output onto the style's mean there."""
    mean = moments(style)[0][0]
    flat = flat_directions(style)
    if flat.shape[1] == 0:
        return matrix, offset
    keep = torch.eye(3, dtype=matrix.dtype, device=matrix.device) - flat @ flat.T
    return keep @ matrix, keep @ offset + flat @ (flat.T @ mean)


def _keep_luma_increasing(matrix: torch.Tensor, axis: torch.Tensor, floor: float = 0.1) -> torch.Tensor:
    """Blend ``matrix`` toward the identity just enough that luma grows along the luma axis at rate >= floor."""
    gain = float(axis @ matrix @ axis)
    if gain >= floor:
        return matrix
    blend = (floor - gain) / (1.0 - gain)
    return (1 - blend) * matrix + blend * torch.eye(3, dtype=matrix.dtype, device=matrix.device)


def fit_unbalanced_affine(source: torch.Tensor, style: torch.Tensor, *, reach: float | None = DEFAULT_REACH,
                          luma_axis: torch.Tensor | None = None, keep_luma: bool = False, n_steps: int = 8,
                          n_sinkhorn: int = 18, bins: int = 12) -> LinearMap:
    """The affine map that aligns ``source``'s colors with ``style``'s under unbalanced transport.

    Parameters
    ----------
    source : torch.Tensor
        ``(*batch, n, 3)`` source colors in a working space.
    style : torch.Tensor
        ``(*batch, m, 3)`` or ``(1, m, 3)`` style colors in the same space.
    reach : float or None
        How far (in standard deviations of the two clouds' colors) a color may be transported before it is
        cheaper to leave it unmatched (geomloss's term; unbalanced transport's ``rho = (reach sigma)^2``).
        Smaller keeps more of the photo as it is where the style has no counterpart; None or ``inf`` is
        balanced transport (every color matched, the proportions copied).
    luma_axis : torch.Tensor, optional
        ``(3,)`` unit vector of luma in the working space. Given, the map keeps luma increasing along it
        (the matrix is blended toward the identity if a fit would invert it).
    keep_luma : bool
        Keep every color's component along ``luma_axis`` (match chroma only).
    n_steps, n_sinkhorn : int
        Majorize-minimize steps from the identity, and Sinkhorn iterations in the first (a third of that in
        each later one, warm-started from the potentials before).
    bins : int
        Grid nodes per axis of the binned measures (``binned_measure``).

    Returns
    -------
    LinearMap
        ``x -> x @ A.T + t``, batched as ``source``; its ``matched_share`` ``(*batch,)`` is the share of the
        source's mass that the last unbalanced plan transports (1 for balanced transport): a share far below 1
        says that most colors had no counterpart within the reach, so the map stayed near the identity.

    Raises
    ------
    ValueError
        If ``reach`` is not positive.

    Examples
    --------
    >>> import torch
    >>> g = torch.Generator().manual_seed(0)
    >>> photo = torch.rand(20000, 3, generator=g) * 0.6 + 0.2
    >>> graded = photo * torch.tensor([1.05, 1.0, 0.9]) + torch.tensor([0.0, 0.01, 0.03])
    >>> fitted = fit_unbalanced_affine(photo, graded)
    >>> before, after = (photo - graded).abs().mean(), (fitted(photo) - graded).abs().mean()
    >>> bool(after < 0.5 * before)
    True
    """
    if reach is not None and not reach > 0:
        raise ValueError(f"reach must be positive (or None for balanced transport), got {reach}")
    batch = source.shape[:-2]
    sources = source.reshape(-1, *source.shape[-2:])
    styles = style.reshape(-1, *style.shape[-2:]).expand(sources.shape[0], -1, -1)
    matrices, offsets, shares = [], [], []
    for one_source, one_style in zip(sources, styles):
        weights, share = _fit_one(one_source, one_style, reach, n_steps, n_sinkhorn, bins)
        shares.append(share)
        matrix, offset = _flatten_where_style_is_flat(weights[1:].T, weights[0], one_style)
        if luma_axis is not None:
            axis = luma_axis.to(matrix)
            if keep_luma:  # x -> T(x) - u u^T (T(x) - x): the luma component stays the source's
                projector = torch.outer(axis, axis)
                eye = torch.eye(3, dtype=matrix.dtype, device=matrix.device)
                matrix, offset = matrix - projector @ (matrix - eye), offset - projector @ offset
            else:
                matrix = _keep_luma_increasing(matrix, axis)
        matrices.append(matrix)
        offsets.append(offset)
    matrix = torch.stack(matrices).reshape(*batch, 3, 3).to(source.dtype)
    offset = torch.stack(offsets).reshape(*batch, 1, 3).to(source.dtype)
    fitted = LinearMap(matrix, torch.zeros_like(offset), offset)
    fitted.matched_share = torch.tensor(shares, dtype=torch.float64).reshape(batch)
    if float(min(shares)) < LOW_MATCHED_SHARE:  # said by the fit's notes (colorot.methods.fit_notes)
        fitted.warnings = [f"warning: the transport matched only {float(min(shares)):.0%} of the photo's colors (the rest "
                           "had no counterpart within the reach), so the grade stays near the identity; try --reach "
                           "inf or --method mkl for a stronger match"]
    return fitted
