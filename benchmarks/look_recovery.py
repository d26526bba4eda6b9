"""Look recovery with a ground truth: does a method give a photo the style's *grade*?

The protocol of Deep Preset (Ho & Zhou 2021) and Neural Preset (Ke et al. 2023): for a known global grade G
(a function of color), a source photo P and a style G(Q), the truth is G(P). Error = mean CIEDE2000
(scikit-image) between a method's output and G(P); "recovered" = 1 - error / error of returning P unchanged
(1: the grade exactly; 0: no better than doing nothing; below 0: worse).

* Grades: eight families colorists use, each a function of color with a few parameters drawn from a seed
  (split toning, faded film, white balance with crushed blacks, cross-processing, bleach bypass, channel-mix
  vintage, monochrome tint, S-curve with saturation), so a run has as many grades as cases.
* Same-scene cases: P and Q are the left and right 65% of one photo (shared content, other proportions).
  Cross-scene cases: P and Q are different photos.
* Photos (``--photos``): ``held-out`` (default), the photos shipped by scikit-learn (china, flower) and matplotlib
  (grace_hopper), which colorot's look model never trains on (``training/photos.json``); or ``samples``, the
  repository's samples and the other color photos bundled with scikit-image, some of which the look model trains
  on (so its figures there are not a test).
* Methods in the same run: colorot's default (``look``), its transport alone (``unbalanced``, v0.2's default),
  with ``refine`` and balanced (``reach=inf``), its other methods (``sliced``, the default of v0.1), color-matcher (mkl, reinhard,
  hm-mkl-hm) and python-color-transfer IDT when installed, scikit-image's ``match_histograms``, identity, and
  an oracle (a 17^3 table fitted by regression from P to G(P): the ceiling of a function of color).
  Printed per case class: mean error, mean recovered, wins, cases worse than identity, and beside them the
  sliced W2 to the style and the SSIM structure term to the source, so that nothing hides a loss of detail.

    python benchmarks/look_recovery.py [--cases 16] [--size 200] [--seed 0] [--photos held-out|samples]
                                       [--skip-slow] [--methods colorot,identity,...]

Tune for the principle: held-back photos and grades are run on the same protocol.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
from PIL import Image
from skimage import data as skdata
from skimage.color import deltaE_ciede2000, rgb2lab
from skimage.exposure import match_histograms

import colorot
from colorot.measures.metrics import color_distance, structure_similarity
from _common import NAMES, load, peers

LUMA = np.array([0.2126, 0.7152, 0.0722])


# -- grades: functions of color, x in [0, 1]^3 -> [0, 1]^3 -------------------------------------------------------


def _luma(x):
    return (x @ LUMA)[..., None]


def _smooth(t):
    return t * t * (3 - 2 * t)


def split_toning(rng):
    shadow, highlight = rng.normal(0, 0.08, 3), rng.normal(0, 0.08, 3)
    shadow[[0, 2]] = [-abs(shadow[0]), abs(shadow[2])]  # teal shadows
    highlight[[0, 2]] = [abs(highlight[0]), -abs(highlight[2])]  # orange highlights
    return lambda x: x + (1 - _smooth(_luma(x))) * shadow + _smooth(_luma(x)) * highlight


def faded_film(rng):
    lift, lower, keep = rng.uniform(0.05, 0.2), rng.uniform(0.05, 0.2), rng.uniform(0.4, 0.8)
    return lambda x: lift + (1 - lift - lower) * (_luma(x) + keep * (x - _luma(x)))


def white_balance_crushed(rng):
    gains, black = np.exp(rng.normal(0, 0.12, 3)), rng.uniform(0.03, 0.12)
    return lambda x: (x * gains - black) / (1 - black)


def cross_processing(rng):
    gammas = np.exp(rng.normal(0, 0.3, 3))
    contrast = rng.uniform(0.3, 1.0, 3)
    return lambda x: (1 - contrast) * x ** gammas + contrast * _smooth(x ** gammas)


def bleach_bypass(rng):
    amount = rng.uniform(0.3, 0.7)
    return lambda x: (1 - amount) * x + amount * _smooth(np.repeat(_luma(x), 3, axis=-1))


def channel_mix_vintage(rng):
    matrix = np.eye(3) + rng.normal(0, 0.08, (3, 3)) + np.array([[0.05, 0.05, 0], [0, 0, 0], [0, 0, -0.08]])
    offset = rng.normal(0, 0.03, 3)
    return lambda x: x @ matrix.T + offset


def monochrome_tint(rng):
    tint = 1 + rng.normal(0, 0.15, 3)
    tint = tint / (tint @ LUMA)
    return lambda x: _luma(x) * tint


def s_curve_saturation(rng):
    strength, saturation = rng.uniform(0.4, 1.0), rng.uniform(1.1, 1.6)
    def grade(x):
        curved = (1 - strength) * x + strength * _smooth(x)
        return _luma(curved) + saturation * (curved - _luma(curved))
    return grade


FAMILIES = [split_toning, faded_film, white_balance_crushed, cross_processing, bleach_bypass, channel_mix_vintage,
            monochrome_tint, s_curve_saturation]


def apply_grade(grade, image: np.ndarray) -> np.ndarray:
    return (np.clip(grade(image.astype(np.float64) / 255), 0, 1) * 255).round().astype(np.uint8)


# -- photos and cases -------------------------------------------------------------------------------------------


def held_out_photos() -> dict:
    """The photos shipped by scikit-learn and matplotlib (never trained on); those whose package is missing are
    left out with a note."""
    found = {}
    try:
        from sklearn.datasets import load_sample_images

        for name, image in zip(("china", "flower"), load_sample_images().images):
            found[name] = image
    except ImportError:
        print("note: scikit-learn is not installed: its photos are left out")
    try:
        import matplotlib.cbook

        with matplotlib.cbook.get_sample_data("grace_hopper.jpg") as file:
            found["grace_hopper"] = np.asarray(Image.open(file).convert("RGB"))
    except ImportError:
        print("note: matplotlib is not installed: its photo is left out")
    return found


def photos(size: int, which: str = "held-out") -> dict:
    if which == "held-out":
        return {name: _resized(image[..., :3], size) for name, image in held_out_photos().items()}
    found = {name: load(name) for name in NAMES}
    for name in ("immunohistochemistry", "retina", "stereo_motorcycle"):
        try:
            image = getattr(skdata, name)()
        except Exception:  # noqa: BLE001 - a scikit-image without that photo
            continue
        found[name] = image[0] if isinstance(image, tuple) else image
    return {name: _resized(image[..., :3], size) for name, image in found.items()}


def _resized(image: np.ndarray, size: int) -> np.ndarray:
    scale = size / max(image.shape[:2])
    width, height = round(image.shape[1] * scale), round(image.shape[0] * scale)
    return np.asarray(Image.fromarray(image).resize((width, height), Image.LANCZOS))


def cases(images: dict, count: int, seed: int) -> list:
    """``(kind, name, source P, style G(Q), truth G(P), grade name)`` for ``count`` same- and cross-scene cases."""
    rng = np.random.default_rng(seed)
    names = sorted(images)
    out = []
    for index in range(2 * count):
        family = FAMILIES[index % len(FAMILIES)]
        grade = family(rng)
        if index < count:
            name = names[index % len(names)]
            image = images[name]
            cut = round(0.65 * image.shape[1])
            source, other = image[:, :cut], image[:, image.shape[1] - cut:]
            kind = "same-scene"
        else:
            first, second = rng.choice(len(names), 2, replace=False)
            name = f"{names[first]}->{names[second]}"
            source, other = images[names[first]], images[names[second]]
            kind = "cross-scene"
        out.append((kind, name, source, apply_grade(grade, other), apply_grade(grade, source), family.__name__))
    return out


# -- methods ----------------------------------------------------------------------------------------------------


def oracle(source: np.ndarray, truth: np.ndarray, nodes: int = 17) -> np.ndarray:
    """A ``nodes``^3 table fitted from P to G(P) by averaging each pixel's displacement into its nearest node
    (empty nodes keep the identity), applied by trilinear interpolation: the best a smooth function of color
    learnt from this photo can do."""
    import torch
    from colorot.maps.lut import ColorLUT, identity_grid

    flat_source = source.reshape(-1, 3).astype(np.float64) / 255
    displacement = truth.reshape(-1, 3) / 255 - flat_source
    index = np.round(flat_source * (nodes - 1)).astype(int)
    cell = index[:, 0] + nodes * index[:, 1] + nodes * nodes * index[:, 2]
    sums = np.zeros((nodes ** 3, 3))
    counts = np.bincount(cell, minlength=nodes ** 3)
    for channel in range(3):
        sums[:, channel] = np.bincount(cell, weights=displacement[:, channel], minlength=nodes ** 3)
    mean = sums / np.maximum(counts, 1)[:, None]
    table = identity_grid(nodes).double().numpy() + mean
    lut = ColorLUT(torch.from_numpy(table.T.reshape(3, nodes, nodes, nodes)).float())
    return lut.apply_uint8(np.ascontiguousarray(source))


def methods(skip_slow: bool) -> dict:
    table = {
        "identity": lambda source, style: source,
        "colorot": lambda source, style: colorot.transfer(source, style, seed=0),
        "colorot look": lambda source, style: colorot.transfer(source, style, seed=0, method="look"),
        "colorot unbalanced": lambda source, style: colorot.transfer(source, style, seed=0, method="unbalanced"),
        "colorot refine 11": lambda source, style: colorot.transfer(source, style, seed=0, refine=11),
        "colorot reach inf": lambda source, style: colorot.transfer(source, style, reach=float("inf"),
                                                                    method="unbalanced"),
        "colorot sliced": lambda source, style: colorot.transfer(source, style, method="sliced"),
        "colorot mkl": lambda source, style: colorot.transfer(source, style, seed=0, method="mkl"),
        "colorot reinhard": lambda source, style: colorot.transfer(source, style, seed=0, method="reinhard"),
        "colorot histogram": lambda source, style: colorot.transfer(source, style, seed=0, method="histogram"),
        "skimage match_histograms": lambda source, style: np.clip(
            match_histograms(source, style, channel_axis=-1), 0, 255).round().astype(np.uint8),
    }
    if not skip_slow:
        table["colorot emd"] = lambda source, style: colorot.transfer(source, style, seed=0, method="emd")
    for name, method in peers().items():
        if name in ("cm-mkl", "cm-hm-mkl-hm", "cm-reinhard") or (name == "pct-idt" and not skip_slow):
            table[name] = method
    return table


def error(output: np.ndarray, truth: np.ndarray) -> float:
    return float(deltaE_ciede2000(rgb2lab(output), rgb2lab(truth)).mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=16, help="cases of each kind (same-scene, cross-scene)")
    parser.add_argument("--size", type=int, default=200, help="long side of the photos, in pixels")
    parser.add_argument("--seed", type=int, default=0, help="seed of the grades and the pairs")
    parser.add_argument("--skip-slow", action="store_true", help="leave out emd and python-color-transfer IDT")
    parser.add_argument("--photos", choices=("held-out", "samples"), default="held-out",
                        help="held-out: scikit-learn's and matplotlib's photos; samples: the repository's and "
                             "scikit-image's")
    parser.add_argument("--methods", default=None, help="comma-separated methods to run (default: all)")
    args = parser.parse_args()
    table = methods(args.skip_slow)
    if args.methods:
        table = {name: run for name, run in table.items() if name in args.methods.split(",") or name == "identity"}
    rows = []
    start = time.perf_counter()
    for number, (kind, name, source, style, truth, family) in enumerate(cases(photos(args.size, args.photos), args.cases,
                                                                               args.seed)):
        base = error(source, truth)
        results = {method: run(source, style) for method, run in table.items()}
        results["oracle"] = oracle(source, truth)
        for method, output in results.items():
            rows.append(dict(kind=kind, case=f"{number}: {name}", grade=family, method=method,
                             error=error(output, truth),
                             recovered=1 - error(output, truth) / base,
                             sw2=color_distance(output, style), structure=structure_similarity(output, source)))
    print(f"{len(rows) // (len(table) + 1)} cases at {args.size} px, seed {args.seed}, photos {args.photos}, "
          f"{time.perf_counter() - start:.0f} s")
    for kind in ("same-scene", "cross-scene"):
        _report([row for row in rows if row["kind"] == kind], kind)


def _report(rows: list, kind: str) -> None:
    by_case: dict = {}
    for row in rows:
        by_case.setdefault(row["case"] + row["grade"], []).append(row)
    contenders = [m for m in dict.fromkeys(row["method"] for row in rows) if m not in ("identity", "oracle")]
    wins = {method: 0 for method in contenders}
    for case_rows in by_case.values():
        best = min((row for row in case_rows if row["method"] in contenders), key=lambda row: row["error"])
        wins[best["method"]] += 1
    print(f"\n{kind}: {len(by_case)} cases")
    print(f"  {'method':<26} {'CIEDE2000':>9} {'recovered':>9} {'wins':>5} {'worse':>5} {'SW2':>7} {'structure':>9}")
    for method in dict.fromkeys(row["method"] for row in rows):
        mine = [row for row in rows if row["method"] == method]
        worse = sum(row["recovered"] < 0 for row in mine)
        print(f"  {method:<26} {statistics.mean(r['error'] for r in mine):9.2f} "
              f"{statistics.mean(r['recovered'] for r in mine):9.1%} {wins.get(method, '-'):>5} {worse:>5} "
              f"{statistics.mean(r['sw2'] for r in mine):7.4f} {statistics.mean(r['structure'] for r in mine):9.3f}")


if __name__ == "__main__":
    main()
