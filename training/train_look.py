"""Train colorot's look model from nothing and write the shipped weights.

    python training/train_look.py [--steps 3000] [--out colorot/learned/weights/look.safetensors] [--smoke]

1. fetches the licensed photos of ``photos.json`` with the package tools (``fetch_photos.py``), checksums verified;
2. trains :class:`colorot.learned.look.LookModel` on random grades of them (:mod:`colorot.learned.look_training`),
   deterministic given ``--seed``, on the CPU (2 cores: about 12 minutes, then 4 for the scene gate);
3. prints the held-out figures (the photos of ``HOLDOUT`` are never trained on), fits the scene gate on pairs of
   those held-out photos (:func:`colorot.learned.look_transfer.fit_scene_gate`: how the look behaves on photos it
   never saw) and writes the weights with the training's settings and the manifest's checksum in their header.

``--smoke`` is the tiny version CI runs: a few steps on two small photos, written to a temporary file.
The look-recovery figures of the issue come from ``benchmarks/look_recovery.py`` run afterwards.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from fetch_photos import MANIFEST, fetch  # noqa: E402

#: Photos never trained on: the held-out figure printed during training.
HOLDOUT = ("picosdeeuropa_by_Aitzol_Berasategi.jpg", "tmshre_riaphotographs_srgb8.png", "coffee.png")


def decode(path: str, side: int) -> np.ndarray:
    with Image.open(path) as image:
        image = image.convert("RGB")
        image.thumbnail((side, side), Image.LANCZOS)
        return np.asarray(image)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=HERE / "data")
    parser.add_argument("--out", type=Path, default=HERE.parent / "colorot" / "learned" / "weights" / "look.safetensors")
    parser.add_argument("--steps", type=int, default=3000, help="optimizer steps (2 CPU cores: about 13 minutes)")
    parser.add_argument("--minutes", type=float, default=None, help="stop after this time instead (not reproducible)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--side", type=int, default=640, help="photos are decoded at this long side")
    parser.add_argument("--smoke", action="store_true", help="a tiny run (CI): 2 small photos, a few steps")
    parser.add_argument("--gate-only", type=Path, default=None, metavar="WEIGHTS",
                        help="keep the network of this weights file and refit the scene gate only")
    args = parser.parse_args()
    from colorot.learned.look_training import train_look
    from colorot.learned.look_transfer import fit_scene_gate

    if args.smoke:
        from skimage import data as skdata
        rng = np.random.default_rng(0)
        photos = [skdata.astronaut()[::8, ::8], skdata.chelsea()[::4, ::4]]
        validation = [skdata.rocket()[::8, ::8], (rng.random((32, 32, 3)) * 255).astype(np.uint8)]
        model = train_look(photos, steps=30, batch=8, n_colors=256, hidden=32, validation=validation,
                           report_every=10, seed=args.seed)
        fit_scene_gate(model, validation, pairs=8, n_colors=512, seed=args.seed + 1)
        print(f"wrote {model.save(args.out, {'training': {'smoke': True}})}")
        return
    entries = fetch(args.data)
    start = time.perf_counter()
    train = [decode(e["local"], args.side) for e in entries if Path(e["path"]).name not in HOLDOUT]
    held = [decode(e["local"], args.side) for e in entries if Path(e["path"]).name in HOLDOUT]
    print(f"{len(train)} photos to train on, {len(held)} held out; decoded in {time.perf_counter() - start:.1f} s")
    if args.gate_only:  # the network of an earlier run, kept, with its training settings
        from colorot.learned.look import load_look
        model = load_look(args.gate_only, partial=True)
        settings = model.metadata["training"]
    else:
        model = train_look(train, steps=args.steps, validation=held, seed=args.seed,
                           time_limit=None if args.minutes is None else args.minutes * 60, report_every=250)
        settings = {"seed": args.seed, "steps": args.steps, "minutes": args.minutes, "side": args.side,
                    "photos": len(train), "holdout": list(HOLDOUT),
                    "manifest_sha256": hashlib.sha256(MANIFEST.read_bytes()).hexdigest(), "torch": torch.__version__}
    gate_start = time.perf_counter()
    # The gate weighs the look against the transport as they behave on photos the network never saw: the held-out.
    fit_scene_gate(model, [decode(e["local"], 320) for e in entries if Path(e["path"]).name in HOLDOUT],
                   seed=args.seed + 1)
    print(f"scene gate fitted in {time.perf_counter() - gate_start:.0f} s")
    out = model.save(args.out, {"training": settings})
    print(f"wrote {out} ({out.stat().st_size / 1e6:.2f} MB) in {(time.perf_counter() - start) / 60:.1f} min")


if __name__ == "__main__":
    main()
