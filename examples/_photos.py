"""The sample photos, downscaled, for the gallery examples."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from PIL import Image

SAMPLES = next(p for p in (Path.cwd() / "samples", Path.cwd().parent / "samples", Path(__file__).parent.parent / "samples")
               if p.is_dir())


def photo(name: str, width: int = 256) -> np.ndarray:
    """A sample photo as uint8 (H, W, 3), ``width`` pixels wide."""
    image = Image.open(SAMPLES / f"{name}.jpg").convert("RGB")
    return np.asarray(image.resize((width, round(image.height * width / image.width)), Image.LANCZOS))


def show_row(images, titles, figsize_height: float = 2.6):
    """Images side by side with their titles."""
    figure, axes = plt.subplots(1, len(images), figsize=(figsize_height * 1.3 * len(images), figsize_height))
    for axis, image, title in zip(np.atleast_1d(axes), images, titles):
        axis.imshow(np.clip(image, 0, 255 if np.asarray(image).dtype == np.uint8 else 1))
        axis.set_title(title, fontsize=9)
        axis.axis("off")
    figure.tight_layout()
    return figure
