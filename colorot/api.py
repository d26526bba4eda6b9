"""The public functions: :func:`transfer`, :func:`fit_lut`, :func:`apply_lut`, and :class:`ColorTransferModule`
for torchvision-style pipelines; :class:`~colorot.estimator.ColorTransfer` is the estimator behind them."""

from __future__ import annotations

import torch

from .devices import resolve_device
from .errors import ColorotError
from .estimator import ColorTransfer, Image
from .pixels import image_to_pixels
from .maps.kernels import apply_table
from .maps.lut import ColorLUT, identity_grid
from .options import DEFAULTS, LUT_SIZE

__all__ = ["transfer", "fit_lut", "apply_lut", "ColorTransfer", "ColorTransferModule", "resolve_device", "DEFAULTS"]


def transfer(
    source: Image,
    style,
    *,
    space: str = DEFAULTS["space"],
    strength: float = 1.0,
    seed: int | None = None,
    device=None,
    weights=None,
    source_mask=None,
    style_mask=None,
    **options,
) -> Image:
    """Give ``source`` the look of ``style``.

    By default (``method="look"``) the grade is fitted by unbalanced optimal transport between the two images'
    colors (an affine map fitted on the plan of Chizat et al. 2018's unbalanced Sinkhorn) where the two photos
    share their scene, and read off the style by the shipped learned look model where they do not, weighed by a
    scene gate
    (:func:`colorot.learned.look_transfer.fit_look`); ``method="sliced"`` matches the style's whole palette
    by iterative sliced transport (Pitié et al. 2005, Rabin et al. 2011), and the other methods are in
    :data:`colorot.methods.METHODS`. The map, a smooth function of color, is applied to every pixel through a
    3D lookup table, so equal colors stay equal and the image's structure is kept.

    Parameters
    ----------
    source : numpy.ndarray, PIL.Image.Image or torch.Tensor
        The image to recolor: ``(H, W, 3|4)`` array (uint8, uint16 or float in
        ``[0, 1]``), RGB(A) PIL image, or ``(..., 3|4, H, W)`` tensor on any
        device, batched or not. Alpha passes through and transparent pixels
        are left out of the statistics.
    style : numpy.ndarray, PIL.Image.Image or torch.Tensor, or a list of them
        The image whose colors to take, in any of the same forms. Several
        styles are mixed (their colors' sliced Wasserstein barycenter).
    space : {"rgb", "linear", "lab", "oklab"}
        Color space the distributions are matched in.
    strength : float
        0 returns the source, 1 the full transfer; in between, colors move
        part of the way along their transport path.
    seed : int, optional
        Which run of the random draws (samples, directions): None (the default)
        is seed 0, so the same call gives the same bytes every run on one
        device; another seed selects another run.
    device : str or torch.device, optional
        ``"auto"`` (the tensor's device, else CUDA when available), ``"cpu"``,
        ``"cuda"`` or ``"cuda:N"``.
    weights : sequence of float, optional
        Weights of several styles in the mix (default equal).
    source_mask : mask, optional
        Which source pixels define the statistics and change: an ``(H, W)``
        array (bool, uint8 0-255, or float in ``[0, 1]``), grayscale PIL image
        or tensor; 0 keeps a pixel bit for bit, values in between blend.
    style_mask : mask or list of masks, optional
        Which style pixels define the target colors.
    **options
        Further :class:`ColorTransfer` parameters (``n_iter``, ``n_samples``,
        ``smoothing``, ``n_knots``, ``lut_size``).

    Returns
    -------
    Same type, shape, dtype, range and device as ``source``.

    Raises
    ------
    ColorotError
        For unsupported inputs (type, shape, dtype, NaN) or options.

    Examples
    --------
    >>> import numpy as np, colorot
    >>> rng = np.random.default_rng(0)
    >>> source = rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)
    >>> style = (rng.random((32, 32, 3)) * [255, 128, 64]).astype(np.uint8)
    >>> out = colorot.transfer(source, style, seed=0)
    >>> out.dtype, out.shape
    (dtype('uint8'), (32, 32, 3))
    >>> bool(out[..., 2].mean() < source[..., 2].mean())  # blue pulled down
    True
    """
    model = ColorTransfer(space=space, strength=strength, seed=seed, device=device, **options)
    return model.fit(style, weights=weights, style_mask=style_mask).transform(source, source_mask=source_mask)


def apply_lut(lut: ColorLUT, image: Image, *, device=None, interpolation: str = "trilinear") -> Image:
    """Apply a lookup table (from :func:`fit_lut` or :mod:`colorot.apps.looks`) to an image.

    Parameters
    ----------
    lut : ColorLUT
    image : numpy.ndarray, PIL.Image.Image or torch.Tensor
        As for :func:`transfer`; the result has the same type, dtype and range.
    device : str or torch.device, optional
        Where to look the colors up (default: the tensor's device, else CUDA when available).
    interpolation : {"trilinear", "tetrahedral"}

    Examples
    --------
    >>> import numpy as np
    >>> from colorot.maps.lut import ColorLUT, identity_grid
    >>> identity = ColorLUT(identity_grid(5).T.reshape(3, 5, 5, 5))
    >>> image = np.arange(12, dtype=np.uint8).reshape(2, 2, 3)
    >>> bool((apply_lut(identity, image, device="cpu") == image).all())
    True
    """
    view = image_to_pixels(image, "image")
    device = resolve_device(device, image if view.kind == "torch" else None)
    if interpolation not in ("trilinear", "tetrahedral"):
        raise ColorotError(f"interpolation is trilinear or tetrahedral, not {interpolation!r}")
    return apply_table(lut.to(device), view, device, interpolation=interpolation)


def fit_lut(style, sources=None, *, size: int = LUT_SIZE, weights=None, **options) -> ColorLUT:
    """Fit one map from ``sources`` (or from the whole sRGB cube) to ``style`` and bake it as a LUT.

    Parameters
    ----------
    style : image, or a list of images
        The look (several are mixed, see :func:`transfer`).
    sources : sequence of images, optional
        The photos the look is for (a whole shoot): their pooled colors
        define the map. Without them, the colors of the whole sRGB cube,
        uniformly, so that the LUT suits any photo.
    size : int
        Nodes per axis of the table (17, 33 and 65 are the usual sizes).
    weights : sequence of float, optional
        The styles' weights in a mix (default: equal).
    **options
        :class:`ColorTransfer` parameters (``space``, ``strength``, ``seed``...).

    Returns
    -------
    ColorLUT
        One table, on the fitting device.

    Examples
    --------
    >>> import numpy as np
    >>> style = np.random.default_rng(0).random((32, 32, 3)) ** 2
    >>> fit_lut(style, size=17, seed=0, n_iter=5).table.shape
    torch.Size([1, 3, 17, 17, 17])
    """
    if sources is None:

        sources = [identity_grid(65).reshape(1, -1, 3).numpy()]  # the whole cube, as a 1-row image
    model = ColorTransfer(lut_size=size, **options).fit(style, sources=sources, weights=weights)
    return model.lut_


class ColorTransferModule(torch.nn.Module):
    """:func:`transfer` to a fixed style as an ``nn.Module``.

    Drops into ``torchvision.transforms.v2.Compose`` or an ``nn.Sequential``;
    takes and returns ``(..., 3|4, H, W)`` tensors (arrays and PIL images work
    too), or samples as v2 transforms do: ``module(image, label)`` returns
    ``(graded, label)``, a dict or nested structure has its images graded and
    the rest passed through, and a ``tv_tensors.Image`` comes back as one.
    The style's sampled colors are a buffer, so ``.to(device)`` moves them and
    ``state_dict``/``load_state_dict`` carry them; a dtype cast (``.half()``,
    ``.bfloat16()``, ``.double()``) is harmless: the style's colors stay
    float32 at full precision, as the engine uses them, and each output has
    its own input's dtype. Survives ``copy.deepcopy`` and pickling
    (DataLoader workers). Not differentiable: the output is detached.

    Each image is graded to the style by its own map, as :func:`transfer`
    does; so is each frame of a ``tv_tensors.Video`` or a batch (frames may
    then differ in tint). For one map over a whole clip, fit a
    :class:`ColorTransfer` on frames sampled across it, or use
    ``colorot video``.

    Parameters
    ----------
    style : array, PIL image or tensor
        The look to apply.
    **options
        :class:`ColorTransfer` parameters (``space``, ``strength``, ``seed``, ...).

    Examples
    --------
    >>> import torch
    >>> module = ColorTransferModule(torch.rand(3, 32, 32) * 0.5, seed=0)
    >>> module(torch.rand(2, 3, 16, 16)).shape
    torch.Size([2, 3, 16, 16])
    """

    def __init__(self, style, **options):
        super().__init__()
        self.model = ColorTransfer(**options).fit(style)
        # A normal tensor (the fit's is an inference tensor, which load_state_dict could not copy into).
        self.register_buffer("style_colors", self.model.style_colors_.clone())
        # The style's structure (methods that read it, colorot.measures.structure), pooled over a batch of styles
        # with each one's count of patches; it stays on the CPU, where it is compared.
        structures = self.model.style_structure_ or []
        self.register_buffer("style_patches", torch.cat([s.patches for s in structures] or [torch.zeros(0, 64)]))
        self.register_buffer("style_positions", torch.cat([s.positions for s in structures] or [torch.zeros(0, 3)]))
        self.register_buffer("style_patch_counts", torch.tensor([s.patches.shape[0] for s in structures],
                                                                dtype=torch.int64))
        # The style's thumbnails (one style: its color pairs with a photo of the same scene), flat, with each one's
        # (scale, height, width).
        thumbnails = structures[0].thumbnails if len(structures) == 1 else ()
        self.register_buffer("style_thumbnails", torch.cat([image.flatten() for _, image in thumbnails]
                                                           or [torch.zeros(0)]))
        self.register_buffer("style_thumbnail_shapes", torch.tensor(
            [[scale, *image.shape[1:]] for scale, image in thumbnails], dtype=torch.float64).reshape(-1, 3))

    def forward(self, *inputs):
        """Transform an image, or the images of a sample (``module(image, label)``, a dict, nested
        tuples) by torchvision transforms v2's rule: :func:`colorot.sample_structures.map_images`."""
        from .fitting import MapFitter
        from .measures.structure import Structure
        from .sample_structures import map_images

        counts = self.style_patch_counts.tolist()
        shapes = [(scale, int(height), int(width)) for scale, height, width in self.style_thumbnail_shapes.tolist()]
        images = self.style_thumbnails.split([3 * height * width for _, height, width in shapes])
        thumbnails = tuple((scale, image.view(3, height, width)) for (scale, height, width), image in zip(shapes, images))
        structure = [Structure(*parts, thumbnails) for parts in zip(self.style_patches.split(counts),
                                                                    self.style_positions.split(counts))] or None
        # The fitted style is this module's buffers (moved with it), the options the estimator's; what the method
        # reads of the style alone is read once for those buffers (again once they are moved, loaded or replaced).
        options, device = self.model.options, self.style_colors.device
        self._style_summary = MapFitter(options, self.style_colors, device).read_summary(
            self.__dict__.get("_style_summary"))
        fitter = MapFitter(options, self.style_colors, device, structure, self._style_summary[1])
        return map_images(inputs[0] if len(inputs) == 1 else inputs,
                          lambda image: fitter.grade(image_to_pixels(image, "source"), self.model.strength)[0])

    def __getstate__(self) -> dict:
        """Pickled and copied without the style's summary (it holds the look model; a copy reads it again)."""
        return {**self.__dict__, "_style_summary": None}

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        """The style's structure has a size of its own: take the saved one's."""
        for name in ("style_patches", "style_positions", "style_patch_counts", "style_thumbnails",
                     "style_thumbnail_shapes"):
            if prefix + name in state_dict:
                setattr(self, name, torch.empty_like(state_dict[prefix + name], device="cpu"))
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def _apply(self, fn, recurse=True):
        """Moves follow ``fn`` (``.to``, ``.cuda``...); dtype casts leave the style's colors float32 at full
        precision, as the engine uses them, and its structure float32 on the CPU."""
        colors, kept = self.style_colors, (self.style_patches, self.style_positions, self.style_patch_counts,
                                           self.style_thumbnails, self.style_thumbnail_shapes)
        super()._apply(fn, recurse)
        self.style_colors = colors.to(device=fn(colors).device)
        (self.style_patches, self.style_positions, self.style_patch_counts, self.style_thumbnails,
         self.style_thumbnail_shapes) = kept
        return self

