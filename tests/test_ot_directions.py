"""Random bases and luma-preserving directions (colorot.ot.directions)."""

from __future__ import annotations

import math
import torch
from colorot.ot import directions as bases


def _cloud(n, seed, power=1.0, dtype=torch.float64):
    generator = torch.Generator().manual_seed(seed)
    return torch.rand(n, 3, generator=generator, dtype=dtype) ** power

def test_random_rotation_is_orthonormal_and_seeded():
    first = bases.random_rotation(3, torch.Generator().manual_seed(3), dtype=torch.float64)
    again = bases.random_rotation(3, torch.Generator().manual_seed(3), dtype=torch.float64)
    torch.testing.assert_close(first.T @ first, torch.eye(3, dtype=torch.float64))
    assert torch.equal(first, again)

def test_bases_keep_luma_and_move_projections_exactly():
    from colorot.measures.colorspaces import luma_axis

    axis = luma_axis("rgb")
    directions, moves = bases._draw_bases(20, 3, axis, math.pi / 3, torch.Generator().manual_seed(0))
    unit = (axis / axis.norm()).to(torch.float64)
    assert directions.shape == (20, 3, 2) and moves.shape == (20, 2, 3)
    torch.testing.assert_close(moves @ unit, torch.zeros(20, 2, dtype=torch.float64), atol=1e-12, rtol=0)
    # Moving along row j changes the projection on direction j by one and the other by nothing.
    torch.testing.assert_close(moves @ directions, torch.eye(2, dtype=torch.float64).expand(20, 2, 2))
    rotations, transposed = bases._draw_bases(20, 3, None, 0.0, torch.Generator().manual_seed(0))
    torch.testing.assert_close(transposed @ rotations, torch.eye(3, dtype=torch.float64).expand(20, 3, 3))
