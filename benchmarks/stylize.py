"""Patch style transfer on sample pairs: patch sliced W2 to the style, structure kept, time.

For each (content, style) pair and content weight: the patch distance
(:func:`colorot.stylize.patch_distance`, 7x7 patches at 256 px) of the content
and of the result to the style, the SSIM structure term of the result against
the content, and the wall time of :func:`colorot.stylize` at ``--size``.
With ``--save DIR`` the results are written there as PNG grids (content |
style | results), to look at.

    python benchmarks/stylize.py [--size 512] [--device cuda] [--save out/]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch
from _common import load
from PIL import Image

from colorot.measures.metrics import structure_similarity
from colorot.stylize import _as_tensor, _fit_side, patch_distance, stylize

PAIRS = [("astronaut", "chelsea"), ("coffee", "hubble"), ("rocket", "coffee"), ("chelsea", "rocket")]
WEIGHTS = [0.1, 1.0, 10.0]


def as_uint8(image: np.ndarray) -> np.ndarray:
    return (np.clip(image, 0, 1) * 255).round().astype(np.uint8)


def grid(images: list[np.ndarray], height: int = 256) -> Image.Image:
    tiles = [Image.fromarray(image if image.dtype == np.uint8 else as_uint8(image)) for image in images]
    tiles = [tile.resize((round(tile.width * height / tile.height), height), Image.LANCZOS) for tile in tiles]
    canvas = Image.new("RGB", (sum(tile.width for tile in tiles) + 4 * (len(tiles) - 1), height), "white")
    left = 0
    for tile in tiles:
        canvas.paste(tile, (left, 0))
        left += tile.width + 4
    return canvas


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--save", type=Path, default=None)
    parser.add_argument("--pairs", type=int, default=len(PAIRS))
    args = parser.parse_args()
    print(f"device {args.device}, torch {torch.__version__}, {torch.get_num_threads()} threads, size {args.size}")
    print(f"{'content':10s} {'style':10s} {'weight':>6s} {'patch SW content':>16s} {'result':>7s} "
          f"{'structure':>9s} {'seconds':>7s}")
    rows = []
    for content_name, style_name in PAIRS[: args.pairs]:
        content = load(content_name)
        style = load(style_name)
        if max(content.shape[:2]) < args.size:  # the samples are about 512 px: upscale for larger runs
            content = np.asarray(Image.fromarray(content).resize(
                (round(content.shape[1] * args.size / max(content.shape[:2])),
                 round(content.shape[0] * args.size / max(content.shape[:2]))), Image.BICUBIC))
        before = patch_distance(content, style)
        results = []
        for weight in WEIGHTS:
            if args.device.startswith("cuda"):
                torch.cuda.synchronize()
            start = time.perf_counter()
            out = stylize(content, style, size=args.size, content_weight=weight, seed=0, device=args.device)
            if args.device.startswith("cuda"):
                torch.cuda.synchronize()
            seconds = time.perf_counter() - start
            reference = _fit_side(_as_tensor(content, "content"), args.size)[0].permute(1, 2, 0).numpy()
            row = (before, patch_distance(out, style), structure_similarity(out, reference), seconds)
            rows.append((weight, *row))
            results.append(out)
            print(f"{content_name:10s} {style_name:10s} {weight:6.1f} {row[0]:16.4f} {row[1]:7.4f} {row[2]:9.3f} "
                  f"{row[3]:7.1f}", flush=True)
        if args.save:
            args.save.mkdir(parents=True, exist_ok=True)
            grid([content, style, *results]).save(args.save / f"{content_name}_{style_name}.png")
    table = np.array(rows)
    for weight in WEIGHTS:
        part = table[table[:, 0] == weight]
        print(f"content weight {weight:4.1f}: patch SW {np.median(part[:, 1]):.4f} -> {np.median(part[:, 2]):.4f} "
              f"(median ratio {np.median(part[:, 2] / part[:, 1]):.2f}), structure min {part[:, 3].min():.3f} "
              f"median {np.median(part[:, 3]):.3f}, time median {np.median(part[:, 4]):.1f} s max {part[:, 4].max():.1f} s")


if __name__ == "__main__":
    main()
