"""Round trips through the command line, one per format x depth x mode: an identity transfer
(strength 0) gives back the input's pixels (exactly for lossless formats), its ICC profile and
EXIF bytes, and its alpha bit for bit."""

from __future__ import annotations

import importlib.util
import struct

import numpy as np
import pytest
import tifffile
from click.testing import CliRunner
from PIL import Image

from colorot import ColorotError, read_image, write_image
from colorot.io._codecs import write_png16, write_tiff
from colorot.cli import main
from colorot.io.icc import convert_to_profile, same_profile, srgb_profile

HEIF = importlib.util.find_spec("pillow_heif") is not None
H, W = 24, 40


def _gradient(depth: int, channels: int, seed: int = 0) -> np.ndarray:
    """A small image with smooth ramps and noise, at ``depth`` bits (32 = float32)."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:H, 0:W] / np.array([H - 1, W - 1])[:, None, None]
    planes = [x, y, (x + y) / 2, 0.2 + 0.8 * x * y][:channels]
    values = np.clip(np.stack(planes, axis=-1) + rng.normal(0, 0.05, (H, W, channels)), 0, 1)
    if depth == 32:
        return values.astype(np.float32)
    scale = 255 if depth == 8 else 65535
    return np.round(values * scale).astype(np.uint8 if depth == 8 else np.uint16)


def _exif(orientation: int = 1) -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "colorot test camera"  # Make
    exif[0x0112] = orientation
    return exif.tobytes()


def _exif_make(path):
    """The EXIF Make tag of a written file, as colorot reads it."""
    exif = Image.Exif()
    exif.load(read_image(path).exif)
    return exif.get(0x010F)


def _write_input(path, case: str) -> None:
    """Write the input file for ``case`` = ``format-depth-mode``."""
    fmt, depth, mode = case.split("-")
    depth = int(depth)
    icc, exif = srgb_profile(), _exif()
    if fmt == "png" and depth == 16 and mode in ("RGB", "RGBA"):
        path.write_bytes(write_png16(_gradient(16, len(mode)), icc, exif))
    elif fmt == "tif" and depth in (16, 32):
        path.write_bytes(write_tiff(_gradient(depth, len(mode)), icc, exif))
    elif mode == "I;16":
        Image.fromarray(_gradient(16, 1)[..., 0]).save(path, icc_profile=icc)
    else:
        rgba = _gradient(8, 4)
        image = {
            "RGB": lambda: Image.fromarray(rgba[..., :3]),
            "RGBA": lambda: Image.fromarray(rgba),
            "L": lambda: Image.fromarray(rgba[..., 0]),
            "LA": lambda: Image.fromarray(rgba[..., [0, 3]], "LA"),
            "P": lambda: Image.fromarray(rgba[..., :3]).quantize(64),
            "CMYK": lambda: Image.fromarray(rgba[..., :3]).convert("CMYK"),
        }[mode]()
        options = {}
        if mode == "P":
            options["transparency"] = 0
        if fmt in ("png", "jpg", "tif", "webp", "avif", "heic") and mode != "CMYK":
            options.update(icc_profile=icc, exif=exif)
        if fmt == "webp":
            options.update(lossless=True)
        if fmt in ("jpg", "avif", "heic"):
            options.update(quality=95)
        if fmt == "heic":
            import pillow_heif

            pillow_heif.register_heif_opener()
        image.save(path, **options)


LOSSLESS = [
    "png-8-RGB", "png-8-RGBA", "png-8-L", "png-8-LA", "png-8-P", "png-16-RGB", "png-16-RGBA", "png-16-I;16",
    "tif-8-RGB", "tif-8-RGBA", "tif-16-RGB", "tif-16-RGBA", "tif-32-RGB", "tif-32-RGBA",
    "bmp-8-RGB", "bmp-8-RGBA", "gif-8-P", "webp-8-RGB", "webp-8-RGBA",
]
LOSSY = ["jpg-8-RGB", "jpg-8-L", "jpg-8-CMYK", "tif-8-CMYK", "avif-8-RGB", "avif-8-RGBA"]
HEIC = [pytest.param("heic-8-RGB", marks=pytest.mark.skipif(not HEIF, reason="needs the heic extra"))]
METADATA = {"png", "jpg", "tif", "webp", "avif", "heic"}


@pytest.fixture(scope="module")
def style(tmp_path_factory):
    path = tmp_path_factory.mktemp("style") / "style.png"
    Image.fromarray(_gradient(8, 3, seed=5)[::-1]).save(path)
    return path


def _identity(tmp_path, style, case: str):
    fmt = case.split("-")[0]
    source = tmp_path / f"in.{fmt}"
    _write_input(source, case)
    out = tmp_path / f"out.{'png' if fmt == 'gif' else fmt}"
    result = CliRunner().invoke(main, ["transfer", str(source), str(style), "--strength", "0", "-o", str(out)])
    assert result.exit_code == 0, result.output
    return source, out, result


@pytest.mark.parametrize("case", LOSSLESS + LOSSY + HEIC)
def test_identity_round_trip_keeps_pixels_depth_alpha_and_metadata(tmp_path, style, case):
    fmt, depth, mode = case.split("-")
    source, out, _ = _identity(tmp_path, style, case)
    before, after = read_image(source), read_image(out)
    assert after.pixels.dtype == before.pixels.dtype and after.pixels.shape == before.pixels.shape
    expected_dtype = {"8": np.uint8, "16": np.uint16, "32": np.float32}[depth]
    assert before.pixels.dtype == expected_dtype
    if case in LOSSLESS:
        np.testing.assert_array_equal(after.pixels, before.pixels)
    else:
        gap = np.abs(after.pixels.astype(float) - before.pixels.astype(float))[..., :3]
        assert gap.mean() < 4  # one more generation of lossy coding on a noisy image
    if before.pixels.shape[-1] == 4 and fmt != "avif":
        np.testing.assert_array_equal(after.pixels[..., 3], before.pixels[..., 3])
    if fmt in METADATA and mode != "CMYK":
        assert before.icc_profile == srgb_profile() and after.icc_profile == before.icc_profile
    if fmt in METADATA and mode not in ("CMYK", "I;16"):
        assert _exif_make(out) == "colorot test camera"
        assert after.exif == before.exif  # the EXIF block, byte for byte


def test_grayscale_and_gif_are_noted(tmp_path, style):
    _, _, result = _identity(tmp_path, style, "png-8-L")
    assert "grayscale read as RGB" in result.output
    frames = [Image.fromarray(_gradient(8, 3, seed=s)).quantize(32) for s in range(3)]
    frames[0].save(tmp_path / "anim.gif", save_all=True, append_images=frames[1:])
    assert "3 frames: only the first is used" in read_image(tmp_path / "anim.gif").notes


def test_cmyk_is_converted_to_rgb(tmp_path):
    rgb = _gradient(8, 3)
    Image.fromarray(rgb).convert("CMYK").save(tmp_path / "c.jpg", quality=100)
    image = read_image(tmp_path / "c.jpg")
    assert image.pixels.shape == (H, W, 3) and any("CMYK" in note for note in image.notes)
    assert np.abs(image.pixels.astype(float) - rgb).mean() < 8
    # the note is about reading (a style is never written), and the output is written with an sRGB profile
    assert not any("written" in note for note in image.notes)
    write_image(tmp_path / "out.png", image.pixels, like=image)
    assert read_image(tmp_path / "out.png").icc_profile == srgb_profile()


def test_sixteen_bit_transfer_keeps_sixteen_bits(tmp_path, style):
    source = tmp_path / "deep.png"
    source.write_bytes(write_png16(_gradient(16, 3), None, None))
    out = tmp_path / "graded.png"
    result = CliRunner().invoke(main, ["transfer", str(source), str(style), "-o", str(out), "--seed", "0"])
    assert result.exit_code == 0, result.output
    pixels = read_image(out).pixels
    assert pixels.dtype == np.uint16 and len(np.unique(pixels[..., 0])) > 256  # not 8 bits in disguise


def test_sixteen_bit_png_chunks_are_read_by_pillow(tmp_path):
    path = tmp_path / "deep.png"
    path.write_bytes(write_png16(_gradient(16, 4), srgb_profile(), _exif()))
    with Image.open(path) as image:
        assert image.info["icc_profile"] == srgb_profile()
        assert image.getexif()[0x010F] == "colorot test camera"


@pytest.mark.parametrize("orientation", range(1, 9))
def test_orientation_matches_pillow_for_every_exif_value(tmp_path, orientation):
    from PIL import ImageOps

    pixels = _gradient(8, 3)
    path = tmp_path / "turned.png"
    Image.fromarray(pixels).save(path, exif=_exif(orientation))
    expected = np.asarray(ImageOps.exif_transpose(Image.open(path)))
    deep = tmp_path / "turned16.png"
    deep.write_bytes(write_png16(pixels.astype(np.uint16) * 257, None, _exif(orientation)))
    np.testing.assert_array_equal(read_image(path).pixels, expected)
    np.testing.assert_array_equal(read_image(deep).pixels, expected.astype(np.uint16) * 257)
    written = Image.Exif()
    written.load(read_image(path).exif)
    assert written[0x0112] == 1 and written[0x010F] == "colorot test camera"  # turned, and said so


def _matrix_profile(primaries, white=(0.9642, 1.0, 0.8249), gamma=2.2) -> bytes:
    """A minimal ICC v2 RGB matrix/TRC display profile (D50-adapted colorant XYZ columns)."""

    def s15(value):
        return struct.pack(">i", round(value * 65536))

    def xyz(values):
        return b"XYZ \0\0\0\0" + b"".join(s15(v) for v in values)

    curve = b"curv\0\0\0\0" + struct.pack(">IH", 1, round(gamma * 256)) + b"\0\0"
    text = b"desc\0\0\0\0" + struct.pack(">I", 5) + b"wide\0" + b"\0" * 4 + b"\0" * 2 + b"\0" + b"\0" * 67
    tags = [(b"desc", text), (b"wtpt", xyz(white)), (b"rXYZ", xyz(primaries[0])), (b"gXYZ", xyz(primaries[1])),
            (b"bXYZ", xyz(primaries[2])), (b"rTRC", curve), (b"gTRC", curve), (b"bTRC", curve),
            (b"cprt", b"text\0\0\0\0public domain\0\0\0")]
    offset = 128 + 4 + 12 * len(tags)
    table, data = struct.pack(">I", len(tags)), b""
    for signature, payload in tags:
        payload += b"\0" * (-len(payload) % 4)
        table += signature + struct.pack(">II", offset + len(data), len(payload))
        data += payload
    size = offset + len(data)
    header = struct.pack(">I", size) + b"lcms" + bytes([2, 0x10, 0, 0]) + b"mntrRGB XYZ " + b"\0" * 12 + b"acsp"
    header += b"\0" * (64 - len(header)) + struct.pack(">I", 0) + s15(0.9642) + s15(1.0) + s15(0.8249)
    header += b"\0" * (128 - len(header))
    return header + table + data


# Adobe RGB (1998) primaries, D50-adapted: a gamut wider than sRGB's.
WIDE = _matrix_profile([(0.6097, 0.3111, 0.0195), (0.2053, 0.6257, 0.0609), (0.1492, 0.0632, 0.7446)])


def test_profiles_convert_and_compare():
    rgb = _gradient(8, 3)
    wide = convert_to_profile(rgb, None, WIDE)
    assert np.abs(wide.astype(float) - rgb).mean() > 3  # a real change of encoding
    back = convert_to_profile(wide, WIDE, None)
    assert np.abs(back.astype(float) - rgb).mean() < 1.5
    assert same_profile(None, srgb_profile()) and not same_profile(WIDE, None)


def test_style_in_another_profile_is_matched_in_the_source_profile(tmp_path):
    source, style = tmp_path / "photo.png", tmp_path / "look.png"
    Image.fromarray(_gradient(8, 3)).save(source)
    look = (_gradient(8, 3, seed=9) * np.array([1.0, 0.6, 0.3])).astype(np.uint8)
    tagged = tmp_path / "look_wide.png"
    Image.fromarray(look).save(style)
    Image.fromarray(convert_to_profile(look, None, WIDE)).save(tagged, icc_profile=WIDE)
    outputs = {}
    for name, path in (("srgb", style), ("wide", tagged)):
        out = tmp_path / f"out_{name}.png"
        result = CliRunner().invoke(main, ["transfer", str(source), str(path), "-o", str(out), "--seed", "0"])
        assert result.exit_code == 0, result.output
        outputs[name] = read_image(out).pixels.astype(float)
    # The same look, whichever profile encodes it: the outputs agree up to 8-bit conversion noise.
    assert np.abs(outputs["srgb"] - outputs["wide"]).mean() < 3


def test_in_place_and_strip_metadata(tmp_path, style):
    source = tmp_path / "photo.jpg"
    Image.fromarray(_gradient(8, 3)).save(source, icc_profile=srgb_profile(), exif=_exif(), quality=95)
    before = source.read_bytes()
    assert CliRunner().invoke(main, ["transfer", str(source), str(style), "--in-place", "-o", "x.jpg"]).exit_code == 2
    result = CliRunner().invoke(main, ["transfer", str(source), str(style), "--in-place", "--strip-metadata"])
    assert result.exit_code == 0, result.output
    assert source.read_bytes() != before and [p.name for p in tmp_path.iterdir()] == ["photo.jpg"]
    image = read_image(source)
    assert image.exif is None and image.icc_profile == srgb_profile()


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda p: p.write_bytes(b""), "empty file"),
        (lambda p: p.mkdir(), "is a directory"),
        (lambda p: p.write_text("not an image at all"), "not an image"),
        (lambda p: p.write_bytes(write_png16(_gradient(16, 3), None, None)[:200]), "corrupt, truncated"),
    ],
)
def test_bad_files_are_one_line_errors_naming_the_file(tmp_path, style, make, message):
    bad = tmp_path / "bad.png"
    make(bad)
    result = CliRunner().invoke(main, ["transfer", str(bad), str(style), "-o", str(tmp_path / "out.png")])
    assert result.exit_code == 1 and message in result.output and "bad.png" in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert not (tmp_path / "out.png").exists()


def test_pixel_limit_guards_against_decompression_bombs(tmp_path, style, monkeypatch):
    path = tmp_path / "big.tif"
    tifffile.imwrite(path, _gradient(16, 3), photometric="rgb")
    with pytest.raises(ColorotError, match="big.tif: 960 pixels is over the limit of 100"):
        read_image(path, max_pixels=100)
    result = CliRunner().invoke(main, ["transfer", str(path), str(style), "--max-pixels", "100"])
    assert result.exit_code == 1 and "is over the limit of 100" in result.output
    monkeypatch.setenv("COLOROT_MAX_PIXELS", "100")
    with pytest.raises(ColorotError, match="over the limit"):
        read_image(tmp_path / "big.tif")
    assert read_image(path, max_pixels=H * W).pixels.shape == (H, W, 3)


def test_deep_tiff_keeps_exif_subdirectories(tmp_path):
    from PIL import TiffImagePlugin

    exif = Image.Exif()
    exif.load(_exif())
    exif.get_ifd(0x8769)[0x829A] = TiffImagePlugin.IFDRational(1, 250)  # ExposureTime
    exif.get_ifd(0x8769)[0x8827] = 400  # ISO
    for depth in (16, 32):
        path = tmp_path / f"deep{depth}.tif"
        path.write_bytes(write_tiff(_gradient(depth, 3), None, exif.tobytes()))
        read = Image.Exif()
        read.load(read_image(path).exif)
        assert read[0x010F] == "colorot test camera"
        assert read.get_ifd(0x8769)[0x8827] == 400 and float(read.get_ifd(0x8769)[0x829A]) == 1 / 250


def test_a_deep_avif_says_it_is_read_at_8_bits(tmp_path):
    """Pillow decodes a 10-bit AVIF to 8 bits: the depth is not kept, and the reading note says so (an 8-bit one
    gets no such note)."""
    import shutil
    import subprocess


    if shutil.which("ffmpeg") is None:
        pytest.skip("the ffmpeg command line is not installed")
    deep = tmp_path / "deep.avif"
    made = subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "testsrc=size=64x48",
                           "-frames:v", "1", "-pix_fmt", "yuv420p10le", "-c:v", "libaom-av1", "-still-picture", "1",
                           str(deep)], capture_output=True)
    if made.returncode != 0:
        pytest.skip("this ffmpeg has no libaom-av1 encoder")
    try:
        image = read_image(deep)
    except Exception as error:  # noqa: BLE001 - a Pillow without AVIF
        pytest.skip(f"Pillow cannot read AVIF here ({error})")
    assert image.pixels.dtype == np.uint8
    assert any("10-bit AVIF read at 8 bits" in note for note in image.notes), image.notes
    Image.fromarray(image.pixels).save(tmp_path / "plain.avif")
    assert not any("bits" in note for note in read_image(tmp_path / "plain.avif").notes)
