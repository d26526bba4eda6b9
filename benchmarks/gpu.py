"""colorot on a CUDA GPU: fit + apply of one 12 MP image, its stages, and batch throughput.

* ``colorot.transfer`` on a 12 MP uint8 tensor already on the GPU (fit + apply), median of
  ``--repeats`` runs, each timed from call to a synchronized result; the same on a numpy array
  (host -> device -> host copies included), and on the CPU of the same machine as the baseline;
* the same with ``refine=11`` (rounds of guided-filter regrain and re-transfer, coarse to fine, spatial);
* its stages: sampling the style, sampling the source + fitting the map, baking the LUT, applying it;
* throughput of batched calls (one map per image, fitted together): ``--batch`` 12 MP images,
  and 64 images of 1 MP, against calling once per image; 8 arrays of different sizes through
  ``ColorTransfer.transform_each`` (what ``colorot batch`` does on a GPU) against one ``transform`` each;
* a torch profiler table of one call (``--profile FILE``).

    python benchmarks/gpu.py [--repeats 20] [--batch 8] [--json FILE] [--profile FILE]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import numpy as np
import torch
from PIL import Image

import colorot
from colorot.estimator import ColorTransfer
from colorot.pixels import image_to_pixels
from colorot.maps.kernels import apply_table

from _common import load

WIDTH, HEIGHT = 4000, 3000  # 12 MP


def photo(name: str, width: int, height: int) -> np.ndarray:
    return np.asarray(Image.fromarray(load(name)).resize((width, height), Image.BICUBIC))


def to_tensor(array: np.ndarray, device: str) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(array)).permute(2, 0, 1).contiguous().to(device)


def synchronize() -> None:
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def timed(function, repeats: int) -> float:
    """Median wall time of ``function()``, the GPU synchronized before and after each run."""
    times = []
    for _ in range(repeats):
        synchronize()
        start = time.perf_counter()
        function()
        synchronize()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def stages(source: torch.Tensor, style: torch.Tensor, repeats: int) -> dict:
    """Median time of each stage of one transfer (the API's own steps, run one by one)."""
    fitter = ColorTransfer(seed=0).fit(style).fitter
    view = image_to_pixels(source, "source")
    generator = torch.Generator(device=source.device).manual_seed(0)
    state = {}

    def fit_map():
        state["steps"] = fitter.fit(fitter.sample(view, generator), generator, sources=[view])[0]

    def bake():
        state["lut"] = fitter.bake(state["steps"], 1.0)

    fit_map(), bake()
    return {
        "sample style (ms)": 1e3 * timed(lambda: ColorTransfer(seed=0).fit(style), repeats),
        "sample source + fit map (ms)": 1e3 * timed(fit_map, repeats),
        "bake 65^3 LUT (ms)": 1e3 * timed(bake, repeats),
        "apply LUT (ms)": 1e3 * timed(lambda: apply_table(state["lut"], view, fitter.device), repeats),
        "steps": len(state["steps"]) if hasattr(state["steps"], "__len__") else 1,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument("--profile", help="write a torch profiler table of one call to this file")
    parser.add_argument("--device", default="cuda", help="cuda (default), or cpu for a quick smoke run")
    parser.add_argument("--size", default=f"{WIDTH}x{HEIGHT}", help="WIDTHxHEIGHT of the large images")
    args = parser.parse_args()
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        raise SystemExit("no CUDA device: this benchmark needs one (or pass --device cpu)")
    width, height = (int(n) for n in args.size.split("x"))
    name = torch.cuda.get_device_name() if args.device.startswith("cuda") else "cpu"
    figures = {"device": name, "torch": torch.__version__, "size": args.size}
    print(f"device: {figures['device']}, torch {figures['torch']}")

    source_array, style_array = photo("astronaut", width, height), photo("coffee", width, height)
    source, style = to_tensor(source_array, args.device), to_tensor(style_array, args.device)
    for _ in range(10):  # warm-up: kernels, allocator, cuBLAS, clocks
        colorot.transfer(source, style, seed=0)

    figures["tensor on the device, fit + apply (ms)"] = 1e3 * timed(
        lambda: colorot.transfer(source, style, seed=0), args.repeats
    )
    figures["numpy array via the device, fit + apply (ms)"] = 1e3 * timed(
        lambda: colorot.transfer(source_array, style_array, seed=0, device=args.device), max(3, args.repeats // 4)
    )
    figures["numpy array on this machine's CPU (ms)"] = 1e3 * timed(
        lambda: colorot.transfer(source_array, style_array, seed=0, device="cpu"), 3
    )
    figures["cpu threads"] = torch.get_num_threads()
    colorot.transfer(source, style, seed=0, refine=11)
    figures["refine 11, tensor on the device (ms)"] = 1e3 * timed(
        lambda: colorot.transfer(source, style, seed=0, refine=11), max(3, args.repeats // 4)
    )
    figures.update(stages(source, style, args.repeats))

    batch = source.unsqueeze(0).expand(args.batch, -1, -1, -1).contiguous()
    colorot.transfer(batch, style, seed=0)
    batched = timed(lambda: colorot.transfer(batch, style, seed=0), max(3, args.repeats // 4))
    one_by_one = timed(lambda: [colorot.transfer(image, style, seed=0) for image in batch], 3)
    figures[f"batch of {args.batch} large (images/s)"] = args.batch / batched
    figures[f"{args.batch} large, one call each (images/s)"] = args.batch / one_by_one

    small = to_tensor(photo("astronaut", 1024, 1024), args.device).unsqueeze(0).expand(64, -1, -1, -1).contiguous()
    small_style = to_tensor(photo("coffee", 1024, 1024), args.device)
    colorot.transfer(small, small_style, seed=0)
    batched = timed(lambda: colorot.transfer(small, small_style, seed=0), max(3, args.repeats // 4))
    one_by_one = timed(lambda: [colorot.transfer(image, small_style, seed=0) for image in small], 2)
    figures["batch of 64 x 1 MP (images/s)"] = 64 / batched
    figures["64 x 1 MP one call each (images/s)"] = 64 / one_by_one

    # What colorot batch does with one map per photo on a GPU: 8 uint8 arrays of different sizes (~1 MP),
    # their maps fitted in one transform_each call, against one transform call each.
    arrays = [photo(name, 1155 + 16 * index, 866) for index, name in enumerate(["astronaut", "chelsea", "coffee",
                                                                                "rocket"] * 2)]
    model = colorot.ColorTransfer(seed=0, device=args.device).fit(style_array)
    model.transform_each(arrays)
    together = timed(lambda: model.transform_each(arrays), max(3, args.repeats // 4))
    each = timed(lambda: [model.transform(array) for array in arrays], 3)
    figures["8 arrays ~1 MP, transform_each (images/s)"] = 8 / together
    figures["8 arrays ~1 MP, transform one by one (images/s)"] = 8 / each
    if torch.cuda.is_available():
        figures["peak GPU memory (MB)"] = torch.cuda.max_memory_allocated() / 2**20

    for name, value in figures.items():
        print(f"{name:48s} {value:.2f}" if isinstance(value, float) else f"{name:48s} {value}")
    if args.json:
        with open(args.json, "w") as file:
            json.dump(figures, file, indent=1)
    if args.profile:
        from torch.profiler import ProfilerActivity, profile

        activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if torch.cuda.is_available() else [])
        with profile(activities=activities) as prof:
            colorot.transfer(source, style, seed=0)
            synchronize()
        with open(args.profile, "w") as file:
            averages = prof.key_averages()
            file.write(averages.table(sort_by="cuda_time_total" if torch.cuda.is_available() else "self_cpu_time_total", row_limit=30))
            file.write("\n\n")
            file.write(averages.table(sort_by="cpu_time_total", row_limit=30))


if __name__ == "__main__":
    main()
