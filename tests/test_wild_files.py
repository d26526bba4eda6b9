"""Files from the wild: Hald CLUTs told from photos, .cube dialects, out-of-range tables, gray ICC profiles,
gray styles, and one style-reading path (the video command converts the style's profile too)."""

from __future__ import annotations

import struct

import numpy as np

from colorot.maps.dense import DENSIFY_FROM
import pytest
import torch
from click.testing import CliRunner
from PIL import Image, ImageCms

import colorot
from colorot.io import icc
from colorot.cli import main
from colorot.apps.looks import looks_like_hald, lut_kind, read_cube, write_hald
from colorot.maps.lut import ColorLUT, identity_grid
from conftest import load_sample


def _invoke(*args):
    return CliRunner().invoke(main, [str(arg) for arg in args])


def _square(name: str, side: int) -> np.ndarray:
    image = Image.open(f"{load_sample.__globals__['SAMPLES']}/{name}.jpg").convert("RGB")
    return np.asarray(image.resize((side, side), Image.LANCZOS))


# -- 1. a square photo is a style, a Hald CLUT is told from its content ------------------------------------------


def test_square_photos_of_hald_sizes_are_styles_and_hald_cluts_are_luts(tmp_path):
    for name, side in (("coffee", 512), ("hubble", 729), ("rocket", 64)):
        pixels = _square(name, side)
        assert not looks_like_hald(pixels), name
        Image.fromarray(pixels).save(tmp_path / f"{name}.png")
        assert lut_kind(tmp_path / f"{name}.png") is None
    grade = ColorLUT(identity_grid(64).T.reshape(3, 64, 64, 64) ** 1.4 * torch.tensor([1.0, 0.9, 0.7])[:, None, None, None])
    assert lut_kind(write_hald(tmp_path / "hald.png", grade)) == "hald"  # 512 x 512, 16-bit
    black_and_white = identity_grid(16) @ torch.tensor([0.2126, 0.7152, 0.0722])
    eight_bit = (black_and_white[:, None].expand(-1, 3).numpy().reshape(64, 64, 3) * 255).round().astype(np.uint8)
    assert looks_like_hald(eight_bit)  # a black-and-white grade is still a Hald CLUT
    red_filter = (identity_grid(16)[:, :1].expand(-1, 3).numpy().reshape(64, 64, 3) * 255).round().astype(np.uint8)
    assert looks_like_hald(red_filter)  # and so is one that keeps the red channel only
    assert not looks_like_hald(np.full((64, 64, 3), 128, np.uint8))  # a flat square is not


def test_batch_grades_with_a_square_style_photo_as_transfer_does(tmp_path):
    Image.fromarray(_square("coffee", 512)).save(tmp_path / "style.png")
    Image.fromarray(load_sample("astronaut", 96)).save(tmp_path / "photo.png")
    assert _invoke("transfer", tmp_path / "photo.png", tmp_path / "style.png", "-o", tmp_path / "t.png",
                   "--seed", "0").exit_code == 0
    result = _invoke("batch", tmp_path / "style.png", tmp_path / "photo.png", "--output-dir", tmp_path / "out",
                     "--seed", "0")
    assert result.exit_code == 0, result.output
    assert "lookup table" not in result.output
    assert (tmp_path / "t.png").read_bytes() == (tmp_path / "out" / "photo.png").read_bytes()
    hald = write_hald(tmp_path / "hald.png", ColorLUT(identity_grid(64).T.reshape(3, 64, 64, 64) ** 1.5))
    result = _invoke("batch", hald, tmp_path / "photo.png", "--output-dir", tmp_path / "out2")
    assert result.exit_code == 0 and "applied as a lookup table (a Hald CLUT" in result.output


# -- 2. out-of-range table values: interpolate, then clip, on every kernel ----------------------------------------


def _contrast_table(size: int) -> torch.Tensor:
    return (identity_grid(size).T.reshape(1, 3, size, size, size) - 0.5) * 1.5 + 0.5  # nodes from -0.25 to 1.25


def test_out_of_range_nodes_are_interpolated_then_clipped_by_every_kernel():
    codes = np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    expected = np.clip(np.rint((codes / 255 - 0.5) * 1.5 * 255 + 127.5), 0, 255)
    for size in (2, 17, 33):
        lut = ColorLUT(_contrast_table(size))
        pixels = torch.from_numpy(codes.reshape(1, -1, 3).transpose(0, 2, 1).copy())
        outputs = {
            "pillow": lut.apply_uint8(codes),
            "tabulated": ColorLUT(_contrast_table(size)).densify().apply_uint8(codes),
            "torch": lut.apply_pixels(pixels, scale=255.0)[0].T.reshape(codes.shape).numpy(),
            "tetrahedral": lut.apply_pixels(pixels, scale=255.0, interpolation="tetrahedral")[0].T
                           .reshape(codes.shape).numpy(),
        }
        for kernel, out in outputs.items():
            assert np.abs(out.astype(int) - expected).max() <= 1, (size, kernel)
            assert np.abs(out.astype(int) - expected).mean() < 0.02, (size, kernel)


def test_a_cube_gives_one_photo_the_same_bytes_alone_or_among_many(tmp_path):
    table = _contrast_table(17)
    rows = "\n".join(" ".join(f"{v:.6f}" for v in row) for row in table[0].reshape(3, -1).T.tolist())
    cube = tmp_path / "contrast.cube"
    cube.write_text("LUT_3D_SIZE 17\n" + rows + "\n")
    photos = tmp_path / "photos"
    photos.mkdir()
    base = load_sample("astronaut", 96)
    for index in range(DENSIFY_FROM):
        Image.fromarray(np.roll(base, 7 * index, axis=1)).save(photos / f"p{index}.png")
    assert _invoke("apply", cube, photos / "p0.png", "-o", tmp_path / "alone.png").exit_code == 0
    assert _invoke("apply", cube, *sorted(photos.iterdir()), "--output-dir", tmp_path / "many").exit_code == 0
    assert (tmp_path / "alone.png").read_bytes() == (tmp_path / "many" / "p0_colorot.png").read_bytes()
    expected = np.clip(np.rint((base / 255 - 0.5) * 1.5 * 255 + 127.5), 0, 255)
    assert np.abs(np.asarray(Image.open(tmp_path / "alone.png")).astype(int) - expected).max() <= 1
    colorot.write_image(tmp_path / "float.tif", base.astype(np.float32) / 255)
    assert _invoke("apply", cube, tmp_path / "float.tif", "-o", tmp_path / "float_out.tif").exit_code == 0
    graded = colorot.read_image(tmp_path / "float_out.tif").pixels
    assert np.abs(graded * 255 - expected).max() <= 0.5 + 1e-3


# -- 3. .cube dialects, read as colour-science reads them -----------------------------------------------------------


def _rows(values: np.ndarray, separator: str = " ") -> str:
    return "\n".join(separator.join(f"{v:.7f}" for v in row) for row in values) + "\n"


def _grid(size: int) -> np.ndarray:
    return identity_grid(size).double().numpy()


SHAPER = np.repeat(np.linspace(0, 1, 32)[:, None] ** 0.5 * 2, 3, axis=1)  # a square-root shaper into [0, 2]
TABLE_0_2 = np.sqrt(_grid(9) * 2) / 1.5 * np.array([1.0, 0.95, 0.85])  # a 3-D table over [0, 2]

DIALECTS = {
    "tabs": "TITLE\t\"tabs\"\nLUT_3D_SIZE\t9\nDOMAIN_MIN\t0\t0\t0\nDOMAIN_MAX\t1\t1\t1\n"
            + _rows(_grid(9) ** 1.3 * 1.2 - 0.1, "\t"),
    "adobe domain": "LUT_3D_SIZE 9\nDOMAIN_MIN 0 0 0\nDOMAIN_MAX\t2 2 2\n" + _rows(TABLE_0_2),
    "resolve range": "LUT_3D_SIZE 9\nLUT_3D_INPUT_RANGE 0.0 2.0\n" + _rows(TABLE_0_2),
    "resolve shaper": "LUT_1D_SIZE 32\nLUT_1D_INPUT_RANGE 0 1\nLUT_3D_SIZE 9\nLUT_3D_INPUT_RANGE 0 2\n"
                      + _rows(SHAPER) + _rows(TABLE_0_2),
    "1-D": "LUT_1D_SIZE 32\n" + _rows(np.stack([np.linspace(0, 1, 32) ** p for p in (0.8, 1.0, 1.4)], axis=1)),
    "1-D resolve range": "LUT_1D_SIZE 32\nLUT_1D_INPUT_RANGE -0.5 1.5\n"
                         + _rows(np.repeat(np.linspace(0, 1, 32)[:, None] ** 2, 3, axis=1)),
}


@pytest.mark.parametrize("dialect", sorted(DIALECTS))
def test_cube_dialects_are_read_as_colour_science_reads_them(tmp_path, dialect):
    colour = pytest.importorskip("colour")
    path = tmp_path / "look.cube"
    path.write_text(DIALECTS[dialect])
    colors = np.random.default_rng(1).random((4000, 3))
    expected = np.clip(colour.read_LUT(str(path)).apply(colors), 0, 1)
    ours = read_cube(path).apply_pixels(torch.tensor(colors.T[None], dtype=torch.float32))[0].T.numpy()
    assert np.abs(ours - expected).max() < 2e-4
    # 8-bit photos (tabulated at every code) and the CLI agree with it within a code
    photo = load_sample("coffee", 64)
    Image.fromarray(photo).save(tmp_path / "photo.png")
    result = _invoke("apply", path, tmp_path / "photo.png", "-o", tmp_path / "out.png")
    assert result.exit_code == 0, result.output
    graded = np.asarray(Image.open(tmp_path / "out.png")).astype(float)
    assert np.abs(graded - np.clip(colour.read_LUT(str(path)).apply(photo / 255.0), 0, 1) * 255).max() <= 1.0


def test_float_inputs_outside_the_cube_read_its_faces_as_colour_science_does(tmp_path):
    colour = pytest.importorskip("colour")
    path = tmp_path / "look.cube"
    path.write_text(DIALECTS["tabs"])
    colors = np.random.default_rng(2).random((2000, 3)) * 1.6 - 0.3
    expected = np.clip(colour.read_LUT(str(path)).apply(colors), 0, 1)
    ours = read_cube(path).apply_pixels(torch.tensor(colors.T[None], dtype=torch.float32))[0].T.numpy()
    inside = ((colors >= 0) & (colors <= 1)).all(axis=1)
    assert np.abs(ours - expected)[inside].max() < 2e-4
    assert np.abs(np.clip(ours, 0, 1) - expected)[~inside].max() < 2e-4


def test_a_hald_output_gets_a_hald_size_and_a_hald_style_gets_a_note(tmp_path):
    Image.fromarray(load_sample("coffee", 64)).save(tmp_path / "style.png")
    result = _invoke("lut", tmp_path / "style.png", "-o", tmp_path / "h.png", "--seed", "0")
    assert result.exit_code == 0, result.output
    assert Image.open(tmp_path / "h.png").size == (512, 512)  # 64 nodes, level 8
    Image.fromarray(load_sample("astronaut", 64)).save(tmp_path / "photo.png")
    result = _invoke("transfer", tmp_path / "photo.png", tmp_path / "h.png", "-o", tmp_path / "out.png")
    assert result.exit_code == 0 and "looks like a Hald CLUT" in result.output


def test_a_cube_over_another_domain_is_not_applied_over_0_1(tmp_path):
    path = tmp_path / "half.cube"
    path.write_text("LUT_3D_SIZE 2\nLUT_3D_INPUT_RANGE 0 2\n" + _rows(_grid(2)))  # the identity over [0, 2] ...
    out = read_cube(path).apply_pixels(torch.tensor([[[0.8], [0.4], [0.2]]]))
    assert torch.allclose(out.flatten(), torch.tensor([0.4, 0.2, 0.1]))  # ... halves inputs in [0, 1]


# -- 4. gray images with a gray ICC profile ---------------------------------------------------------------------


def _gray_gamma_profile(gamma: float = 2.2) -> bytes:
    curve = b"curv" + bytes(4) + struct.pack(">IH", 1, round(gamma * 256))
    return icc._build_profile(icc._gray_header(), {b"desc": icc._mluc(f"Gray Gamma {gamma}"),
                                                   b"wtpt": icc._tags(icc.srgb_profile())[b"wtpt"], b"kTRC": curve})


def _as_srgb(pixels: np.ndarray, profile: bytes, mode: str) -> np.ndarray:
    image = Image.fromarray(pixels, mode)
    converted = ImageCms.profileToProfile(image, icc.cms_profile(profile), icc.cms_profile(None), outputMode="RGB")
    return np.asarray(converted).astype(int)


@pytest.mark.parametrize("suffix", [".jpg", ".png"])
def test_gray_images_with_a_gray_profile_are_read_as_rgb_with_the_same_tone_curve(tmp_path, suffix):
    profile = _gray_gamma_profile()
    gray = np.round(load_sample("chelsea", 96) @ [0.2126, 0.7152, 0.0722]).astype(np.uint8)
    Image.fromarray(gray, "L").save(tmp_path / f"gray{suffix}", icc_profile=profile)
    Image.fromarray(load_sample("coffee", 96)).save(tmp_path / "color.png")
    image = colorot.read_image(tmp_path / f"gray{suffix}")
    assert image.icc_profile[16:20] == b"RGB " and colorot.io.read_icc_profile(tmp_path / f"gray{suffix}") == image.icc_profile
    as_gray = _as_srgb(np.asarray(Image.open(tmp_path / f"gray{suffix}")), profile, "L")
    assert np.abs(_as_srgb(image.pixels, image.icc_profile, "RGB") - as_gray).max() <= 1  # same colors
    for source, style in ((f"gray{suffix}", "color.png"), ("color.png", f"gray{suffix}")):
        result = _invoke("transfer", tmp_path / source, tmp_path / style, "-o", tmp_path / "out.jpg", "--seed", "0")
        assert result.exit_code == 0, result.output
    cube = tmp_path / "warm.cube"
    cube.write_text("LUT_3D_SIZE 2\n" + _rows(_grid(2) * [1.0, 0.9, 0.8]))
    assert _invoke("apply", cube, tmp_path / f"gray{suffix}", "-o", tmp_path / "applied.jpg").exit_code == 0
    written = Image.open(tmp_path / "applied.jpg")
    assert written.mode == "RGB" and written.info["icc_profile"][16:20] == b"RGB "


# -- 5. a gray style gives a neutral picture, in every space --------------------------------------------------------


@pytest.mark.parametrize("space", ["rgb", "linear", "lab", "oklab"])
def test_a_gray_style_gives_a_neutral_picture(space, astronaut, coffee):
    gray = np.round(coffee @ [0.2126, 0.7152, 0.0722]).astype(np.uint8)
    for style in (np.repeat(gray[..., None], 3, axis=-1), np.repeat(gray[..., None], 3, axis=-1).astype(np.uint16) * 257):
        out = colorot.transfer(astronaut, style, space=space, seed=0).astype(int)
        spread = out.max(axis=-1) - out.min(axis=-1)
        assert np.percentile(spread, 99) <= 2, (space, style.dtype)


def test_a_narrow_chroma_style_is_reached_not_approached(astronaut, coffee):
    # A toned print: one tint, strong at every luma. The output's tint matches the style's within a code or two.
    gray = (coffee @ [0.2126, 0.7152, 0.0722])[..., None]
    toned = np.clip(np.round(gray * [1.0, 0.88, 0.7]), 0, 255).astype(np.uint8)
    out = colorot.transfer(astronaut, toned, seed=0).astype(float)
    for channel, ratio in ((1, 0.88), (2, 0.7)):  # off the neutral axis by the style's ratios
        bright = out[..., 0] > 60
        assert np.percentile(np.abs(out[..., channel][bright] / out[..., 0][bright] - ratio), 99) < 0.03


# -- 6. one style-reading path: the video command converts the style into the clip's sRGB too ---------------------


def test_video_converts_a_tagged_style_into_srgb(tmp_path, astronaut, coffee):
    pytest.importorskip("av")
    from test_apps_video import _decode, _make_clip

    clip = tmp_path / "clip.mp4"
    _make_clip(clip, astronaut, with_audio=False)
    linear = icc._tags(icc.srgb_profile())
    for channel in (b"rTRC", b"gTRC", b"bTRC"):
        linear[channel] = b"curv" + bytes(4) + struct.pack(">I", 0)  # identity tone curve: linear-light sRGB
    linear_profile = icc._build_profile(icc.srgb_profile()[:128], linear)
    Image.fromarray(coffee).save(tmp_path / "tagged.png", icc_profile=linear_profile)
    converted = icc.convert_to_profile(coffee, linear_profile, None)
    Image.fromarray(converted).save(tmp_path / "converted.png")
    assert np.abs(converted.astype(int) - coffee).mean() > 10  # the profile matters
    outputs = []
    for style in ("tagged.png", "converted.png"):
        result = _invoke("video", clip, tmp_path / style, "-o", tmp_path / f"{style}.mp4", "--seed", "0",
                         "--frames", "4")
        assert result.exit_code == 0, result.output
        outputs.append(_decode(tmp_path / f"{style}.mp4")[0])
    assert all(np.array_equal(a, b) for a, b in zip(*outputs))


def test_a_small_table_far_from_its_look_says_so(tmp_path):
    # Issue 27 item 12: a 17-node .cube of a fitted look is several codes from the look; the note says how far
    # (the figure checked against an independent lookup), and a 65-node export has no note.
    from colorot.apps.looks import load_lut, table_error

    Image.fromarray(load_sample("hubble", 96)).save(tmp_path / "style.png")
    Image.fromarray(load_sample("astronaut", 96)).save(tmp_path / "photo.png")
    common = ["--source", tmp_path / "photo.png", "--seed", "0", "--method", "emd"]  # an unsmoothed map (an affine one needs no nodes)
    small = _invoke("lut", tmp_path / "style.png", "--size", "17", "-o", tmp_path / "small.cube", *common)
    full = _invoke("lut", tmp_path / "style.png", "--size", "65", "-o", tmp_path / "full.cube", *common)
    assert small.exit_code == 0 and full.exit_code == 0
    typical, largest = table_error(load_lut(tmp_path / "small.cube"), load_lut(tmp_path / "full.cube"))
    assert typical > 2 and f"the 17-node table is {typical:.0f} codes from the look" in small.output
    assert "--size 65 comes closer" in small.output and "note: the" not in full.output
