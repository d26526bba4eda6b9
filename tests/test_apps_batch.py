"""colorot batch: folders, bad files, resuming, interruption, shared maps."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from colorot.maps.dense import DENSIFY_FROM
from click.testing import CliRunner
from PIL import Image

from colorot.cli import main
from conftest import load_sample

FAST = ["--seed", "0", "--method", "unbalanced"]  # the transport: it always moves colors toward the style


def _tree(root: Path) -> Path:
    """photos/a.jpg, photos/b.png, photos/day2/c.jpg, a corrupt JPEG and a text file; and a style."""
    photos = root / "photos"
    (photos / "day2").mkdir(parents=True)
    Image.fromarray(load_sample("astronaut", 96)).save(photos / "a.jpg", quality=92)
    Image.fromarray(load_sample("chelsea", 96)).save(photos / "b.png")
    Image.fromarray(load_sample("rocket", 96)).save(photos / "day2" / "c.jpg", quality=92)
    (photos / "day2" / "broken.jpg").write_bytes((photos / "a.jpg").read_bytes()[:300])
    (photos / "notes.txt").write_text("not a photo")
    Image.fromarray(load_sample("coffee", 96)).save(root / "look.png")
    return photos


def _run(*args):
    return CliRunner().invoke(main, ["batch", *map(str, args)])


def test_a_tree_with_bad_files_grades_the_good_ones_and_resumes(tmp_path):
    photos = _tree(tmp_path)
    out = tmp_path / "graded"
    result = _run(tmp_path / "look.png", photos, "-r", "--output-dir", out, "--json", tmp_path / "m.json", *FAST)
    assert result.exit_code == 1
    assert "broken.jpg" in result.output and "2 written" not in result.output and "3 written" in result.output
    written = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    assert written == ["a.jpg", "b.png", "day2/c.jpg"]  # the tree is mirrored; notes.txt is not an image
    manifest = json.loads((tmp_path / "m.json").read_text())
    statuses = {Path(f["input"]).name: f["status"] for f in manifest["files"]}
    assert statuses == {"a.jpg": "written", "b.png": "written", "c.jpg": "written", "broken.jpg": "failed"}
    assert all(f["sw2_to_style"] > 0 for f in manifest["files"] if f["status"] == "written")
    stamps = {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()}
    again = _run(tmp_path / "look.png", photos, "-r", "--output-dir", out, "--on-conflict", "skip", *FAST)
    assert "0 written, 3 skipped, 1 failed" in again.output
    assert stamps == {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()}  # nothing rewritten
    refused = _run(tmp_path / "look.png", photos / "a.jpg", "--output-dir", out, *FAST)
    assert refused.exit_code == 1 and "output exists" in refused.output
    renamed = _run(tmp_path / "look.png", photos / "a.jpg", "--output-dir", out, "--on-conflict", "rename", *FAST)
    assert renamed.exit_code == 0 and (out / "a_1.jpg").exists()


def test_inputs_from_stdin_globs_and_a_never_overwritten_input(tmp_path):
    photos = _tree(tmp_path)
    listing = f"{photos / 'a.jpg'}\n{photos / 'b.png'}\n"
    result = CliRunner().invoke(main, ["batch", str(tmp_path / "look.png"), "-", "--output-dir",
                                       str(tmp_path / "o"), "--format", "png"], input=listing)
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "o").iterdir()) == ["a.png", "b.png"]
    result = _run(tmp_path / "look.png", str(photos / "*.jpg"), "--output-dir", photos, *FAST)
    assert result.exit_code == 1 and "overwrite its input" in result.output


def test_shared_map_gives_every_photo_the_same_map(tmp_path):
    photo = load_sample("astronaut", 96)
    folder = tmp_path / "in"
    folder.mkdir()
    Image.fromarray(photo).save(folder / "full.png")
    Image.fromarray(np.ascontiguousarray(photo[:, :40])).save(folder / "crop.png")  # other statistics
    Image.fromarray(load_sample("coffee", 96)).save(tmp_path / "look.png")
    for flag, name in (("--shared-map", "shared"), (None, "each")):
        args = [tmp_path / "look.png", folder, "--output-dir", tmp_path / name, *FAST] + ([flag] if flag else [])
        assert _run(*args).exit_code == 0
    same = {name: np.asarray(Image.open(tmp_path / name / "full.png"))[:, :40].astype(int)
            - np.asarray(Image.open(tmp_path / name / "crop.png")).astype(int) for name in ("shared", "each")}
    assert np.abs(same["shared"]).max() == 0  # the same colors get the same output in both photos
    assert np.abs(same["each"]).mean() > 1  # one map per photo: they differ


def test_a_look_fitted_on_a_shoot_grades_it_as_the_shared_map_does(tmp_path):
    # colorot fit on a shoot and colorot batch --shared-map on it fit the same map (photos sampled from
    # reduced JPEG decodes, n_samples colors in all), so applying the saved look gives the same files.
    from colorot.measures.metrics import color_distance

    photos = tmp_path / "shoot"
    photos.mkdir()
    for index, name in enumerate(("astronaut", "chelsea", "rocket") * 3):
        Image.fromarray(np.roll(load_sample(name, 320), index * 37, axis=1)).save(photos / f"p{index}.jpg", quality=92)
    style = load_sample("coffee", 96)
    Image.fromarray(style).save(tmp_path / "style.png")
    sources = sorted(map(str, photos.glob("*.jpg")))
    assert len(sources) >= DENSIFY_FROM
    look = tmp_path / "shoot.npz"
    assert CliRunner().invoke(main, ["fit", str(tmp_path / "style.png"), *sources, "-o", str(look), *FAST]).exit_code == 0
    assert _run(look, photos, "--output-dir", tmp_path / "looked").exit_code == 0
    assert _run(tmp_path / "style.png", photos, "--output-dir", tmp_path / "shared", "--shared-map", "--jobs", "2",
                *FAST).exit_code == 0
    # --json measures each result and changes none of them.
    assert _run(tmp_path / "style.png", photos, "--output-dir", tmp_path / "measured", "--shared-map",
                "--json", tmp_path / "m.json", *FAST).exit_code == 0
    manifest = {Path(entry["input"]).name: entry for entry in json.loads((tmp_path / "m.json").read_text())["files"]}
    gaps = []
    for source in sources:
        name = Path(source).name
        looked = np.asarray(Image.open(tmp_path / "looked" / name))
        assert np.array_equal(looked, np.asarray(Image.open(tmp_path / "shared" / name)))
        assert np.array_equal(looked, np.asarray(Image.open(tmp_path / "measured" / name)))
        assert np.abs(looked.astype(int) - np.asarray(Image.open(source)).astype(int)).mean() > 5  # it was graded
        # the figure is the graded photo's distance to the style (measured before JPEG encoding)
        written = np.asarray(Image.open(tmp_path / "measured" / name))
        assert abs(manifest[name]["sw2_to_style"] - color_distance(written, style)) < 0.003
        gaps.append(abs(manifest[name]["sw2_to_style"] - color_distance(np.asarray(Image.open(source)), style)))
    assert max(gaps) > 0.01  # and not the photo's own distance


def test_an_interrupted_run_leaves_no_partial_file_and_resumes(tmp_path):
    source = tmp_path / "many"
    source.mkdir()
    for index in range(40):
        Image.fromarray(np.roll(load_sample("astronaut", 320), index * 7, axis=1)).save(source / f"p{index:02d}.png")
    Image.fromarray(load_sample("coffee", 96)).save(tmp_path / "look.png")
    out = tmp_path / "out"
    command = [sys.executable, "-m", "colorot", "batch", str(tmp_path / "look.png"), str(source),
               "--output-dir", str(out), "--on-conflict", "skip", "--seed", "0"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while time.time() < deadline and not (out.exists() and len(list(out.glob("*.png"))) >= 2):
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130 and "interrupted" in stderr
    done = sorted(p.name for p in out.iterdir())
    assert all(name.endswith(".png") and not name.startswith(".") for name in done)  # no temporary files
    assert 2 <= len(done) < 40
    for name in done:
        Image.open(out / name).load()  # every file written is whole
    resumed = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0 and f"{40 - len(done)} written, {len(done)} skipped" in resumed.stderr


def test_ray_engine_writes_the_same_files_as_the_local_engine(tmp_path):
    import pytest

    pytest.importorskip("ray")
    photos = _tree(tmp_path)
    missing = tmp_path / "nowhere.jpg"
    common = [sys.executable, "-m", "colorot", "batch", str(tmp_path / "look.png"), str(photos), str(missing), "-r",
              "--seed", "0"]
    local = subprocess.run(common + ["--output-dir", str(tmp_path / "local")], capture_output=True, text=True)
    # Ray reads the photos' bytes and returns the graded files' bytes, written by this process.
    ray = subprocess.run(common + ["--output-dir", str(tmp_path / "ray"), "--engine", "ray"],  # starts a local Ray
                         capture_output=True, text=True, timeout=600)
    assert local.returncode == ray.returncode == 1  # the broken JPEG and the missing file, in both
    errors = sorted(line for line in ray.stderr.splitlines() if line.startswith("colorot: error:"))
    assert errors == sorted(line for line in local.stderr.splitlines() if line.startswith("colorot: error:"))
    assert len(errors) == 2 and "broken.jpg" in errors[0] + errors[1] and str(missing) in errors[0] + errors[1]
    assert "Traceback" not in ray.stderr and ray.stderr.strip().endswith("3 written, 0 skipped, 2 failed")
    # Ray's own logs stay quiet (v0.1: an ERROR-level line from Ray's core); the start-up is said, not silent.
    assert "colorot: starting Ray here" in ray.stderr
    assert all(line.startswith(("colorot:", "grading")) for line in ray.stderr.splitlines() if line.strip()), \
        ray.stderr
    assert not list((tmp_path / "ray").rglob("*.tmp")) and not list((tmp_path / "ray").rglob(".*"))
    for relative in ("a.jpg", "b.png", "day2/c.jpg"):
        ours = np.asarray(Image.open(tmp_path / "local" / relative)).astype(int)
        theirs = np.asarray(Image.open(tmp_path / "ray" / relative)).astype(int)
        assert np.abs(ours - theirs).mean() < 0.5  # the same map; one worker thread vs two may round apart


def test_style_dir_pairs_each_photo_with_its_own_style(tmp_path):
    from colorot.measures.metrics import color_distance

    photos, styles = tmp_path / "photos", tmp_path / "styles"
    photos.mkdir(), styles.mkdir()
    for name in ("a", "b", "c"):
        Image.fromarray(load_sample("astronaut", 96)).save(photos / f"{name}.jpg")
    coffee, chelsea = load_sample("coffee", 96), load_sample("chelsea", 96)
    Image.fromarray(coffee).save(styles / "a.png")
    Image.fromarray(chelsea).save(styles / "b.jpg")
    result = _run(photos, "--style-dir", styles, "--output-dir", tmp_path / "out", *FAST)
    assert result.exit_code == 1 and "no style c.*" in result.output and "2 written" in result.output
    a = np.asarray(Image.open(tmp_path / "out" / "a.jpg"))
    b = np.asarray(Image.open(tmp_path / "out" / "b.jpg"))
    assert color_distance(a, coffee) < color_distance(a, chelsea)
    assert color_distance(b, chelsea) < color_distance(b, coffee)


def test_maps_fitted_in_batches_give_the_photo_by_photo_files(tmp_path, monkeypatch):
    # What a GPU does by default (--fit-batch 8), forced here on the CPU: the photos' maps are fitted in
    # batched calls, with the same results as one fit per photo; a bad photo still fails alone.
    import colorot

    sizes = []
    transform_each = colorot.ColorTransfer.transform_each
    monkeypatch.setattr(colorot.ColorTransfer, "transform_each",
                        lambda self, sources, **kw: sizes.append(len(sources)) or transform_each(self, sources, **kw))
    photos = _tree(tmp_path)
    (photos / "day2" / "d.png").write_bytes(b"")
    chelsea = load_sample("chelsea", 64)
    Image.fromarray(np.dstack([chelsea, np.full(chelsea.shape[:2], 200, np.uint8)])).save(photos / "e.png")  # RGBA
    one = _run(tmp_path / "look.png", photos, "-r", "--output-dir", tmp_path / "one", *FAST)
    batched = _run(tmp_path / "look.png", photos, "-r", "--output-dir", tmp_path / "batched", "--fit-batch", 4,
                   "--jobs", 2, *FAST)
    assert one.exit_code == batched.exit_code == 1 and "4 written, 0 skipped, 2 failed" in batched.output
    assert sizes and max(sizes) >= 2  # photos were fitted together
    for relative in ("a.jpg", "b.png", "day2/c.jpg", "e.png"):
        ours = np.asarray(Image.open(tmp_path / "one" / relative))
        theirs = np.asarray(Image.open(tmp_path / "batched" / relative))
        assert np.array_equal(ours, theirs), relative


def test_a_look_applied_to_many_photos_is_tabulated_and_matches_pillow(tmp_path, monkeypatch):
    # From DENSIFY_FROM photos on, the look's table is tabulated at every 8-bit color and looked up by
    # gathering; the files agree with Pillow's trilinear kernel within one code.
    from colorot.maps import dense as dense_lut
    from colorot.apps.looks import load_lut

    photos = tmp_path / "photos"
    photos.mkdir()
    base = load_sample("astronaut", 96)
    for index in range(DENSIFY_FROM):
        Image.fromarray(np.roll(base, index * 11, axis=1)).save(photos / f"p{index}.png")
    Image.fromarray(load_sample("coffee", 96)).save(tmp_path / "look.png")
    look = tmp_path / "look.npz"
    assert CliRunner().invoke(main, ["fit", str(tmp_path / "look.png"), str(photos / "p0.png"), "-o", str(look),
                                     *FAST]).exit_code == 0
    tabulated = []
    tabulate = dense_lut.tabulate_uint8
    monkeypatch.setattr(dense_lut, "tabulate_uint8", lambda *args: tabulated.append(1) or tabulate(*args))
    result = _run(look, photos, "--output-dir", tmp_path / "out")
    assert result.exit_code == 0 and tabulated == [1]
    table = load_lut(look)
    for index in range(DENSIFY_FROM):
        source = np.asarray(Image.open(photos / f"p{index}.png"))
        graded = np.asarray(Image.open(tmp_path / "out" / f"p{index}.png")).astype(int)
        assert np.abs(graded - table.apply_uint8(source).astype(int)).max() <= 1  # Pillow's kernel
        assert np.abs(graded - source.astype(int)).mean() > 5  # and the look did change the photo


def test_a_look_grades_8_bit_photos_without_torch_and_others_with_it(tmp_path):
    # A saved look applied to a folder: the 8-bit photos are graded with numpy alone (torch, about a second
    # to import, is never loaded); a 16-bit photo in the same folder goes through the general kernel.
    from colorot.apps.looks import load_lut

    photos = tmp_path / "photos"
    photos.mkdir()
    base = load_sample("astronaut", 96)
    for index in range(DENSIFY_FROM):
        Image.fromarray(np.roll(base, index * 11, axis=1)).save(photos / f"p{index}.jpg", quality=95)
    Image.fromarray(load_sample("coffee", 96)).save(tmp_path / "look.png")
    look = tmp_path / "look.npz"
    assert CliRunner().invoke(main, ["fit", str(tmp_path / "look.png"), str(photos / "p0.jpg"), "-o", str(look),
                                     *FAST]).exit_code == 0
    script = ("import sys\nfrom colorot.cli import main\n"
              "try:\n    main(sys.argv[1:])\nexcept SystemExit as end:\n    code = end.code\n"
              "print('torch' in sys.modules, code)")
    run = subprocess.run([sys.executable, "-c", script, "batch", str(look), str(photos), "--output-dir",
                          str(tmp_path / "out"), "--jobs", "2"], capture_output=True, text=True, timeout=120)
    assert run.stdout.split() == ["False", "0"], run.stderr
    assert len(list((tmp_path / "out").glob("*.jpg"))) == DENSIFY_FROM

    from colorot import read_image, write_image

    deep = np.roll(base, 5, axis=0).astype(np.uint16) * 257
    write_image(photos / "deep.png", deep)
    run = subprocess.run([sys.executable, "-c", script, "batch", str(look), str(photos), "--output-dir",
                          str(tmp_path / "out2")], capture_output=True, text=True, timeout=120)
    assert run.stdout.split() == ["True", "0"], run.stderr  # the 16-bit photo needed torch
    for index in range(DENSIFY_FROM):  # the 8-bit ones were graded as before
        name = f"p{index}.jpg"
        assert np.array_equal(read_image(tmp_path / "out" / name).pixels, read_image(tmp_path / "out2" / name).pixels)
    graded = read_image(tmp_path / "out2" / "deep.png").pixels
    import torch

    expected = load_lut(look).apply_pixels(torch.from_numpy(deep.astype(np.int32)).reshape(1, -1, 3).transpose(1, 2),
                                           scale=65535.0)
    expected = expected.transpose(1, 2).reshape(deep.shape).numpy()
    assert graded.dtype == np.uint16 and np.abs(graded.astype(int) - expected).max() <= 1


def test_refine_in_a_batch_writes_what_transfer_writes_and_refuses_one_map(tmp_path):
    # --refine fits each photo's own rounds, as `colorot transfer --refine` does: the same files; a shared map or a
    # look file is one fixed map, which refine cannot be.
    photos = _tree(tmp_path)
    result = _run(tmp_path / "look.png", photos / "a.jpg", photos / "b.png", "--output-dir", tmp_path / "out",
                  "--refine", 2, *FAST)
    assert result.exit_code == 0, result.output
    for name in ("a.jpg", "b.png"):
        alone = tmp_path / f"alone_{name}"
        single = CliRunner().invoke(main, ["transfer", str(photos / name), str(tmp_path / "look.png"), "-o", str(alone),
                                           "--refine", "2", *FAST])
        assert single.exit_code == 0, single.output
        plain = tmp_path / f"plain_{name}"
        CliRunner().invoke(main, ["transfer", str(photos / name), str(tmp_path / "look.png"), "-o", str(plain), *FAST])
        batch_pixels = np.asarray(Image.open(tmp_path / "out" / name))
        assert np.array_equal(batch_pixels, np.asarray(Image.open(alone)))
        assert not np.array_equal(batch_pixels, np.asarray(Image.open(plain)))
    for extra in (["--shared-map"], []):
        look = tmp_path / "look.png" if extra else tmp_path / "look.cube"
        if not extra:
            assert CliRunner().invoke(main, ["lut", str(tmp_path / "look.png"), "-o", str(look), *FAST]).exit_code == 0
        refused = _run(look, photos, "-r", "--output-dir", tmp_path / "refused", "--refine", 2, *extra, *FAST)
        assert refused.exit_code == 2 and "--refine" in refused.output
        assert not (tmp_path / "refused").exists()
