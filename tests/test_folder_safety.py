"""Safe with real folders: two runs into one folder, signals, same names from different folders, outputs inside
the input tree, file modes, messages that name the file; and arrays and images from code in every byte order and
mode. Each with real processes, real folders and real signals."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import colorot
from colorot import ColorotError, io
from conftest import load_sample

COLOROT = [sys.executable, "-m", "colorot"]


def _photos(folder: Path, count: int, width: int = 96) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    base = load_sample("astronaut", width)
    for index in range(count):
        Image.fromarray(np.roll(base, 9 * index, axis=1)).save(folder / f"p{index:02d}.png")
    return folder


def _style(folder: Path) -> Path:
    Image.fromarray(load_sample("coffee", 96)).save(folder / "look.png")
    return folder / "look.png"


def _summary(stderr: str) -> dict:
    """The counts of the summary line: ``{"written": 3, "skipped": 0, "failed": 0, "not started": 37}``."""
    import re

    line = [line for line in stderr.splitlines() if " written, " in line][-1]
    return {word: int(number) for number, word in re.findall(r"(\d+) (written|skipped|failed|not started)", line)}


def test_two_runs_into_one_folder_write_each_file_once(tmp_path):
    photos, style = _photos(tmp_path / "photos", 12), _style(tmp_path)
    out = tmp_path / "out"
    command = [*COLOROT, "batch", str(style), str(photos), "--output-dir", str(out), "--seed", "0"]
    runs = [subprocess.Popen(command, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = [(run.wait(timeout=300), run.stderr.read()) for run in runs]
    summaries = [_summary(stderr) for _, stderr in results]
    assert sum(summary["written"] for summary in summaries) == 12  # exactly one run wrote each photo
    assert sorted(p.name for p in out.iterdir()) == [f"p{index:02d}.png" for index in range(12)]
    for (code, stderr), summary in zip(results, summaries):
        assert code == (1 if summary["failed"] else 0)
        assert all("exists" in line and "p" in line for line in stderr.splitlines() if line.startswith("colorot: error"))


def test_the_conflict_policy_is_kept_at_the_moment_of_writing(tmp_path):
    target = tmp_path / "photo.png"
    io.write_image(target, np.zeros((2, 2, 3), np.uint8), on_exists="fail")
    with pytest.raises(io.OutputExists, match="photo.png: output exists"):
        io.write_image(target, np.ones((2, 2, 3), np.uint8), on_exists="fail")
    assert io.write_image(target, np.ones((2, 2, 3), np.uint8), on_exists="rename") == tmp_path / "photo_1.png"
    assert colorot.read_image(target).pixels.max() == 0  # the first file stayed as it was
    assert sorted(p.name for p in tmp_path.iterdir()) == ["photo.png", "photo_1.png"]  # no temporary left


@pytest.mark.parametrize("signals, status", [((signal.SIGINT, signal.SIGINT, signal.SIGINT), 130),
                                             ((signal.SIGTERM, signal.SIGINT), 143)])
def test_signals_during_a_batch_leave_no_temporary_file_and_a_true_summary(tmp_path, signals, status):
    photos, style = _photos(tmp_path / "photos", 40, width=160), _style(tmp_path)
    out = tmp_path / "out"
    run = subprocess.Popen([*COLOROT, "batch", str(style), str(photos), "--output-dir", str(out), "--jobs", "2"],
                           stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not (out.exists() and any(p.suffix == ".png" for p in out.iterdir())) and time.monotonic() < deadline:
        time.sleep(0.05)
    for number in signals:
        run.send_signal(number)
        time.sleep(0.05)
    code, stderr = run.wait(timeout=120), run.stderr.read()
    assert code == status, stderr
    assert "Traceback" not in stderr and "terminate called" not in stderr
    written = [p for p in out.iterdir() if p.suffix == ".png"]
    assert [p.name for p in out.iterdir() if p.suffix != ".png"] == []  # no .tmp file
    summary = _summary(stderr)
    assert summary["written"] == len(written) and 0 < len(written) < 40
    assert summary["written"] + summary["not started"] == 40
    rerun = subprocess.run([*COLOROT, "batch", str(style), str(photos), "--output-dir", str(out), "--on-conflict",
                            "skip"], capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0 and len(list(out.iterdir())) == 40


def test_a_signal_before_grading_starts_ends_in_one_line_and_143(tmp_path):
    photos, style = _photos(tmp_path / "photos", 30, width=320), _style(tmp_path)
    run = subprocess.Popen([*COLOROT, "batch", str(style), str(photos), "--output-dir", str(tmp_path / "out"),
                            "--shared-map"], stderr=subprocess.PIPE, text=True)
    time.sleep(0.8)  # past the command's start, before the shared map is fitted
    run.send_signal(signal.SIGTERM)
    code, stderr = run.wait(timeout=120), run.stderr.read()
    assert code == 143, stderr
    assert "interrupted before any photo was graded" in stderr or " written, " in stderr
    assert "Traceback" not in stderr
    assert not (tmp_path / "out").exists() or all(p.suffix == ".png" for p in (tmp_path / "out").iterdir())


def test_a_folder_graded_into_itself_with_a_suffix_never_grades_its_outputs(tmp_path):
    photos, style = _photos(tmp_path / "photos", 2), _style(tmp_path)
    command = [*COLOROT, "batch", str(style), str(photos), "-r", "--output-dir", str(photos), "--suffix", "_g",
               "--on-conflict", "skip"]
    for _ in range(2):
        assert subprocess.run(command, capture_output=True, timeout=120).returncode == 0
    assert sorted(p.name for p in photos.iterdir()) == ["p00.png", "p00_g.png", "p01.png", "p01_g.png"]


def test_a_glob_mirrors_folders_below_its_fixed_part_and_skips_link_loops(tmp_path):
    style = _style(tmp_path)
    for card in ("a", "b"):
        _photos(tmp_path / "cards" / card / "DCIM", 1)
    os.symlink(tmp_path / "cards", tmp_path / "cards" / "a" / "loop")
    result = subprocess.run([*COLOROT, "batch", str(style), str(tmp_path / "cards" / "**" / "*.png"), "-r",
                             "--output-dir", str(tmp_path / "out")], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert sorted(str(p.relative_to(tmp_path / "out")) for p in (tmp_path / "out").rglob("*.png")) == \
        ["a/DCIM/p00.png", "b/DCIM/p00.png"]


def test_outputs_inside_the_input_tree_are_never_read_again(tmp_path):
    photos, style = _photos(tmp_path / "photos", 2), _style(tmp_path)
    command = [*COLOROT, "batch", str(style), str(photos), "-r", "--output-dir", str(photos / "graded"),
               "--on-conflict", "skip"]
    for _ in range(3):
        assert subprocess.run(command, capture_output=True, timeout=120).returncode == 0
    assert sorted(str(p.relative_to(photos)) for p in photos.rglob("*.png")) == \
        ["graded/p00.png", "graded/p01.png", "p00.png", "p01.png"]


def test_new_files_follow_the_umask_and_files_written_in_place_keep_their_mode(tmp_path):
    photo, style = _photos(tmp_path / "photos", 1) / "p00.png", _style(tmp_path)
    os.chmod(photo, 0o600)
    old = os.umask(0o027)
    try:
        result = subprocess.run([*COLOROT, "transfer", str(photo), str(style), "-o", str(tmp_path / "new.png")],
                                capture_output=True, timeout=120)
        assert result.returncode == 0
        result = subprocess.run([*COLOROT, "transfer", str(photo), str(style), "--in-place"], capture_output=True,
                                timeout=120)
        assert result.returncode == 0
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(tmp_path / "new.png").st_mode) == 0o640
    assert stat.S_IMODE(os.stat(photo).st_mode) == 0o600


def test_a_photo_graded_in_place_through_a_link_keeps_the_link(tmp_path):
    photo, style = _photos(tmp_path / "photos", 1) / "p00.png", _style(tmp_path)
    (tmp_path / "album").mkdir()
    link = tmp_path / "album" / "favourite.png"
    link.symlink_to(photo)
    before = photo.read_bytes()
    result = subprocess.run([*COLOROT, "transfer", str(link), str(style), "--in-place", "--method", "mkl"],
                            capture_output=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert link.is_symlink() and link.resolve() == photo.resolve() and photo.read_bytes() != before
    assert sorted(path.name for path in (tmp_path / "album").iterdir()) == ["favourite.png"]  # nothing left beside
    assert sorted(path.name for path in photo.parent.iterdir()) == ["p00.png"]
    written = io.atomic_write(link, lambda handle: handle.write(b"again"), on_exists="rename")
    assert written.name == "favourite_1.png" and link.is_symlink()  # a new name is never written through a link
    # any other output replaces a link of its name, never the file behind it (here the batch's own style)
    (tmp_path / "graded").mkdir()
    (tmp_path / "graded" / "p00.png").symlink_to(style)
    kept = style.read_bytes()
    result = subprocess.run([*COLOROT, "batch", str(style), str(photo), "--output-dir", str(tmp_path / "graded"),
                             "--on-conflict", "overwrite", "--method", "mkl"], capture_output=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert style.read_bytes() == kept and not (tmp_path / "graded" / "p00.png").is_symlink()


def test_a_video_gets_the_mode_of_a_new_file(tmp_path):
    pytest.importorskip("av")
    from test_apps_video import _make_clip

    clip = tmp_path / "clip.mp4"
    _make_clip(clip, load_sample("astronaut", 320), with_audio=False)
    cube = tmp_path / "warm.cube"
    cube.write_text("LUT_3D_SIZE 2\n" + "\n".join(f"{r} {g * 0.9} {b * 0.8}" for b in (0, 1) for g in (0, 1)
                                                  for r in (0, 1)) + "\n")
    old = os.umask(0o022)
    try:
        result = subprocess.run([*COLOROT, "video", str(clip), str(cube), "-o", str(tmp_path / "out.mp4")],
                                capture_output=True, text=True, timeout=120)
    finally:
        os.umask(old)
    assert result.returncode == 0, result.stderr
    assert stat.S_IMODE(os.stat(tmp_path / "out.mp4").st_mode) == 0o644


def test_a_folder_that_cannot_be_written_is_named_in_one_line(tmp_path, monkeypatch):
    import tempfile

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", refuse)  # as root, a read-only folder would still be written
    with pytest.raises(ColorotError, match=f"^{tmp_path}: cannot write into this folder \\(permission denied\\)$"):
        io.write_image(tmp_path / "out.png", np.zeros((2, 2, 3), np.uint8))


def test_batch_errors_name_the_photo(tmp_path):
    photos, style = _photos(tmp_path / "photos", 2), _style(tmp_path)
    (tmp_path / "out").mkdir()
    Image.fromarray(np.zeros((4, 4, 3), np.uint8)).save(tmp_path / "out" / "p01.png")
    result = subprocess.run([*COLOROT, "batch", str(style), str(photos), "--output-dir", str(tmp_path / "out")],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert f"{photos / 'p01.png'}: output exists at {tmp_path / 'out' / 'p01.png'}" in result.stderr
    result = subprocess.run([*COLOROT, "batch", str(style), str(photos), "--output-dir", str(photos)],
                            capture_output=True, text=True, timeout=120)
    assert f"refusing to overwrite its input {photos / 'p00.png'}" in result.stderr


@pytest.mark.parametrize("arguments", [
    ["transfer", "{photo}", "{style}", "-o", "{tmp}/out.xyz"],
    ["transfer", "{photo}", "{style}", "-o", "{tmp}/missing/out.png"],
    ["transfer", "{tmp}/missing.png", "{style}"],
    ["transfer", "{photo}", "{style}", "-o", "{style}"],
    ["batch", "{style}", "{photo}", "--output-dir", "{tmp}/out", "--format", "xyz"],
    ["video", "{tmp}/missing.mp4", "{style}"],
    ["video", "{photo}", "{style}", "-o", "{tmp}/out.xyz"],
    ["lut", "{style}", "-o", "{tmp}/missing/x.cube"],
    ["lut", "{style}", "-o", "{tmp}/x.xyz"],
    ["fit", "{style}", "{photo}", "-o", "{tmp}/out.xyz"],
    ["batch", "{tmp}/missing.png", "{photo}", "--output-dir", "{tmp}/out"],
])
def test_bad_paths_are_refused_before_any_photo_is_decoded_and_without_torch(tmp_path, arguments):
    photo, style = _photos(tmp_path / "photos", 1) / "p00.png", _style(tmp_path)
    arguments = [a.format(photo=photo, style=style, tmp=tmp_path) for a in arguments]
    script = ("import sys\nfrom colorot.cli import main\ntry:\n    main(sys.argv[1:])\n"
              "except SystemExit as end:\n    print('torch' in sys.modules, end.code)")
    result = subprocess.run([sys.executable, "-c", script, *arguments], capture_output=True, text=True, timeout=60)
    assert result.stdout.split() in (["False", "1"], ["False", "2"]), result.stderr
    assert not (tmp_path / "out").exists()
    assert len(result.stderr.strip().splitlines()) == 1 and result.stderr.startswith("colorot: error:")


# -- arrays and images from code -------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [">u2", ">f4", ">f8"])
def test_big_endian_arrays_give_the_same_values_in_the_same_byte_order(dtype, astronaut, coffee):
    scale = 65535 if dtype == ">u2" else 1 / 255
    native = (astronaut.astype(np.float64) * scale).astype(np.dtype(dtype).newbyteorder("="))
    swapped = native.astype(dtype)
    out = colorot.transfer(swapped, coffee, seed=0)
    assert out.dtype == np.dtype(dtype)
    assert np.array_equal(out, colorot.transfer(native, coffee, seed=0))


@pytest.mark.parametrize("mode", ["La", "I;16B", "I;16", "LA", "F"])
def test_gray_pil_modes_are_refused_never_cut_to_8_bits(mode, coffee):
    with pytest.raises(ColorotError, match=f"grayscale PIL image \\(mode {mode}\\)"):
        colorot.transfer(Image.new(mode, (8, 8)), coffee)


def test_pil_modes_of_8_bit_samples_are_converted(coffee):
    for mode in ("CMYK", "YCbCr", "P", "RGBa"):
        image = Image.fromarray(load_sample("astronaut", 32)).convert(mode)
        assert colorot.transfer(image, coffee, seed=0).mode in ("RGB", "RGBA")


def test_tensor_dtypes_are_those_the_readme_names(astronaut, coffee):
    tensor = torch.from_numpy(astronaut).permute(2, 0, 1)
    deep = (tensor.to(torch.int32) * 257).to(torch.uint16)
    out = colorot.transfer(deep, coffee, seed=0)
    assert out.dtype == torch.uint16
    as_array = colorot.transfer(astronaut.astype(np.uint16) * 257, coffee, seed=0)
    assert np.array_equal(out.permute(1, 2, 0).to(torch.int32).numpy(), as_array)  # as a uint16 array gives it
    for dtype in (torch.int32, torch.bool):
        with pytest.raises(ColorotError, match="use uint8 \\(0-255\\), uint16 \\(0-65535\\) or a floating dtype"):
            colorot.transfer(tensor.to(dtype), coffee)
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    assert "uint8, uint16 or floating" in readme and "any dtype" not in readme
