"""The same photo gives the same pixels whatever form it comes in, and wherever it sits in a batch (issue 26, 7)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

import colorot

METHODS = ("unbalanced", "sliced", "mkl")


@pytest.mark.parametrize("method", METHODS)
def test_uint8_float_pil_and_tensor_forms_give_the_same_pixels(method, astronaut, coffee):
    photo, style = astronaut, coffee
    reference = colorot.transfer(photo, style, method=method).astype(np.float64)
    forms = {
        "float32": photo.astype(np.float32) / 255,
        "float64": photo / 255.0,
        "tensor": torch.from_numpy(photo).permute(2, 0, 1).float() / 255,
        "PIL": Image.fromarray(photo),
    }
    for name, form in forms.items():
        out = colorot.transfer(form, style, method=method)
        if isinstance(out, torch.Tensor):
            out = out.permute(1, 2, 0).numpy()
        out = np.asarray(out, dtype=np.float64)
        if name in ("float32", "float64", "tensor"):
            out = np.clip(out, 0, 1) * 255  # v0.1: 4-5 codes mean, 58-73 max for the sliced map
        gap = np.abs(out - reference)
        assert gap.max() <= 1.0, (name, gap.mean(), gap.max())


@pytest.mark.parametrize("method", METHODS)
def test_an_image_in_a_batch_gets_the_map_it_gets_alone(method, astronaut, coffee):
    photo, style = astronaut, coffee
    other = np.ascontiguousarray(photo[::-1, ::-1])
    as_tensor = lambda image: torch.from_numpy(image).permute(2, 0, 1).float() / 255  # noqa: E731
    batch = torch.stack([as_tensor(photo), as_tensor(other), as_tensor(photo)])
    out = colorot.transfer(batch, as_tensor(style), method=method)
    alone = colorot.transfer(as_tensor(photo), as_tensor(style), method=method)
    assert torch.equal(out[0], out[2])  # v0.1: two identical images in one batch came out up to 21 codes apart
    assert (out[0] - alone).abs().max().item() * 255 <= 1e-3
    assert (out[1] - colorot.transfer(as_tensor(other), as_tensor(style), method=method)).abs().max() <= 1e-5
