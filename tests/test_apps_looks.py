"""Looks: look files, .cube and Hald CLUT export, and applying them."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from PIL import Image

import colorot
from colorot import ColorotError
from colorot.api import fit_lut
from colorot.cli import main
from colorot.maps.lut import ColorLUT
from colorot.apps.looks import load_look, read_cube, read_hald, save_look, write_cube, write_hald

FAST = dict(n_iter=12, n_samples=8192, seed=0)


@pytest.fixture(scope="module")
def table(astronaut, coffee):
    return fit_lut(coffee, [astronaut], size=33, device="cpu", **FAST)  # where look files load


def test_a_cube_with_a_byte_order_mark_reads_as_without(tmp_path, table):
    path = write_cube(tmp_path / "look.cube", table)
    marked = tmp_path / "marked.cube"
    marked.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    torch.testing.assert_close(read_cube(marked).table, read_cube(path).table, atol=0, rtol=0)


def test_cube_round_trip_and_an_independent_reader_agree(tmp_path, table, astronaut):
    colour = pytest.importorskip("colour")
    path = write_cube(tmp_path / "look.cube", table)
    text = path.read_text().splitlines()
    assert "LUT_3D_SIZE 33" in text and "DOMAIN_MIN 0.0 0.0 0.0" in text
    back = read_cube(path)
    torch.testing.assert_close(back.table, table.table.clamp(0, 1), atol=1e-6, rtol=0)
    ours = colorot.maps.kernels.apply_table(back, colorot.pixels.image_to_pixels(astronaut), torch.device("cpu"))
    theirs = colour.read_LUT(str(path)).apply(astronaut / 255.0)  # colour-science, trilinear
    assert np.abs(ours / 255.0 - theirs).mean() <= 1 / 255


def test_lut_reproduces_the_direct_transfer(tmp_path, astronaut, coffee):
    direct = colorot.transfer(astronaut, coffee, **FAST)
    cube = read_cube(write_cube(tmp_path / "look.cube", fit_lut(coffee, [astronaut], size=65, **FAST)))
    applied = colorot.maps.kernels.apply_table(cube, colorot.pixels.image_to_pixels(astronaut), torch.device("cpu"))
    assert np.abs(applied.astype(float) - direct).mean() <= 1.0  # <= 1/255


@pytest.mark.parametrize("strip_pixels", [1 << 18, 1000])  # whole, or split among threads at any pixel
def test_densified_table_matches_the_interpolating_kernels(table, astronaut, monkeypatch, strip_pixels):
    from colorot.maps import dense as dense_lut

    monkeypatch.setattr(dense_lut, "STRIP_PIXELS", strip_pixels)
    rng = np.random.default_rng(0)
    dense = ColorLUT(table.table.clone()).densify()
    assert dense.to("cpu").dense is dense.dense and dense.to(dtype=torch.float64).dense is dense.dense
    # Every kind of 8-bit array: a photo, random colors (odd size), a non-contiguous view, RGBA, one pixel.
    cases = [astronaut, rng.integers(0, 256, (37, 51, 3), dtype=np.uint8), astronaut[::2, ::3],
             np.dstack([astronaut, rng.integers(0, 256, astronaut.shape[:2], dtype=np.uint8)]),
             np.array([[[0, 128, 255]]], dtype=np.uint8)]
    for image in cases:
        fast = dense.apply_uint8(image)
        assert fast.shape == image.shape and fast.dtype == np.uint8
        pixels = torch.from_numpy(np.ascontiguousarray(image[..., :3])).reshape(1, -1, 3).transpose(1, 2)
        exact = table.apply_pixels(pixels.float() / 255).transpose(1, 2).reshape(image.shape[:2] + (3,))
        gap = np.abs(fast[..., :3].astype(float) - (exact.numpy() * 255).round())
        assert gap.max() <= 1 and gap.mean() < 1e-3  # the float kernel, up to rounding ties
        assert np.abs(fast.astype(int) - table.apply_uint8(image).astype(int)).max() <= 1  # Pillow's fixed point
        if image.shape[-1] == 4:
            assert np.array_equal(fast[..., 3], image[..., 3])


def test_hald_and_look_files_round_trip(tmp_path, table):
    square = table.resized(16)
    back = read_hald(write_hald(tmp_path / "hald.png", square))
    torch.testing.assert_close(back.table, square.table.clamp(0, 1), atol=1 / 65535, rtol=0)
    assert Image.open(tmp_path / "hald.png").size == (64, 64)
    with pytest.raises(ColorotError, match="square table size"):
        write_hald(tmp_path / "bad.png", table)
    lut, parameters = load_look(save_look(tmp_path / "look.npz", table, {"space": "oklab"}))
    torch.testing.assert_close(lut.table, table.table)
    assert parameters["space"] == "oklab" and parameters["version"] == 1


def test_lut_off_the_source_colors_is_smooth_and_covers_the_cube(astronaut, coffee):
    generic = fit_lut(coffee, size=17, **FAST)  # fitted on the whole cube
    displacement = generic.displacement()[0]
    steps = [displacement.diff(dim=axis).abs().max() for axis in (1, 2, 3)]
    assert max(float(step) for step in steps) < 0.5  # no jumps between neighbouring nodes
    graded = colorot.maps.kernels.apply_table(generic, colorot.pixels.image_to_pixels(astronaut), torch.device("cpu"))
    from colorot.measures.metrics import color_distance

    assert color_distance(graded, coffee) < color_distance(astronaut, coffee)


@pytest.mark.parametrize(
    "content, message",
    [
        ("LUT_3D_SIZE 2\n0 0 0\n1 0 0\n", "needs 8 rows, found 2"),
        ("LUT_3D_SIZE 2\n" + "nan 0 0\n" * 8, "NaN"),
        ("LUT_1D_SIZE 4\n", "needs 4 rows, found 0"),
        ("LUT_3D_SIZE 2\nDOMAIN_MIN 1 1 1\nDOMAIN_MAX 0 0 0\n" + "0 0 0\n" * 8, "empty or reversed"),
        ("LUT_3D_SIZE 2\n" + "0 0\n" * 8, "three numbers"),
        ("hello", "unknown keyword hello"),
        ("LUT_3D_SIZE 2\nLUT_IN_VIDEO_RANGE\n" + "0 0 0\n" * 8, "video-range"),
        ("LUT_3D_SIZE 2\n" + "0 0 0\n" * 8 + "LUT_3D_SIZE 3\n", "after the table"),
        ("LUT_1D_SIZE 2\nLUT_3D_SIZE 2\nDOMAIN_MAX 2 2 2\n" + "0 0 0\n" * 10, "ambiguous"),
        ("", "missing or invalid LUT_3D_SIZE"),
        ("LUT_1D_SIZE 2\n0 0 0\nnan 1 1\n", "NaN or infinite"),
        ("LUT_3D_SIZE 2\nLUT_3D_SIZE 2\n" + "0 0 0\n" * 8, "given twice"),
    ],
)
def test_bad_cube_files_are_clear_errors(tmp_path, content, message):
    path = tmp_path / "bad.cube"
    path.write_text(content)
    with pytest.raises(ColorotError, match=message):
        read_cube(path)


def test_look_files_never_unpickle(tmp_path):
    path = tmp_path / "evil.npz"
    np.savez(path, table=np.array([object()], dtype=object), metadata=np.zeros(3, np.uint8))
    with pytest.raises(ColorotError, match="not a colorot look file"):
        load_look(path)
    (tmp_path / "junk.npz").write_bytes(b"PK\x03\x04 not really")
    with pytest.raises(ColorotError, match="not a colorot look file"):
        load_look(tmp_path / "junk.npz")


def test_cli_fit_lut_apply(tmp_path, astronaut, coffee, chelsea):
    for name, image in (("photo", astronaut), ("other", chelsea), ("look", coffee)):
        Image.fromarray(image).save(tmp_path / f"{name}.png")
    run = CliRunner().invoke
    result = run(main, ["fit", str(tmp_path / "look.png"), str(tmp_path / "photo.png"), str(tmp_path / "other.png"),
                        "-o", str(tmp_path / "shoot.npz"), "--seed", "0", "--method", "unbalanced"])
    assert result.exit_code == 0, result.output
    result = run(main, ["lut", str(tmp_path / "shoot.npz"), "--size", "17", "-o", str(tmp_path / "shoot.cube")])
    assert result.exit_code == 0, result.output
    assert read_cube(tmp_path / "shoot.cube").size == 17
    (tmp_path / "broken.png").write_bytes(b"not an image")
    result = run(main, ["apply", str(tmp_path / "shoot.npz"), str(tmp_path / "photo.png"), str(tmp_path / "broken.png"),
                        str(tmp_path / "other.png"), "--output-dir", str(tmp_path / "graded")])
    assert result.exit_code == 1 and "broken.png" in result.output  # reported, and the others still done
    graded = sorted(p.name for p in (tmp_path / "graded").iterdir())
    assert graded == ["other_colorot.png", "photo_colorot.png"]
    from colorot.measures.metrics import color_distance

    out = np.asarray(Image.open(tmp_path / "graded" / "photo_colorot.png"))
    assert color_distance(out, coffee) < 0.75 * color_distance(astronaut, coffee)


def test_tetrahedral_lookup_matches_colour_science(tmp_path, astronaut, coffee):
    colour = pytest.importorskip("colour")
    from colour.algebra import table_interpolation_tetrahedral

    cube = read_cube(write_cube(tmp_path / "look.cube", fit_lut(coffee, [astronaut], size=17, **FAST)))
    ours = colorot.apply_lut(cube, astronaut, device="cpu", interpolation="tetrahedral") / 255.0
    trilinear = colorot.apply_lut(cube, astronaut, device="cpu") / 255.0
    theirs = colour.read_LUT(str(tmp_path / "look.cube")).apply(astronaut / 255.0,
                                                                 interpolator=table_interpolation_tetrahedral)
    assert np.abs(ours - theirs).mean() <= 0.5 / 255  # rounding only
    assert np.abs(trilinear - theirs).mean() > np.abs(ours - theirs).mean()  # a different interpolation
    identity = fit_lut(coffee, size=5, strength=0.0, **FAST)
    np.testing.assert_array_equal(colorot.apply_lut(identity, astronaut, device="cpu", interpolation="tetrahedral"),
                                  astronaut)


def test_fit_inputs_read_in_threads_and_subsampled(tmp_path, astronaut, coffee):
    from colorot.apps.looks import read_fit_inputs

    paths = []
    for index, image in enumerate((astronaut, coffee, astronaut[::-1])):
        paths.append(colorot.write_image(tmp_path / f"p{index}.png", image))
    (tmp_path / "bad.jpg").write_bytes(b"not a jpeg")
    sources = [paths[0], tmp_path / "bad.jpg", *paths[1:]]
    style, whole = read_fit_inputs(paths[1], sources, skip_unreadable=True)
    assert len(whole) == 3 and whole[0].shape == astronaut.shape  # the bad file left out
    _, kept = read_fit_inputs(paths[1], sources, skip_unreadable=True, keep_pixels=500)
    _, again = read_fit_inputs(paths[1], sources, skip_unreadable=True, keep_pixels=500, workers=3)
    for image, subset, same in zip(whole, kept, again):
        assert subset.shape == (1, 500, 3) and np.array_equal(subset, same)  # reproducible, in any thread
        colors = {tuple(c) for c in image.reshape(-1, 3)}
        assert all(tuple(c) in colors for c in subset[0])  # pixels of that photo
    with pytest.raises(ColorotError, match="bad.jpg"):
        read_fit_inputs(paths[1], sources, workers=2)


def test_a_sliced_table_says_it_holds_no_regrain_and_gives_the_transfer_without_it(tmp_path, astronaut, coffee):
    photo, style = tmp_path / "photo.png", tmp_path / "style.png"
    Image.fromarray(astronaut).save(photo)
    Image.fromarray(coffee).save(style)
    exported = CliRunner().invoke(main, ["lut", str(style), "--source", str(photo), "--method", "sliced", "--size",
                                         "65", "-o", str(tmp_path / "sliced.cube")])
    assert exported.exit_code == 0, exported.output
    assert "no table holds" in exported.output and "--regrain 0" in exported.output
    cube = read_cube(tmp_path / "sliced.cube")
    applied = colorot.maps.kernels.apply_table(cube, colorot.pixels.image_to_pixels(astronaut), torch.device("cpu"))
    unfiltered = colorot.transfer(astronaut, coffee, method="sliced", regrain_radius=0)
    assert np.abs(applied.astype(int) - unfiltered).max() <= 1
    plain = CliRunner().invoke(main, ["lut", str(style), "--source", str(photo), "--method", "mkl", "-o",
                                      str(tmp_path / "mkl.cube")])
    assert plain.exit_code == 0 and "no table holds" not in plain.output


def test_apply_to_a_folder_points_to_batch_and_grades_the_other_inputs(tmp_path, table, astronaut):
    cube = write_cube(tmp_path / "look.cube", table)
    (tmp_path / "photos").mkdir()
    Image.fromarray(astronaut).save(tmp_path / "photos" / "a.png")
    Image.fromarray(astronaut).save(tmp_path / "b.png")
    result = CliRunner().invoke(main, ["apply", str(cube), str(tmp_path / "photos"), str(tmp_path / "b.png"),
                                       "--output-dir", str(tmp_path / "out")])
    assert result.exit_code == 1 and "is a folder; 'colorot batch" in result.output
    assert [path.name for path in (tmp_path / "out").iterdir()] == ["b_colorot.png"]
    batch = CliRunner().invoke(main, ["batch", str(cube), str(tmp_path / "photos"), "--output-dir",
                                      str(tmp_path / "batch")])
    assert batch.exit_code == 0 and (tmp_path / "batch" / "a.png").exists(), batch.output
