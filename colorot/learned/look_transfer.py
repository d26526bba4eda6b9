"""colorot's default map: the transport's grade where the two photos share their scene, the learned look where
they do not.

Two estimates of "what was done to the reference" are fitted from the two photos' colors:

* the transport's: the affine grade that aligns the photo's colors with the reference's under unbalanced
  transport (:func:`colorot.ot.unbalanced.fit_unbalanced_affine`). Where the two photos show the same content,
  its correspondences are the strongest evidence there is; where they do not, it copies the reference's
  *content* colors (a portrait graded to a forest turns olive).
* the learned look's (:mod:`colorot.learned.look`): the grade a prior of ungraded photos reads off the reference
  alone, applied to the photo.

A scene gate weighs them: ``T_w(x) = x + w (T(x) - x) + (1 - w) (L(x) - x)``, ``w`` a logistic function of how
well each explains the reference (``scene_features``: sliced W2 distances in CIELAB from the photo, its
transport and its look to the reference). The gate's four weights are fitted after the look model, by least
squares on the blended output over same- and cross-scene training pairs (``fit_scene_gate``), and ship in
the same file. The result is a function of color, baked into the same table as every method.
"""

from __future__ import annotations

import math
from typing import Callable, NamedTuple, Sequence

import numpy as np
import torch

from ..measures.colorspaces import REC709_LUMA, rgb_to_lab
from ..ot.classic import fit_mkl
from ..ot.sliced import sliced_wasserstein
from ..ot.unbalanced import DEFAULT_REACH, LOW_MATCHED_SHARE, fit_unbalanced_affine
from .look import LookMap, LookModel, load_look

__all__ = ["fit_look", "summarize_style", "StyleSummary", "LookTransferMap", "RegisteredGrade", "scene_features",
           "fit_scene_gate", "chroma_by_luma"]

#: Colors of each photo the look and the gate read (the transport reads all it is given).
LOOK_COLORS = 4096

_MODELS: dict = {}


def _shipped(device: torch.device) -> LookModel:
    """The shipped look model on ``device``, read once per process."""
    key = str(device)
    if key not in _MODELS:
        _MODELS[key] = load_look(device=device)
    return _MODELS[key]


class StyleSummary(NamedTuple):
    """What :func:`fit_look` reads of a reference alone, read once for every photo graded to it
    (:func:`summarize_style`): the look ``model`` that read it and its ``features`` ``(S, F)`` of each of the ``S``
    references (:meth:`~colorot.learned.look.LookModel.reference_features`).

    Examples
    --------
    >>> import torch
    >>> summary = summarize_style(torch.rand(1, 2000, 3, generator=torch.Generator().manual_seed(0)))
    >>> summary.features.shape[0], summary.model is summarize_style(torch.rand(1, 10, 3)).model
    (1, True)
    """

    model: LookModel
    features: torch.Tensor


@torch.inference_mode()
def summarize_style(style: torch.Tensor, model: LookModel | None = None) -> StyleSummary:
    """The look model's features of references ``(*batch or 1, m, 3)`` (sRGB colors in ``[0, 1]``), for
    :func:`fit_look`'s ``style_summary``: the same as it reads itself, read once.

    Examples
    --------
    >>> import torch
    >>> g = torch.Generator().manual_seed(0)
    >>> photo, reference = torch.rand(1, 4000, 3, generator=g), torch.rand(1, 4000, 3, generator=g) ** 2
    >>> summary = summarize_style(reference)
    >>> once, again = fit_look(photo, reference, style_summary=summary), fit_look(photo, reference)
    >>> bool(torch.equal(once(photo), again(photo)))
    True
    """
    model = model if model is not None else _shipped(style.device)
    styles = style.reshape(-1, *style.shape[-2:]).float().to(model.feature_mean.device)
    return StyleSummary(model, model.reference_features(styles))


def _directions(dtype, device) -> torch.Tensor:
    """32 fixed unit directions of Lab (a deterministic spiral), ``(3, 32)``."""
    count = 32
    index = torch.arange(count, dtype=torch.float64) + 0.5
    z = 1 - 2 * index / count
    angle = math.pi * (1 + 5 ** 0.5) * index
    radius = (1 - z ** 2).sqrt()
    return torch.stack([z, radius * angle.cos(), radius * angle.sin()]).to(dtype=dtype, device=device)


def _sliced_lab(first: torch.Tensor, second: torch.Tensor) -> torch.Tensor:
    """Sliced W2 ``(B,)`` between sRGB clouds ``(B, n, 3)`` and ``(B, n, 3)`` in CIELAB units, along fixed directions."""
    return sliced_wasserstein(rgb_to_lab(first.clamp(0, 1)), rgb_to_lab(second.clamp(0, 1)),
                              directions=_directions(first.dtype, first.device))


def scene_features(photo: torch.Tensor, reference: torch.Tensor, transported: torch.Tensor,
                   looked: torch.Tensor, shared_structure: torch.Tensor | None = None) -> torch.Tensor:
    """What the scene gate reads, ``(B, 5)``: how much structure the two photos share
    (:func:`colorot.measures.structure.shared_structure`, the only evidence of a shared scene that no grade
    hides; 0 when not given), as ``log(s + 0.005)``, and four logs of the sliced W2 distances (CIELAB) to the reference of the photo
    (``d``), its transport (``d_T``) and its look (``d_L``): ``log d_T`` (what the transport leaves unexplained:
    small when the two photos show the same content, whatever the grade's strength), ``log d_T / d`` (the share it
    leaves), ``log d_T / d_L`` (transport against look) and ``log d_L / d`` (the share the look leaves). Only the
    first is a scale: a strong grade of a shared scene reads as a shared scene.

    Parameters
    ----------
    photo, reference, transported, looked : torch.Tensor
        ``(B, n, 3)`` sRGB colors: the photo's, the reference's (as many), and the photo's under the transport's
        grade and under the look's.
    shared_structure : torch.Tensor, optional
        ``(B,)`` the share of the photo's structure found in the reference.
    """
    to_reference = _sliced_lab(photo, reference)
    by_transport = _sliced_lab(transported, reference)
    by_look = _sliced_lab(looked, reference)
    offset = 0.5  # Lab units: distances below it are quantization and sampling noise
    by_transport, to_reference, by_look = (by_transport + offset).log(), (to_reference + offset).log(), \
        (by_look + offset).log()
    # The structure share on a log scale: two scenes score about 0 (0.01 at most), two views of one 0.05-0.7.
    structure = torch.zeros_like(by_transport) if shared_structure is None else shared_structure.to(by_transport)
    structure = (structure.clamp(min=0) + 0.005).log()
    return torch.stack([by_transport, by_transport - to_reference, by_transport - by_look, by_look - to_reference,
                        structure.reshape(by_transport.shape)], dim=-1)


#: CIELAB units: a reference whose chroma spreads less than TONED_SPREAD around its mean at each luma, and whose
#: mean tint swings less than TONED_SWING from luma to luma, is a monochrome or toned print (its palette is one
#: tint curve). Toned prints of photos: spread under 1, swing 0-8; photos in color: spread 5-20; three flat colors
#: of three lumas: spread 0 but swing 90.
TONED_SPREAD, TONED_SWING = 2.5, 20.0


def chroma_by_luma(colors: torch.Tensor, bands: int = 16) -> tuple[torch.Tensor, torch.Tensor]:
    """How sRGB colors ``(B, n, 3)`` spread around one tint per luma: ``(spread, swing)``, each ``(B,)`` in CIELAB
    units. ``spread``: the RMS distance of each color's a*b* from its luma band's mean (``bands`` bands of L*,
    weighed by their mass); ``swing``: the mass-weighted RMS distance of the bands' means from their overall
    mean. A monochrome print has both 0; a toned one a small spread and a small swing."""
    lab = rgb_to_lab(colors.double().clamp(0, 1))
    band = (lab[..., 0] / 100 * bands).long().clamp(0, bands - 1)
    one_hot = torch.nn.functional.one_hot(band, bands).double()  # (B, n, bands)
    mass = one_hot.sum(dim=-2)
    chroma = lab[..., 1:]
    mean = torch.einsum("bnk,bnc->bkc", one_hot, chroma) / mass.clamp(min=1)[..., None]
    square = torch.einsum("bnk,bn->bk", one_hot, (chroma ** 2).sum(-1)) / mass.clamp(min=1)
    share = mass / mass.sum(dim=-1, keepdim=True)
    spread = ((square - (mean ** 2).sum(-1)).clamp(min=0) * share).sum(-1).sqrt()
    overall = (share[..., None] * mean).sum(dim=-2)
    swing = (share * ((mean - overall[..., None, :]) ** 2).sum(-1)).sum(-1).sqrt()
    return spread, swing


def _gate(weight: torch.Tensor, bias: torch.Tensor, features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The gate's two logistic outputs ``(B,)``: the weight on the transport, the strength of the look."""
    outputs = torch.sigmoid(features @ weight.to(features).T + bias.to(features))
    return outputs[..., 0], outputs[..., 1]


class LookTransferMap:
    """``x -> x + w (T(x) - x) + (1 - w) a (L(x) - x)``, batched: ``w`` ``(*batch,)`` is the scene gate's weight on
    the transport ``T`` (1: the scene is shared), ``a`` ``(*batch,)`` its strength of the learned look ``L`` (how
    far the look is trusted on a photo it never saw). Optionally keeps luma."""

    def __init__(self, transport: Callable, look: LookMap, share: torch.Tensor, strength: torch.Tensor,
                 luma: torch.Tensor | None = None):
        self.transport, self.look, self.share, self.strength, self.luma = transport, look, share, strength, luma

    @property
    def device(self) -> torch.device:
        return self.share.device

    @property
    def batch_shape(self) -> torch.Size:
        return self.share.shape

    def __call__(self, colors: torch.Tensor) -> torch.Tensor:
        share = self.share.to(colors).reshape(*self.share.shape, 1, 1)
        strength = self.strength.to(colors).reshape(*self.strength.shape, 1, 1)
        moved = colors + share * (self.transport(colors) - colors)
        if self.look is not None:  # None: every photo's grade was read off the scene it shares with the reference
            moved = moved + (1 - share) * strength * (self.look(colors) - colors)
        if self.luma is not None:  # keep each color's luma: remove the change along the luma axis
            axis = self.luma.to(colors)
            moved = moved - ((moved - colors) @ axis)[..., None] * axis
        return moved

    def describe(self) -> str:
        """One line on which way the fit leaned, for ``--verbose`` and ``colorot evaluate``."""
        share = float(self.share.double().mean())
        lean = "the transport (shared scene)" if share >= 0.5 else "the learned look (another scene)"
        note = getattr(self.transport, "note", None)
        if self.look is None:  # every photo registered: no gate, no look
            return f"look: the two photos share their scene -> {note}"
        strength = float(self.strength.double().mean())
        return (f"look: scene gate {share:.2f} -> leaned on {lean} (look at strength {strength:.2f})"
                + (f"; {note}" if note else ""))


#: A shared scene's color pairs are read when at least this many thumbnail pixels overlap (a 16 x 16 patch).
MIN_PAIRS = 256


class RegisteredGrade:
    """The transport's grade, batched, with the photos that share their scene with the reference graded by the
    grade read off their color pairs instead (:func:`colorot.maps.paired.fit_paired_grade`).

    Parameters
    ----------
    transport : callable or None
        The transport's map on ``(B, n, 3)`` colors (None: every photo is registered).
    grades : list
        ``B`` entries: a :class:`~colorot.maps.paired.PairedGrade` where photo ``b`` is registered, else None.

    Examples
    --------
    >>> import torch
    >>> from colorot.maps.paired import fit_paired_grade
    >>> photo = torch.rand(2000, 3, generator=torch.Generator().manual_seed(0))
    >>> warm = fit_paired_grade(photo, photo * torch.tensor([1.0, 0.9, 0.8]))
    >>> both = RegisteredGrade(lambda colors: colors * 0, [warm, None])  # the second photo keeps the transport's
    >>> out = both(torch.full((2, 1, 3), 0.5))
    >>> [round(value, 3) for value in out[0, 0].tolist()], out[1, 0].tolist()
    ([0.5, 0.45, 0.4], [0.0, 0.0, 0.0])
    """

    def __init__(self, transport: Callable | None, grades: list):
        self.transport, self.grades = transport, grades
        counted = sum(grade.pair_count for grade in grades if grade is not None)
        self.note = f"the grade is read off {counted} color pairs of the scene the two photos share (registered)"

    def __call__(self, colors: torch.Tensor) -> torch.Tensor:
        flat = colors.reshape(-1, *colors.shape[-2:]).expand(len(self.grades), -1, -1)
        base = self.transport(flat) if self.transport is not None else flat
        out = [base[index] if grade is None else grade(flat[index]) for index, grade in enumerate(self.grades)]
        return torch.stack(out).reshape(*colors.shape[:-2] if colors.shape[:-2].numel() == len(self.grades)
                                         else (len(self.grades),), *colors.shape[-2:])


def _registered(pairs: list | None, batch: int) -> list:
    """The grade read off each photo's color pairs (None where it shares no scene with the reference)."""
    from ..maps.paired import fit_paired_grade

    grades = [None] * batch
    for index, pair in enumerate(pairs or []):
        if pair is not None and len(pair[0]) >= MIN_PAIRS:
            grades[index] = fit_paired_grade(*pair)
    return grades


def _transport(sources: torch.Tensor, styles: torch.Tensor, reach: float | None, luma_axis: torch.Tensor | None):
    """The unbalanced transport's affine grade; where it matched less than
    :data:`~colorot.ot.unbalanced.LOW_MATCHED_SHARE` of the photo's
    colors, refitted with the reach doubled, twice; where that is still too little, the linear Monge-Kantorovich
    map (exact transport between the two clouds' Gaussian fits, :func:`colorot.ot.classic.fit_mkl`), which
    carries colors over whatever their distance."""

    transport = fit_unbalanced_affine(sources, styles, reach=reach, luma_axis=luma_axis)
    if reach is None or reach == float("inf"):
        return transport
    for widened in (2 * reach, 4 * reach):
        if float(transport.matched_share.min()) >= LOW_MATCHED_SHARE:
            return transport
        transport = fit_unbalanced_affine(sources, styles, reach=widened, luma_axis=luma_axis)
    if float(transport.matched_share.min()) >= LOW_MATCHED_SHARE:
        return transport
    linear = fit_mkl(sources, styles)
    linear.note = (f"the transport matched only {float(transport.matched_share.min()):.0%} of the photo's colors "
                   "within 4x the reach: the grade is the Gaussian (mkl) map instead")
    return linear


def _subsample(colors: torch.Tensor, count: int) -> torch.Tensor:
    """Every k-th color (the colors are already a random sample), ``(B, <=count, 3)``."""
    step = max(colors.shape[-2] // count, 1)
    return colors[..., ::step, :][..., :count, :]


@torch.inference_mode()
def fit_look(source: torch.Tensor, style: torch.Tensor, *, reach: float | None = DEFAULT_REACH,
             luma_axis: torch.Tensor | None = None, keep_luma: bool = False,
             shared_structure: torch.Tensor | None = None, corresponding_colors: list | None = None,
             model: LookModel | None = None, style_summary: StyleSummary | None = None) -> LookTransferMap:
    """Fit colorot's default map: the transport's grade, the learned look, and the scene gate between them.

    Parameters
    ----------
    source, style : torch.Tensor
        ``(*batch, n, 3)`` and ``(*batch or 1, m, 3)`` sRGB colors in ``[0, 1]`` (random samples of the photo's
        and the reference's pixels).
    reach : float or None
        The transport's reach (:func:`colorot.ot.unbalanced.fit_unbalanced_affine`).
    luma_axis : torch.Tensor, optional
        ``(3,)`` luma axis: the transport keeps luma increasing along it.
    keep_luma : bool
        Change chroma only: every color keeps its luma along ``luma_axis`` (Rec. 709 when not given).
    shared_structure : torch.Tensor, optional
        ``(*batch,)`` share of each photo's structure found in the reference
        (:func:`colorot.measures.structure.shared_structure`; the estimator measures it from the two images).
        Not given, the gate has the colors only and leans on the look unless they leave no doubt.
    corresponding_colors : list, optional
        For each photo, ``(photo_colors, reference_colors, weights)``, the ``(k, 3)`` sRGB color pairs of the
        scene it shares with the reference and their ``(k,)`` weights
        (:func:`colorot.measures.structure.corresponding_colors`), or None. A photo with at least
        ``MIN_PAIRS`` pairs is graded by the grade read off them (:func:`colorot.maps.paired.fit_paired_grade`:
        the same points of one scene are stronger evidence than any match of distributions), the transport and
        the look set aside.
    model : LookModel, optional
        The look model (default: the shipped weights, ``colorot/learned/weights/look.safetensors``).
    style_summary : StyleSummary, optional
        The references' features read already (:func:`summarize_style`; used when read by this look model).

    Returns
    -------
    LookTransferMap
        Callable on ``(*batch, k, 3)`` sRGB colors; ``share`` holds the scene gate's weight on the transport.

    Examples
    --------
    >>> import torch
    >>> g = torch.Generator().manual_seed(0)
    >>> photo = torch.rand(1, 20000, 3, generator=g) * 0.8 + 0.1
    >>> warmed = photo * torch.tensor([1.0, 0.95, 0.8])
    >>> shared = fit_look(photo, warmed, shared_structure=torch.tensor([0.4]))   # the same scene, warmed
    >>> another = fit_look(photo, warmed, shared_structure=torch.tensor([0.0]))  # colors alone
    >>> bool(shared.share > 0.5 > another.share)
    True
    """
    batch = source.shape[:-2]
    sources = source.reshape(-1, *source.shape[-2:])
    styles = style.reshape(-1, *style.shape[-2:]).expand(sources.shape[0], -1, -1)
    luma = None
    if keep_luma:
        luma = luma_axis if luma_axis is not None else torch.tensor(REC709_LUMA, dtype=torch.float64)
        luma = luma / luma.norm()
    registered = _registered(corresponding_colors, sources.shape[0])
    if all(grade is not None for grade in registered):  # every photo shares its scene: its pairs say the grade
        ones = torch.ones(batch, dtype=torch.float64, device=source.device)
        return LookTransferMap(RegisteredGrade(None, registered), None, ones, torch.zeros_like(ones), luma)
    model = model if model is not None else _shipped(source.device)
    transport = _transport(sources, styles, reach, luma_axis)
    few_sources = _subsample(sources, LOOK_COLORS).float()
    few_styles = _subsample(styles, LOOK_COLORS).float()
    count = min(few_sources.shape[1], few_styles.shape[1])
    # The look reads every sampled color (its features are quantiles and shares: a sparse palette's few colors
    # vary from draw to draw among 4096); the gate reads 4096 of each, as it was fitted.
    device = model.feature_mean.device
    read = style_summary.features if style_summary is not None and style_summary.model is model \
        and style_summary.features.shape[0] in (1, sources.shape[0]) else None  # else read here
    parameters = model(None if read is not None else styles.float().to(device), sources.float().to(device),
                       reference_features=None if read is None else read.to(device).expand(sources.shape[0], -1))
    look = LookMap(parameters.reshape(*batch, -1), "rgb")
    looked = LookMap(parameters, "rgb")(few_sources)
    structure = None if shared_structure is None else shared_structure.reshape(-1)
    features = scene_features(few_sources[:, :count], few_styles[:, :count], transport(few_sources)[:, :count],
                              looked[:, :count], structure)
    share, strength = _gate(model.gate_weight, model.gate_bias, features.double())
    # A reference with one tint per luma (a monochrome or toned print) shows its grade whatever its scene: every
    # color goes onto that curve, which the transport's grade carries exactly.
    spread, swing = chroma_by_luma(few_styles)
    share = torch.where((spread < TONED_SPREAD) & (swing < TONED_SWING), torch.ones_like(share), share)
    if any(grade is not None for grade in registered):
        transport = RegisteredGrade(transport, registered)
        paired = torch.tensor([grade is not None for grade in registered], device=share.device)
        share = torch.where(paired, torch.ones_like(share), share)
    return LookTransferMap(transport, look, share.reshape(batch), strength.reshape(batch), luma)


def fit_scene_gate(model: LookModel, photos: Sequence[np.ndarray], *, pairs: int = 480, seed: int = 1,
                   n_colors: int = 4096, log: Callable = print) -> LookModel:
    """Fit the scene gate of ``model`` on same- and cross-scene pairs of ``photos`` under random grades.

    Half the pairs are two overlapping views of one photo (as two frames of one scene), half crops of two photos; for each, the transport and the look are
    fitted as :func:`fit_look` does, and the gate's two logistic functions (the weight on the transport, the
    strength of the look) minimize the mean CIELAB error of the blended output to the truth over all pairs
    (L-BFGS, a little ridge). Fit it on photos the look model never trained on: it then learns how far to trust
    the look on unseen photos. Deterministic given ``seed``.
    """
    photo, transported, looked, truth, features, same = (t.clone() for t in _gate_pairs(model, photos, pairs, seed,
                                                                                          n_colors))
    truth = rgb_to_lab(truth.double())
    free = torch.zeros(2, features.shape[1], dtype=torch.float64, requires_grad=True)
    bias = torch.tensor([0.0, 2.0], dtype=torch.float64, requires_grad=True)
    # The weight on the transport reads the shared structure and what the transport leaves unexplained (the
    # first two features): a shared scene is one the transport explains, whatever the look makes of it.
    mask = torch.ones(2, features.shape[1], dtype=torch.float64)
    mask[0, 2:4] = 0
    optimizer = torch.optim.LBFGS([free, bias], max_iter=200, line_search_fn="strong_wolfe")

    def closure():
        optimizer.zero_grad()
        weight = free * mask
        share, strength = (v[:, None, None] for v in _gate(weight, bias, features))
        blended = photo + share * (transported - photo) + (1 - share) * strength * (looked - photo)
        loss = ((rgb_to_lab(blended.clamp(0, 1)) - truth) ** 2).sum(dim=-1).add(0.25).sqrt().mean() \
            + 1e-3 * (free ** 2).sum()
        loss.backward()
        return loss

    optimizer.step(closure)
    with torch.no_grad():
        weight = free * mask
        model.gate_weight.copy_(weight.float())
        model.gate_bias.copy_(bias.float())
        share, strength = _gate(weight, bias, features)
    log(f"scene gate: weight on the transport {share[same].mean():.2f} for a shared scene, "
        f"{share[~same].mean():.2f} for another; look strength {strength[~same].mean():.2f} for another scene")
    return model


@torch.inference_mode()
def _gate_pairs(model: LookModel, photos: Sequence[np.ndarray], pairs: int, seed: int, n_colors: int) -> tuple:
    """``(photo, transported, looked, truth)`` sRGB colors ``(pairs, n, 3)``, the gate's features ``(pairs, 5)`` and
    whether each pair shares its scene, for ``pairs`` random pairs (even ones: two overlapping views of one photo,
    odd ones: crops of two photos), each under a random grade."""
    from ..measures.structure import shared_structure, structure_patches
    from .look_training import PairSampler, random_grade

    rng = np.random.default_rng(seed)
    sampler = PairSampler(photos, seed=seed)
    generator = torch.Generator().manual_seed(seed)
    rows = []
    for index in range(pairs):
        same = index % 2 == 0
        first = int(rng.integers(len(photos)))
        second = first if same else (first + 1 + int(rng.integers(len(photos) - 1))) % len(photos)
        reference, target = sampler.shifted_views(first) if same else (sampler.crop(first), sampler.crop(second))
        grade = random_grade(rng)
        reference = grade(reference.reshape(-1, 3)).reshape(reference.shape)
        structure = torch.tensor([shared_structure(
            *structure_patches(target.permute(2, 0, 1).flatten(1)[None], target.shape[:2]),
            *structure_patches(reference.permute(2, 0, 1).flatten(1)[None], reference.shape[:2], reference=True))])
        colors = [image.reshape(-1, 3)[torch.randint(image.shape[0] * image.shape[1], (n_colors,),
                                                     generator=generator)][None] for image in (reference, target)]
        reference, target = colors
        fitted = fit_look(target, reference, shared_structure=structure, model=model)
        transported, looked = fitted.transport(target).float(), fitted.look(target).float()
        rows.append((target, transported, looked, grade(target), scene_features(target, reference, transported,
                                                                                 looked, structure)))
    columns = [torch.cat(column).double() for column in zip(*rows)]
    return (*columns, torch.arange(pairs) % 2 == 0)
