"""Helpers shared by the benchmarks: sample photos and peer methods (optional)."""

from __future__ import annotations

import itertools
import statistics
import time
from pathlib import Path

import numpy as np
from PIL import Image

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
NAMES = ["astronaut", "chelsea", "coffee", "rocket", "hubble"]


def load(name: str) -> np.ndarray:
    return np.asarray(Image.open(SAMPLES / f"{name}.jpg").convert("RGB"))


def ordered_pairs():
    return list(itertools.permutations(NAMES, 2))


def median_time(function, repeats: int = 5) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def peers() -> dict:
    """Peer methods that are installed (``pip install -e ".[bench]"``), as uint8 RGB -> uint8 RGB."""
    methods = {}
    try:
        from python_color_transfer.color_transfer import ColorTransfer as PCT

        pct = PCT()
        methods["pct-idt"] = lambda s, t: pct.pdf_transfer(img_arr_in=s[..., ::-1], img_arr_ref=t[..., ::-1],
                                                         regrain=False)[..., ::-1]
        methods["pct-idt-regrain"] = lambda s, t: pct.pdf_transfer(img_arr_in=s[..., ::-1], img_arr_ref=t[..., ::-1],
                                                                 regrain=True)[..., ::-1]
    except ImportError:
        pass
    try:
        from color_matcher import ColorMatcher

        matcher = ColorMatcher()

        def color_matcher(method, scale=1.0):
            def run(s, t):  # reinhard works on [0, 1] values (its Lab conversion), the others on any range
                out = matcher.transfer(src=s.astype(np.float64) / scale, ref=t.astype(np.float64) / scale,
                                       method=method) * scale
                return np.clip(out, 0, 255).round().astype(np.uint8)
            return run

        methods["cm-hm-mkl-hm"] = color_matcher("hm-mkl-hm")
        methods["cm-mkl"] = color_matcher("mkl")
        methods["cm-reinhard"] = color_matcher("reinhard", 255.0)
    except ImportError:
        pass
    try:
        import ot

        def emd(s, t, n=1000, seed=0):
            rng = np.random.default_rng(seed)
            xs = s.reshape(-1, 3)[rng.choice(s.shape[0] * s.shape[1], n)] / 255.0
            xt = t.reshape(-1, 3)[rng.choice(t.shape[0] * t.shape[1], n)] / 255.0
            mapping = ot.da.EMDTransport().fit(Xs=xs, Xt=xt)
            out = mapping.transform(Xs=s.reshape(-1, 3) / 255.0, batch_size=100_000)
            return (np.clip(out, 0, 1).reshape(s.shape) * 255).round().astype(np.uint8)

        methods["pot-emd-1000"] = emd
    except ImportError:
        pass
    return methods
