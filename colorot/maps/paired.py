"""A grade fitted to color pairs: where two photos show the same points of a scene (their registration,
:func:`colorot.measures.structure.corresponding_colors`), the grade between them is read off those points
directly, without transport.

The map is an affine part plus a smooth residual on a coarse lattice over the color cube, fitted by weighted
least squares: a second-difference penalty keeps the residual smooth and a small ridge keeps it at zero where no
pair lies, so that colors the pairs do not show get the affine part (lattice regression: Garcia & Gupta,
"Lattice regression", NeurIPS 2009). Pairs that disagree with the fit (a registration off at an edge, a moving
object) are down-weighted by iteratively reweighted least squares with Huber's weights.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ..ot.linear import _BatchedMap
from ..ot.unbalanced import trilinear_corners

__all__ = ["PairedGrade", "fit_paired_grade"]

#: Lattice nodes per axis of the residual (over ``[0, 1]^3``).
NODES = 7
#: Second-difference penalty of the residual, relative to the pairs' total weight.
SMOOTHING = 1e-4
#: Ridge toward no residual (per node), relative to the pairs' total weight.
RIDGE = 1e-4
#: Huber's threshold, in units of the median residual (and at least ``HUBER_FLOOR``).
HUBER, HUBER_FLOOR = 2.0, 0.01


def _corners(colors: torch.Tensor, nodes: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``(k, 8)`` flat lattice indices of each color's cell corners and their trilinear weights."""
    return trilinear_corners(colors.clamp(0, 1) * (nodes - 1), nodes)


def _second_differences(nodes: int, dtype) -> torch.Tensor:
    """``(r, nodes**3)`` second differences of a lattice's values along each axis."""
    index = torch.arange(nodes ** 3).reshape(nodes, nodes, nodes)
    rows = []
    for axis in range(3):
        first, middle, last = (index.narrow(axis, start, nodes - 2).reshape(-1) for start in range(3))
        block = torch.zeros(first.numel(), nodes ** 3, dtype=dtype)
        count = torch.arange(first.numel())
        block[count, first], block[count, middle], block[count, last] = 1.0, -2.0, 1.0
        rows.append(block)
    return torch.cat(rows)


class PairedGrade(_BatchedMap):
    """``x -> x @ A.T + t + R(x)``, batched: ``matrix`` ``(*batch, 3, 3)``, ``offset`` ``(*batch, 3)`` and the
    residual ``R``'s lattice ``(*batch, NODES**3, 3)``, read by trilinear interpolation on ``[0, 1]^3``;
    ``pair_count``, how many color pairs it was fitted to (:func:`fit_paired_grade`).

    Examples
    --------
    >>> import torch
    >>> grade = PairedGrade(torch.eye(3) * 0.8, torch.tensor([0.1, 0.1, 0.1]), torch.zeros(NODES ** 3, 3))
    >>> [round(value, 4) for value in grade(torch.tensor([[0.5, 0.25, 1.0]]))[0].tolist()]
    [0.5, 0.3, 0.9]
    """

    def __init__(self, matrix: torch.Tensor, offset: torch.Tensor, lattice: torch.Tensor, pair_count: int = 0):
        self.matrix, self.offset, self.lattice, self.pair_count = matrix, offset, lattice, pair_count
        self.parameters = matrix  # device and batch shape (_BatchedMap)

    def __call__(self, colors: torch.Tensor) -> torch.Tensor:
        flat = colors.reshape(-1, *colors.shape[-2:]).double()
        matrices = self.matrix.reshape(-1, 3, 3).to(flat).expand(flat.shape[0], -1, -1)
        offsets = self.offset.reshape(-1, 3).to(flat).expand(flat.shape[0], -1)
        lattices = self.lattice.reshape(-1, *self.lattice.shape[-2:]).to(flat).expand(flat.shape[0], -1, -1)
        nodes = round(lattices.shape[1] ** (1 / 3))
        # the lattice as a volume (channel, red, green, blue): grid_sample's (x, y, z) are (blue, green, red)
        volumes = lattices.transpose(1, 2).reshape(-1, 3, nodes, nodes, nodes)
        grid = flat.clamp(0, 1).flip(-1)[:, None, None] * 2 - 1  # (B, 1, 1, n, 3)
        residual = F.grid_sample(volumes, grid, mode="bilinear", align_corners=True)[:, :, 0, 0].transpose(1, 2)
        out = flat @ matrices.transpose(1, 2) + offsets[:, None] + residual
        return out.reshape(colors.shape).to(colors.dtype)


def _fit_one(source: torch.Tensor, target: torch.Tensor, weights: torch.Tensor, nodes: int, rounds: int
             ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    index, shares = _corners(source, nodes)
    penalty = _second_differences(nodes, source.dtype)
    penalty = penalty.T @ penalty
    eye = torch.eye(nodes ** 3, dtype=source.dtype)
    features = torch.cat([source, torch.ones_like(source[:, :1])], dim=1)
    robust = torch.ones_like(weights)
    for _ in range(rounds):
        weight = weights * robust
        weight = weight / weight.sum()
        # the affine part: weighted least squares, a little ridge toward the identity
        gram = features.T @ (features * weight[:, None]) + 1e-6 * torch.eye(4, dtype=source.dtype)
        prior = torch.cat([torch.eye(3, dtype=source.dtype), torch.zeros(1, 3, dtype=source.dtype)])
        affine = torch.linalg.solve(gram, features.T @ (target * weight[:, None]) + 1e-6 * prior)
        residual = target - features @ affine
        # the smooth residual on the lattice: B^T W B + smoothing + ridge, B's 8 non-zeros a row summed in place
        weighted = shares * weight[:, None]  # (k, 8)
        normal = torch.zeros(nodes ** 6, dtype=source.dtype).index_add_(
            0, (index[:, :, None] * nodes ** 3 + index[:, None, :]).reshape(-1),
            (weighted[:, :, None] * shares[:, None, :]).reshape(-1)).reshape(nodes ** 3, nodes ** 3)
        right = torch.zeros(nodes ** 3, 3, dtype=source.dtype).index_add_(
            0, index.reshape(-1), (weighted[..., None] * residual[:, None]).reshape(-1, 3))
        lattice = torch.linalg.solve(normal + SMOOTHING * penalty + RIDGE * eye, right)
        error = (residual - (lattice[index] * shares[..., None]).sum(dim=1)).norm(dim=1)
        scale = max(HUBER * float(error.median()), HUBER_FLOOR)
        robust = (scale / error.clamp_min(1e-12)).clamp(max=1.0)
    return affine[:3].T, affine[3], lattice


def fit_paired_grade(source: torch.Tensor, target: torch.Tensor, weights: torch.Tensor | None = None, *,
                     nodes: int = NODES, rounds: int = 3) -> PairedGrade:
    """The smooth grade that takes each color of ``source`` to its pair in ``target``.

    Parameters
    ----------
    source, target : torch.Tensor
        ``(k, 3)`` color pairs in ``[0, 1]`` (the same points of a scene in two photos).
    weights : torch.Tensor, optional
        ``(k,)`` non-negative weights of the pairs (default: equal).
    nodes : int
        Lattice nodes per axis of the residual (at least 2).
    rounds : int
        Reweighted least-squares rounds (1: plain weighted least squares).

    Returns
    -------
    PairedGrade
        The map, unbatched (``batch_shape`` ``()``), callable on ``(*batch, n, 3)`` colors.

    Raises
    ------
    ValueError
        If the shapes differ or no pair has weight.

    Examples
    --------
    >>> import torch
    >>> g = torch.Generator().manual_seed(0)
    >>> photo = torch.rand(4000, 3, generator=g)
    >>> graded = (photo ** 0.8) * torch.tensor([1.0, 0.95, 0.85])          # a curve and a warm balance
    >>> grade = fit_paired_grade(photo, graded)
    >>> float((grade(photo) - graded).abs().mean()) < 0.005
    True
    """
    if source.shape != target.shape or source.ndim != 2 or source.shape[-1] != 3:
        raise ValueError(f"color pairs must be two (k, 3) tensors, got {tuple(source.shape)} and {tuple(target.shape)}")
    weights = torch.ones(len(source), dtype=torch.float64) if weights is None else weights.double()
    if not float(weights.sum()) > 0:
        raise ValueError("no color pair has weight")
    matrix, offset, lattice = _fit_one(source.double().cpu(), target.double().cpu(), weights.cpu(), nodes, rounds)
    return PairedGrade(matrix.to(source.device), offset.to(source.device), lattice.to(source.device), len(source))
