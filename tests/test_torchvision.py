"""ColorTransferModule inside torchvision's own transforms v2 (``Compose`` with its tv_tensors): samples, dicts,
boxes and masks, videos, dtypes.

Runs where torchvision imports beside the installed torch (checked here with torch 2.14.1 and torchvision 0.29.1
in a separate venv); skipped otherwise, as on CI, whose CPU torch has no matching torchvision.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

try:
    from torchvision import tv_tensors
    from torchvision.transforms import v2
except Exception as error:  # noqa: BLE001 - PyPI's torchvision beside another torch fails with a RuntimeError
    pytest.skip(f"torchvision's transforms v2 do not import here ({type(error).__name__})", allow_module_level=True)

from PIL import Image

from colorot import ColorTransferModule

FAST = dict(n_iter=12, n_samples=8192, lut_size=33)


@pytest.fixture
def module(coffee):
    return ColorTransferModule(coffee, seed=0, **FAST)


def test_in_compose_a_tv_image_stays_one_and_is_graded_as_a_plain_tensor(module, astronaut):
    pipeline = v2.Compose([v2.ToImage(), v2.ToDtype(torch.float32, scale=True), module])
    out = pipeline(Image.fromarray(astronaut))
    assert type(out) is tv_tensors.Image and out.dtype == torch.float32
    plain = torch.from_numpy(astronaut).permute(2, 0, 1).float() / 255
    torch.testing.assert_close(out.as_subclass(torch.Tensor), module(plain), rtol=0, atol=1e-6)
    assert (out - plain).abs().mean() > 0.02  # graded
    # uint8 in, uint8 out, within a code of the float path.
    codes = v2.Compose([v2.ToImage(), module])(Image.fromarray(astronaut))
    assert type(codes) is tv_tensors.Image and codes.dtype == torch.uint8
    assert (codes.float() / 255 - out.as_subclass(torch.Tensor)).abs().max() <= 1.5 / 255


def test_a_detection_sample_keeps_its_boxes_masks_and_labels(module, astronaut):
    height, width = astronaut.shape[:2]
    image = tv_tensors.Image(torch.from_numpy(astronaut).permute(2, 0, 1))
    boxes = tv_tensors.BoundingBoxes([[10, 20, 110, 220]], format="XYXY", canvas_size=(height, width))
    mask = tv_tensors.Mask(torch.zeros(1, height, width, dtype=torch.uint8))
    sample = {"image": image, "target": {"boxes": boxes, "masks": mask, "labels": torch.tensor([3])}}
    out = v2.Compose([module, v2.RandomHorizontalFlip(p=1.0)])(sample)
    assert type(out["image"]) is tv_tensors.Image
    torch.testing.assert_close(out["image"].as_subclass(torch.Tensor),
                               module(image.as_subclass(torch.Tensor)).flip(-1), rtol=0, atol=0)
    # torchvision flipped the boxes and the mask; colorot left them (and the labels) as they were.
    assert out["target"]["boxes"].tolist() == [[width - 110, 20, width - 10, 220]]
    assert type(out["target"]["masks"]) is tv_tensors.Mask and int(out["target"]["masks"].sum()) == 0
    assert out["target"]["labels"].tolist() == [3]


def test_an_image_label_pair_and_a_video(module, astronaut):
    image = tv_tensors.Image(torch.from_numpy(astronaut).permute(2, 0, 1).float() / 255)
    graded, label = v2.Compose([v2.RandomResizedCrop(64, scale=(1.0, 1.0), ratio=(1.0, 1.0)), module])(image, 7)
    assert label == 7 and type(graded) is tv_tensors.Image and graded.shape == (3, 64, 64)
    frames = torch.stack([image.as_subclass(torch.Tensor), image.as_subclass(torch.Tensor).flip(-1)])
    video = module(tv_tensors.Video(frames))
    assert type(video) is tv_tensors.Video and video.shape == frames.shape
    for frame, graded_frame in zip(frames, video):  # each frame graded as it is alone
        torch.testing.assert_close(graded_frame.as_subclass(torch.Tensor), module(frame), rtol=0, atol=1e-6)
    assert np.isfinite(video.numpy()).all()
