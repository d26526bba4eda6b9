"""The steps of a transfer, public: sample an image's colors, fit a method's map from them to a style's colors,
bake the map into a lookup table. :class:`~colorot.ColorTransfer`, refine (:mod:`colorot.maps.refine`) and the
window (:mod:`colorot.ui`) all go through one :class:`MapFitter`."""

from __future__ import annotations

import dataclasses
from typing import Sequence

import torch

from . import threads
from .devices import seeded_generator
from .errors import ColorotError
from .maps.kernels import apply_table
from .maps.lut import ColorLUT, bake_lut, used_nodes
from .maps.protocol import ColorMap
from .maps.refine import refined_transform
from .measures import sample_colors
from .measures.colorspaces import from_space, luma_axis, neutral_axis, to_space
from .measures.structure import Structure, scene_match, structure_patches
from .methods import METHODS, fit_notes
from .options import TransferOptions
from .ot.linear import flat_directions
from .pixels import PixelView, mask_to_weights

__all__ = ["MapFitter", "PARTIAL_BAKE_PIXELS"]

#: Images up to this many pixels get a table baked only around their colors (see :meth:`MapFitter.bake`).
PARTIAL_BAKE_PIXELS = 1 << 22


@dataclasses.dataclass(frozen=True)
class MapFitter:
    """A style's colors and the options of a transfer: what fits a map to that style from any photo's colors.

    Parameters
    ----------
    options : TransferOptions
        The method and its options.
    style_colors : torch.Tensor, shape (B, n, 3)
        The style's sampled colors in the method's working space (:attr:`fit_space`), one cloud per style.
    device : torch.device
        Where colors are sampled and maps fitted.
    style_structure : list of Structure, optional
        The style's structure (:mod:`colorot.measures.structure`), for the methods that read it.
    style_summary : object, optional
        What the method reads of the style alone (:meth:`summarize_style`), when read already; else read at each
        fit.

    Examples
    --------
    >>> import torch
    >>> from colorot.options import TransferOptions
    >>> from colorot.pixels import image_to_pixels
    >>> g = torch.Generator().manual_seed(0)
    >>> fitter = MapFitter(TransferOptions(method="mkl"), torch.rand(1, 4096, 3, generator=g) ** 2, torch.device("cpu"))
    >>> photo = image_to_pixels(torch.rand(3, 32, 32, generator=g))
    >>> colors = fitter.sample(photo, torch.Generator().manual_seed(0))
    >>> fitted, notes = fitter.fit(colors, torch.Generator().manual_seed(0))
    >>> lut = fitter.bake(fitted, strength=1.0)
    >>> tuple(lut.table.shape), notes
    ((1, 3, 65, 65, 65), [])
    >>> graded = fitter.apply(lut, photo)               # the style is darker: so is the photo now
    >>> bool(graded.mean() < 0.75 * photo.pixels.mean())
    True
    >>> bool((fitter.grade(photo, strength=1.0)[0] == graded).all())  # the same steps in one call
    True
    """

    options: TransferOptions
    style_colors: torch.Tensor
    device: torch.device
    style_structure: list[Structure] | None = None
    style_summary: object = None

    @property
    def fit_space(self) -> str:
        """The working space the map is fitted in (:attr:`colorot.options.TransferOptions.fit_space`)."""
        return self.options.fit_space

    @torch.inference_mode()  # internal tensors: no autograd bookkeeping per op
    def sample(self, view: PixelView, generator: torch.Generator, name: str = "source", mask=None,
               n_samples: int | None = None) -> torch.Tensor:
        """``(B, n_samples, 3)`` colors of ``view`` (weighted by ``mask``, ``(H, W)`` in ``[0, 1]``) in
        :attr:`fit_space`, drawn with ``generator``."""
        weights = None if mask is None else mask_to_weights(mask, view, f"{name} mask")
        colors = sample_colors(view.pixels, view.scale, n_samples or self.options.n_samples, generator,
                               device=self.device, name=name, mask=weights)
        return to_space(colors, self.fit_space)

    @torch.inference_mode()
    def fit(self, source_colors: torch.Tensor, generator: torch.Generator, *, n_iter: int | None = None,
            sources: Sequence[PixelView] = (), structure: torch.Tensor | None = None,
            pairs: bool = True) -> tuple[ColorMap, list[str]]:
        """The method's map from ``source_colors`` ``(B, n, 3)`` to the style's colors, and what the fit says of
        itself (an option the method ignores, which way the default leaned: :func:`colorot.methods.fit_notes`).

        ``sources`` are the images the colors come from (for the methods that read their structure; or give
        ``structure``, the share of each one's structure found in the style); ``n_iter`` overrides the option.
        ``pairs=False`` (a masked photo: the mask, not the whole scene, says what to match) reads no color pairs
        of a shared scene (:meth:`corresponding_colors`); neither does a fit given ``structure``.
        """
        if self.style_colors.shape[0] not in (1, source_colors.shape[0]):
            raise ColorotError(f"got {self.style_colors.shape[0]} styles for {source_colors.shape[0]} source "
                               "images; pass one style or one per image")
        method = METHODS[self.options.method]
        measured: dict = {}

        def matches() -> list:  # each source against its style, voted once for both arguments
            if "matches" not in measured:
                measured["matches"] = self._scene_matches(sources)
            return measured["matches"]

        arguments = self._arguments(method.takes, generator, n_iter, {
            "shared_structure": lambda: self.shared_structure(sources, len(source_colors), matches())
            if structure is None else structure,
            "corresponding_colors": lambda: self.corresponding_colors(sources, len(source_colors), matches())
            if structure is None and pairs else None,
            "style_summary": lambda: self.summarize_style() if self.style_summary is None else self.style_summary})
        fitted = method.fitter()(source_colors, self.style_colors, **arguments)
        return fitted, self.options.ignored() + fit_notes(fitted)

    def read_summary(self, kept: tuple | None = None) -> tuple:
        """``(read_for, summary)``: :meth:`summarize_style`, with what it was read for (this style's colors, their
        version, the method and its working space). ``kept``, an earlier return, is returned as it is while it
        was read for the same: the one cache of the estimator and of :class:`colorot.ColorTransferModule`."""
        colors = self.style_colors
        read_for = (colors, 0 if colors.is_inference() else colors._version, self.options.method,
                    self.options.fit_space)
        if kept is not None and kept[0][0] is colors and kept[0][1:] == read_for[1:]:
            return kept
        return read_for, self.summarize_style()

    @torch.inference_mode()
    def summarize_style(self):
        """What the method reads of the style's colors alone (its line's ``summarize``,
        ``colorot.methods.Method.summarize``), or None for a method without one. The estimator reads it once
        per fitted style (``ColorTransfer.style_summary_``) and passes it on."""
        summarize = METHODS[self.options.method].summarizer()
        return None if summarize is None else summarize(self.style_colors)

    def _arguments(self, names: Sequence[str], generator, n_iter: int | None, measures: dict) -> dict:
        """The arguments a method's fitter takes (:data:`colorot.methods.ARGUMENTS`), from the options."""
        options = self.options
        luma_first = options.monotone_luma or options.keep_luma
        values = {"reach": lambda: options.reach, "keep_luma": lambda: options.keep_luma,
                  "luma_axis": lambda: luma_axis(self.fit_space) if luma_first else None,
                  "neutral_axis": lambda: neutral_axis(self.fit_space) if luma_first else None,
                  "transport_luma": lambda: not options.keep_luma, "n_knots": lambda: options.n_knots,
                  "n_iter": lambda: options.n_iter if n_iter is None else n_iter,
                  "smoothing": lambda: options.smoothing, "generator": lambda: generator, **measures}
        fields = {field.name for field in dataclasses.fields(options)}
        unknown = [name for name in names if name not in values and name not in fields]
        if unknown:
            raise ColorotError(f"method {options.method!r} takes {', '.join(unknown)}, which is neither an option "
                               "nor an argument of colorot.methods.ARGUMENTS")
        return {name: values[name]() if name in values else getattr(options, name) for name in names}

    def _scene_matches(self, sources: Sequence[PixelView]) -> list:
        """``(share, pairs)`` of each source against its style (:func:`colorot.measures.structure.scene_match`);
        empty for a method that does not read structure."""
        if self.style_structure is None:
            return []
        photos = [patches for view in sources for patches in structure_patches(view.pixels, view.size, 1 / view.scale)]
        styles = self.style_structure * (len(photos) if len(self.style_structure) == 1 else 1)
        return [scene_match(photo, style) for photo, style in zip(photos, styles, strict=True)]

    def shared_structure(self, sources: Sequence[PixelView], batch: int, matches: list | None = None
                         ) -> torch.Tensor | None:
        """``(batch,)`` share of each source's structure found in its style; the mean over pooled sources (None
        for a method that does not read structure). ``matches``: each source's ``(share, pairs)``
        (:func:`colorot.measures.structure.scene_match`), when voted already."""
        matches = self._scene_matches(sources) if matches is None else matches
        if not matches:  # a method that does not read structure, or no image to measure
            return None
        shares = torch.tensor([share for share, _ in matches])
        return shares if len(matches) == batch else shares.mean().reshape(1)

    def corresponding_colors(self, sources: Sequence[PixelView], batch: int, matches: list | None = None
                             ) -> list | None:
        """For each of ``batch`` sources, the color pairs of the scene it shares with its style
        (:func:`colorot.measures.structure.corresponding_colors`: ``(photo, style, weights)``), or None where they
        share none; None for pooled sources (a map fitted over a shoot) and for a method that does not read
        structure. Colors are sRGB in ``[0, 1]``. ``matches`` as :meth:`shared_structure` takes them."""
        matches = self._scene_matches(sources) if matches is None else matches
        if not matches or len(matches) != batch or all(pairs is None for _, pairs in matches):
            return None
        return [pairs for _, pairs in matches]

    @torch.inference_mode()
    def bake(self, fitted: ColorMap, strength: float, nodes: torch.Tensor | None = None,
             size: int | None = None) -> ColorLUT:
        """``fitted`` at ``strength`` as a table of ``size`` (default ``lut_size``) nodes per axis, blurred by
        ``lut_blur``; only at ``nodes`` (flat indices, :func:`colorot.maps.lut.used_nodes`) when given."""
        return bake_lut(fitted, self.fit_space, size=size or self.options.lut_size, strength=strength,
                        blur=self.options.lut_blur, nodes=nodes)

    def bake_for(self, view: PixelView, fitted: ColorMap, strength: float) -> ColorLUT:
        """:meth:`bake` for one image: an 8-bit image's table is baked only around its colors where
        :meth:`MapFitter.bakes_partially` says so (the result is the same)."""
        partial = view.is_uint8_array and self.bakes_partially(view.size)
        return self.bake(fitted, strength, used_nodes(view.array[..., :3], self.options.lut_size) if partial else None)

    @threads.fitting
    def grade(self, view: PixelView, strength: float, mask=None) -> tuple[object, list[str]]:
        """``view`` graded by its own map at ``strength`` (``mask``: ``(H, W)`` in ``[0, 1]``, which pixels define
        the statistics and change), in the caller's type, with what the fit said of itself.

        The colors are drawn with a fresh generator of the options' seed: the result depends on the seed and the
        images only. With ``refine``, the rounds of :func:`colorot.maps.refine.refined_transform`.
        """
        if strength == 0.0:
            return view.rebuild(view.pixels.clone()), []
        if self.device.type != "cpu":
            view = view.to(self.device)  # sampled and looked up there
        weights = None if mask is None else mask_to_weights(mask, view, "source mask")
        if self.options.refine:
            notes: list[str] = []
            return refined_transform(self, view, strength, weights, notes), notes
        generator = seeded_generator(self.options.seed, self.device)
        fitted, notes = self.fit(self.sample(view, generator, "source", mask), generator, sources=[view],
                                 pairs=mask is None)
        return self.apply(self.bake_for(view, fitted, strength), view, weights), notes

    def apply(self, lut: ColorLUT, view: PixelView, weights: torch.Tensor | None = None):
        """``lut`` applied to ``view`` (on the fitter's ``device``), with the options' regrain; ``weights`` (from
        :func:`colorot.pixels.mask_to_weights`) blend each pixel; the caller's type back."""
        if self.device.type != "cpu":
            view = view.to(self.device)  # looked up there (the same view when it is there already)
        regrain = self.regrain
        return apply_table(lut, view, self.device, mask=weights, regrain=regrain,
                           keep=None if regrain is None else self.flat_style_projection())

    def flat_style_projection(self) -> torch.Tensor | None:
        """``(B, 3, 3)`` float64: for each of the ``B`` styles, the orthogonal projection of RGB onto the directions
        in which it has no spread (:func:`colorot.ot.linear.flat_directions`; zero where it has none). Its map
        gives no spread there, and the regrain leaves them as the map sets them. None where no style has one."""
        flats = [flat_directions(from_space(style, self.fit_space).clamp(0, 1)) for style in self.style_colors]
        if all(flat.shape[1] == 0 for flat in flats):
            return None
        return torch.stack([flat @ flat.T for flat in flats])

    def with_options(self, **changes) -> "MapFitter":
        """The same fitted style with some options changed (checked again; the style's summary kept only while the
        method and its working space stay)."""
        options = dataclasses.replace(self.options, **changes)
        same = (options.method, options.fit_space) == (self.options.method, self.options.fit_space)
        return dataclasses.replace(self, options=options, style_summary=self.style_summary if same else None)

    def bakes_partially(self, size: tuple[int, int]) -> bool:
        """Whether the table for an image of this size alone is baked only around its colors: on the CPU, an
        8-bit image's lookup reads only the nodes around its colors (often a tenth of the grid), and finding
        them costs about 7 ms per megapixel, more than the bake saves above about 10 MP; a blurred table needs
        every node."""
        return self.device.type == "cpu" and self.options.lut_blur == 0 and size[0] * size[1] <= PARTIAL_BAKE_PIXELS

    @property
    def regrain(self) -> tuple[int, float] | None:
        """``(radius, eps)`` of the guided-filter regrain, or None when it is off."""
        options = self.options
        return (options.regrain_radius, options.regrain_eps) if options.regrain_radius > 0 else None
