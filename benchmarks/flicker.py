"""Flicker of a graded clip: one map for the whole clip (``colorot video``) against a map fitted per frame.

The clip is a pan over one sample photo (frame i is the crop at (2i, 2i)), kept in memory (no codec), so
that every frame-to-frame change comes from the pan and the grading. For each style:

* mean-color change: the mean over frames of |mean color(i+1) - mean color(i)| (8-bit codes), the input's
  against each output's (issue 5's literal criterion);
* the same divided by the clip's global contrast (std of all its pixels): a map that stretches the palette
  stretches the pan's own changes by as much;
* scene-point change: how much the color of the same scene point changes from frame to frame.

    python benchmarks/flicker.py [--frames 16] [--size 320]
"""

from __future__ import annotations

import argparse

import numpy as np
from PIL import Image

import colorot
from colorot.apps.video import lut_applier
from colorot.devices import resolve_device

from _common import NAMES, load


def mean_change(frames: list[np.ndarray]) -> float:
    means = np.array([frame.reshape(-1, 3).mean(axis=0) for frame in frames])
    return float(np.abs(np.diff(means, axis=0)).mean())


def contrast(frames: list[np.ndarray]) -> float:
    return float(np.concatenate([frame.reshape(-1, 3) for frame in frames]).std(axis=0).mean())


def scene_change(frames: list[np.ndarray]) -> float:
    gaps = [np.abs(b[:-2, :-2].astype(float) - a[2:, 2:]).mean() for a, b in zip(frames, frames[1:])]
    return float(np.mean(gaps))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=16)
    parser.add_argument("--size", type=int, default=320, help="frame width (height 3/4 of it)")
    parser.add_argument("--photo", default="astronaut")
    args = parser.parse_args()
    width, height = args.size, args.size * 3 // 4
    photo = np.asarray(Image.fromarray(load(args.photo)).resize((width + 2 * args.frames, height + 2 * args.frames),
                                                               Image.BICUBIC))
    clip = [np.ascontiguousarray(photo[2 * i: 2 * i + height, 2 * i: 2 * i + width]) for i in range(args.frames)]
    print(f"pan over {args.photo}: {args.frames} frames of {width}x{height}")
    print(f"{'style':10s} {'clip':>22s} {'mean change':>12s} {'/ contrast':>11s} {'scene-point change':>19s}")
    for style_name in [name for name in NAMES if name != args.photo]:
        style = load(style_name)
        # What colorot video does: one map fitted on frames sampled across the clip, applied to every frame.
        table = colorot.fit_lut(style, clip[:: max(1, args.frames // 24)], seed=0)
        apply = lut_applier(table, resolve_device("cpu"))
        outputs = {"input": clip, "one map (video)": [apply(frame) for frame in clip],
                   "map per frame": [colorot.transfer(frame, style, seed=0) for frame in clip]}
        for label, frames in outputs.items():
            change = mean_change(frames)
            print(f"{style_name:10s} {label:>22s} {change:12.3f} {change / contrast(frames):11.5f} "
                  f"{scene_change(frames):19.3f}", flush=True)


if __name__ == "__main__":
    main()
