"""The structure a photo shares with a reference: found through any grade, absent between two scenes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from colorot.measures.structure import corresponding_colors, shared_structure, structure_patches

SAMPLES = Path(__file__).resolve().parent.parent / "samples"


def photo(name: str, side: int = 240) -> np.ndarray:
    with Image.open(SAMPLES / f"{name}.jpg") as image:
        image = image.convert("RGB")
        image.thumbnail((side, side), Image.LANCZOS)
        return np.asarray(image)


def patches(image: np.ndarray, **kind):
    pixels = torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1).flatten(1)[None]
    scale = 1 / 255 if image.dtype == np.uint8 else 1.0
    return structure_patches(pixels, image.shape[:2], scale, **kind)[0]


GRADES = {
    "none": lambda x: x,
    "crushed, warm": lambda x: np.clip((x - 0.1) / 0.9, 0, 1) ** 1.4 * np.array([1.1, 1.0, 0.8]),
    "faded, cool": lambda x: 0.15 + 0.7 * x * np.array([0.9, 1.0, 1.1]),
    "sepia": lambda x: (x @ np.array([0.2126, 0.7152, 0.0722]))[..., None] * np.array([1.15, 1.0, 0.75]),
}


def graded(grade, image: np.ndarray) -> np.ndarray:
    return (np.clip(grade(image / 255.0), 0, 1) * 255).round().astype(np.uint8)


@pytest.mark.parametrize("grade", GRADES)
@pytest.mark.parametrize("name", ["astronaut", "coffee", "rocket"])
def test_two_views_of_one_scene_share_structure_through_any_grade_two_scenes_do_not(name, grade):
    scene = photo(name)
    width = scene.shape[1]
    view, reference = scene[:, :int(0.65 * width)], graded(GRADES[grade], scene[:, int(0.35 * width):])
    others = [other for other in ("astronaut", "coffee", "rocket", "chelsea") if other != name]
    shared = shared_structure(patches(view), patches(reference, reference=True))
    elsewhere = max(shared_structure(patches(view), patches(graded(GRADES[grade], photo(other)), reference=True))
                    for other in others)
    assert shared > 0.03 > 0.015 > elsewhere


def test_a_closer_view_of_the_scene_is_found_at_another_scale():
    scene = photo("astronaut", 320)
    closer = np.asarray(Image.fromarray(scene[40:240, 60:300]).resize((320, 267), Image.LANCZOS))
    other = photo("rocket", 320)
    assert shared_structure(patches(scene), patches(closer, reference=True)) > 0.03 > 0.015 > \
        shared_structure(patches(scene), patches(other, reference=True))


def test_the_pixels_type_does_not_matter():
    image = photo("coffee")
    as_float = patches(image.astype(np.float64) / 255)
    assert torch.allclose(patches(image).patches, as_float.patches, atol=1e-3)
    assert torch.equal(patches(image).positions, as_float.positions)


def test_a_flat_or_tiny_image_shares_nothing_and_raises_nothing():
    flat = np.full((50, 70, 3), 128, np.uint8)
    tiny = photo("coffee")[:5, :6]
    assert patches(flat).patches.shape == (0, 64)
    assert shared_structure(patches(flat), patches(photo("coffee"), reference=True)) == 0.0
    assert abs(shared_structure(patches(photo("coffee")), patches(tiny, reference=True))) < 0.05


@pytest.mark.parametrize("grade", GRADES)
def test_color_pairs_of_two_views_carry_the_grade_and_two_scenes_give_none(grade):
    """Where two views overlap, each pair is one point of the scene: the reference's color is the photo's graded."""
    scene = photo("coffee")
    width = scene.shape[1]
    view, reference = scene[:, :int(0.65 * width)], graded(GRADES[grade], scene[:, int(0.35 * width):])
    pairs = corresponding_colors(patches(view), patches(reference, reference=True))
    assert pairs is not None
    mine, theirs, weights = (part.double() for part in pairs)
    assert len(mine) > 0.3 * 128 * 128 * view.shape[0] / view.shape[1] * 0.5  # about the overlap's thumbnail pixels
    expected = torch.from_numpy(np.clip(GRADES[grade](mine.numpy()), 0, 1))
    off = ((expected - theirs).abs().sum(dim=1) * weights).sum() / weights.sum()
    unpaired = ((expected - mine).abs().sum(dim=1) * weights).sum() / weights.sum()
    assert float(off) < 0.03 and (grade == "none" or float(off) < 0.25 * float(unpaired))
    for other in ("astronaut", "rocket", "chelsea"):
        assert corresponding_colors(patches(view), patches(graded(GRADES[grade], photo(other)), reference=True)) is None


def test_a_structure_without_thumbnails_gives_no_color_pairs():
    scene = photo("coffee")
    view = patches(scene[:, :150])
    reference = patches(scene[:, 90:], reference=True)
    assert corresponding_colors(view, reference) is not None
    assert corresponding_colors(view, type(reference)(*reference[:2])) is None
