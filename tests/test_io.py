
import numpy as np
import pytest
from PIL import Image, ImageCms

from colorot import ColorotError, read_image, write_image
from conftest import load_sample


def _srgb_profile() -> bytes:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


@pytest.mark.parametrize("suffix", [".jpg", ".png", ".tif", ".webp"])
def test_icc_profile_and_exif_survive_a_round_trip(tmp_path, suffix):
    pixels = load_sample("chelsea", 64)
    exif = Image.Exif()
    exif[0x010F] = "colorot-test-camera"  # Make
    path = tmp_path / f"in{suffix}"
    profile = _srgb_profile()  # once: LittleCMS stamps each new profile with the time, to the second
    Image.fromarray(pixels).save(path, icc_profile=profile, exif=exif.tobytes())
    image = read_image(path)
    out = write_image(tmp_path / f"out{suffix}", image.pixels, like=image)
    with Image.open(out) as written:
        assert written.info.get("icc_profile") == profile
        assert written.getexif().get(0x010F) == "colorot-test-camera"


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_a_camera_s_exif_and_gps_directories_are_written_to_tiff(tmp_path, dtype):
    # a camera JPEG's EXIF points to its Exif and GPS sub-directories: Pillow's TIFF writer could not set those
    # pointers, and every such photo failed to write as .tif
    exif = Image.Exif()
    exif[0x010F] = "colorot-test-camera"
    exif.get_ifd(0x8769)[0x9003] = "2024:01:01 10:00:00"  # DateTimeOriginal
    exif.get_ifd(0x8825)[0x0002] = (1.0, 2.0, 3.0)  # GPSLatitude
    path = tmp_path / "camera.jpg"
    Image.fromarray(load_sample("chelsea", 64)).save(path, exif=exif.tobytes())
    image = read_image(path)
    pixels = image.pixels.astype(dtype) * (257 if dtype == np.uint16 else 1)
    out = write_image(tmp_path / "out.tif", pixels, like=image)
    assert np.array_equal(read_image(out).pixels, pixels)
    with Image.open(out) as written:
        tags = written.getexif()
        assert tags.get(0x010F) == "colorot-test-camera"
        assert tags.get_ifd(0x8769).get(0x9003) == "2024:01:01 10:00:00"
        assert tags.get_ifd(0x8825).get(0x0002) == (1.0, 2.0, 3.0)
    Image.fromarray(load_sample("chelsea", 64)).save(tmp_path / "300dpi.tif", dpi=(300, 300))
    source = read_image(tmp_path / "300dpi.tif")
    with Image.open(write_image(tmp_path / "out300.tif", source.pixels.astype(dtype), like=source)) as written:
        assert written.info.get("dpi") == (300.0, 300.0)  # the photo's resolution, kept


def test_exif_orientation_is_applied_and_reset(tmp_path):
    pixels = load_sample("chelsea", 64)
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise on display
    path = tmp_path / "rotated.jpg"
    Image.fromarray(pixels).save(path, exif=exif.tobytes())
    image = read_image(path)
    assert image.pixels.shape[:2] == pixels.shape[1::-1]
    out = write_image(tmp_path / "out.jpg", image.pixels, like=image)
    with Image.open(out) as written:
        assert written.getexif().get(0x0112) == 1


def test_jpeg_keeps_the_source_quality_tables(tmp_path):
    path = tmp_path / "q70.jpg"
    Image.fromarray(load_sample("coffee", 96)).save(path, quality=70)
    image = read_image(path)
    out = write_image(tmp_path / "out.jpg", image.pixels, like=image)
    with Image.open(path) as original, Image.open(out) as written:
        assert written.quantization == original.quantization


def test_write_is_atomic_and_leaves_nothing_on_failure(tmp_path, monkeypatch):
    target = tmp_path / "out.png"
    target.write_bytes(b"previous result")

    def broken_save(self, *args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Image.Image, "save", broken_save)
    with pytest.raises(ColorotError, match="cannot write"):
        write_image(target, np.zeros((4, 4, 3), dtype=np.uint8))
    assert target.read_bytes() == b"previous result"
    assert [p.name for p in tmp_path.iterdir()] == ["out.png"]


def test_alpha_png_round_trip_is_exact(tmp_path):
    rgba = np.random.default_rng(0).integers(0, 256, (16, 16, 4), dtype=np.uint8)
    path = tmp_path / "a.png"
    Image.fromarray(rgba, "RGBA").save(path)
    assert np.array_equal(read_image(path).pixels, rgba)
    with pytest.raises(ColorotError, match="no alpha"):
        write_image(tmp_path / "a.jpg", rgba)


def test_a_float_tiff_keeps_its_resolution(tmp_path):
    from colorot.io import ImageFile

    pixels = load_sample("chelsea", 32).astype(np.float32) / 255
    exif = Image.Exif()
    exif.update({0x010F: "colorot-test-camera", 282: 300.0, 283: 300.0, 296: 2})
    first = read_image(write_image(tmp_path / "in.tif", pixels, like=ImageFile(pixels, tmp_path, "TIFF", None,
                                                                                exif.tobytes())))
    again = read_image(write_image(tmp_path / "out.tif", first.pixels, like=first))
    for image in (first, again):
        tags = Image.Exif()
        tags.load(image.exif)
        assert (tags.get(282), tags.get(283), tags.get(296), tags.get(0x010F)) == (300.0, 300.0, 2,
                                                                                   "colorot-test-camera")
    assert read_image(write_image(tmp_path / "plain.tif", pixels)).exif is None  # no resolution said, none read
