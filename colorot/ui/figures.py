"""The figures shown beside the picture: ``colorot evaluate``'s numbers, and the a*b* chroma histograms of the
photo, the style and the result (so a user sees what was matched)."""

from __future__ import annotations

import io as bytes_io

import numpy as np

__all__ = ["evaluate_figures", "chroma_histograms"]

#: Histogram bins per axis and the a*, b* range they cover (CIELAB units).
BINS, CHROMA_RANGE = 96, 90.0
_PANEL = 192


def evaluate_figures(result: np.ndarray, photo: np.ndarray, style: np.ndarray | None) -> dict[str, float]:
    """:func:`colorot.measures.metrics.evaluate` of the result against the style and the photo (previews)."""
    from ..measures import metrics

    return metrics.evaluate(result, style=style, source=photo)


def _lab(pixels: np.ndarray, limit: int = 200_000) -> np.ndarray:
    import torch

    from ..measures.colorspaces import to_space

    colors = pixels[..., :3].reshape(-1, 3)
    if len(colors) > limit:
        colors = colors[np.random.default_rng(0).choice(len(colors), limit, replace=False)]
    scale = 255.0 if colors.dtype == np.uint8 else 65535.0 if colors.dtype == np.uint16 else 1.0
    rgb = torch.from_numpy(colors.astype(np.float32) / scale).clamp(0, 1)
    return (to_space(rgb, "lab") * 100).numpy()


def _panel(pixels: np.ndarray) -> np.ndarray:
    """One ``_PANEL``-square picture: each a*b* bin drawn in its own color (at L* 65), brighter where the image
    has more of it (log scale), on a dark background with the neutral axes marked."""
    import torch

    from ..measures.colorspaces import from_space

    lab = _lab(pixels)
    counts, _, _ = np.histogram2d(lab[:, 2], lab[:, 1], bins=BINS,
                                  range=[[-CHROMA_RANGE, CHROMA_RANGE], [-CHROMA_RANGE, CHROMA_RANGE]])
    density = np.log1p(counts) / max(np.log1p(counts).max(), 1e-9)
    centers = np.linspace(-CHROMA_RANGE, CHROMA_RANGE, BINS)
    b, a = np.meshgrid(centers, centers, indexing="ij")
    lab_grid = np.stack([np.full_like(a, 65.0), a, b], -1) / 100
    rgb = from_space(torch.from_numpy(lab_grid.astype(np.float32)), "lab").clamp(0, 1).numpy()
    picture = 0.12 + (rgb - 0.12) * density[..., None] ** 0.6
    picture = picture[::-1]  # +b* up
    picture[BINS // 2, :] = picture[:, BINS // 2] = 0.35  # the neutral axes
    picture = np.repeat(np.repeat(picture, _PANEL // BINS, 0), _PANEL // BINS, 1)
    return np.round(picture * 255).astype(np.uint8)


def chroma_histograms(*images: np.ndarray) -> bytes:
    """A PNG of one a*b* panel per image, side by side (photo, style, result), ``_PANEL`` px each."""
    from PIL import Image

    gap = np.full((_PANEL, 6, 3), 255, np.uint8)
    panels = [part for image in images for part in (_panel(image), gap)][:-1]
    buffer = bytes_io.BytesIO()
    Image.fromarray(np.concatenate(panels, axis=1)).save(buffer, "PNG")
    return buffer.getvalue()
