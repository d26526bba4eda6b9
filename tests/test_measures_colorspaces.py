import numpy as np
import pytest
import torch
from skimage.color import lab2rgb, rgb2lab

from colorot.measures import colorspaces as cs
from conftest import DEVICES


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_lab_matches_scikit_image(device, dtype):
    rgb = np.random.default_rng(0).random((500, 3))
    ours = cs.rgb_to_lab(torch.tensor(rgb, dtype=dtype, device=device))
    assert ours.device.type == device and ours.dtype == dtype
    tolerance = 5e-4 if dtype == torch.float64 else 1e-2  # Lab values reach 100
    np.testing.assert_allclose(ours.cpu().double().numpy(), rgb2lab(rgb), atol=tolerance)
    lab = rgb2lab(rgb)
    back = cs.lab_to_rgb(torch.tensor(lab, dtype=torch.float64, device=device)).cpu().numpy()
    np.testing.assert_allclose(back, lab2rgb(lab), atol=1e-5)


# Ottosson's published table (https://bottosson.github.io/posts/oklab/): XYZ (D65) -> Oklab.
OKLAB_REFERENCE = [
    ((0.950, 1.000, 1.089), (1.000, 0.000, 0.000)),
    ((1.000, 0.000, 0.000), (0.450, 1.236, -0.019)),
    ((0.000, 1.000, 0.000), (0.922, -0.671, 0.263)),
    ((0.000, 0.000, 1.000), (0.153, -1.415, -0.449)),
]


@pytest.mark.parametrize("xyz, oklab", OKLAB_REFERENCE)
def test_oklab_published_values(xyz, oklab):
    ours = cs.xyz_to_oklab(torch.tensor(xyz, dtype=torch.float64))
    np.testing.assert_allclose(ours.numpy(), oklab, atol=1.5e-3)


def test_oklab_of_srgb_primaries():
    # Values of Ottosson's reference implementation for sRGB red and white.
    red = cs.rgb_to_oklab(torch.tensor([1.0, 0.0, 0.0], dtype=torch.float64))
    np.testing.assert_allclose(red.numpy(), [0.627955, 0.224863, 0.125846], atol=2e-4)
    white = cs.rgb_to_oklab(torch.tensor([1.0, 1.0, 1.0], dtype=torch.float64))
    np.testing.assert_allclose(white.numpy(), [1.0, 0.0, 0.0], atol=2e-4)


@pytest.mark.parametrize("space", cs.SPACES)
def test_round_trip_every_space(space):
    rgb = torch.rand(1000, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    back = cs.from_space(cs.to_space(rgb, space), space)
    torch.testing.assert_close(back, rgb, atol=1e-9, rtol=0)


def test_srgb_transfer_function_is_continuous_and_inverse():
    values = torch.linspace(-0.2, 1.2, 10001, dtype=torch.float64)
    linear = cs.srgb_to_linear(values)
    assert torch.all(torch.diff(linear) > 0)
    torch.testing.assert_close(cs.linear_to_srgb(linear), values, atol=1e-12, rtol=0)


def test_luma_axis_is_unit_and_rec709():
    axis = cs.luma_axis("rgb")
    assert float(axis.norm()) == pytest.approx(1.0)
    assert torch.allclose(axis / axis.sum(), torch.tensor([0.2126, 0.7152, 0.0722], dtype=torch.float64))


def test_unknown_space_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown color space"):
        cs.to_space(torch.zeros(1, 3), "hsv")
