"""Directions for sliced transport: random orthonormal bases (Haar measure), luma-preserving tilted directions,
and the fixed chroma coordinates of the last step.

References: F. Mezzadri, "How to generate random matrices from the classical compact groups", Notices of the
AMS 54 (2007); F. Pitié, A. Kokaram, R. Dahyot, ICCV 2005.
"""

from __future__ import annotations

import numpy as np
import torch

from .. import threads

__all__ = ["random_rotation", "random_directions", "chroma_step_bases"]


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
    >>> from colorot.measures.colorspaces import luma_axis, neutral_axis
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
