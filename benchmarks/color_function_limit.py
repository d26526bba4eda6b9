"""How far a function of color can go on the sample pairs, and how far from one the spatial mode is.

Issue 2 asks colorot's default to be a function of color (one color in, one color out, so that a LUT, a
video and a batch reproduce it) and, on every ordered sample pair, to reach sliced W2 <= 0.010 to the style
with an SSIM structure term >= 0.985 against the source. This script measures, per pair:

* ``luma-OT``: the structure kept by the gentlest function of color that gives the source the style's luma
  histogram: the 1-D optimal transport (quantile) map of luma, monotone, ties between equal lumas broken
  by color and pixels of one color averaged (so it is a function of color). Any function of color whose
  output has the style's colors has (close to) the style's luma histogram, and a non-monotone luma map only
  adds local reversals; where this map already loses structure, the target asks for something a function
  of color does not do.
* ``default``: colorot's default (a function of color): sliced W2 and structure; and along its strength
  (displacement interpolation toward the identity, strengths 1, 0.95, ..., 0.05) the distance at the
  largest strength whose structure reaches 0.985 ("at .985"; nan where none does).
* ``refine``: ``refine=11`` (spatial): sliced W2 and structure, the RMS spread (8-bit codes) of its outputs
  among the pixels that share one source color (0 for a function of color), and the distance and structure
  of the function of color nearest to it in L2 (each source color sent to the mean of its outputs).

    python benchmarks/color_function_limit.py [--refine 11] [--seed 0]
"""

from __future__ import annotations

import argparse

import numpy as np

import colorot
from colorot.measures.colorspaces import REC709_LUMA
from colorot.measures.metrics import color_distance, structure_similarity

from _common import load, ordered_pairs

SW_TARGET, STRUCTURE_TARGET = 0.010, 0.985


def color_codes(image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each pixel's index among the image's distinct colors, and each distinct color's pixel count."""
    codes = image.reshape(-1, 3).astype(np.int64) @ np.array([1 << 16, 1 << 8, 1])
    _, index, counts = np.unique(codes, return_inverse=True, return_counts=True)
    return index, counts


def per_color_mean(values: np.ndarray, index: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """``values`` (pixels x channels) replaced by their mean over the pixels of each source color."""
    means = np.stack([np.bincount(index, values[:, c]) for c in range(values.shape[1])], axis=1) / counts[:, None]
    return means[index]


def luma_transport(source: np.ndarray, style: np.ndarray) -> np.ndarray:
    """The source's luma sent to the style's luma quantiles (monotone, a function of color), as a gray image."""
    weights = np.asarray(REC709_LUMA)
    source_luma = source.reshape(-1, 3) @ weights
    style_luma = np.sort(style.reshape(-1, 3) @ weights)
    index, counts = color_codes(source)
    order = np.lexsort((index, source_luma))  # by luma, equal lumas by color
    levels = ((np.arange(source_luma.size) + 0.5) * style_luma.size / source_luma.size).astype(np.int64)
    mapped = np.empty_like(source_luma)
    mapped[order] = style_luma[levels]
    mapped = per_color_mean(mapped[:, None], index, counts)[:, 0]
    return np.repeat(mapped.reshape(*source.shape[:2], 1), 3, axis=2) / 255.0


def distance_at_structure_target(model: colorot.ColorTransfer, source: np.ndarray, style: np.ndarray) -> float:
    """The distance to the style at the largest strength whose output keeps the structure target (nan: none)."""
    for strength in np.linspace(1.0, 0.05, 20):
        output = model.transform(source, strength=float(strength))
        if structure_similarity(output, source) >= STRUCTURE_TARGET:
            return color_distance(output, style)
    return float("nan")


def meets(distance: float, structure: float) -> bool:
    return distance <= SW_TARGET and structure >= STRUCTURE_TARGET


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--refine", type=int, default=11)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    header = (f"{'pair':<22} {'luma-OT':>8} | {'default SW':>10} {'struct':>6} {'at .985':>7} | {'refine SW':>9} {'struct':>6}"
              f" {'spread':>6} | {'nearest SW':>10} {'struct':>6}")
    print(header)
    counts = {"luma-OT": 0, "default": 0, "backed off": 0, "refine": 0, "nearest": 0}
    spreads = []
    for source_name, style_name in ordered_pairs():
        source, style = load(source_name), load(style_name)
        luma_structure = structure_similarity(luma_transport(source, style), source)
        model = colorot.ColorTransfer(seed=args.seed).fit(style)
        default = model.transform(source)
        backed_off = distance_at_structure_target(model, source, style)
        refined = colorot.transfer(source, style, seed=args.seed, refine=args.refine)
        index, color_counts = color_codes(source)
        flat = refined.reshape(-1, 3).astype(np.float64)
        nearest = per_color_mean(flat, index, color_counts)
        spread = float(np.sqrt(((flat - nearest) ** 2).sum(axis=1).mean()))
        nearest = nearest.round().astype(np.uint8).reshape(source.shape)
        rows = [(color_distance(image, style), structure_similarity(image, source))
                for image in (default, refined, nearest)]
        counts["luma-OT"] += luma_structure >= STRUCTURE_TARGET
        counts["backed off"] += backed_off <= SW_TARGET
        for name, row in zip(("default", "refine", "nearest"), rows):
            counts[name] += meets(*row)
        spreads.append(spread)
        (d_sw, d_st), (r_sw, r_st), (n_sw, n_st) = rows
        print(f"{source_name + ' -> ' + style_name:<22} {luma_structure:8.3f} | {d_sw:10.4f} {d_st:6.3f}"
              f" {backed_off:7.4f} |"
              f" {r_sw:9.4f} {r_st:6.3f} {spread:6.1f} | {n_sw:10.4f} {n_st:6.3f}", flush=True)
    pairs = len(ordered_pairs())
    print(f"\nluma-OT keeps structure >= {STRUCTURE_TARGET} on {counts['luma-OT']}/{pairs} pairs")
    print(f"pairs meeting SW <= {SW_TARGET} and structure >= {STRUCTURE_TARGET}: default {counts['default']}/{pairs},"
          f" default at the largest strength keeping structure >= {STRUCTURE_TARGET} {counts['backed off']}/{pairs},"
          f" refine={args.refine} {counts['refine']}/{pairs}, its nearest function of color {counts['nearest']}/{pairs}")
    print(f"refine's spread among pixels of one source color (8-bit codes RMS): median {np.median(spreads):.1f},"
          f" range {min(spreads):.1f}-{max(spreads):.1f}")


if __name__ == "__main__":
    main()
