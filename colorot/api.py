"""The public API: :func:`transfer`, the :class:`ColorTransfer` estimator and
the :class:`ColorTransferModule` for torchvision-style pipelines."""

from __future__ import annotations

import math
from typing import Sequence, TypeVar

import torch

from . import threads
from ._convert import PixelView, image_to_pixels, mask_to_weights
from .colorspaces import SPACES, luma_axis, neutral_axis, to_space
from .errors import ColorotError
from .measures import sample_colors
from .methods import METHODS
from .sliced import SlicedSteps, fit_sliced_steps, sliced_barycenter
from .transport_map import PILLOW_LUT_MAX, ColorLUT, bake_lut, used_nodes

__all__ = ["transfer", "fit_lut", "apply_lut", "ColorTransfer", "ColorTransferModule", "resolve_device"]

Image = TypeVar("Image")

#: Images up to this many pixels get a table baked only around their colors (see ColorTransfer.transform).
PARTIAL_BAKE_PIXELS = 1 << 22
#: Guided-filter radii of the first and last refine rounds when regrain_radius is 0, per long side; the rounds
#: between go from coarse to fine geometrically (one round: their geometric mean).
REFINE_RADII = (1 / 2, 1 / 64)
#: Refine rounds of a larger image run on a copy reduced to this long side; the image itself gets the last filter
#: (its coefficients fitted on the copy) and the last map (fitted on its own colors).
REFINE_SIDE = 640
#: The maps of the refine rounds before the last (the next round refits them) are fitted on this many sampled
#: colors, in at most this many steps, and baked on a grid of this size; the last map, which makes the output,
#: uses n_samples, n_iter and lut_size.
REFINE_ROUND_SAMPLES = 4096
REFINE_ROUND_ITER = 10
REFINE_ROUND_LUT = 33

#: Defaults shared by the function, the estimator and the command line.
DEFAULTS = dict(
    space="rgb",
    n_iter=30,
    n_samples=1 << 16,
    smoothing=0.005,
    n_knots=128,
    lut_size=65,
    monotone_luma=True,
    lut_blur=0.0,
)


def resolve_device(device=None, like=None) -> torch.device:
    """The device to compute on.

    ``None`` or ``"auto"`` follows ``like`` when it is a tensor, else picks CUDA
    when available and the CPU otherwise; ``"cpu"``, ``"cuda"`` and
    ``"cuda:N"`` are taken as given (CUDA must be available).

    Examples
    --------
    >>> resolve_device("cpu")
    device(type='cpu')
    """
    if device is None or device == "auto":
        if isinstance(like, torch.Tensor):
            return like.device
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(device)
    except (RuntimeError, TypeError) as error:
        raise ColorotError(f"unknown device {device!r}; use auto, cpu, cuda or cuda:N") from error
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise ColorotError(f"device {device} requested but CUDA is not available; use --device cpu")
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise ColorotError(f"device {device} requested but only {torch.cuda.device_count()} CUDA device(s) exist")
    return device


def _generator(seed: int | None, device: torch.device) -> torch.Generator:
    generator = torch.Generator(device=device)
    if seed is None:
        generator.seed()
    else:
        generator.manual_seed(int(seed))
    return generator


def _mix_weights(weights, n_styles: int) -> list:
    """The styles' weights, normalized to sum 1 (equal when None)."""
    if weights is None:
        return [1.0 / n_styles] * n_styles
    weights = [float(w) for w in weights]
    if len(weights) != n_styles:
        raise ColorotError(f"got {len(weights)} weights for {n_styles} styles")
    if any(not w >= 0 for w in weights) or sum(weights) <= 0:
        raise ColorotError(f"weights must be non-negative with a positive sum, got {weights}")
    return [w / sum(weights) for w in weights]


def _check_strength(strength: float) -> float:
    strength = float(strength)
    if not 0.0 <= strength <= 1.0:
        raise ColorotError(f"strength must be between 0 and 1, got {strength}")
    return strength


class ColorTransfer:
    """Sliced optimal transport color transfer as an estimator.

    ``fit(style)`` records the style's color distribution; ``transform(source)``
    fits the transport map from the source's colors to the style's and
    applies it to every pixel. ``fit(style, sources=[...])`` fits one map from
    the pooled colors of several sources instead, which ``transform`` then
    applies unchanged to any image (one consistent look for a whole shoot).

    Parameters
    ----------
    space : {"rgb", "linear", "lab", "oklab"}
        Color space the distributions are matched in.
    strength : float
        Displacement interpolation ``x + strength * (T(x) - x)``, in ``[0, 1]``.
    seed : int, optional
        Makes the random subsamples and bases reproducible on one device.
    device : str or torch.device, optional
        ``"auto"`` (default), ``"cpu"``, ``"cuda"`` or ``"cuda:N"``.
    n_iter : int
        Maximum number of sliced steps (random orthonormal bases).
    n_samples : int
        Colors drawn from each image to fit the map.
    smoothing : float
        Regularization: the standard deviation, in working-space units, of the
        Gaussian that smooths the source's projected distribution at each
        step. It bounds the slope of the map, which limits how much sensor
        noise and JPEG blocks are amplified. 0 disables it.
    n_knots : int
        Quantile levels of each 1-D map.
    lut_size : int
        Nodes per axis of the 3D lookup table the map is applied through.
    monotone_luma : bool
        Keep the image's structure: the output's luma is an increasing
        function of the input's luma (luma is transported first, then colors
        move only in the chroma plane). False gives Pitié's plain iterative
        distribution transfer.
    method : {"sliced", "mkl", "reinhard", "histogram", "emd", "conditioned"}
        ``"sliced"`` (default) is the sliced optimal transport described
        here; the others are classic methods for comparison, and
        ``"conditioned"`` the shipped style-conditioned generator (see
        :mod:`colorot.methods`), all applied through the same lookup table.
    keep_luma : bool
        Match only chroma: every pixel keeps its luma (Rec. 709 ``Y'`` in
        ``"rgb"``, luminance in ``"linear"``, ``L`` in ``"lab"``/``"oklab"``),
        up to rounding and gamut clipping.
    regrain_radius : int
        Spatial regularization, off (0) by default: filter the color
        displacement with a guided filter of this radius (pixels), guided by
        the source's luma (Rabin et al. 2011), so that noise and JPEG blocks
        are shifted rather than amplified. The result is then no longer a
        function of color.
    regrain_eps : float
        The guided filter's regularization (a local variance in ``[0, 1]^2``
        units): source edges with more variance are kept.
    refine : int
        Rounds of regrain and re-transfer, 0 (off) by default: each round
        filters the displacement from the source as ``regrain_radius`` does,
        then fits a new map from the filtered image's colors to the style
        and applies it (Rabin et al.'s iterated regularization). When
        ``regrain_radius`` is 0 the radius goes from coarse to fine, from
        half the image's long side to a 64th (:func:`refine_radii`; wide
        windows are computed on a coarser grid). The filter keeps the output
        locally affine in the source (structure) and the new map brings the
        colors back onto the style; on the 20 ordered sample pairs, 11
        rounds lower the distance to the style and raise the structure term
        together until all 20 meet both quality targets (8 without; 15 with
        4 rounds, 19 with 8). Each round costs a fraction of a transfer: the
        maps of the rounds before the last are fitted on
        ``REFINE_ROUND_SAMPLES`` (4096) colors in at most ``REFINE_ROUND_ITER``
        (10) steps and baked on a ``REFINE_ROUND_LUT`` (33) node grid.
        Images longer than ``REFINE_SIDE`` (640 px) run the rounds on a
        copy reduced to that size; the image itself gets the last filter
        (its coefficients fitted on the copy) and the last map at full size.
        The result is not a function of color (no LUT or look reproduces
        it), and the map is fitted for each image, so it cannot be combined
        with a map fitted on ``sources``.
    lut_blur : float
        Further regularization: standard deviation, in sRGB units, of a
        Gaussian blur of the map's displacement over the color cube. 0 (the
        default) disables it.

    Attributes
    ----------
    style_colors_ : torch.Tensor, shape (B, n_samples, 3)
        Sampled style colors in the working space (after :meth:`fit`).
    steps_ : SlicedSteps or None
        The map fitted from ``sources`` (None when each source gets its own).
    lut_ : ColorLUT or None
        ``steps_`` baked into a lookup table at the estimator's strength.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> style = rng.random((64, 64, 3)) ** 2          # a darker palette
    >>> source = rng.random((48, 80, 3))
    >>> model = ColorTransfer(seed=0).fit(style)
    >>> out = model.transform(source)
    >>> out.shape, out.dtype
    ((48, 80, 3), dtype('float64'))
    >>> bool(out.mean() < source.mean())
    True
    """

    def __init__(
        self,
        *,
        space: str = DEFAULTS["space"],
        strength: float = 1.0,
        seed: int | None = None,
        device=None,
        n_iter: int = DEFAULTS["n_iter"],
        n_samples: int = DEFAULTS["n_samples"],
        smoothing: float = DEFAULTS["smoothing"],
        n_knots: int = DEFAULTS["n_knots"],
        lut_size: int = DEFAULTS["lut_size"],
        monotone_luma: bool = DEFAULTS["monotone_luma"],
        lut_blur: float = DEFAULTS["lut_blur"],
        keep_luma: bool = False,
        method: str = "sliced",
        regrain_radius: int = 0,
        regrain_eps: float = 1e-3,
        refine: int = 0,
    ):
        if method != "sliced" and method not in METHODS:
            raise ColorotError(f"unknown method {method!r}; choose one of sliced, {', '.join(METHODS)}")
        if space not in SPACES:
            raise ColorotError(f"unknown color space {space!r}; choose one of {', '.join(SPACES)}")
        for name, value, low in (("n_iter", n_iter, 1), ("n_samples", n_samples, 16), ("n_knots", n_knots, 2)):
            if int(value) < low:
                raise ColorotError(f"{name} must be at least {low}, got {value}")
        if not 2 <= int(lut_size) <= 256:
            raise ColorotError(f"lut_size must be between 2 and 256, got {lut_size}")
        if smoothing < 0:
            raise ColorotError(f"smoothing must be non-negative, got {smoothing}")
        self.space = space
        self.strength = _check_strength(strength)
        self.seed = seed
        self.device = device
        self.n_iter = int(n_iter)
        self.n_samples = int(n_samples)
        self.smoothing = float(smoothing)
        self.n_knots = int(n_knots)
        self.lut_size = int(lut_size)
        self.monotone_luma = bool(monotone_luma)
        self.lut_blur = float(lut_blur)
        self.keep_luma = bool(keep_luma)
        self.method = method
        if int(regrain_radius) < 0 or not regrain_eps > 0:
            raise ColorotError(f"regrain_radius must be >= 0 and regrain_eps > 0, got {regrain_radius}, {regrain_eps}")
        self.regrain_radius = int(regrain_radius)
        self.regrain_eps = float(regrain_eps)
        if int(refine) < 0:
            raise ColorotError(f"refine must be >= 0 rounds, got {refine}")
        self.refine = int(refine)
        self.style_colors_: torch.Tensor | None = None
        self.steps_: SlicedSteps | None = None
        self.lut_: ColorLUT | None = None

    # -- fitting -----------------------------------------------------------
    @property
    def fit_space(self) -> str:
        """The working space the map is fitted in (fixed by some methods, e.g. Lab for Reinhard)."""
        return (METHODS[self.method][1] if self.method in METHODS else None) or self.space

    @torch.inference_mode()  # internal tensors: no autograd bookkeeping per op
    def _sample(
        self, view: PixelView, generator: torch.Generator, device, name: str, mask=None, n_samples=None
    ) -> torch.Tensor:
        weights = None if mask is None else mask_to_weights(mask, view, f"{name} mask")
        colors = sample_colors(view.pixels, view.scale, n_samples or self.n_samples, generator, device=device,
                               name=name, mask=weights)
        return to_space(colors, self.fit_space)

    @threads.fitting
    def fit(self, style, sources=None, *, weights=None, style_mask=None) -> "ColorTransfer":
        """Record the style's colors and, with ``sources``, fit one shared map.

        Parameters
        ----------
        style : array, PIL image or tensor, or a list of them
            The look to match; a ``(B, C, H, W)`` tensor holds one style per
            image of a batched source. Several styles are mixed: their colors'
            sliced Wasserstein barycenter (Rabin et al. 2011) is the target.
        sources : sequence of images, optional
            Fit a single map from the pooled colors of these images (``n_samples``
            colors in all, at least 1,024 from each).
        weights : sequence of float, optional
            The styles' weights in the mix (default: equal); normalized to sum 1.
        style_mask : mask, or a list of masks (one per style, None for none), optional
            Which style pixels define the target (``(H, W)`` in ``[0, 1]``, see
            :func:`transfer`); soft values weigh pixels in between.

        Returns
        -------
        self
        """
        styles = list(style) if isinstance(style, (list, tuple)) else [style]
        masks = list(style_mask) if isinstance(style_mask, (list, tuple)) else [style_mask] * len(styles)
        if not styles:
            raise ColorotError("no style given; pass at least one image")
        if len(masks) != len(styles):
            raise ColorotError(f"got {len(masks)} style masks for {len(styles)} styles")
        mix = _mix_weights(weights, len(styles))
        views = [image_to_pixels(image, f"style {i + 1}" if len(styles) > 1 else "style") for i, image in enumerate(styles)]
        self.device_ = resolve_device(self.device, styles[0] if views[0].kind == "torch" else None)
        generator = _generator(self.seed, self.device_)
        clouds = [
            self._sample(view, generator, self.device_, "style", mask)
            for view, mask, weight in zip(views, masks, mix) if weight > 0
        ]
        mix = [weight for weight in mix if weight > 0]
        if len(clouds) == 1:
            self.style_colors_ = clouds[0]
        else:
            if len({cloud.shape for cloud in clouds}) > 1:
                raise ColorotError("styles to mix must be single images (or batches of one size)")
            self.style_colors_ = self._barycenter(clouds, mix)
        self.steps_ = self.lut_ = None
        if sources is not None:
            sources = list(sources)
            if not sources:
                raise ColorotError("sources is empty; pass at least one image")
            # A fresh generator, as transform uses: fit(style, sources=[photo]) then gives photo's own map.
            generator = _generator(self.seed, self.device_)
            # n_samples colors in all, an equal share from each photo (at least one): the pooled colors of a
            # shoot of 2,000 photos are sampled as finely as one photo's, and cost one fit of that size.
            per_source = max(self.n_samples // len(sources), 1) if len(sources) > 1 else None
            pooled = torch.cat(
                [
                    self._sample(image_to_pixels(image, f"source {i}"), generator, self.device_, f"source {i}",
                                 n_samples=per_source)
                    for i, image in enumerate(sources)
                ],
                dim=-2,
            ).reshape(1, -1, 3)
            self.steps_ = self._fit_steps(pooled, generator)
            self.lut_ = self._bake(self.steps_, self.strength)
        return self

    @torch.inference_mode()
    def _barycenter(self, clouds: list, mix: list) -> torch.Tensor:
        # Its own generator, so that mixing leaves the random streams of sampling and fitting alone.
        generator = _generator(None if self.seed is None else self.seed + 7919, torch.device("cpu"))
        return sliced_barycenter(torch.stack(clouds), torch.tensor(mix), n_iter=self.n_iter, generator=generator)

    @torch.inference_mode()  # internal tensors: no autograd bookkeeping per op
    def _fit_steps(self, source_colors: torch.Tensor, generator: torch.Generator, n_iter: int | None = None
                   ) -> SlicedSteps:
        style_colors = self.style_colors_
        if style_colors.shape[0] not in (1, source_colors.shape[0]):
            raise ColorotError(
                f"got {style_colors.shape[0]} styles for {source_colors.shape[0]} source images; "
                "pass one style or one per image"
            )
        if self.method in METHODS:
            return METHODS[self.method][0](source_colors, style_colors)
        steps, _ = fit_sliced_steps(
            source_colors,
            style_colors,
            n_iter=self.n_iter if n_iter is None else n_iter,
            n_knots=self.n_knots,
            smoothing=self.smoothing,
            luma_axis=luma_axis(self.space) if self.monotone_luma or self.keep_luma else None,
            transport_luma=not self.keep_luma,
            neutral_axis=neutral_axis(self.space) if self.monotone_luma or self.keep_luma else None,
            generator=generator,
        )
        return steps

    @property
    def _regrain(self) -> tuple[int, float] | None:
        """``(radius, eps)`` of the guided-filter regrain, or None when it is off."""
        return (self.regrain_radius, self.regrain_eps) if self.regrain_radius > 0 else None

    @torch.inference_mode()  # internal tensors: no autograd bookkeeping per op
    def _bake(self, steps: SlicedSteps, strength: float, nodes: torch.Tensor | None = None,
              size: int | None = None) -> ColorLUT:
        return bake_lut(steps, self.fit_space, size=size or self.lut_size, strength=strength, blur=self.lut_blur,
                        nodes=nodes)

    def _bakes_partially(self, size: tuple[int, int]) -> bool:
        """Whether the table for an image of this size alone is baked only around its colors (see ``transform``)."""
        return self.device_.type == "cpu" and self.lut_blur == 0 and size[0] * size[1] <= PARTIAL_BAKE_PIXELS

    def _check_fitted(self) -> None:
        if self.style_colors_ is None:
            raise ColorotError("this ColorTransfer is not fitted yet; call fit(style) before transform(source)")

    # -- applying ----------------------------------------------------------
    @threads.fitting
    def transform(self, source: Image, *, strength: float | None = None, source_mask=None) -> Image:
        """Give ``source`` the style's colors.

        Parameters
        ----------
        source : array, PIL image or tensor
            ``(H, W, 3|4)`` uint8, uint16 or float array, RGB(A) PIL image, or
            ``(..., 3|4, H, W)`` tensor on any device. Alpha passes through.
        strength : float, optional
            Override the estimator's strength for this call.
        source_mask : mask, optional
            Which source pixels define the statistics and change (``(H, W)``
            in ``[0, 1]``): 0 keeps a pixel exactly, 1 transfers it fully,
            values in between blend.

        Returns
        -------
        Same type, shape, dtype (and device) as ``source``.
        """
        self._check_fitted()
        strength = self.strength if strength is None else _check_strength(strength)
        view = image_to_pixels(source, "source")
        if strength == 0.0:
            return view.rebuild(view.pixels.clone())
        if self.device_.type != "cpu":
            view = view.to(self.device_)  # sampled and looked up there
        mask = None if source_mask is None else mask_to_weights(source_mask, view, "source mask")
        if self.refine:
            if self.steps_ is not None:
                raise ColorotError("refine fits a map for each image; it cannot refine a map fitted on sources")
            return self._refined(view, strength, mask)
        lut = self.lut_ if self.steps_ is not None and strength == self.strength else None
        if lut is None:
            steps = self.steps_
            if steps is None:
                # A fresh generator per call: the result depends on the seed and the images only.
                generator = _generator(self.seed, self.device_)
                colors = self._sample(view, generator, self.device_, "source", source_mask)
                steps = self._fit_steps(colors, generator)
            # A table for this image alone: on the CPU, an 8-bit image's lookup reads only the nodes around its
            # colors (often a tenth of the grid), so only those are baked; the result is the same. Finding them
            # costs about 7 ms per megapixel, more than the bake saves above about 10 MP. (A blurred table
            # needs every node.)
            partial = view.is_uint8_array and self._bakes_partially(view.size)
            nodes = used_nodes(view.array[..., :3], self.lut_size) if partial else None
            lut = self._bake(steps, strength, nodes)
        return _apply_lut(lut, view, self.device_, mask=mask, regrain=self._regrain)

    @torch.no_grad()
    def _refined(self, view: PixelView, strength: float, mask: torch.Tensor | None) -> Image:
        """``transform`` with ``refine`` rounds of regrain (guided filter) and re-transfer."""
        from .regrain import filter_displacement

        generator = _generator(self.seed, self.device_)
        pixels = view.pixels
        full_source = pixels[:, :3].to(torch.float32) / view.scale
        full_alpha = pixels[:, 3:].to(torch.float32) / view.scale
        # The rounds run on a reduced copy of a large image (the filter's wide windows and the maps' fits need no
        # more); the image itself gets the last round's filter, fitted on the copy, and its last map.
        full_size = tuple(view.size)
        size = _reduced_size(full_size, REFINE_SIDE)
        source, alpha, copy_mask = (_reduce(values, full_size, size) for values in (full_source, full_alpha, mask))
        if self.regrain_radius:
            radii = [max(1, round(self.regrain_radius * max(size) / max(full_size)))] * self.refine
        else:
            radii = refine_radii(max(size), self.refine)
        # An 8-bit photo's last map can go through Pillow's kernel (the output is rounded to 8 bits anyway).
        eight_bit = view.is_uint8_array and self.device_.type == "cpu" and strength == 1.0 \
            and self.lut_size <= PILLOW_LUT_MAX
        moved = source
        for round_ in range(self.refine + 1):
            last = round_ == self.refine
            if last and size != full_size:
                moved = filter_displacement(source, moved, size, radii[-1], self.regrain_eps,
                                            fine_source=full_source, fine_size=full_size)
                source, alpha, copy_mask, size = full_source, full_alpha, mask, full_size
            elif round_:
                moved = filter_displacement(source, moved, size, radii[round_ - 1], self.regrain_eps)
            n_samples = self.n_samples if last else min(self.n_samples, REFINE_ROUND_SAMPLES)
            lut_size = self.lut_size if last else min(self.lut_size, REFINE_ROUND_LUT)
            colors = sample_colors(torch.cat((moved, alpha), dim=1), 1.0, n_samples, generator,
                                   device=self.device_, name="source", mask=copy_mask)
            steps = self._fit_steps(to_space(colors, self.fit_space), generator,
                                    n_iter=self.n_iter if last else min(self.n_iter, REFINE_ROUND_ITER))
            # Bake only the nodes around the colors to be looked up (as transform does for 8-bit images): the
            # codes nearest to them fall in the same cell or the next, which used_nodes' margin covers.
            partial = self._bakes_partially(size)
            codes = None
            if partial or (last and eight_bit):
                codes = (moved.transpose(1, 2).reshape(-1, 3) * 255).clamp_(0, 255).round_().to(torch.uint8).numpy()
            lut = self._bake(steps, 1.0, used_nodes(codes, lut_size) if partial else None, size=lut_size)
            if last and eight_bit:
                # An 8-bit photo's last map reads the filtered colors rounded to 8 bits, with Pillow's kernel
                # (a third of the float lookup's time at 12 MP); the output is rounded to 8 bits anyway.
                moved = torch.from_numpy(lut.apply_uint8(codes.reshape(*size, 3))).reshape(1, -1, 3).transpose(1, 2)
                return _finish(view, pixels, moved, mask)
            moved = lut.apply_pixels(moved, device=self.device_)
        return _finish(view, pixels, _from_unit(torch.lerp(full_source, moved, strength), pixels, view.scale), mask)

    @threads.fitting
    def transform_each(self, sources: Sequence[Image], *, strength: float | None = None) -> list:
        """Give each image the style's colors with its own map, the maps fitted all together.

        Each result equals ``transform(source)``: every image is sampled with
        the same fresh random stream, the maps share their random directions,
        and a map that has converged stops moving while the others go on. But
        sampling, fitting and baking run as single batched tensor operations,
        so on a GPU many photos cost little more than one. The images may
        differ in size, type and dtype. A map fitted once with
        ``fit(style, sources=...)``, or one style per image, is applied image
        by image.

        Parameters
        ----------
        sources : sequence of arrays, PIL images or tensors
            As for :meth:`transform`.
        strength : float, optional
            Override the estimator's strength for this call.

        Returns
        -------
        list
            The graded images, in order, each of its source's type.

        Examples
        --------
        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> style = (rng.random((32, 32, 3)) ** 2 * 255).astype(np.uint8)
        >>> photos = [(rng.random((24, 40, 3)) * 255).astype(np.uint8), rng.random((16, 16, 3))]
        >>> model = ColorTransfer(seed=0, n_iter=5).fit(style)
        >>> together = model.transform_each(photos)
        >>> all(np.array_equal(a, model.transform(p)) for a, p in zip(together, photos))
        True
        """
        self._check_fitted()
        sources = list(sources)
        strength = self.strength if strength is None else _check_strength(strength)
        if self.steps_ is not None or strength == 0.0 or self.style_colors_.shape[0] != 1 or len(sources) < 2 \
                or self.refine:
            return [self.transform(source, strength=strength) for source in sources]
        views = [image_to_pixels(source, f"source {i}") for i, source in enumerate(sources)]
        if self.device_.type != "cpu":
            views = [view.to(self.device_) for view in views]
        # Sample each image with its own fresh generator, as transform does. Images whose generators end in
        # the same state (all opaque ones) are fitted together, continuing that state, as transform would.
        groups: list[tuple[torch.Generator, list[int], list[torch.Tensor]]] = []
        for index, view in enumerate(views):
            generator = _generator(self.seed, self.device_)
            colors = self._sample(view, generator, self.device_, f"source {index}")
            state = generator.get_state()
            group = next((g for g in groups if torch.equal(g[0].get_state(), state)), None)
            if group is None:
                groups.append((generator, [index], [colors]))
            else:
                group[1].append(index)
                group[2].append(colors)
        results: list = [None] * len(views)
        for generator, indices, clouds in groups:
            counts = [cloud.shape[0] for cloud in clouds]  # a source may itself be a batch of images
            luts = self._bake(self._fit_steps(torch.cat(clouds), generator), strength).table
            for index, table in zip(indices, torch.split(luts, counts)):
                results[index] = _apply_lut(ColorLUT(table), views[index], self.device_, regrain=self._regrain)
        return results

    def fit_transform(self, source: Image, style) -> Image:
        """``fit(style)`` then ``transform(source)``."""
        return self.fit(style).transform(source)


def refine_radii(long_side: int, rounds: int) -> list:
    """The guided-filter radius of each refine round, in pixels, for an image of this long side.

    From ``REFINE_RADII[0]`` to ``REFINE_RADII[1]`` of the long side, geometrically: the first rounds make
    the displacement follow the source's large regions, the last ones its finer structure.

    Examples
    --------
    >>> refine_radii(512, 11)
    [256, 181, 128, 91, 64, 45, 32, 23, 16, 11, 8]
    >>> refine_radii(512, 1)
    [45]
    """
    first, last = (math.log2(long_side * fraction) for fraction in REFINE_RADII)
    if rounds == 1:
        return [max(1, round(2 ** ((first + last) / 2)))]
    return [max(1, round(2 ** (first + (last - first) * k / (rounds - 1)))) for k in range(rounds)]


def _reduced_size(size: tuple[int, int], side: int) -> tuple[int, int]:
    """``size`` (H, W) scaled down to a long side of ``side`` (unchanged when it is not longer)."""
    if max(size) <= side:
        return tuple(size)
    scale = side / max(size)
    return tuple(max(1, round(length * scale)) for length in size)


def _reduce(values: torch.Tensor | None, size: tuple[int, int], reduced: tuple[int, int]) -> torch.Tensor | None:
    """Pixels ``(B, C, H * W)`` (or mask weights ``(B, H * W)``) averaged down to ``reduced`` (area)."""
    if values is None or tuple(size) == tuple(reduced):
        return values
    if values.ndim == 3 and values.shape[1] == 0:  # no alpha
        return values.new_empty(values.shape[0], 0, reduced[0] * reduced[1])
    image = values.reshape(values.shape[0], -1, *size)
    pooled = torch.nn.functional.adaptive_avg_pool2d(image.to(torch.float32), reduced)
    return pooled.reshape(*values.shape[:-1], -1).to(values.dtype)


@torch.no_grad()
def _apply_lut(
    lut: ColorLUT,
    view: PixelView,
    device: torch.device,
    mask: torch.Tensor | None = None,
    regrain: tuple[int, float] | None = None,
    interpolation: str = "trilinear",
) -> Image:
    """Apply a lookup table to an image view and rebuild the caller's type.

    ``mask`` (weights ``(B or 1, P)``) blends: ``x + mask * (T(x) - x)``, so 0 keeps a pixel bit for bit.
    ``regrain`` = ``(radius, eps)`` filters the displacement guided by the source
    (:func:`colorot.regrain.filter_displacement`).
    """
    if regrain is None and view.is_uint8_array and device.type == "cpu" and interpolation == "trilinear" \
            and lut.applies_uint8:
        moved = lut.apply_uint8(view.array)  # tabulated, or Pillow's trilinear kernel (<= 65 nodes); alpha kept
        if mask is None:
            return view.rebuild(moved)
        moved = torch.from_numpy(moved[..., :3]).reshape(1, -1, 3).transpose(1, 2)
        return _finish(view, view.pixels, moved, mask)
    pixels = view.to(device).pixels
    if regrain is None:
        moved = lut.apply_pixels(pixels, scale=view.scale, device=device, interpolation=interpolation)
    else:
        from .regrain import filter_displacement

        source = pixels[:, :3].to(torch.float32) / view.scale
        moved = lut.apply_pixels(source, device=device, interpolation=interpolation)
        moved = _from_unit(filter_displacement(source, moved, view.size, *regrain), pixels, view.scale)
    return _finish(view, pixels, moved, mask)


def _from_unit(colors: torch.Tensor, pixels: torch.Tensor, scale: float) -> torch.Tensor:
    """Float colors in ``[0, 1]`` back to the range and dtype of ``pixels`` (rounded for integer pixels)."""
    colors = colors * scale
    if not pixels.dtype.is_floating_point:
        colors = colors.round_().clamp_(0, scale)
    return colors.to(pixels.dtype)


def _finish(view: PixelView, pixels: torch.Tensor, moved: torch.Tensor, mask: torch.Tensor | None) -> Image:
    """Blend by the mask, put alpha back and rebuild the caller's type."""
    if mask is not None:
        original = pixels[:, :3].to(torch.float32)
        blended = original + mask.to(moved.device)[:, None, :] * (moved.to(torch.float32) - original)
        moved = (blended if pixels.dtype.is_floating_point else blended.round()).to(moved.dtype)
    if pixels.shape[1] == 4:
        moved = torch.cat((moved, pixels[:, 3:]), dim=1)
    return view.rebuild(moved)


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
    """Give ``source`` the colors of ``style`` by sliced optimal transport.

    The colors of both images are matched in ``space`` by iterative sliced
    transport (Pitié et al. 2005, Rabin et al. 2011); the resulting map, a
    smooth function of color, is applied to every pixel through a 3D lookup
    table, so equal colors stay equal and the image's structure is kept.

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
        Makes the result reproducible on a given device.
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
    """Apply a lookup table (from :func:`fit_lut` or :mod:`colorot.looks`) to an image.

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
    >>> from colorot.transport_map import ColorLUT, identity_grid
    >>> identity = ColorLUT(identity_grid(5).T.reshape(3, 5, 5, 5))
    >>> image = np.arange(12, dtype=np.uint8).reshape(2, 2, 3)
    >>> bool((apply_lut(identity, image, device="cpu") == image).all())
    True
    """
    view = image_to_pixels(image, "image")
    device = resolve_device(device, image if view.kind == "torch" else None)
    if interpolation not in ("trilinear", "tetrahedral"):
        raise ColorotError(f"interpolation is trilinear or tetrahedral, not {interpolation!r}")
    return _apply_lut(lut.to(device), view, device, interpolation=interpolation)


def fit_lut(style, sources=None, *, size: int = 65, **options) -> ColorLUT:
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
        from .transport_map import identity_grid

        sources = [identity_grid(65).reshape(1, -1, 3).numpy()]  # the whole cube, as a 1-row image
    model = ColorTransfer(lut_size=size, **options).fit(style, sources=sources)
    return model.lut_


class ColorTransferModule(torch.nn.Module):
    """:func:`transfer` to a fixed style as an ``nn.Module``.

    Drops into ``torchvision.transforms.Compose`` or an ``nn.Sequential``; takes
    and returns ``(..., 3|4, H, W)`` tensors (arrays and PIL images work too).
    The style's sampled colors are a buffer, so ``.to(device)`` moves them.
    Not differentiable: the output is detached.

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
        self.register_buffer("style_colors", self.model.style_colors_)

    def forward(self, image):
        model = self.model
        model.style_colors_ = self.style_colors
        model.device_ = self.style_colors.device
        return model.transform(image)
