"""The learned generators against the iterative engine: quality, amortization, consistency.

1. Per-style generator, held-out photos. For each ordered pair of samples
   (source photo, style), the "shoot" is the source photo's left 60%: the
   generator is trained on six random crops of it, then graded on the right
   40%, which it never saw. Compared with the engine fitted on that held-out
   part itself (``colorot.transfer``) and with the engine's shared map fitted
   on the same six crops (``ColorTransfer.fit(style, sources=crops)``).
2. Amortization at 12 MP: applying a trained generator (its table baked once
   when loaded) against fitting and applying the engine, medians.
3. Consistency over 50 photos (crops of the samples): how much the output of
   fixed probe colors varies from photo to photo, per-photo engine fits
   against one generator.
4. The shipped style-conditioned generator on pairs involving the two photos
   held out of its training (rocket, hubble), against the engine.

    python benchmarks/generator.py [--device cuda] [--steps 1500] [--pairs N]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from _common import NAMES, load, median_time, ordered_pairs
from PIL import Image

import colorot
from colorot.apps import looks
from colorot.api import apply_lut
from colorot.measures.metrics import color_distance, structure_similarity


def crops(image: np.ndarray, count: int, rng: np.random.Generator, width_fraction=0.6) -> list[np.ndarray]:
    height, width = image.shape[:2]
    region = int(width * width_fraction)
    out = []
    for _ in range(count):
        h, w = rng.integers(height // 2, height + 1), rng.integers(region // 2, region + 1)
        top, left = rng.integers(0, height - h + 1), rng.integers(0, region - w + 1)
        out.append(image[top:top + h, left:left + w])
    return out


def quality(args) -> None:
    print("1. per-style generator on held-out photos (right 40% of each source; trained on 6 crops of the left 60%)")
    print(f"{'source':10s} {'style':10s} {'gen SW':>8s} {'struct':>7s} {'engine SW':>9s} {'struct':>7s} "
          f"{'shared SW':>9s} {'struct':>7s} {'train s':>7s}")
    rows = []
    for source_name, style_name in ordered_pairs()[: args.pairs]:
        source, style = load(source_name), load(style_name)
        rng = np.random.default_rng(0)
        shoot = crops(source, 6, rng)
        held_out = source[:, int(source.shape[1] * 0.6):]
        start = time.perf_counter()
        model = colorot.train_generator(style, shoot, n_steps=args.steps, seed=0, device=args.device)
        seconds = time.perf_counter() - start
        ours = apply_lut(model.to_lut(65), held_out)
        engine = colorot.transfer(held_out, style, seed=0, device=args.device)
        shared = colorot.ColorTransfer(seed=0, device=args.device).fit(style, sources=shoot).transform(held_out)
        row = [f(out) for out in (ours, engine, shared)
               for f in (lambda o: color_distance(o, style), lambda o: structure_similarity(o, held_out))]
        rows.append(row + [seconds])
        print(f"{source_name:10s} {style_name:10s} {row[0]:8.4f} {row[1]:7.3f} {row[2]:9.4f} {row[3]:7.3f} "
              f"{row[4]:9.4f} {row[5]:7.3f} {seconds:7.1f}", flush=True)
    table = np.array(rows)
    ratio = table[:, 0] / table[:, 2]
    ratio_shared = table[:, 0] / table[:, 4]
    print(f"medians: generator SW {np.median(table[:, 0]):.4f} structure {np.median(table[:, 1]):.3f}; "
          f"engine {np.median(table[:, 2]):.4f} / {np.median(table[:, 3]):.3f}; "
          f"shared engine {np.median(table[:, 4]):.4f} / {np.median(table[:, 5]):.3f}; training {np.median(table[:, 6]):.1f} s")
    print(f"generator SW / engine SW: median {np.median(ratio):.2f}, pairs within 1.2x at structure >= 0.985: "
          f"{int(((ratio <= 1.2) & (table[:, 1] >= 0.985)).sum())}/{len(ratio)}; "
          f"/ shared engine SW: median {np.median(ratio_shared):.2f}, within 1.2x: {int((ratio_shared <= 1.2).sum())}")


def amortization(args) -> None:
    print("\n2. amortization on a 12 MP photo (uint8 array)")
    source = np.asarray(Image.fromarray(load("astronaut")).resize((4000, 3000), Image.BICUBIC))
    style = load("coffee")
    model = colorot.train_generator(style, [load("astronaut")], n_steps=args.steps, seed=0, device=args.device)
    path = model.save(args.scratch / "look.safetensors")
    table = model.to_lut(65)

    def sync():
        if args.device.startswith("cuda"):
            torch.cuda.synchronize()

    def engine():
        colorot.transfer(source, style, seed=0, device=args.device)
        sync()

    def apply_only():
        apply_lut(table, source, device=args.device)
        sync()

    def load_and_apply():
        apply_lut(looks.load_lut(path, device=args.device), source, device=args.device)
        sync()

    engine(), apply_only(), load_and_apply()  # warm-up
    times = {name: median_time(f, args.repeats) for name, f in
             (("engine", engine), ("apply", apply_only), ("load+apply", load_and_apply))}
    print(f"array: engine fit+apply median {times['engine']:.4f} s; generator apply {times['apply']:.4f} s "
          f"({times['engine'] / times['apply']:.1f}x faster); load file+bake+apply {times['load+apply']:.4f} s "
          f"({times['engine'] / times['load+apply']:.1f}x faster)")
    if not args.device.startswith("cuda"):  # a generator grading many 8-bit photos tabulates its map once
        dense = model.to_lut(65)

        def tabulate_once():
            dense.dense = None  # forget the previous repeat's table
            dense.densify()

        tabulate = median_time(tabulate_once, 3)

        def apply_dense():
            apply_lut(dense, source)

        apply_dense()
        dense_time = median_time(apply_dense, args.repeats)
        print(f"array, table tabulated at every 8-bit color once ({tabulate:.3f} s): generator apply "
              f"{dense_time:.4f} s ({times['engine'] / dense_time:.1f}x faster than the engine)")
    if args.device.startswith("cuda"):  # the images already on the GPU: no host transfers in the timings
        source = torch.from_numpy(source).permute(2, 0, 1)[None].to(args.device).float() / 255
        style = torch.from_numpy(style).permute(2, 0, 1)[None].to(args.device).float() / 255
        engine(), apply_only()
        times = {name: median_time(f, args.repeats) for name, f in (("engine", engine), ("apply", apply_only))}
        print(f"CUDA tensor: engine fit+apply median {times['engine'] * 1e3:.1f} ms; generator apply "
              f"{times['apply'] * 1e3:.1f} ms ({times['engine'] / times['apply']:.1f}x faster)")


def consistency(args) -> None:
    print("\n3. consistency over 50 photos (crops of the five samples), style coffee")
    rng = np.random.default_rng(1)
    photos = [crop for name in NAMES for crop in crops(load(name), 10, rng, width_fraction=1.0)]
    style = load("coffee")
    start = time.perf_counter()
    model = colorot.train_generator(style, photos, n_steps=args.steps, seed=0, device=args.device)
    trained = time.perf_counter() - start
    probes = np.random.default_rng(2).random((1, 4096, 3)).astype(np.float32)
    table = model.to_lut(65)
    start = time.perf_counter()
    for photo in photos:
        apply_lut(table, photo, device=args.device)
    graded = time.perf_counter() - start
    engine_outputs = []
    start = time.perf_counter()
    for photo in photos:
        lut = colorot.ColorTransfer(seed=0, device=args.device).fit(style, sources=[photo]).lut_
        engine_outputs.append(apply_lut(lut, probes))
    engine_seconds = time.perf_counter() - start
    spread = np.stack(engine_outputs).std(axis=0).mean() * 255
    generator_spread = np.stack([apply_lut(table, probes) for _ in photos]).std(axis=0).mean() * 255
    print(f"generator: trained once in {trained:.1f} s, 50 photos graded in {graded:.2f} s; "
          f"engine per photo: 50 fits in {engine_seconds:.1f} s")
    print(f"std of a probe color's output across the 50 photos (8-bit codes): engine per photo {spread:.2f}, "
          f"generator {generator_spread:.2f}")


def conditioned(args) -> None:
    from colorot.learned.conditioned import load_pretrained

    print("\n4. shipped style-conditioned generator (trained without rocket and hubble) on pairs involving them")
    load_pretrained()
    rows = []
    for source_name, style_name in ordered_pairs():
        if not {"rocket", "hubble"} & {source_name, style_name}:
            continue
        source, style = load(source_name), load(style_name)
        start = time.perf_counter()
        ours = colorot.transfer(source, style, method="conditioned", seed=0, device=args.device)
        seconds = time.perf_counter() - start
        engine = colorot.transfer(source, style, seed=0, device=args.device)
        row = [color_distance(source, style)] + [f(out) for out in (ours, engine) for f in
                                                 (lambda o: color_distance(o, style),
                                                  lambda o: structure_similarity(o, source))] + [seconds]
        rows.append(row)
        print(f"{source_name:10s} {style_name:10s} source SW {row[0]:.4f}  conditioned {row[1]:.4f} / {row[2]:.3f}  "
              f"engine {row[3]:.4f} / {row[4]:.3f}", flush=True)
    table = np.array(rows)
    print(f"medians over {len(rows)} pairs: source SW {np.median(table[:, 0]):.4f}; conditioned SW "
          f"{np.median(table[:, 1]):.4f} structure {np.median(table[:, 2]):.3f}; engine SW {np.median(table[:, 3]):.4f} "
          f"structure {np.median(table[:, 4]):.3f}; conditioned / engine SW median "
          f"{np.median(table[:, 1] / table[:, 3]):.2f}; distance removed: conditioned "
          f"{np.median(1 - table[:, 1] / table[:, 0]):.0%}, engine {np.median(1 - table[:, 3] / table[:, 0]):.0%}")


def main() -> None:
    import tempfile
    from pathlib import Path

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--pairs", type=int, default=20, help="how many of the 20 sample pairs in part 1")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--parts", default="1234")
    args = parser.parse_args()
    args.scratch = Path(tempfile.mkdtemp())
    print(f"device {args.device}, torch {torch.__version__}, {torch.get_num_threads()} threads")
    for part, function in zip("1234", (quality, amortization, consistency, conditioned)):
        if part in args.parts:
            function(args)


if __name__ == "__main__":
    main()
