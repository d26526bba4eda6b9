"""Whether two photos show the same scene, from their structure alone: the share of one photo's luma patches that
reappear in the other, whatever grade either carries.

A grade is a function of color: it moves every color but leaves where the edges, textures and shapes are. So
the evidence of a shared scene that no grade can fake or hide is structure. Each photo is reduced to a
thumbnail of its luma, which is replaced by its ranks (so that any increasing tone curve, and most channel
mixes, leave it unchanged), and cut into small overlapping patches, each normalized to zero mean and unit norm
(so that any local gain and offset leave it unchanged). A patch of the photo *reappears* in the reference when
its best match there correlates with it above ``MATCH`` (0.9) and lies where most such matches put the
photo: one translation, at one of three scales of the reference (so that a closer or wider view of the scene
still matches). Natural images share many patches by chance (a straight edge is a straight edge), so the same
count is made against the reference turned by 180 degrees, which has the same patch statistics but none of the
same content; :func:`shared_structure` is the difference: about 0 for photos of two scenes, up to the share of
the photo that the reference shows for two views of one.

This is nearest-neighbour patch matching as exemplar methods use it (Efros & Freeman 2001; Barnes et al.,
PatchMatch, 2009) with a Hough vote for the displacement (Ballard 1981) in place of keypoints and RANSAC, and the
rank transform of Zabih & Woodfill (1994) for invariance to monotone grades.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn.functional as F

from .colorspaces import REC709_LUMA

__all__ = ["Structure", "structure_patches", "shared_structure", "pooled_structure", "corresponding_colors",
           "scene_match", "PATCH", "MATCH"]

#: Side of a patch, in thumbnail pixels.
PATCH = 8
#: Correlation above which a patch reappears in the other photo.
MATCH = 0.9
_WORK = 128  # long side of the thumbnail, in pixels
_STRIDE = 2
_BIN = 6.0  # thumbnail pixels: matches this close to one displacement agree
_FLAT = 0.05  # rank standard deviation below which a patch is flat (sky, wall): it says nothing of the scene
_PHOTO_PATCHES = 768  # patches of the photo compared (a regular subset: deterministic)
REFERENCE_SCALES = (2 ** -0.5, 1.0, 2 ** 0.5)


def _thumbnail(pixels: torch.Tensor, size: tuple[int, int], scale: float, work: int) -> torch.Tensor:
    """``(B, 3, h, w)`` float32 color thumbnails in ``[0, 1]``, long side ``work``, of pixels ``(B, C, H*W)``, on
    the CPU (area means of the pixels)."""
    height, width = size
    step = max(1, max(height, width) // (4 * work))  # pixels skipped before the area reduction (12 MP: 7)
    image = pixels.unflatten(-1, (height, width))[:, :3, ::step, ::step]
    image = image.to(device="cpu", dtype=torch.float32) * scale
    factor = work / max(height, width)
    shape = (max(round(height * factor), PATCH), max(round(width * factor), PATCH))
    return F.interpolate(image, size=shape, mode="area")


def _luma(thumbnails: torch.Tensor) -> torch.Tensor:
    """``(B, h, w)`` Rec. 709 luma of ``(B, 3, h, w)`` thumbnails."""
    return torch.einsum("bchw,c->bhw", thumbnails, torch.tensor(REC709_LUMA, dtype=torch.float32))


class Structure(NamedTuple):
    """One image's structure: normalized rank-luma ``patches`` ``(n, PATCH**2)`` and where each is, ``positions``
    ``(n, 3)``: the thumbnail's scale (1 is :data:`_WORK` pixels on the long side), then row and column in that
    thumbnail's pixels; and ``thumbnails``, ``(scale, (3, h, w) colors)`` for each scale read (empty once
    several images' structures are pooled), from which :func:`corresponding_colors` reads color pairs."""

    patches: torch.Tensor
    positions: torch.Tensor
    thumbnails: tuple = ()


def _patches(thumbnail: torch.Tensor, stride: int, factor: float) -> Structure:
    """The normalized patches of one color thumbnail ``(3, h, w)``'s rank-transformed luma, flat ones dropped."""
    luma = _luma(thumbnail[None])[0]
    flat = luma.flatten()
    ranks = torch.empty_like(flat)
    ranks[flat.argsort(stable=True)] = torch.arange(flat.numel(), dtype=flat.dtype) / flat.numel()
    patches = F.unfold(ranks.view(1, 1, *luma.shape), PATCH, stride=stride)[0].T
    patches = patches - patches.mean(dim=1, keepdim=True)
    norms = patches.norm(dim=1, keepdim=True)
    textured = norms[:, 0] > _FLAT * PATCH
    rows = torch.arange(0, luma.shape[0] - PATCH + 1, stride, dtype=torch.float32)
    columns = torch.arange(0, luma.shape[1] - PATCH + 1, stride, dtype=torch.float32)
    grid = torch.stack(torch.meshgrid(rows, columns, indexing="ij"), dim=-1).reshape(-1, 2)
    positions = torch.cat([torch.full((grid.shape[0], 1), factor), grid], dim=1)
    return Structure(patches[textured] / norms[textured], positions[textured], ((factor, thumbnail),))


def structure_patches(pixels: torch.Tensor, size: tuple[int, int], scale: float = 1.0, *,
                      reference: bool = False) -> list[Structure]:
    """The structure of each image of a batch, as normalized rank-luma patches and their positions.

    Parameters
    ----------
    pixels : torch.Tensor
        ``(B, C, H * W)`` pixels (any dtype and device; ``C`` is 3 or 4, alpha ignored), times ``scale`` in
        ``[0, 1]``.
    size : tuple of int
        ``(H, W)``.
    scale : float
        What a pixel value is multiplied by to give ``[0, 1]`` (``1 / 255`` for 8-bit codes).
    reference : bool
        Read the image at three scales, patches at every other pixel (the reference side of
        :func:`shared_structure`); else once, at every pixel, at most 768 patches kept.

    Returns
    -------
    list of Structure
        ``B`` pairs of float32 CPU tensors: ``patches`` ``(n_b, 64)`` of unit rows (``n_b`` is 0 for a flat
        image) and their ``positions`` ``(n_b, 3)``.

    Examples
    --------
    >>> import torch
    >>> image = torch.rand(1, 3, 96 * 64, generator=torch.Generator().manual_seed(0))
    >>> [tuple(part.shape[1] for part in structure[:2]) for structure in structure_patches(image, (96, 64))]
    [(64, 3)]
    """
    factors = REFERENCE_SCALES if reference else (1.0,)
    # The photo's patches at every pixel (a regular subset of them kept), the reference's at every other: each
    # photo patch then has a reference patch within half a pixel of it in one direction or the other.
    stride = _STRIDE if reference else 1
    per_scale = [[_patches(thumbnail, stride, factor) for thumbnail in _thumbnail(pixels, size, scale,
                                                                                   round(_WORK * factor))]
                 for factor in factors]
    out = [Structure(*(torch.cat(parts) for parts in list(zip(*parts))[:2]),
                     sum((part.thumbnails for part in parts), ())) for parts in zip(*per_scale)]
    if not reference:
        out = [Structure(*(part[::-(-part.shape[0] // _PHOTO_PATCHES)] for part in structure[:2]),
                         structure.thumbnails) if structure.patches.shape[0] else structure for structure in out]
    return out


def pooled_structure(structures) -> Structure:
    """Several images' structures as one (a mix of styles: a scene shared with any of them counts; color pairs are
    read from one image's structure only)."""
    structures = list(structures)
    return Structure(*(torch.cat(parts) for parts in list(zip(*structures))[:2]),
                     structures[0].thumbnails if len(structures) == 1 else ())


def _displacement(photo: Structure, reference: Structure, patches: torch.Tensor) -> tuple[int, torch.Tensor]:
    """How many of the photo's patches agree on one displacement into the reference, and that displacement's
    matches: ``(k, 3)`` rows of (the reference's scale, row shift, column shift), empty when none is found."""
    best, index = (photo.patches @ patches.T).max(dim=1)
    found = best > MATCH
    if not bool(found.any()):
        return 0, torch.zeros(0, 3)
    where = reference.positions[index[found]]
    # at the scale where the reference's patches match, its content has the photo's pixel size: a shared scene
    # moves them all by one translation
    shift = where[:, 1:] - photo.positions[found, 1:]
    votes, members = 0, None
    for offset in (0.0, _BIN / 2):  # two grids half a bin apart: a cluster on a bin edge still falls in one bin
        cells = torch.cat([where[:, :1] * 1000, ((shift + offset) / _BIN).floor()], dim=1)
        _, inverse, counts = torch.unique(cells, dim=0, return_inverse=True, return_counts=True)
        if int(counts.max()) > votes:
            votes, members = int(counts.max()), inverse == counts.argmax()
    return votes, torch.cat([where[members, :1], shift[members]], dim=1)


def shared_structure(photo: Structure, reference: Structure) -> float:
    """The share of the photo's patches that reappear in the reference where one displacement puts them, less the
    share that do so in the reference turned by 180 degrees (chance): about 0 for two scenes, up to the share of
    the photo that the reference shows for one.

    Parameters
    ----------
    photo, reference : Structure
        From :func:`structure_patches` (the reference's with ``reference=True``).

    Returns
    -------
    float
        In ``[-1, 1]``; 0 when either photo is flat.

    Examples
    --------
    >>> import torch, torch.nn.functional as F
    >>> g = torch.Generator().manual_seed(0)
    >>> def field():   # a smooth random scene, 240 x 360
    ...     return F.interpolate(torch.rand(1, 3, 30, 45, generator=g), size=(240, 360), mode="bicubic").clamp(0, 1)
    >>> scene, another = field(), field()
    >>> photo, = structure_patches(scene[..., :240].flatten(2), (240, 240))   # two views sharing half their width
    >>> graded, = structure_patches(scene[..., 120:].flatten(2) ** 2, (240, 240), reference=True)  # and a grade
    >>> other, = structure_patches(another[..., 120:].flatten(2) ** 2, (240, 240), reference=True)
    >>> shared_structure(photo, graded) > 0.2 > 0.05 > shared_structure(photo, other)
    True
    """
    return scene_match(photo, reference)[0]


def scene_match(photo: Structure, reference: Structure) -> tuple[float, tuple | None]:
    """:func:`shared_structure` and :func:`corresponding_colors` of one photo and reference, from one vote.

    A photo's patch agrees when its best match correlates above ``MATCH`` and lies where the most matches put
    the photo: one translation at one of the reference's scales, voted on a grid of 6 thumbnail pixels. The
    same vote against the reference's patches turned by 180 degrees (the same statistics, none of the same
    content) counts the patches that agree by chance.

    Examples
    --------
    >>> import torch, torch.nn.functional as F
    >>> g = torch.Generator().manual_seed(0)
    >>> scene = F.interpolate(torch.rand(1, 3, 30, 45, generator=g), size=(240, 360), mode="bicubic").clamp(0, 1)
    >>> photo, = structure_patches(scene[..., :240].flatten(2), (240, 240))
    >>> graded, = structure_patches(scene[..., 120:].flatten(2) ** 2, (240, 240), reference=True)
    >>> share, pairs = scene_match(photo, graded)
    >>> share == shared_structure(photo, graded), len(pairs)
    (True, 3)
    """
    if photo.patches.shape[0] == 0 or reference.patches.shape[0] == 0:
        return 0.0, None
    votes, matches = _displacement(photo, reference, reference.patches)
    chance = _displacement(photo, reference, reference.patches.flip(1))[0]
    count = photo.patches.shape[0]
    return votes / count - chance / count, _pairs(photo, reference, votes - chance, matches)


#: Luma step between neighbouring thumbnail pixels (in ``[0, 1]``) at which a color pair counts half: near an edge,
#: a registration off by a fraction of a pixel pairs two different colors.
EDGE_STEP = 0.03
#: At least this many more of the photo's patches (of 768) must agree on the displacement than agree by chance
#: (in the reference turned by 180 degrees) for color pairs to be read: a shared structure of 0.03 (two scenes
#: score 0.01 at most, two views of one 0.05-0.7).
MIN_AGREEING = 24


def corresponding_colors(photo: Structure, reference: Structure) -> tuple[torch.Tensor, ...] | None:
    """Color pairs of the photo and the reference where both show the same point of a shared scene: the photo's
    thumbnail against the reference's, moved by the displacement on which the photo's patches agree
    (:func:`shared_structure`'s vote). Registration by matched patches as HaCohen et al. use it to fit a color
    transfer between two photos of one scene ("Non-rigid dense correspondence with applications for image
    enhancement", SIGGRAPH 2011), here one translation at one of the reference's scales.

    Parameters
    ----------
    photo, reference : Structure
        From :func:`structure_patches` (the reference's with ``reference=True``), with their thumbnails.

    Returns
    -------
    tuple of torch.Tensor or None
        ``(photo_colors, reference_colors, weights)``: ``(k, 3)`` float32 colors in ``[0, 1]`` of the thumbnails'
        overlap (area means of the pixels, so thumbnail pixels, not image pixels) and ``(k,)`` weights in
        ``(0, 1]`` (less near edges, where a fraction of a pixel matters). None when fewer than
        ``MIN_AGREEING`` more patches agree on a displacement than in the reference turned by 180 degrees
        (chance), when the overlap is smaller than a patch, or when either structure has no thumbnail.

    Examples
    --------
    >>> import torch, torch.nn.functional as F
    >>> g = torch.Generator().manual_seed(0)
    >>> scene = F.interpolate(torch.rand(1, 3, 30, 45, generator=g), size=(240, 360), mode="bicubic").clamp(0, 1)
    >>> photo, = structure_patches(scene[..., :240].flatten(2), (240, 240))
    >>> graded, = structure_patches(scene[..., 120:].flatten(2) ** 2, (240, 240), reference=True)
    >>> mine, theirs, weights = corresponding_colors(photo, graded)
    >>> bool(((mine ** 2 - theirs).abs() * weights[:, None]).sum() / weights.sum() < 0.01)   # the grade x -> x^2
    True
    """
    return scene_match(photo, reference)[1]


def _pairs(photo: Structure, reference: Structure, agreeing: int, matches: torch.Tensor) -> tuple | None:
    """:func:`corresponding_colors` given the vote: ``agreeing`` patches beyond chance, the displacement's
    ``matches``."""
    if not photo.thumbnails or not reference.thumbnails or agreeing < MIN_AGREEING:
        return None  # no thumbnail, or too few agree beyond those that agree by chance
    factor = float(matches[0, 0])
    theirs = next(image for scale, image in reference.thumbnails if abs(scale - factor) < 1e-6)
    mine = photo.thumbnails[0][1]
    shift = matches[:, 1:].median(dim=0).values
    # the reference's thumbnail read at each photo thumbnail pixel moved by the shift (bilinear: a shift of half a pixel)
    rows = torch.arange(mine.shape[1], dtype=torch.float32)[:, None] + shift[0]
    columns = torch.arange(mine.shape[2], dtype=torch.float32)[None, :] + shift[1]
    inside = (rows >= 0) & (rows <= theirs.shape[1] - 1) & (columns >= 0) & (columns <= theirs.shape[2] - 1)
    if int(inside.sum()) < PATCH * PATCH:
        return None
    grid = torch.stack([columns.expand_as(inside) / max(theirs.shape[2] - 1, 1),
                        rows.expand_as(inside) / max(theirs.shape[1] - 1, 1)], dim=-1) * 2 - 1
    moved = F.grid_sample(theirs[None], grid[None], mode="bilinear", align_corners=True)[0]
    steps = [_edge_steps(_luma(image[None])[0]) for image in (mine, moved)]
    weights = 1 / (1 + ((steps[0] + steps[1]) / EDGE_STEP) ** 2)
    return mine[:, inside].T, moved[:, inside].T, weights[inside]


def _edge_steps(luma: torch.Tensor) -> torch.Tensor:
    """``(h, w)``: each pixel's largest luma step to a 4-neighbour."""
    padded = F.pad(luma[None, None], (1, 1, 1, 1), mode="replicate")[0, 0]
    center = padded[1:-1, 1:-1]
    return torch.stack([(padded[:-2, 1:-1] - center).abs(), (padded[2:, 1:-1] - center).abs(),
                        (padded[1:-1, :-2] - center).abs(), (padded[1:-1, 2:] - center).abs()]).amax(dim=0)
