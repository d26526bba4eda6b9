"""Every fitted map implements the ColorMap protocol (colorot.maps.protocol)."""

from __future__ import annotations

import torch


def test_every_fitted_map_is_a_color_map(astronaut, coffee):
    from colorot.estimator import ColorTransfer
    from colorot.learned.generator import ColorGenerator
    from colorot.maps.protocol import ColorMap

    for method in ("sliced", "mkl", "reinhard", "histogram", "emd", "conditioned"):
        model = ColorTransfer(method=method, seed=0, n_samples=2048).fit(coffee, sources=[astronaut])
        assert isinstance(model.steps_, ColorMap), method
        colors = torch.rand(*model.steps_.batch_shape, 5, 3)
        with torch.inference_mode():
            assert model.steps_(colors).shape == colors.shape
    from colorot.learned.generator import _AsColorMap

    assert isinstance(_AsColorMap(ColorGenerator(hidden=4)), ColorMap)
