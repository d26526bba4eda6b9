"""Shared fixtures: small real photos from samples/ and the devices to test on."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

SAMPLES = Path(__file__).resolve().parent.parent / "samples"

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


def load_sample(name: str, width: int = 160) -> np.ndarray:
    """A sample photo, downscaled to ``width`` pixels wide, as uint8 (H, W, 3)."""
    image = Image.open(SAMPLES / f"{name}.jpg").convert("RGB")
    height = round(image.height * width / image.width)
    return np.asarray(image.resize((width, height), Image.LANCZOS))


@pytest.fixture(scope="session")
def astronaut() -> np.ndarray:
    return load_sample("astronaut")


@pytest.fixture(scope="session")
def coffee() -> np.ndarray:
    return load_sample("coffee")


@pytest.fixture(scope="session")
def chelsea() -> np.ndarray:
    return load_sample("chelsea")


@pytest.fixture(params=DEVICES)
def device(request) -> str:
    return request.param
