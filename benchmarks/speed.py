"""Speed and memory of colorot at 12 MP on this machine, against its peers, in one run.

* ``colorot.transfer`` on a 12 MP uint8 array (fit + apply), median of several runs, beside the transport
  alone (``method="unbalanced"``, v0.2's default) and with ``refine=11`` (the spatial quality mode);
* color-matcher's ``mkl`` and python-color-transfer's IDT on the same arrays (when installed);
* the CLI on a 12 MP JPEG (decode, fit, apply, encode) against a bare ``python -c "import torch"``,
  each a fresh process, with the CLI's peak resident memory; optionally against another checkout's CLI
  (``--baseline DIR``, e.g. ``git worktree add /tmp/v0.2 <commit>``), run in turn in the same loop.

colorot's modules are compiled to bytecode first, as an installed package has them (an environment with
``PYTHONDONTWRITEBYTECODE`` set would otherwise compile every module in every process: about 0.1 s).

    python benchmarks/speed.py [--repeats 5] [--skip-slow-peers] [--baseline DIR [--baseline-method NAME]]
"""

from __future__ import annotations

import argparse
import compileall
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

import colorot
import torch

from _common import load, median_time, peers

WIDTH, HEIGHT = 4000, 3000  # 12 MP


def make_12mp(name: str) -> np.ndarray:
    return np.asarray(Image.fromarray(load(name)).resize((WIDTH, HEIGHT), Image.BICUBIC))


_LAUNCHER = (
    "import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True, capture_output=True); "
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
)


def process_times(commands: dict, repeats: int, env: dict | None = None, cwd: Path | None = None) -> dict:
    """Median wall time of each command as a fresh process, the commands run in turn (``A B C A B C ...``) so that
    a drift of the machine's speed moves them alike. ``commands``: name -> (argv, environment additions). Run in
    ``cwd`` (a folder without a ``colorot`` of its own: ``python -m`` looks in the working folder first, before
    ``PYTHONPATH``)."""
    times: dict = {name: [] for name in commands}
    for _ in range(repeats):
        for name, (command, extra) in commands.items():
            start = time.perf_counter()
            subprocess.run(command, check=True, capture_output=True, env={**(env or os.environ), **extra}, cwd=cwd)
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in times.items()}


def peak_memory(command: list[str], env: dict | None = None, cwd: Path | None = None) -> float:
    """Peak resident memory of ``command`` in MB, read by a small launcher process: a child forked straight from
    this (large) benchmark process would start its peak-memory count at this process's size."""
    launched = subprocess.run([sys.executable, "-c", _LAUNCHER, *command], check=True, capture_output=True,
                              text=True, env=env, cwd=cwd)
    return int(launched.stdout.strip()) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--skip-slow-peers", action="store_true")
    parser.add_argument("--baseline", type=Path, default=None,
                        help="another checkout of colorot whose CLI is timed in the same loop")
    parser.add_argument("--baseline-method", default=None, help="the baseline's --method [default: its default]")
    parser.add_argument("--cli-only", action="store_true", help="time the command line only (not the arrays)")
    args = parser.parse_args()
    package = Path(colorot.__file__).parent
    for root in [package] + ([args.baseline / "colorot"] if args.baseline else []):
        compileall.compile_dir(str(root), quiet=1)
    source, style = make_12mp("astronaut"), make_12mp("coffee")
    print(f"images: {WIDTH}x{HEIGHT} uint8, torch threads: {torch.get_num_threads()}")

    if not args.cli_only:
        colorot.transfer(source, style, seed=0)  # warm-up
        ours = median_time(lambda: colorot.transfer(source, style, seed=0), args.repeats)
        print(f"colorot.transfer (array, 12 MP)     median {ours:.3f} s")
        transport = median_time(lambda: colorot.transfer(source, style, seed=0, method="unbalanced"), args.repeats)
        print(f"  method='unbalanced' (v0.2 default) median {transport:.3f} s   (the default takes {ours / transport:.2f}x)")
        refined = median_time(lambda: colorot.transfer(source, style, seed=0, refine=11), max(3, args.repeats // 2))
        print(f"  the same with refine=11           median {refined:.3f} s   ({refined / ours:.1f}x the default)")
        available = peers()
        if "cm-mkl" in available:
            mkl = median_time(lambda: available["cm-mkl"](source, style), max(3, args.repeats // 2))
            print(f"color-matcher mkl (array, 12 MP)    median {mkl:.3f} s   -> colorot is {mkl / ours:.1f}x faster")
        if "pct-idt" in available and not args.skip_slow_peers:
            idt = median_time(lambda: available["pct-idt"](source, style), 1)
            print(f"python-color-transfer IDT (12 MP)   once   {idt:.3f} s   -> colorot is {idt / ours:.1f}x faster")

    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        Image.fromarray(source).save(folder / "photo.jpg", quality=92)
        Image.fromarray(style).save(folder / "look.jpg", quality=92)
        env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
        command = [sys.executable, "-m", "colorot", "transfer", str(folder / "photo.jpg"), str(folder / "look.jpg"),
                   "-o", str(folder / "out.jpg"), "--seed", "0"]
        commands = {"bare": ([sys.executable, "-c", "import torch"], {}), "cli": (command, {}),
                    "transport": (command + ["--method", "unbalanced"], {})}
        if args.baseline:
            method = ["--method", args.baseline_method] if args.baseline_method else []
            commands["baseline"] = (command + method, {"PYTHONPATH": str(args.baseline.resolve())})
            where = subprocess.run([sys.executable, "-c", "import colorot; print(colorot.__file__)"], check=True,
                                   capture_output=True, text=True, cwd=folder,
                                   env={**env, **commands["baseline"][1]}).stdout.strip()
            if not where.startswith(str(args.baseline.resolve())):
                raise SystemExit(f"the baseline runs {where}, not the checkout in {args.baseline}")
        medians = process_times(commands, args.repeats, env, folder)
        bare, cli = medians["bare"], medians["cli"]
        print(f"bare 'import torch' process         median {bare:.3f} s")
        print(f"colorot transfer CLI (12 MP JPEG)   median {cli:.3f} s   -> {cli - bare:.3f} s beyond import torch")
        print(f"  the same with --method unbalanced median {medians['transport']:.3f} s   -> "
              f"{medians['transport'] - bare:.3f} s beyond import torch")
        if args.baseline:
            beyond = medians["baseline"] - bare
            print(f"  baseline {args.baseline} median {medians['baseline']:.3f} s   -> {beyond:.3f} s beyond import"
                  f" torch (the CLI takes {(cli - bare) / beyond:.2f}x of it)")
        print(f"peak resident memory of the CLI process          {peak_memory(command, env, folder):.0f} MB")
        refined = process_times({"refined": (command + ["--refine", "11"], {})}, max(3, args.repeats // 2), env, folder)
        print(f"  the same with --refine 11         median {refined['refined']:.3f} s   -> "
              f"{refined['refined'] - bare:.3f} s beyond import torch, peak "
              f"{peak_memory(command + ['--refine', '11'], env, folder):.0f} MB")


if __name__ == "__main__":
    main()
