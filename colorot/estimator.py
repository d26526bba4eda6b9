"""The estimator: :class:`ColorTransfer` fits the transport map from a source's colors to a style's (or one map
over several sources) and applies it, through its baked table, to every pixel."""

from __future__ import annotations

import dataclasses
from typing import Sequence, TypeVar

import torch

from . import threads
from .devices import resolve_device, seeded_generator
from .errors import ColorotError
from .fitting import MapFitter
from .maps.lut import ColorLUT
from .maps.protocol import ColorMap
from .measures.structure import Structure, pooled_structure, structure_patches
from .methods import METHODS
from .pixels import image_to_pixels, mask_to_weights
from .options import DEFAULT_METHOD, DEFAULT_SEED, DEFAULTS, TransferOptions, check_strength, mix_weights
from .ot.barycenter import sliced_barycenter

__all__ = ["ColorTransfer"]

Image = TypeVar("Image")


class ColorTransfer:
    """Color transfer as an estimator: ``fit(style)`` records the style's colors; ``transform(source)`` fits the
    map from the source's colors to the style's (``method``) and applies it to every pixel. ``fit(style,
    sources=[...])`` fits one map from the pooled colors of several sources instead, which ``transform`` then
    applies unchanged to any image (one consistent look for a whole shoot).

    Parameters
    ----------
    space : {"rgb", "linear", "lab", "oklab"}
        Color space the distributions are matched in.
    strength : float
        Displacement interpolation ``x + strength * (T(x) - x)``, in ``[0, 1]``.
    seed : int, optional
        Which run of the random subsamples and bases; None is seed 0: the
        same result every run on one device.
    device : str or torch.device, optional
        ``"auto"`` (default), ``"cpu"``, ``"cuda"`` or ``"cuda:N"``.
    n_iter : int
        Maximum number of sliced steps (random orthonormal bases).
    n_samples : int, optional
        Colors drawn from each image to fit the map (default 2^17 for
        ``"look"`` and ``"unbalanced"``, 2^16 for the others).
    smoothing : float
        Regularization: the standard deviation, in working-space units, of the Gaussian that smooths the
        source's projected distribution at each step. It bounds the slope of the map, which limits how much
        sensor noise and JPEG blocks are amplified. 0 disables it.
    n_knots, lut_size : int
        Quantile levels of each 1-D map; nodes per axis of the 3D lookup table the map is applied through.
    monotone_luma : bool
        Keep the image's structure: the output's luma is an increasing
        function of the input's luma (luma is transported first, then colors
        move only in the chroma plane). False gives Pitié's plain iterative
        distribution transfer.
    method : {"look", "unbalanced", "sliced", "mkl", "reinhard", "histogram", "emd", "conditioned"}
        The *look* (what was done to the style photo): ``"look"`` (default)
        fits the grade by unbalanced transport where the two photos share
        their scene (their structure says so) and reads it off the style
        with the shipped look model where they do not
        (:mod:`colorot.learned.look_transfer`; in sRGB whatever ``space``);
        ``"unbalanced"`` is the transport's grade alone. The *palette* (the style's own colors): ``"sliced"``, sliced
        transport of the full histogram (proportions too); classic methods and
        ``"conditioned"`` the shipped generator (:data:`colorot.methods.METHODS`),
        all applied through the same lookup table.
    reach : float or None
        ``"look"`` and ``"unbalanced"``: how far, in standard deviations of the two
        photos' colors, a color may travel before it is left unmatched
        (default 0.32). Larger copies more of the style's proportions;
        None is balanced transport.
    keep_luma : bool
        Match only chroma: every pixel keeps its luma (Rec. 709 ``Y'`` in
        ``"rgb"``, luminance in ``"linear"``, ``L`` in ``"lab"``/``"oklab"``),
        up to rounding and gamut clipping.
    regrain_radius : int or None
        Filter the color displacement with a guided filter of this radius
        (pixels) guided by the source's luma (Rabin et al. 2011): noise is
        shifted, not amplified; the result is no longer a function of color.
        None: 8 for ``sliced`` and ``histogram``, else 0 (off)
        (its line in :data:`colorot.methods.METHODS`).
    regrain_eps : float or None
        The guided filter's regularization (a local variance in ``[0, 1]^2``
        units): source edges with more variance are kept. None: 4e-3 for
        ``sliced`` and ``histogram``, else 1e-3.
    refine : int
        Rounds of regrain and re-transfer, 0 (off) by default: each round
        filters the displacement from the source as ``regrain_radius`` does
        (from half the long side to a 64th when that is 0), then fits a new
        map from the filtered image's colors to the style (Rabin et al.'s
        iterated regularization; :mod:`colorot.maps.refine`). Keeps more of
        the source's structure; the result is not a function of color, and
        it cannot be combined with a map fitted on ``sources``.
    lut_blur : float or None
        Further regularization: standard deviation, in sRGB units, of a
        Gaussian blur of the map's displacement over the color cube (it bounds
        how fast the map changes from color to color). None (default): 0.08
        for ``sliced`` and ``histogram``, 0 (off) for the others
        (its line in :data:`colorot.methods.METHODS`).

    Attributes
    ----------
    style_colors_ : torch.Tensor, shape (B, n_samples, 3)
        Sampled style colors in the working space (after :meth:`fit`).
    style_summary_ : tuple or None
        ``(read_for, summary)``: what the method reads of the style alone (:meth:`colorot.MapFitter.read_summary`),
        read once at :meth:`fit` for every photo graded to it (again after the method or working space changes;
        not pickled).
    steps_ : ColorMap or None
        The map fitted from ``sources`` (None when each source gets its own).
    lut_ : ColorLUT or None
        ``steps_`` baked into a lookup table at the estimator's strength.
    options : TransferOptions
        The options above as one object (:class:`colorot.options.TransferOptions`).
    fitter : MapFitter
        The fitted style with the options as they are now: the steps of a transform one at a time
        (:class:`colorot.fitting.MapFitter`).
    fit_notes_ : list of str
        What the last fit said of itself (:func:`colorot.methods.fit_notes`).

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
        n_samples: int | None = None,
        smoothing: float = DEFAULTS["smoothing"],
        n_knots: int = DEFAULTS["n_knots"],
        lut_size: int = DEFAULTS["lut_size"],
        monotone_luma: bool = DEFAULTS["monotone_luma"],
        lut_blur: float | None = None,
        keep_luma: bool = False,
        method: str = DEFAULT_METHOD,
        reach: float | None = DEFAULTS["reach"],
        regrain_radius: int | None = None,
        regrain_eps: float | None = None,
        refine: int = 0,
    ):
        options = TransferOptions(
            space=space, strength=strength, seed=seed, device=device, n_iter=n_iter, n_samples=n_samples,
            smoothing=smoothing, n_knots=n_knots, lut_size=lut_size, monotone_luma=monotone_luma, lut_blur=lut_blur,
            keep_luma=keep_luma, method=method, reach=reach, regrain_radius=regrain_radius, regrain_eps=regrain_eps,
            refine=refine)
        # Each option as an attribute of its own name, checked (scikit-learn's convention).
        self.__dict__.update({field.name: getattr(options, field.name) for field in dataclasses.fields(options)})
        self.style_colors_: torch.Tensor | None = None
        self.style_structure_: list[Structure] | None = None
        self.style_summary_: tuple | None = None
        self.fit_notes_: list[str] = []
        self.steps_: ColorMap | None = None
        self.lut_: ColorLUT | None = None

    @property
    def options(self) -> TransferOptions:
        """The estimator's options as one object (checked again: an attribute set since is checked too)."""
        return TransferOptions(**{field.name: getattr(self, field.name) for field in dataclasses.fields(TransferOptions)})

    # -- fitting -----------------------------------------------------------
    @property
    def fit_space(self) -> str:
        """The working space the map is fitted in (:attr:`colorot.options.TransferOptions.fit_space`)."""
        return self.options.fit_space

    @property
    def fitter(self) -> MapFitter:
        """What samples a photo's colors, fits the map to the style's and bakes it, with the options as they are
        now (:class:`colorot.fitting.MapFitter`; after :meth:`fit`)."""
        self._check_fitted()
        options = self.options
        return MapFitter(options, self.style_colors_, self.device_, self.style_structure_,
                         self._style_summary(options))

    def _style_summary(self, options: TransferOptions):
        """What ``options``' method reads of the fitted style alone (:meth:`MapFitter.read_summary`: read once,
        again when the style, the method or the working space has changed since)."""
        self.style_summary_ = MapFitter(options, self.style_colors_, self.device_).read_summary(self.style_summary_)
        return self.style_summary_[1]

    def __getstate__(self) -> dict:
        """Pickled and copied without the style's summary (it holds the look model; a copy reads it again)."""
        return {**self.__dict__, "style_summary_": None}

    @threads.fitting
    def fit(self, style, sources=None, *, weights=None, style_mask=None, source_mask=None) -> "ColorTransfer":
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
        source_mask : mask, or a list of masks (one per source), optional
            Which source pixels define the map's statistics; ``fit(style, [photo], source_mask=m)`` then
            ``transform(photo, source_mask=m)`` equals ``transform(photo, source_mask=m)`` after ``fit(style)``.

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
        mix = mix_weights(weights, len(styles))
        views = [image_to_pixels(image, f"style {i + 1}" if len(styles) > 1 else "style") for i, image in enumerate(styles)]
        self.device_ = resolve_device(self.device, styles[0] if views[0].kind == "torch" else None)
        generator, sampler = seeded_generator(self.seed, self.device_), MapFitter(self.options, None, self.device_)
        clouds = [sampler.sample(view, generator, "style", mask) for view, mask, weight in zip(views, masks, mix)
                  if weight > 0]
        # The structure of the style (for methods that tell a shared scene from another by it), every style's pooled.
        # A masked style gives no color pairs: its mask, not the whole scene, says what to match.
        reads = {"shared_structure", "corresponding_colors"} & set(METHODS[self.method].takes)
        self.style_structure_ = [pooled_structure(parts) for parts in zip(*(
            structure_patches(view.pixels, view.size, 1 / view.scale, reference=True) for view, weight in zip(views, mix)
            if weight > 0))] if reads else None
        if self.style_structure_ is not None and any(mask is not None for mask in masks):
            self.style_structure_ = [Structure(*structure[:2]) for structure in self.style_structure_]
        mix = [weight for weight in mix if weight > 0]
        if len(clouds) == 1:
            self.style_colors_ = clouds[0]
        else:
            if len({cloud.shape for cloud in clouds}) > 1:
                raise ColorotError("styles to mix must be single images (or batches of one size)")
            self.style_colors_ = self._barycenter(clouds, mix)
        # What the method reads of the style alone, read once here for every photo graded to it.
        self._style_summary(self.options)
        self.steps_ = self.lut_ = None
        if sources is not None:
            sources = list(sources)
            if not sources:
                raise ColorotError("sources is empty; pass at least one image")
            # A fresh generator, as transform uses: fit(style, sources=[photo]) then gives photo's own map.
            generator = seeded_generator(self.seed, self.device_)
            # n_samples colors in all, an equal share from each photo (at least one): the pooled colors of a
            # shoot of 2,000 photos are sampled as finely as one photo's, and cost one fit of that size.
            per_source = max(self.n_samples // len(sources), 1) if len(sources) > 1 else None
            masks = source_mask if isinstance(source_mask, (list, tuple)) else [source_mask] * len(sources)
            views = [image_to_pixels(image, f"source {i}") for i, image in enumerate(sources)]
            fitter = self.fitter
            pooled = torch.cat([fitter.sample(view, generator, f"source {i}", mask, n_samples=per_source)
                                for i, (view, mask) in enumerate(zip(views, masks, strict=True))],
                               dim=-2).reshape(1, -1, 3)
            self.steps_, self.fit_notes_ = fitter.fit(pooled, generator, sources=views,
                                                      pairs=all(mask is None for mask in masks))
            self.lut_ = fitter.bake(self.steps_, self.strength)
        return self

    @torch.inference_mode()
    def _barycenter(self, clouds: list, mix: list) -> torch.Tensor:
        # Its own generator, so that mixing leaves the random streams of sampling and fitting alone.
        generator = seeded_generator((DEFAULT_SEED if self.seed is None else self.seed) + 7919, torch.device("cpu"))
        return sliced_barycenter(torch.stack(clouds), torch.tensor(mix), n_iter=self.n_iter, generator=generator)

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
        fitter = self.fitter
        strength = self.strength if strength is None else check_strength(strength)
        view = image_to_pixels(source, "source")
        if self.steps_ is None:  # a map for this image
            image, self.fit_notes_ = fitter.grade(view, strength, source_mask)
            return image
        if strength == 0.0:
            return view.rebuild(view.pixels.clone())
        if self.refine:
            raise ColorotError("refine fits a map for each image; it cannot refine a map fitted on sources")
        if self.device_.type != "cpu":
            view = view.to(self.device_)  # looked up there
        mask = None if source_mask is None else mask_to_weights(source_mask, view, "source mask")
        lut = self.lut_ if strength == self.strength else fitter.bake_for(view, self.steps_, strength)
        return fitter.apply(lut, view, mask)

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
        fitter = self.fitter
        sources = list(sources)
        strength = self.strength if strength is None else check_strength(strength)
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
            generator = seeded_generator(self.seed, self.device_)
            colors = fitter.sample(view, generator, f"source {index}")
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
            fitted, self.fit_notes_ = fitter.fit(torch.cat(clouds), generator, sources=[views[i] for i in indices])
            luts = fitter.bake(fitted, strength).table
            for index, table in zip(indices, torch.split(luts, counts)):
                results[index] = fitter.apply(ColorLUT(table), views[index])
        return results

    def fit_transform(self, source: Image, style) -> Image:
        """Grade one photo: ``fit(style)`` then ``transform(source)``, as :func:`colorot.transfer` (same order).
        Unlike scikit-learn's ``fit_transform(X)``, it transforms another image than the one it fits.

        >>> import numpy as np, colorot
        >>> photo, style = np.full((8, 8, 3), 120, np.uint8), np.full((8, 8, 3), [200, 120, 60], np.uint8)
        >>> np.array_equal(ColorTransfer(seed=0).fit_transform(photo, style), colorot.transfer(photo, style, seed=0))
        True
        """
        return self.fit(style).transform(source)

