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


def _valid_files() -> dict[str, bytes]:
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, (12, 16, 3), dtype=np.uint8)
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
    _read(VALID[fmt], f"valid.{fmt}")


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
