import numpy as np
import pytest
import torch
from PIL import Image

import colorot
from colorot import ColorotError, ColorTransfer, ColorTransferModule
from colorot.measures.colorspaces import luma_axis
from colorot.measures.metrics import color_distance as _color_distance
from colorot.measures.metrics import structure_similarity
from conftest import DEVICES


def color_distance(image, reference):
    return _color_distance(image, reference, n_samples=16384, n_projections=64)


FAST = dict(n_iter=12, n_samples=8192, lut_size=33, method="unbalanced")  # the transport: it always moves colors


def test_distance_to_style_drops_and_structure_is_kept(astronaut, coffee):
    # The sliced map unsmoothed matches the histogram itself; smoothed (its default), nearly as closely.
    out = colorot.transfer(astronaut, coffee, seed=0, method="sliced", lut_blur=0, regrain_radius=0)
    smooth = colorot.transfer(astronaut, coffee, seed=0, method="sliced")
    before = color_distance(astronaut, coffee)
    after = color_distance(out, coffee)
    floor = color_distance(coffee[::2], coffee[1::2])
    assert after < 0.2 * before
    assert after < 4 * floor + 0.01
    assert color_distance(smooth, coffee) < 0.3 * before
    assert structure_similarity(out, astronaut) > 0.95
    assert structure_similarity(smooth, astronaut) > structure_similarity(out, astronaut)


def test_style_equal_to_source_leaves_image_nearly_unchanged(chelsea):
    out = colorot.transfer(chelsea, chelsea, seed=0)
    difference = np.abs(out.astype(int) - chelsea.astype(int))
    assert difference.mean() < 2.0  # in 8-bit code values
    assert structure_similarity(out, chelsea) > 0.99


def test_unequal_sizes_and_shapes(astronaut, coffee):
    out = colorot.transfer(astronaut[:50, :70], coffee, seed=0, **FAST)
    assert out.shape == (50, 70, 3)
    assert color_distance(out, coffee) < color_distance(astronaut[:50, :70], coffee)


def test_a_tensor_laid_out_as_an_array_is_told_how_to_turn_it(coffee):
    with pytest.raises(colorot.ColorotError, match=r"permute\(2, 0, 1\)"):
        colorot.transfer(torch.rand(20, 30, 3), coffee, method="mkl")
    with pytest.raises(colorot.ColorotError, match="grayscale"):
        colorot.transfer(torch.rand(1, 20, 30), coffee, method="mkl")


def test_strength_zero_is_identity_and_interpolates(astronaut, coffee):
    identity = colorot.transfer(astronaut, coffee, strength=0.0, seed=0)
    assert np.array_equal(identity, astronaut)
    half = colorot.transfer(astronaut, coffee, strength=0.5, seed=0, **FAST)
    full = colorot.transfer(astronaut, coffee, strength=1.0, seed=0, **FAST)
    # Displacement interpolation in RGB: the half-way image sits half-way.
    midpoint = (astronaut.astype(float) + full) / 2
    assert np.abs(half - midpoint).mean() < 1.0
    distances = [color_distance(image, coffee) for image in (astronaut, half, full)]
    assert distances[0] > distances[1] > distances[2]


@pytest.mark.parametrize("dtype, scale", [(np.uint8, 255), (np.uint16, 65535), (np.float32, 1), (np.float64, 1)])
def test_numpy_dtypes_keep_dtype_and_range(astronaut, coffee, dtype, scale):
    source = (astronaut.astype(np.float64) / 255 * scale).astype(dtype)
    out = colorot.transfer(source, coffee, seed=0, **FAST)
    assert out.dtype == dtype and out.shape == source.shape
    assert out.min() >= 0 and out.max() <= scale
    assert color_distance(out, coffee) < 0.7 * color_distance(source, coffee)


def test_float32_and_float64_agree(astronaut, coffee):
    source = astronaut.astype(np.float64) / 255
    single = colorot.transfer(source.astype(np.float32), coffee, seed=0, **FAST)
    double = colorot.transfer(source, coffee, seed=0, **FAST)
    assert np.abs(single - double).max() < 1e-3


def test_pil_in_pil_out(astronaut, coffee):
    out = colorot.transfer(Image.fromarray(astronaut), Image.fromarray(coffee), seed=0, **FAST)
    assert isinstance(out, Image.Image) and out.mode == "RGB" and out.size == (astronaut.shape[1], astronaut.shape[0])


def test_alpha_passes_through_and_transparent_pixels_carry_no_weight(coffee):
    rng = np.random.default_rng(0)
    source = np.concatenate([coffee, rng.integers(0, 256, coffee.shape[:2] + (1,), dtype=np.uint8)], axis=-1)
    style = np.zeros((64, 64, 4), dtype=np.uint8)
    style[..., 0] = 200  # opaque pixels are red ...
    style[..., 3] = 255
    style[:32, :, :3] = (0, 255, 0)  # ... transparent ones green
    style[:32, :, 3] = 0
    out = colorot.transfer(source, style, seed=0, **FAST)
    assert out.shape == source.shape
    assert np.array_equal(out[..., 3], source[..., 3])
    assert out[..., 1].mean() < 20 and out[..., 0].mean() > 150


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.uint8])
def test_torch_batched_keeps_device_dtype_shape(astronaut, coffee, device, dtype):
    images = torch.from_numpy(np.stack([astronaut, astronaut[::-1].copy()])).permute(0, 3, 1, 2)
    images = images.to(device)
    source = images if dtype == torch.uint8 else images.to(dtype) / 255
    style = torch.from_numpy(coffee).permute(2, 0, 1).to(device)
    out = colorot.transfer(source, style, seed=0, **FAST)
    assert out.device == source.device and out.dtype == source.dtype and out.shape == source.shape
    for index in range(2):
        assert color_distance(out[index], style) < 0.7 * color_distance(source[index], style)


def test_torch_extra_leading_dims(astronaut, coffee):
    source = torch.from_numpy(astronaut).permute(2, 0, 1).float().div(255).expand(2, 2, 3, *astronaut.shape[:2])
    out = colorot.transfer(source, coffee, seed=0, **FAST)
    assert out.shape == source.shape


def test_seed_makes_runs_reproducible(astronaut, coffee):
    first = colorot.transfer(astronaut, coffee, seed=3, **FAST)
    second = colorot.transfer(astronaut, coffee, seed=3, **FAST)
    other = colorot.transfer(astronaut, coffee, seed=4, **FAST)
    assert np.array_equal(first, second)
    assert not np.array_equal(first, other)


def test_equal_input_colors_give_equal_output_colors(astronaut, coffee):
    tiled = np.concatenate([astronaut, astronaut[:, ::-1]], axis=1)
    out = colorot.transfer(tiled, coffee, seed=0, **FAST)
    width = astronaut.shape[1]
    assert np.array_equal(out[:, :width], out[:, width:][:, ::-1])


@pytest.mark.parametrize("space", colorot.SPACES)
def test_every_space_lowers_the_distance(astronaut, coffee, space):
    out = colorot.transfer(astronaut, coffee, space=space, seed=0, **FAST)
    assert color_distance(out, coffee) < 0.8 * color_distance(astronaut, coffee)


def test_estimator_errors_before_fit_and_shares_a_fitted_map(astronaut, coffee, chelsea):
    model = ColorTransfer(seed=0, **FAST)
    with pytest.raises(ColorotError, match="not fitted"):
        model.transform(astronaut)
    assert model.fit(coffee) is model and model.style_colors_.shape == (1, FAST["n_samples"], 3)
    shared = ColorTransfer(seed=0, **FAST).fit(coffee, sources=[astronaut, chelsea])
    assert shared.lut_ is not None
    # One map for all: a color present in both images is sent to the same place.
    patch = np.full((4, 4, 3), (120, 90, 60), dtype=np.uint8)
    assert np.array_equal(shared.transform(patch), shared.transform(patch.copy()))
    assert color_distance(shared.transform(astronaut), coffee) < color_distance(astronaut, coffee)


def test_module_drops_into_a_sequential(astronaut, coffee):
    module = ColorTransferModule(torch.from_numpy(coffee).permute(2, 0, 1), seed=0, **FAST)
    pipeline = torch.nn.Sequential(module, torch.nn.Identity())
    source = torch.from_numpy(astronaut).permute(2, 0, 1).float() / 255
    out = pipeline(source)
    assert out.shape == source.shape and out.dtype == torch.float32
    assert "style_colors" in dict(module.named_buffers())


@pytest.mark.parametrize(
    "source, message",
    [
        (np.zeros((8, 8)), r"\(H, W, 3\)"),
        (np.zeros((8, 8, 2)), "RGB or RGBA"),
        (np.zeros((0, 8, 3), dtype=np.uint8), "empty"),
        (np.full((8, 8, 3), np.nan), "NaN"),
        (np.zeros((8, 8, 3), dtype=np.int64), "dtype"),
        (torch.zeros(8, 8), "tensor"),
        ("photo.jpg", "read_image"),
        ([1, 2, 3], "numpy array"),
    ],
)
def test_bad_input_gives_a_clear_error(coffee, source, message):
    with pytest.raises(ColorotError, match=message):
        colorot.transfer(source, coffee)


def test_bad_options_give_clear_errors(astronaut, coffee):
    with pytest.raises(ColorotError, match="strength"):
        colorot.transfer(astronaut, coffee, strength=1.5)
    with pytest.raises(ColorotError, match="color space"):
        colorot.transfer(astronaut, coffee, space="hsv")
    with pytest.raises(ColorotError, match="device"):
        colorot.transfer(astronaut, coffee, device="tpu")
    transparent = np.zeros((8, 8, 4), dtype=np.uint8)
    with pytest.raises(ColorotError, match="no opaque pixels"):
        colorot.transfer(astronaut, transparent)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the error shown without CUDA")
def test_cuda_request_without_cuda_is_a_clear_error(astronaut, coffee):
    with pytest.raises(ColorotError, match="CUDA is not available"):
        colorot.transfer(astronaut, coffee, device="cuda")


@pytest.mark.parametrize("space", ["rgb", "oklab"])
def test_keep_luma_changes_chroma_only(astronaut, coffee, space):
    source = astronaut.astype(np.float64) / 255
    out = colorot.transfer(source, coffee, seed=0, keep_luma=True, space=space, **FAST)
    if space == "rgb":
        weights = np.array([0.2126, 0.7152, 0.0722])
        before, after = source @ weights, out @ weights
    else:
        before = colorot.to_space(torch.from_numpy(source), "oklab")[..., 0].numpy()
        after = colorot.to_space(torch.from_numpy(out), "oklab")[..., 0].numpy()
    change = np.abs(after - before)
    # Exact in RGB up to float error; in Oklab the sRGB lookup table interpolates the non-linear conversions,
    # which moves L by well under one 8-bit step. Colors clipped to the sRGB gamut may change more.
    if space == "rgb":
        assert np.median(change) < 1e-3 and np.mean(change) < 0.01
    else:
        assert np.median(change) < 1 / 255  # the mean is larger: chroma moves push colors out of gamut
    assert np.abs(out - source).mean() > 0.02  # the chroma did change

    def chroma(image):  # the working-space colors of 4096 pixels, projected on the chroma plane
        pixels = torch.from_numpy(np.asarray(image, dtype=np.float64).reshape(-1, 3))
        pixels = pixels / 255 if image.dtype == np.uint8 else pixels
        colors = colorot.to_space(pixels, space)
        axis = luma_axis(space)
        colors = colors - (colors @ axis)[:, None] * axis
        return colors[torch.randperm(len(colors), generator=torch.Generator().manual_seed(0))[:4096]]

    target = chroma(coffee)
    assert float(colorot.sliced_wasserstein(chroma(out), target)) < 0.5 * float(
        colorot.sliced_wasserstein(chroma(source), target)
    )


@pytest.mark.parametrize("device", DEVICES)
def test_rgba_array_on_any_device_keeps_alpha_and_layout(astronaut, coffee, device):
    alpha = np.tile(np.linspace(10, 250, astronaut.shape[1]).astype(np.uint8), (astronaut.shape[0], 1))
    rgba = np.dstack([astronaut, alpha])
    out = colorot.transfer(rgba, coffee, seed=0, device=device, **FAST)
    assert out.shape == rgba.shape and out.dtype == np.uint8
    np.testing.assert_array_equal(out[..., 3], alpha)
    assert color_distance(out[..., :3], coffee) < 0.6 * color_distance(astronaut, coffee)


def test_tensor_output_is_usable_in_autograd(astronaut, coffee):
    source = torch.from_numpy(astronaut).permute(2, 0, 1).float().div(255).requires_grad_()
    out = colorot.transfer(source, torch.from_numpy(coffee).permute(2, 0, 1), seed=0, **FAST)
    assert not out.requires_grad
    weight = torch.ones(3, requires_grad=True)
    (out * weight[:, None, None]).sum().backward()  # an ordinary tensor: autograd may save it
    assert weight.grad is not None and torch.isfinite(weight.grad).all()




def test_without_a_seed_every_run_gives_the_same_bytes(tmp_path, astronaut, coffee):
    import subprocess
    import sys

    first, second = (colorot.transfer(astronaut, coffee) for _ in range(2))
    assert np.array_equal(first, second)
    assert not np.array_equal(first, colorot.transfer(astronaut, coffee, seed=5))  # a seed selects another run
    from PIL import Image

    Image.fromarray(astronaut).save(tmp_path / "photo.png")
    Image.fromarray(coffee).save(tmp_path / "style.png")
    for name in ("a.png", "b.png"):
        subprocess.run([sys.executable, "-m", "colorot", "transfer", str(tmp_path / "photo.png"),
                        str(tmp_path / "style.png"), "-o", str(tmp_path / name)], check=True, capture_output=True)
    assert (tmp_path / "a.png").read_bytes() == (tmp_path / "b.png").read_bytes()


class _Graded(torch.utils.data.Dataset):
    def __init__(self, module, images):
        self.module, self.images = module, images

    def __len__(self):
        return len(self.images)

    def __getitem__(self, index):
        return self.module(self.images[index])


def test_the_module_grades_a_view_of_its_style_s_scene_as_the_estimator_does(coffee):
    """The style's thumbnails travel with the module (its buffers): a photo of the same scene is registered
    there too."""
    view, style = coffee[:, :104], np.ascontiguousarray(coffee[:, 56:] // 2 + 40)  # two views of one size
    module = ColorTransferModule(style, seed=0)
    image = torch.from_numpy(np.ascontiguousarray(view)).permute(2, 0, 1).float() / 255
    graded = module(image)
    assert torch.equal(graded, module.model.transform(image))
    assert "registered" in module.model.fit_notes_[0]
    restored = ColorTransferModule(coffee[::-1].copy(), seed=0)
    restored.load_state_dict(module.state_dict())
    assert torch.equal(restored(image), graded)


def test_the_module_survives_state_dict_casts_copies_pickling_and_workers(coffee):
    import copy
    import pickle

    generator = torch.Generator().manual_seed(0)  # four photo-like images: a tint each, a luma texture
    images = torch.rand(4, 3, 1, 1, generator=generator) * 0.5 + 0.2 + 0.3 * torch.rand(4, 1, 16, 16, generator=generator)
    module = ColorTransferModule(coffee, seed=0)
    expected = module(images)
    restored = ColorTransferModule(coffee[::-1].copy(), seed=0)
    restored(images)  # what it read of its own style is not kept once another style is loaded into it
    restored.load_state_dict(module.state_dict())
    assert torch.equal(restored(images), expected)
    assert torch.equal(copy.deepcopy(module)(images), expected)
    assert torch.equal(pickle.loads(pickle.dumps(module))(images), expected)
    for cast, dtype in (("half", torch.float16), ("bfloat16", torch.bfloat16), ("double", torch.float64)):
        out = getattr(copy.deepcopy(module), cast)()(images.to(dtype))
        assert out.dtype == dtype and float((out.float() - expected).abs().mean()) < 0.02
    loader = torch.utils.data.DataLoader(_Graded(module, images), batch_size=2, num_workers=2)
    assert torch.equal(torch.cat(list(loader)), torch.stack([module(image) for image in images]))



def test_the_module_follows_transforms_v2_sample_conventions(astronaut, coffee):
    class Image(torch.Tensor):
        """Stands for ``torchvision.tv_tensors.Image`` (a tensor subclass of that name): CI's CPU torch has no
        torchvision, so v2's conventions are tested here on a sample structure of our own, and against
        torchvision's own ``Compose`` in ``tests/test_torchvision.py`` where it imports."""

    class BoundingBoxes(torch.Tensor):
        """Stands for ``tv_tensors.BoundingBoxes``: not an image, passed through."""

    module = ColorTransferModule(coffee, seed=0, **FAST)
    image = torch.from_numpy(astronaut).permute(2, 0, 1).float() / 255
    graded = module(image)
    # (image, label): a tuple back, the label untouched (v0.1: TypeError).
    out, label = module(image, 3)
    assert label == 3 and torch.equal(out, graded)
    # A dict sample (v0.1: ColorotError): the tagged image graded and kept an Image, the rest passed through.
    boxes = torch.tensor([[1.0, 2.0, 3.0, 4.0]]).as_subclass(BoundingBoxes)
    other = torch.rand(3, 8, 8)
    sample = {"image": image.as_subclass(Image), "target": {"boxes": boxes, "labels": [1, 2]}, "extra": other}
    result = module(sample)
    assert type(result["image"]) is Image and torch.equal(result["image"].as_subclass(torch.Tensor), graded)
    assert result["target"]["boxes"] is boxes and result["target"]["labels"] == [1, 2]
    assert result["extra"] is other  # an Image is present: plain tensors are not images (v2's rule)
    # No tagged image: the first plain tensor is the image, later ones pass through.
    first, second = module([image, other])
    assert torch.equal(first, graded) and second is other
    # A PIL image in a sample comes back as a PIL image.
    from PIL import Image as PILImage

    pil, name = module((PILImage.fromarray(astronaut), "astronaut"))
    assert isinstance(pil, PILImage.Image) and name == "astronaut"
