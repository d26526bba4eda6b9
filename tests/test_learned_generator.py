"""The learned generators: training lowers the loss, files round-trip, bad files fail clearly."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from click.testing import CliRunner

import colorot
from colorot.apps import looks
from colorot.api import apply_lut
from colorot.cli import main
from colorot.learned.conditioned import ConditionedGenerator, encode_colors, load_pretrained
from colorot.errors import ColorotError
from colorot.learned.files import load_generator
from colorot.learned.generator import ColorGenerator
from colorot.learned.training import train_generator
from colorot.measures.metrics import color_distance, structure_similarity

from conftest import SAMPLES, load_sample


@pytest.fixture(scope="module")
def pair():
    return load_sample("coffee", 96), load_sample("chelsea", 96)


@pytest.fixture(scope="module")
def trained(pair):
    source, style = pair
    losses = []
    model = train_generator(style, [source], n_steps=150, batch_size=1024, seed=0,
                            progress=lambda step, loss: losses.append(loss))
    return model, losses


def test_training_lowers_the_loss_and_the_distance(pair, trained):
    source, style = pair
    model, losses = trained
    assert np.mean(losses[-20:]) < 0.5 * np.mean(losses[:5])
    out = apply_lut(model.to_lut(33), source)
    assert color_distance(out, style) < 0.6 * color_distance(source, style)
    assert structure_similarity(out, source) > 0.9


def test_training_is_reproducible_with_a_seed(pair):
    source, style = pair
    first, second = (train_generator(style, [source], n_steps=20, batch_size=256, seed=3) for _ in range(2))
    assert torch.equal(first.to_lut(9).table, second.to_lut(9).table)


def test_module_forward_matches_its_table_and_is_differentiable(trained):
    model = trained[0]
    device = next(model.parameters()).device  # trained on the GPU when there is one
    images = torch.rand(2, 4, 16, 16, device=device, requires_grad=True)
    out = model(images)
    assert out.shape == images.shape and torch.equal(out[:, 3], images[:, 3].detach())
    out[:, :3].sum().backward()
    assert images.grad is not None and images.grad.abs().sum() > 0
    looked_up = apply_lut(model.to_lut(65), images[:, :3].detach())
    assert (looked_up - out[:, :3].detach()).abs().mean() < 2e-3


def test_save_and_load_give_identical_outputs(tmp_path, pair, trained):
    source = pair[0]
    model = trained[0]
    path = model.save(tmp_path / "look.safetensors", {"style": "chelsea"})
    device = next(model.parameters()).device
    loaded = load_generator(path, device)
    assert loaded.metadata["style"] == "chelsea"
    assert np.array_equal(apply_lut(model.to_lut(33), source), apply_lut(loaded.to_lut(33), source))
    # Any colorot command that takes a look takes it.
    assert torch.equal(looks.load_lut(path, device, size=17).table, model.to_lut(17).table)


@pytest.mark.parametrize("damage", ["truncated", "garbage", "empty", "nan", "wrong-shapes", "huge-layers",
                                    "not-colorot"])
def test_bad_generator_files_fail_clearly(tmp_path, trained, damage):
    from safetensors.torch import save_file

    path = trained[0].save(tmp_path / "good.safetensors")
    blob = path.read_bytes()
    bad = tmp_path / "bad.safetensors"
    if damage == "truncated":
        bad.write_bytes(blob[: len(blob) // 2])
    elif damage == "garbage":
        bad.write_bytes(b"\x89PNG not weights" * 10)
    elif damage == "empty":
        bad.write_bytes(b"")
    elif damage == "nan":
        state = {k: v.clone() for k, v in trained[0].state_dict().items()}
        state["net.0.weight"][0, 0] = float("nan")
        generator = ColorGenerator(**trained[0].parameters_dict())
        generator.load_state_dict(state)
        generator.save(bad)
    elif damage == "wrong-shapes":
        ColorGenerator(hidden=8).save(bad)
        header_fixed = bad.read_bytes().replace(b'\\"hidden\\": 8', b'\\"hidden\\": 64')
        bad.write_bytes(header_fixed)
    elif damage == "huge-layers":  # a few hundred bytes declaring layers of 10^9: refused before they are built
        ColorGenerator(hidden=8).save(bad)
        bad.write_bytes(bad.read_bytes().replace(b'\\"hidden\\": 8', b'\\"hidden\\": 999999999'))
    else:
        save_file({"w": torch.zeros(2)}, str(bad))
    with pytest.raises(ColorotError, match="bad.safetensors"):
        load_generator(bad)
    result = CliRunner().invoke(main, ["apply", str(bad), str(tmp_path / "x.png")])
    assert result.exit_code != 0 and "Traceback" not in result.output


def test_monotone_luma_maps_luma_by_luma_alone(trained):
    model = trained[0]
    assert model.monotone_luma  # the default of train_generator
    device = model.luma.device
    axis = model.luma
    colors = torch.rand(4000, 3, device=device)
    with torch.no_grad():
        mapped = model.map_colors(colors) @ axis
        # Other colors of the same luma (moved within the chroma plane) get the same output luma.
        chroma = torch.randn(4000, 3, device=device)
        chroma = chroma - (chroma @ axis)[:, None] * axis
        same_luma = model.map_colors(colors + 0.05 * chroma) @ axis
    assert torch.allclose(mapped, same_luma, atol=1e-5)
    order = (colors @ axis).argsort()
    assert (mapped[order].diff() >= -1e-6).all()  # increasing in the input's luma


def test_monotone_luma_keeps_the_structure_of_a_dark_noisy_photo():
    source, style = load_sample("hubble", 96), load_sample("chelsea", 96)
    results = {}
    for monotone in (True, False):
        model = train_generator(style, [source], n_steps=150, batch_size=1024, seed=0, monotone_luma=monotone,
                                device="cpu")
        out = apply_lut(model.to_lut(33), source)
        results[monotone] = color_distance(out, style), structure_similarity(out, source)
    # The free network turns hubble's chroma noise into luminance noise; the monotone one cannot, and its
    # look is no farther from the style.
    assert results[True][1] > results[False][1] + 0.1
    assert results[True][0] <= results[False][0]


def test_a_generator_saved_without_monotone_luma_loads_as_before(tmp_path, pair):
    model = train_generator(pair[1], [pair[0]], n_steps=20, batch_size=256, seed=0, monotone_luma=False,
                            device="cpu")
    path = model.save(tmp_path / "free.safetensors")
    loaded = load_generator(path)
    assert not loaded.monotone_luma and "monotone_luma" not in loaded.metadata["parameters"]
    assert torch.equal(loaded.to_lut(9).table, model.to_lut(9).table)


def test_cli_train_then_apply_and_lut(tmp_path):
    samples_dir = SAMPLES
    runner = CliRunner()
    look = tmp_path / "shoot.safetensors"
    result = runner.invoke(main, ["train", str(samples_dir / "chelsea.jpg"), str(samples_dir / "coffee.jpg"),
                                  "-o", str(look), "--steps", "60", "--seed", "0", "--device", "cpu"])
    assert result.exit_code == 0, result.output
    out = tmp_path / "graded.png"
    result = runner.invoke(main, ["apply", str(look), str(samples_dir / "coffee.jpg"), "-o", str(out)])
    assert result.exit_code == 0, result.output
    graded = colorot.read_image(out).pixels
    source = colorot.read_image(samples_dir / "coffee.jpg").pixels
    style = colorot.read_image(samples_dir / "chelsea.jpg").pixels
    assert color_distance(graded, style) < color_distance(source, style)
    cube = tmp_path / "look.cube"
    result = runner.invoke(main, ["lut", str(look), "--size", "17", "-o", str(cube)])
    assert result.exit_code == 0, result.output
    assert looks.read_cube(cube).size == 17


def test_train_refuses_bad_arguments(pair):
    with pytest.raises(ColorotError, match="no photos"):
        train_generator(pair[1], [])
    with pytest.raises(ColorotError, match="color space"):
        ColorGenerator(space="hsv")


def test_encoding_is_permutation_invariant():
    colors = torch.rand(2, 300, 3)
    directions = torch.nn.functional.normalize(torch.randn(3, 5), dim=0)
    shuffled = colors[:, torch.randperm(300)]
    assert torch.allclose(encode_colors(colors, directions, 8), encode_colors(shuffled, directions, 8))


def test_conditioned_generator_round_trip(tmp_path):
    model = ConditionedGenerator()
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.normal_(0, 0.05)
    path = model.save(tmp_path / "cond.safetensors")
    loaded = load_generator(path)
    source, style = torch.rand(1, 256, 3), torch.rand(1, 256, 3) ** 2
    assert torch.equal(model.to_lut(source, style, size=9).table, loaded.to_lut(source, style, size=9).table)
    with pytest.raises(ColorotError, match="needs a style"):
        looks.load_lut(path)


def test_shipped_conditioned_generator_moves_colors_toward_the_style(pair):
    load_pretrained()  # ships in the package: nothing is downloaded
    source, style = pair
    out = colorot.transfer(source, style, method="conditioned", seed=0)
    assert color_distance(out, style) < 0.7 * color_distance(source, style)
