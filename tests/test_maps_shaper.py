"""A table's input side: domains and 1-D shapers (colorot.maps.shaper)."""

from __future__ import annotations

import numpy as np
import pytest

from colorot.maps.shaper import Shaper


def test_a_domain_rescales_the_input_and_clamps_it():
    shaper = Shaper.linear([0, -1, 0.5], [2, 1, 1.5])
    colors = np.array([[1.0, 0.0, 1.0], [3.0, -2.0, 0.0]])
    np.testing.assert_allclose(shaper(colors), [[0.5, 0.5, 0.5], [1.0, 0.0, 0.0]])


def test_a_curve_is_interpolated_linearly_between_its_nodes_per_channel():
    nodes = np.linspace(0, 1, 17)
    shaper = Shaper(np.stack([nodes ** 2, nodes ** 0.5, 1 - nodes]), np.array([[0, 0, 0], [1, 1, 1]]))
    x = np.random.default_rng(0).random((1000, 3))
    expected = np.stack([np.interp(x[:, c], nodes, curve) for c, curve in enumerate((nodes ** 2, nodes ** 0.5,
                                                                                      1 - nodes))], axis=1)
    np.testing.assert_allclose(shaper(x), expected, atol=1e-12)
    assert shaper.at_codes().shape == (3, 256)


def test_bad_shapers_are_refused():
    with pytest.raises(ValueError, match="domain increasing"):
        Shaper.linear([1, 1, 1], [0, 0, 0])
    with pytest.raises(ValueError, match="values"):
        Shaper(np.zeros((3, 1)), np.array([[0, 0, 0], [1, 1, 1]]))
