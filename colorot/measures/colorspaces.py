"""Color space conversions in PyTorch.

Every function takes a tensor whose **last** axis holds the three color
channels, ``(..., 3)``, on any device and in any floating dtype, and returns a
tensor of the same shape, device and dtype. sRGB values are the usual encoded
(gamma) values in ``[0, 1]``; conversions are not clipped, so a round trip is
exact up to floating-point error even out of gamut.

The working spaces of the engine (``SPACES``) are scaled so that all three
axes span roughly unit range, which keeps one smoothing bandwidth meaningful
in every space:

``"rgb"``
    sRGB-encoded values [1]_, ``[0, 1]``.
``"linear"``
    linear-light sRGB, ``[0, 1]``.
``"lab"``
    CIELAB under D65 divided by 100 (``L/100``, ``a/100``, ``b/100``).
``"oklab"``
    Oklab (Ottosson 2020) [2]_: ``L`` in ``[0, 1]``, ``a``, ``b`` about ``[-0.4, 0.4]``.

References
----------
.. [1] IEC 61966-2-1:1999, "Multimedia systems and equipment - Colour
   measurement and management - Default RGB colour space - sRGB".
.. [2] B. Ottosson, "A perceptual color space for image processing", 2020.
   https://bottosson.github.io/posts/oklab/
"""

from __future__ import annotations

import torch

__all__ = [
    "SPACES",
    "srgb_to_linear",
    "linear_to_srgb",
    "linear_rgb_to_xyz",
    "xyz_to_linear_rgb",
    "xyz_to_lab",
    "lab_to_xyz",
    "rgb_to_lab",
    "lab_to_rgb",
    "xyz_to_oklab",
    "oklab_to_xyz",
    "rgb_to_oklab",
    "oklab_to_rgb",
    "to_space",
    "from_space",
    "luma_axis",
    "REC709_LUMA",
]

SPACES = ("rgb", "linear", "lab", "oklab")

# sRGB primaries with the D65 white point, linear RGB -> XYZ: the matrix
# scikit-image uses, so that our Lab agrees with skimage.color.rgb2lab.
_RGB_TO_XYZ = (
    (0.412453, 0.357580, 0.180423),
    (0.212671, 0.715160, 0.072169),
    (0.019334, 0.119193, 0.950227),
)
# D65 reference white (2 degree observer), the one scikit-image uses.
_D65 = (0.95047, 1.0, 1.08883)
# Oklab: XYZ -> approximate cone responses, then cube-rooted LMS -> Lab.
_XYZ_TO_LMS = (
    (0.8189330101, 0.3618667424, -0.1288597137),
    (0.0329845436, 0.9293118715, 0.0361456387),
    (0.0482003018, 0.2643662691, 0.6338517070),
)
_LMS_TO_OKLAB = (
    (0.2104542553, 0.7936177850, -0.0040720468),
    (1.9779984951, -2.4285922050, 0.4505937099),
    (0.0259040371, 0.7827717662, -0.8086757660),
)


def _matmul(colors: torch.Tensor, matrix, inverse: bool = False) -> torch.Tensor:
    """Apply a 3x3 matrix to the last axis of ``colors``."""
    m = torch.tensor(matrix, dtype=torch.float64)
    if inverse:
        m = torch.linalg.inv(m)
    return colors @ m.T.to(device=colors.device, dtype=colors.dtype)


def srgb_to_linear(rgb: torch.Tensor) -> torch.Tensor:
    """Decode sRGB values to linear light (the sRGB transfer function).

    Parameters
    ----------
    rgb : torch.Tensor, shape (..., 3) or any shape
        sRGB-encoded values, nominally in ``[0, 1]``.

    Returns
    -------
    torch.Tensor
        Linear-light values, same shape, device and dtype.

    Examples
    --------
    >>> import torch
    >>> srgb_to_linear(torch.tensor([0.0, 0.5, 1.0])).round(decimals=4)
    tensor([0.0000, 0.2140, 1.0000])
    """
    magnitude = rgb.abs()
    curve = ((magnitude + 0.055) / 1.055) ** 2.4
    return torch.where(magnitude <= 0.04045, rgb / 12.92, torch.sign(rgb) * curve)


def linear_to_srgb(linear: torch.Tensor) -> torch.Tensor:
    """Encode linear-light values with the sRGB transfer function.

    Examples
    --------
    >>> import torch
    >>> linear_to_srgb(torch.tensor([0.0, 0.214, 1.0])).round(decimals=3)
    tensor([0.0000, 0.5000, 1.0000])
    """
    magnitude = linear.abs()
    curve = 1.055 * magnitude.clamp_min(1e-12) ** (1 / 2.4) - 0.055
    return torch.where(magnitude <= 0.0031308, linear * 12.92, torch.sign(linear) * curve)


def linear_rgb_to_xyz(linear: torch.Tensor) -> torch.Tensor:
    """Linear sRGB (D65) to CIE XYZ, shape ``(..., 3)``."""
    return _matmul(linear, _RGB_TO_XYZ)


def xyz_to_linear_rgb(xyz: torch.Tensor) -> torch.Tensor:
    """CIE XYZ to linear sRGB (D65), shape ``(..., 3)``."""
    return _matmul(xyz, _RGB_TO_XYZ, inverse=True)


def xyz_to_lab(xyz: torch.Tensor) -> torch.Tensor:
    """CIE XYZ to CIELAB under the D65 white point (``L`` in ``[0, 100]``)."""
    white = torch.tensor(_D65, device=xyz.device, dtype=xyz.dtype)
    ratio = xyz / white
    delta = 6 / 29
    f = torch.where(
        ratio > delta**3,
        ratio.clamp_min(delta**3) ** (1 / 3),
        ratio / (3 * delta**2) + 4 / 29,
    )
    fx, fy, fz = f.unbind(-1)
    return torch.stack((116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)), dim=-1)


def lab_to_xyz(lab: torch.Tensor) -> torch.Tensor:
    """CIELAB (D65) to CIE XYZ; the exact inverse of :func:`xyz_to_lab`."""
    lightness, a, b = lab.unbind(-1)
    fy = (lightness + 16) / 116
    f = torch.stack((fy + a / 500, fy, fy - b / 200), dim=-1)
    delta = 6 / 29
    ratio = torch.where(f > delta, f**3, 3 * delta**2 * (f - 4 / 29))
    return ratio * torch.tensor(_D65, device=lab.device, dtype=lab.dtype)


def rgb_to_lab(rgb: torch.Tensor) -> torch.Tensor:
    """sRGB-encoded values to CIELAB (D65), ``L`` in ``[0, 100]``.

    Agrees with :func:`skimage.color.rgb2lab` (same matrix and white point).

    Examples
    --------
    >>> import torch
    >>> white = rgb_to_lab(torch.tensor([1.0, 1.0, 1.0], dtype=torch.float64))
    >>> torch.allclose(white, torch.tensor([100.0, 0.0, 0.0], dtype=torch.float64), atol=0.01)
    True
    """
    return xyz_to_lab(linear_rgb_to_xyz(srgb_to_linear(rgb)))


def lab_to_rgb(lab: torch.Tensor) -> torch.Tensor:
    """CIELAB (D65) to sRGB-encoded values (not clipped to the gamut)."""
    return linear_to_srgb(xyz_to_linear_rgb(lab_to_xyz(lab)))


def xyz_to_oklab(xyz: torch.Tensor) -> torch.Tensor:
    """CIE XYZ (D65) to Oklab.

    Examples
    --------
    >>> import torch
    >>> oklab = xyz_to_oklab(torch.tensor([0.95, 1.0, 1.089], dtype=torch.float64))
    >>> torch.allclose(oklab, torch.tensor([1.0, 0.0, 0.0], dtype=torch.float64), atol=1e-3)
    True
    """
    lms = _matmul(xyz, _XYZ_TO_LMS)
    return _matmul(torch.sign(lms) * lms.abs() ** (1 / 3), _LMS_TO_OKLAB)


def oklab_to_xyz(oklab: torch.Tensor) -> torch.Tensor:
    """Oklab to CIE XYZ (D65); the exact inverse of :func:`xyz_to_oklab`."""
    lms_root = _matmul(oklab, _LMS_TO_OKLAB, inverse=True)
    return _matmul(lms_root**3, _XYZ_TO_LMS, inverse=True)


def rgb_to_oklab(rgb: torch.Tensor) -> torch.Tensor:
    """sRGB-encoded values to Oklab."""
    return xyz_to_oklab(linear_rgb_to_xyz(srgb_to_linear(rgb)))


def oklab_to_rgb(oklab: torch.Tensor) -> torch.Tensor:
    """Oklab to sRGB-encoded values (not clipped to the gamut)."""
    return linear_to_srgb(xyz_to_linear_rgb(oklab_to_xyz(oklab)))


#: Rec. 709 luma weights of R, G and B (luma Y' from sRGB-encoded values, luminance Y from linear ones).
REC709_LUMA = (0.2126, 0.7152, 0.0722)


def luma_axis(space: str) -> torch.Tensor:
    """Unit vector along which luma grows in a working space, shape ``(3,)``.

    Rec. 709 luma weights for ``"rgb"`` (luma ``Y'``) and ``"linear"``
    (luminance ``Y``), the lightness axis for ``"lab"`` and ``"oklab"``.

    Examples
    --------
    >>> luma_axis("lab").tolist()
    [1.0, 0.0, 0.0]
    """
    weights = (1.0, 0.0, 0.0) if _check_space(space) in ("lab", "oklab") else REC709_LUMA
    axis = torch.tensor(weights, dtype=torch.float64)
    return axis / axis.norm()


def neutral_axis(space: str) -> torch.Tensor:
    """Unit vector along which the neutral (gray) colors lie in a working space, shape ``(3,)``:
    ``R = G = B`` in ``"rgb"`` and ``"linear"``, ``a = b = 0`` in ``"lab"`` and ``"oklab"``.

    Examples
    --------
    >>> neutral_axis("rgb").mul(3 ** 0.5).tolist()
    [1.0, 1.0, 1.0]
    """
    weights = (1.0, 0.0, 0.0) if _check_space(space) in ("lab", "oklab") else (1.0, 1.0, 1.0)
    axis = torch.tensor(weights, dtype=torch.float64)
    return axis / axis.norm()


def _check_space(space: str) -> str:
    if space not in SPACES:
        raise ValueError(f"unknown color space {space!r}; choose one of {', '.join(SPACES)}")
    return space


def to_space(rgb: torch.Tensor, space: str) -> torch.Tensor:
    """sRGB-encoded colors ``(..., 3)`` to the engine's scaled working space.

    Parameters
    ----------
    rgb : torch.Tensor, shape (..., 3)
        sRGB-encoded colors.
    space : {"rgb", "linear", "lab", "oklab"}
        Working space; ``"lab"`` is CIELAB divided by 100.

    Examples
    --------
    >>> import torch
    >>> to_space(torch.tensor([1.0, 1.0, 1.0]), "lab").round(decimals=3).abs()
    tensor([1., 0., 0.])
    """
    space = _check_space(space)
    if space == "rgb":
        return rgb
    if space == "linear":
        return srgb_to_linear(rgb)
    if space == "lab":
        return rgb_to_lab(rgb) / 100
    return rgb_to_oklab(rgb)


def from_space(colors: torch.Tensor, space: str) -> torch.Tensor:
    """The inverse of :func:`to_space`: working-space colors to sRGB-encoded values.

    Examples
    --------
    >>> import torch
    >>> colors = torch.tensor([[0.2, 0.5, 0.9]])
    >>> torch.allclose(from_space(to_space(colors, "oklab"), "oklab"), colors, atol=1e-5)
    True
    """
    space = _check_space(space)
    if space == "rgb":
        return colors
    if space == "linear":
        return linear_to_srgb(colors)
    if space == "lab":
        return lab_to_rgb(colors * 100)
    return oklab_to_rgb(colors)
