"""The regularization trade-off: how the map's smoothing settings move colorot between matching the
style (sliced W2 to the style, lower is closer) and keeping the source's structure (SSIM structure term,
1 = nothing lost or added) and its noise (excess noise gain, 1 = noise grows no more than contrast).

Sweeps ``smoothing`` (Gaussian smoothing of each step's source projections) and ``lut_blur`` (Gaussian
blur of the displacement over the color cube) on every ordered pair of sample photos, in one run, and
prints the medians per setting with the number of pairs that meet SW <= 0.010 and structure >= 0.985.

Also the spatial alternative, ``regrain_radius`` (a guided filter of the displacement, off by default).

    python benchmarks/tradeoff.py [--pairs N] [--only TEXT] [--json results.json]
"""

from __future__ import annotations

import argparse
import json
import statistics

import colorot
from colorot.measures.metrics import color_distance, structure_similarity

from _common import load, ordered_pairs
from quality import noise_gain

SETTINGS = [
    ("raw IDT (no smoothing, luma not kept)", dict(smoothing=0.0, monotone_luma=False)),
    ("smoothing 0", dict(smoothing=0.0)),
    ("smoothing 0.005 (default)", dict()),
    ("smoothing 0.02", dict(smoothing=0.02)),
    ("smoothing 0.05", dict(smoothing=0.05)),
    ("default + lut_blur 0.01", dict(lut_blur=0.01)),
    ("default + lut_blur 0.03", dict(lut_blur=0.03)),
    ("default + lut_blur 0.06", dict(lut_blur=0.06)),
    ("default + regrain radius 2, eps 1e-4", dict(regrain_radius=2, regrain_eps=1e-4)),
    ("default + regrain radius 4, eps 1e-3", dict(regrain_radius=4)),
    ("refine 4 rounds (radius 1/2 to 1/64 of the long side)", dict(refine=4)),
    ("refine 11 rounds (radius 1/2 to 1/64 of the long side)", dict(refine=11)),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pairs", type=int, default=None, help="use the first N ordered pairs only")
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument("--only", help="run the settings whose label contains this text")
    args = parser.parse_args()
    pairs = ordered_pairs()[: args.pairs]
    images = {name: load(name) for pair in pairs for name in pair}
    rows = []
    print(f"{'setting':56s} {'SW2 median':>10s} {'structure median':>17s} {'excess gain median':>19s} {'pairs meeting both':>19s}")
    for label, options in SETTINGS:
        if args.only and args.only not in label:
            continue
        distances, structures, excess = [], [], []
        for source_name, style_name in pairs:
            source, style = images[source_name], images[style_name]
            out = colorot.transfer(source, style, seed=0, **options)
            distances.append(color_distance(out, style))
            structures.append(structure_similarity(out, source))
            if not options.get("refine"):  # refine fits a map per image: no map to perturb the source through
                excess.append(noise_gain(source, style, **options)[1])
        meeting = sum(d <= 0.010 and s >= 0.985 for d, s in zip(distances, structures))
        row = dict(setting=label, options=options, sw2=statistics.median(distances),
                   structure=statistics.median(structures),
                   excess_gain=statistics.median(excess) if excess else float("nan"),
                   meeting=meeting, pairs=len(pairs))
        rows.append(row)
        print(f"{label:56s} {row['sw2']:10.4f} {row['structure']:17.3f} {row['excess_gain']:19.2f} "
              f"{meeting:>12d}/{len(pairs)}", flush=True)
    if args.json:
        with open(args.json, "w") as file:
            json.dump(rows, file, indent=1)


if __name__ == "__main__":
    main()
