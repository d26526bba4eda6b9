import subprocess
import sys

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from colorot.cli import main
from colorot.measures.metrics import color_distance as _color_distance
from conftest import load_sample


@pytest.fixture
def photos(tmp_path):
    source, style = tmp_path / "photo.jpg", tmp_path / "look.jpg"
    Image.fromarray(load_sample("astronaut", 128)).save(source, quality=90)
    Image.fromarray(load_sample("coffee", 128)).save(style, quality=90)
    return source, style


def color_distance(image, reference):
    return _color_distance(image, reference, n_samples=16384, n_projections=64)


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_transfer_writes_the_output_and_matches_the_style(photos, tmp_path):
    source, style = photos
    result = run("transfer", source, style, "-o", tmp_path / "out.jpg", "--seed", "0", "--method", "unbalanced")
    assert result.exit_code == 0, result.output
    out = np.asarray(Image.open(tmp_path / "out.jpg"))
    style_pixels = np.asarray(Image.open(style))
    assert out.shape == np.asarray(Image.open(source)).shape
    assert color_distance(out, style_pixels) < 0.7 * color_distance(np.asarray(Image.open(source)), style_pixels)
    assert not list(tmp_path.glob("*.tmp"))


def test_default_output_name_and_options(photos):
    source, style = photos
    result = run("transfer", source, style, "--space", "oklab", "--strength", "0.5", "--seed", "1", "--device", "cpu")
    assert result.exit_code == 0, result.output
    assert (source.parent / "photo_colorot.jpg").exists()


def test_refine_rounds_on_the_command_line(photos, tmp_path):
    source, style = photos
    outputs = {}
    for rounds in ("0", "2"):
        out = tmp_path / f"refine{rounds}.png"
        result = run("transfer", source, style, "-o", out, "--seed", "0", "--method", "unbalanced", "--refine", rounds, "--regrain", "2")
        assert result.exit_code == 0, result.output
        outputs[rounds] = np.asarray(Image.open(out))
    assert not np.array_equal(outputs["0"], outputs["2"])
    style_pixels = np.asarray(Image.open(style))
    assert color_distance(outputs["2"], style_pixels) < 0.5 * color_distance(np.asarray(Image.open(source)), style_pixels)
    assert run("transfer", source, style, "--refine", "-1").exit_code == 2


def test_refuses_to_overwrite_an_input(photos):
    source, style = photos
    before = source.read_bytes()
    result = run("transfer", source, style, "-o", source)
    assert result.exit_code != 0 and "refusing to overwrite" in result.output
    assert source.read_bytes() == before


@pytest.mark.parametrize(
    "make_source, message",
    [
        (lambda d: d / "missing.jpg", "no such file"),
        (lambda d: (d / "notes.jpg").write_text("not a picture") and d / "notes.jpg", "not an image"),
        (lambda d: (d / "empty.png").write_bytes(b"") or d / "empty.png", "empty file"),
        (lambda d: d, "is a directory"),
    ],
)
def test_bad_input_is_one_line_and_nonzero(photos, tmp_path, make_source, message):
    _, style = photos
    bad = make_source(tmp_path)
    result = run("transfer", bad, style, "-o", tmp_path / "out.png")
    assert result.exit_code == 1
    assert message in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert not (tmp_path / "out.png").exists()


def test_an_output_that_is_a_folder_is_called_one(photos, tmp_path):
    source, style = photos
    (tmp_path / "graded").mkdir()
    result = run("transfer", source, style, "-o", tmp_path / "graded")
    assert result.exit_code == 1 and "is a directory" in result.output and "unknown output format" not in result.output


def test_truncated_jpeg_is_a_clear_error(photos, tmp_path):
    source, style = photos
    truncated = tmp_path / "cut.jpg"
    truncated.write_bytes(source.read_bytes()[:600])
    result = run("transfer", truncated, style, "-o", tmp_path / "out.png")
    assert result.exit_code == 1 and "corrupt, truncated" in result.output and "cut.jpg" in result.output


def test_bad_options_are_rejected(photos, tmp_path):
    source, style = photos
    assert run("transfer", source, style, "--strength", "2").exit_code == 2
    assert run("transfer", source, style, "--space", "hsv").exit_code == 2
    result = run("transfer", source, style, "-o", tmp_path / "out.xyz")
    assert result.exit_code == 1 and "unknown output format" in result.output


@pytest.mark.parametrize("option, value", [("--reach", "1e155"), ("--reach", "-1"), ("--seed", "1e20"),
                                           ("--seed", str(1 << 70)), ("--seed", "-3"), ("--strength", "nan"),
                                           ("--reach", "nan"), ("--weights", "-1,2")])
def test_options_out_of_range_are_one_line_usage_errors(photos, tmp_path, option, value):
    source, style = photos
    styles = [style, style] if option == "--weights" else [style]
    result = run("transfer", source, *styles, "-o", tmp_path / "out.png", option, value)
    assert result.exit_code == 2 and "unexpected" not in result.output.lower(), result.output
    assert option.strip("-") in result.output and not (tmp_path / "out.png").exists()
    assert len([line for line in result.output.splitlines() if line.strip()]) <= 3  # click's usage lines at most


def test_exif_too_long_for_a_jpeg_is_left_out_with_a_note(tmp_path):
    rng = np.random.default_rng(0)
    image = Image.fromarray((rng.random((48, 64, 3)) * 255).astype(np.uint8))
    exif = Image.Exif()
    exif[0x010E] = "x" * 70000  # ImageDescription: 70 KB, more than a JPEG's APP1 segment holds
    image.save(tmp_path / "photo.png", exif=exif.tobytes())
    Image.fromarray(load_sample("coffee", 64)).save(tmp_path / "look.png")
    result = run("transfer", tmp_path / "photo.png", tmp_path / "look.png", "-o", tmp_path / "out.jpg")
    assert result.exit_code == 0, result.output
    assert "EXIF" in result.output and "unexpected" not in result.output
    with Image.open(tmp_path / "out.jpg") as written:
        assert not written.info.get("exif")
    # a PNG holds it: kept
    assert run("transfer", tmp_path / "photo.png", tmp_path / "look.png", "-o", tmp_path / "out.png").exit_code == 0
    with Image.open(tmp_path / "out.png") as written:
        assert len(written.info.get("exif", b"")) > 65533


def test_a_damaged_embedded_profile_is_read_as_srgb_with_a_note(tmp_path):
    from PIL import ImageCms

    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    image = Image.fromarray(load_sample("astronaut", 64))
    image.save(tmp_path / "damaged.jpg", icc_profile=profile[:100])  # cut short: LittleCMS cannot open it
    image.save(tmp_path / "plain.jpg")
    Image.fromarray(load_sample("coffee", 64)).save(tmp_path / "look.png")
    for source, style in (("damaged.jpg", "look.png"), ("look.png", "damaged.jpg")):
        result = run("transfer", tmp_path / source, tmp_path / style, "-o", tmp_path / "out.png")
        assert result.exit_code == 0 and "unexpected" not in result.output, result.output
        assert "damaged.jpg: its embedded ICC profile is damaged" in result.output
    # its colors are read as those of the same file without a profile
    from colorot import read_image

    assert np.array_equal(read_image(tmp_path / "damaged.jpg").pixels, read_image(tmp_path / "plain.jpg").pixels)


def test_help_and_module_entry_point():
    assert "transfer" in run("-h").output
    assert "--strength" in run("transfer", "-h").output
    completed = subprocess.run([sys.executable, "-m", "colorot", "-h"], capture_output=True, text=True, check=True)
    assert "transfer" in completed.stdout


def test_evaluate_reports_closer_colors_after_transfer(photos, tmp_path):
    import json

    source, style = photos
    out = tmp_path / "out.png"
    assert run("transfer", source, style, "-o", out, "--seed", "0", "--method", "unbalanced").exit_code == 0
    after = run("evaluate", out, "--style", style, "--source", source, "--json")
    before = run("evaluate", source, "--style", style, "--source", source, "--json")
    assert after.exit_code == 0, after.output
    after, before = json.loads(after.output), json.loads(before.output)
    assert after["sliced_w2_to_style"] < 0.7 * before["sliced_w2_to_style"]
    assert after["exact_w2_to_style"] < before["exact_w2_to_style"]
    assert before["ssim_to_source"] == pytest.approx(1.0) and before["structure_to_source"] == pytest.approx(1.0)
    assert 0.9 < after["structure_to_source"] <= 1.0
    text = run("evaluate", out, "--style", style)
    assert text.exit_code == 0 and "sliced_w2_to_style" in text.output and "ssim" not in text.output


def test_evaluate_needs_something_to_compare_with(photos):
    source, _ = photos
    result = run("evaluate", source)
    assert result.exit_code == 1 and "nothing to compare with" in result.output


def test_evaluate_says_in_one_line_what_it_cannot_compare(photos, tmp_path):
    from PIL import Image

    source, style = photos
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 256, (5, 6, 3), dtype=np.uint8)).save(tmp_path / "tiny.png")
    Image.fromarray(rng.integers(0, 256, (5, 6, 3), dtype=np.uint8)).save(tmp_path / "tiny_out.png")
    tiny = run("evaluate", tmp_path / "tiny_out.png", "--source", tmp_path / "tiny.png")
    assert tiny.exit_code == 1 and "too small for SSIM" in tiny.output and "unexpected" not in tiny.output
    for side, fits in ((10, False), (12, False), (13, True)):  # SSIM's window is 11 pixels wide, the structure's 13
        for name in ("small.png", "small_out.png"):
            Image.fromarray(rng.integers(0, 256, (side, side, 3), dtype=np.uint8)).save(tmp_path / name)
        small = run("evaluate", tmp_path / "small_out.png", "--source", tmp_path / "small.png")
        assert (small.exit_code == 0) == fits and "unexpected" not in small.output, small.output
    other = run("evaluate", tmp_path / "tiny_out.png", "--source", source)
    assert other.exit_code == 1 and "tiny_out.png is 6 x 5 pixels but --source" in other.output
    assert run("evaluate", tmp_path / "tiny_out.png", "--style", style).exit_code == 0  # colors alone: any size


def test_ctrl_c_stops_a_command_with_the_shells_status_and_one_line(monkeypatch, photos):
    """Ctrl-C during a command: "interrupted" and status 130 (click alone says "Aborted!" and 1)."""
    import colorot.api

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(colorot.api, "transfer", interrupted)
    monkeypatch.setattr(colorot.api.ColorTransfer, "fit", interrupted)
    source, style = photos
    result = CliRunner().invoke(main, ["transfer", str(source), str(style), "-o", str(source.with_name("o.png"))])
    assert result.exit_code == 130 and "interrupted" in result.output and "Aborted" not in result.output
    assert not source.with_name("o.png").exists()


def test_every_command_is_there():
    from colorot.cli import main as commands

    assert set(commands.commands) == {"apply", "batch", "evaluate", "fit", "lut", "style", "train", "transfer", "ui",
                                      "video"}
