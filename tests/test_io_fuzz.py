"""Fuzzing the reader: random bytes, and valid files of every format with bytes changed, inserted
or cut. Only colorot's own error may escape, never a crash, another exception type or a hang."""

from __future__ import annotations

import io
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pytest
import tifffile
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from colorot import ColorotError, read_image
from colorot.io._codecs import write_png16
from colorot.io.icc import srgb_profile


RGB = np.random.default_rng(0).integers(0, 256, (12, 16, 3), dtype=np.uint8)

#: The formats whose sample keeps every code (the others are lossy or a palette).
LOSSLESS = ("png", "png16", "bmp", "tiff", "tiff-float")


def _valid_files() -> dict[str, bytes]:
    rgb = RGB
    exif = Image.Exif()
    exif[0x0112] = 6
    files = {}
    for fmt, options in [("png", {}), ("jpeg", {"quality": 90}), ("webp", {}), ("bmp", {}), ("gif", {}),
                         ("tiff", {"compression": "tiff_deflate"}), ("avif", {})]:
        buffer = io.BytesIO()
        extra = {"exif": exif.tobytes(), "icc_profile": srgb_profile()} if fmt in ("png", "jpeg", "webp") else {}
        Image.fromarray(rgb).save(buffer, format=fmt, **options, **extra)
        files[fmt] = buffer.getvalue()
    files["png16"] = write_png16(rgb.astype(np.uint16) * 257, srgb_profile(), exif.tobytes())
    buffer = io.BytesIO()
    tifffile.imwrite(buffer, rgb.astype(np.float32) / 255, photometric="rgb")
    files["tiff-float"] = buffer.getvalue()
    return files


VALID = _valid_files()
FOLDER = Path(tempfile.mkdtemp(prefix="colorot-fuzz-"))


@pytest.fixture(scope="module", autouse=True)
def _remove_the_folder():
    """The fuzzed files' folder goes with the module's tests (it used to stay in TMPDIR after every run)."""
    yield
    shutil.rmtree(FOLDER, ignore_errors=True)
SETTINGS = settings(max_examples=60, deadline=5000, suppress_health_check=[HealthCheck.too_slow])


def _read(data: bytes, name: str) -> None:
    path = FOLDER / name
    path.write_bytes(data)
    try:
        image = read_image(path, max_pixels=1 << 22)
    except ColorotError as error:
        assert str(error).startswith(str(path)) and "\n" not in str(error)
        return
    assert image.pixels.ndim == 3 and image.pixels.shape[-1] in (3, 4)


@SETTINGS
@given(st.binary(max_size=2048))
def test_random_bytes(data):
    _read(data, "random.img")


@pytest.mark.parametrize("fmt", sorted(VALID))
def test_every_valid_sample_reads(fmt):
    path = FOLDER / f"valid.{fmt}"
    path.write_bytes(VALID[fmt])
    image = read_image(path)  # a valid file must read: no error is allowed here
    # EXIF orientation 6 (rotated 90 degrees clockwise) is applied where the sample carries it.
    expected = np.rot90(RGB, -1) if fmt in ("png", "png16", "jpeg", "webp") else RGB
    assert image.pixels.shape[:2] == expected.shape[:2] and image.pixels.shape[-1] in (3, 4)
    if fmt in LOSSLESS:
        scale = {"uint8": 1, "uint16": 257}.get(image.pixels.dtype.name, 1 / 255)
        np.testing.assert_allclose(image.pixels[..., :3] / scale, expected, atol=0.5)


@SETTINGS
@given(
    fmt=st.sampled_from(sorted(VALID)),
    edits=st.lists(st.tuples(st.floats(0, 1, exclude_max=True), st.integers(0, 255)), min_size=1, max_size=12),
    cut=st.one_of(st.none(), st.floats(0, 1)),
    insert=st.booleans(),
)
def test_mutated_files(fmt, edits, cut, insert):
    data = bytearray(VALID[fmt])
    for where, value in edits:
        position = int(where * len(data))
        if insert:
            data.insert(position, value)
        else:
            data[position] = value
    if cut is not None:
        data = data[: int(cut * len(data))]
    _read(bytes(data), f"mutated.{fmt}")
