"""Quality figures for a color transfer.

* :func:`color_distance` -- sliced W2 between two images' colors (sRGB in
  ``[0, 1]`` by default): how well the look is matched.
* :func:`exact_distance` -- exact W2 on subsamples (POT), and :func:`colorot.measures.metrics.ssim`;
* :func:`evaluate` -- all of them at once, as ``colorot evaluate`` prints them;
* :func:`structure_similarity` -- the structure term of SSIM on luma, the
  local correlation of luminance between two images: 1 means no detail lost
  and no noise added.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from ..pixels import image_to_pixels
from .colorspaces import REC709_LUMA, to_space
from ..errors import ColorotError
from . import sample_colors
from ..ot.sliced import sliced_wasserstein

__all__ = ["color_distance", "exact_distance", "structure_similarity", "ssim", "evaluate", "luma"]


def color_distance(
    image,
    reference,
    *,
    space: str = "rgb",
    n_samples: int = 1 << 16,
    n_projections: int = 128,
    seed: int = 0,
) -> float:
    """Sliced W2 distance between the colors of two images.

    Both images are subsampled (``n_samples`` pixels each, in proportion to
    alpha) and compared on ``n_projections`` fixed random directions, so the
    figure is reproducible and comparable across methods for a given seed.

    Parameters
    ----------
    image, reference : array, PIL image or tensor
        Two RGB(A) images (any size).
    space : str
        Working space of the comparison; ``"rgb"`` is sRGB in ``[0, 1]``.

    Returns
    -------
    float

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> a = rng.random((64, 64, 3))
    >>> color_distance(a, a, n_samples=4096) < color_distance(a, a ** 2, n_samples=4096)
    True
    """
    colors, reference_colors = (to_space(c, space) for c in _sample_pair(image, reference, n_samples, seed))
    return float(sliced_wasserstein(colors, reference_colors, n_projections=n_projections, seed=seed))


def _sample_pair(image, reference, n_samples: int, seed: int) -> list[torch.Tensor]:
    """``n_samples`` sRGB colors ``(n, 3)`` from each of two images, drawn with one seeded generator."""
    generator = torch.Generator().manual_seed(seed)
    clouds = []
    for value, name in ((image, "image"), (reference, "reference")):
        view = image_to_pixels(value, name)
        clouds.append(sample_colors(view.pixels, view.scale, n_samples, generator, device="cpu", name=name)[0])
    return clouds


def luma(image) -> torch.Tensor:
    """Rec. 709 luma of an RGB(A) image, float64 ``(B, H, W)`` in ``[0, 1]``."""
    view = image_to_pixels(image, "image")
    pixels = view.pixels[:, :3].to(torch.float64) / view.scale
    weights = torch.tensor(REC709_LUMA, dtype=torch.float64)
    values = (pixels * weights[None, :, None]).sum(dim=1)
    return values.reshape(-1, *view.size)


def _gaussian_blur(images: torch.Tensor, sigma: float) -> torch.Tensor:
    """Valid-mode separable Gaussian blur of ``(B, H, W)`` images."""
    radius = int(math.ceil(3.5 * sigma))
    offsets = torch.arange(-radius, radius + 1, dtype=images.dtype)
    kernel = torch.exp(-0.5 * (offsets / sigma) ** 2)
    kernel = kernel / kernel.sum()
    out = F.conv2d(images[:, None], kernel.view(1, 1, 1, -1))
    return F.conv2d(out, kernel.view(1, 1, -1, 1))[:, 0]


def structure_similarity(image, reference, *, sigma: float = 1.5) -> float:
    """The SSIM structure term between the lumas of two images.

    .. math:: s(x, y) = \\frac{\\sigma_{xy} + C_3}{\\sigma_x \\sigma_y + C_3},
              \\quad C_3 = (0.03)^2 / 2

    with local statistics under a Gaussian window of standard deviation
    ``sigma`` (Wang et al. 2004), averaged over the image. It ignores changes
    of brightness and contrast (which a color transfer makes on purpose) and
    measures lost detail and added noise.

    Parameters
    ----------
    image, reference : array, PIL image or tensor
        Two RGB(A) images of the same size.

    Returns
    -------
    float
        1 for images whose lumas are locally affine in each other.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> a = rng.random((32, 32, 3))
    >>> round(structure_similarity(a, 0.5 * a + 0.2), 6)
    1.0
    """
    x, y = _same_size_lumas(image, reference, 2 * int(math.ceil(3.5 * sigma)) + 1, "the structure measure")
    c3 = (0.03**2) / 2
    mean_x, mean_y = _gaussian_blur(x, sigma), _gaussian_blur(y, sigma)
    var_x = (_gaussian_blur(x * x, sigma) - mean_x**2).clamp_min(0)
    var_y = (_gaussian_blur(y * y, sigma) - mean_y**2).clamp_min(0)
    cov = _gaussian_blur(x * y, sigma) - mean_x * mean_y
    return float(((cov + c3) / (var_x.sqrt() * var_y.sqrt() + c3)).mean())


def exact_distance(image, reference, *, n_samples: int = 2000, seed: int = 0) -> float:
    """Exact W2 between the colors of two images, on seeded subsamples (POT's network simplex).

    ``n_samples`` pixels of each image (sRGB in ``[0, 1]``, drawn in proportion to alpha) are matched by
    POT's ``ot.emd2`` with the squared Euclidean cost; the cost is cubic in ``n_samples``.

    Examples
    --------
    >>> import numpy as np
    >>> a = np.random.default_rng(0).random((32, 32, 3))
    >>> exact_distance(a, a, n_samples=200) < exact_distance(a, a ** 2, n_samples=200)
    True
    """
    import ot

    colors, reference_colors = (c.double().numpy() for c in _sample_pair(image, reference, n_samples, seed))
    weights = np.full(n_samples, 1.0 / n_samples)
    return float(np.sqrt(max(ot.emd2(weights, weights, ot.dist(colors, reference_colors)), 0.0)))


#: The smallest side that :func:`ssim`'s window fits in: scikit-image's Gaussian window of sigma 1.5, truncated at
#: 3.5 sigma, is 2 * round(3.5 * 1.5) + 1 = 11 pixels wide.
SSIM_MIN_SIDE = 11


def _same_size_lumas(image, reference, window: int, measure: str) -> tuple:
    """The lumas of two images of one size, each side at least ``window`` pixels (else a one-line error)."""
    x, y = luma(image), luma(reference)
    if x.shape != y.shape:
        raise ColorotError(f"images differ in size: {x.shape[-2]} x {x.shape[-1]} and {y.shape[-2]} x "
                           f"{y.shape[-1]} pixels (height x width); compare an output with the image it was made "
                           "from")
    if min(x.shape[-2:]) < window:
        raise ColorotError(f"images of {x.shape[-2]} x {x.shape[-1]} pixels are too small for {measure}, whose "
                           f"window needs {window} x {window} at least")
    return x, y


def ssim(image, reference) -> float:
    """Full SSIM between the lumas of two images (scikit-image, Gaussian window, sigma 1.5).

    Examples
    --------
    >>> import numpy as np
    >>> image = np.random.default_rng(0).random((32, 32, 3))
    >>> round(ssim(image, image), 6), ssim(image, 1 - image) < 0
    (1.0, True)
    """
    from skimage.metrics import structural_similarity

    x, y = _same_size_lumas(image, reference, SSIM_MIN_SIDE, "SSIM")
    scores = [
        structural_similarity(a.numpy(), b.numpy(), data_range=1.0, gaussian_weights=True, sigma=1.5,
                              use_sample_covariance=False)
        for a, b in zip(x, y)
    ]
    return float(np.mean(scores))


def evaluate(output, *, style=None, source=None, n_exact: int = 2000, seed: int = 0) -> dict[str, float]:
    """Quality figures of a color transfer.

    Parameters
    ----------
    output : array, PIL image or tensor
        The recolored image.
    style : array, PIL image or tensor, optional
        The style it should match: gives ``sliced_w2_to_style`` (:func:`color_distance`) and
        ``exact_w2_to_style`` (:func:`exact_distance` on ``n_exact`` samples).
    source : array, PIL image or tensor, optional
        The image it came from: gives ``ssim_to_source`` (:func:`colorot.measures.metrics.ssim`) and ``structure_to_source``
        (:func:`structure_similarity`).

    Returns
    -------
    dict
        Figure name -> value.

    Examples
    --------
    >>> import numpy as np
    >>> a = np.random.default_rng(0).random((32, 32, 3))
    >>> figures = evaluate(a, source=a)
    >>> round(figures["ssim_to_source"], 6), round(figures["structure_to_source"], 6)
    (1.0, 1.0)
    """
    if style is None and source is None:
        raise ColorotError("nothing to compare with: give a style, a source, or both")
    figures: dict[str, float] = {}
    if style is not None:
        figures["sliced_w2_to_style"] = color_distance(output, style, seed=seed)
        figures["exact_w2_to_style"] = exact_distance(output, style, n_samples=n_exact, seed=seed)
    if source is not None:
        figures["ssim_to_source"] = ssim(output, source)
        figures["structure_to_source"] = structure_similarity(output, source)
    return figures
