"""Train the shipped style-conditioned generator (colorot/weights/conditioned.safetensors).

Training photos: three of the samples (astronaut, chelsea, coffee) and three
photos bundled with scikit-image (the left motorcycle view, the
immunohistochemistry slide, the retina), every one under random color grades.
``rocket`` and ``hubble`` are held out: the benchmark ``generator.py``
reports the model on pairs that involve them.

    python benchmarks/train_conditioned.py --steps 4000 --device cuda

The result is deterministic for a seed on one device.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch
from _common import load

from colorot.learned.conditioned import PRETRAINED, train_conditioned

TRAINING = ["astronaut", "chelsea", "coffee"]
HELD_OUT = ["rocket", "hubble"]


def training_photos() -> list[np.ndarray]:
    from skimage import data

    photos = [load(name) for name in TRAINING]
    photos += [data.stereo_motorcycle()[0], data.immunohistochemistry(), data.retina()]
    return photos


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=4000)
    parser.add_argument("--pairs", type=int, default=16, help="pairs per step")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("-o", "--output", type=Path, default=PRETRAINED)
    args = parser.parse_args()
    start = time.perf_counter()
    losses = []

    def progress(step: int, loss: float) -> None:
        losses.append(loss)
        if step % 500 == 0:
            print(f"step {step}: loss {np.mean(losses[-100:]):.5f} ({time.perf_counter() - start:.0f} s)", flush=True)

    model = train_conditioned(training_photos(), n_steps=args.steps, pairs_per_step=args.pairs, seed=args.seed,
                              device=args.device, progress=progress)
    path = model.save(args.output, {"trained_on": TRAINING + ["motorcycle_left", "immunohistochemistry", "retina"],
                                    "steps": len(losses), "seed": args.seed})
    print(f"wrote {path} ({path.stat().st_size / 1024:.0f} KB) in {time.perf_counter() - start:.0f} s; "
          f"loss first 100 {np.mean(losses[:100]):.5f}, last 100 {np.mean(losses[-100:]):.5f}")


if __name__ == "__main__":
    torch.set_num_threads(max(torch.get_num_threads(), 1))
    main()
