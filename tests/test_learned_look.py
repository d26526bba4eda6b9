"""The look of any reference: the learned look model, the scene gate and the default that uses them.

Photos: the repository's samples at a small size. ``coffee`` is one of the photos the shipped look model never
trains on (``training/train_look.py``'s HOLDOUT), so grades recovered on it are recovered on an unseen photo.
"""

from __future__ import annotations

import json
import pickle
import struct
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from skimage.color import deltaE_ciede2000, rgb2lab

import colorot
from colorot.errors import ColorotError
from colorot.learned.look import LOOK_VERSION, LookModel, apply_grade, load_look, N_GRADE_PARAMETERS, PRETRAINED_LOOK
from colorot.learned.look_transfer import fit_look

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
LUMA = np.array([0.2126, 0.7152, 0.0722])


def photo(name: str, side: int = 160) -> np.ndarray:
    with Image.open(SAMPLES / f"{name}.jpg") as image:
        image = image.convert("RGB")
        image.thumbnail((side, side), Image.LANCZOS)
        return np.asarray(image)


def graded(grade, image: np.ndarray) -> np.ndarray:
    return (np.clip(grade(image / 255.0), 0, 1) * 255).round().astype(np.uint8)


def error(output: np.ndarray, truth: np.ndarray) -> float:
    return float(deltaE_ciede2000(rgb2lab(output), rgb2lab(truth)).mean())


# Grades written for these tests (not the training's families): a function of color each.
GRADES = {
    "warm": lambda x: x * np.array([1.12, 1.0, 0.8]),
    "cool fade": lambda x: 0.12 + 0.8 * x * np.array([0.9, 1.0, 1.1]),
    "sepia": lambda x: (x @ LUMA)[..., None] * np.array([1.2, 1.0, 0.72]),
    "teal shadows": lambda x: x + (1 - (x @ LUMA)[..., None]) * np.array([-0.08, 0.03, 0.08]),
    "green cast": lambda x: x * np.array([0.92, 1.08, 0.9]),
}


def test_a_grade_is_carried_from_another_scene_better_than_doing_nothing():
    source = photo("coffee")  # never trained on
    errors, baselines = [], []
    for reference_name, grade in zip(["astronaut", "rocket", "chelsea", "rocket", "astronaut"], GRADES.values()):
        reference, truth = graded(grade, photo(reference_name)), graded(grade, source)
        errors.append(error(colorot.transfer(source, reference, method="look"), truth))
        baselines.append(error(source, truth))
    assert np.mean(errors) < 0.9 * np.mean(baselines)
    assert sum(e < b for e, b in zip(errors, baselines)) >= 4
    # what every distribution matcher does across scenes: worse than doing nothing
    matched = [error(colorot.transfer(source, graded(g, photo("astronaut")), method="unbalanced"),
                     graded(g, source)) for g in GRADES.values()]
    assert np.mean(errors) < np.mean(matched)


def test_an_ungraded_reference_of_another_scene_changes_the_photo_little():
    source = photo("coffee")
    for reference in ("chelsea", "rocket"):
        look = error(colorot.transfer(source, photo(reference), method="look"), source)
        transport = error(colorot.transfer(source, photo(reference), method="unbalanced"), source)
        assert look < 0.6 * transport, reference


def test_same_scene_crops_are_recovered_from_the_points_they_share():
    """Two crops of one photo: the grade is read off the color pairs of the part both show, beyond what the
    transport's match of the two distributions recovers, and the fit says so."""
    image = photo("astronaut", 200)
    cut = round(0.65 * image.shape[1])
    for grade in GRADES.values():
        source, style = image[:, :cut], graded(grade, image[:, image.shape[1] - cut:])
        truth = graded(grade, source)
        model = colorot.ColorTransfer(method="look").fit(style)
        look = error(model.transform(source), truth)
        transport = error(colorot.transfer(source, style, method="unbalanced"), truth)
        assert look < 0.6 * transport and look < 0.2 * error(source, truth)
        assert "registered" in model.fit_notes_[0]


def test_a_masked_photo_or_style_is_not_registered():
    """A mask says which colors to match: the gate and the transport decide, not the whole scene's pairs."""
    image = photo("astronaut", 200)
    cut = round(0.65 * image.shape[1])
    source, style = image[:, :cut], graded(GRADES["warm"], image[:, image.shape[1] - cut:])
    mask = np.zeros(source.shape[:2])
    mask[:, : cut // 2] = 1
    for fitted, grade in ((colorot.ColorTransfer().fit(style), {"source_mask": mask}),
                          (colorot.ColorTransfer().fit(style, style_mask=np.ones(style.shape[:2])), {})):
        fitted.transform(source, **grade)
        assert "scene gate" in fitted.fit_notes_[0] and "registered" not in fitted.fit_notes_[0]


@pytest.mark.parametrize("strength", [0.0, 0.25, 0.5, 0.75, 1.0])
def test_a_strong_grade_of_the_same_picture_is_recovered_at_every_strength(strength):
    image = photo("chelsea", 200)
    warm = lambda x: x * (1 + strength * (np.array([1.15, 1.0, 0.82]) - 1))  # noqa: E731
    cool = lambda x: x * (1 + strength * (np.array([0.85, 1.0, 1.15]) - 1))  # noqa: E731
    source, style = graded(warm, image), graded(cool, image)
    out = colorot.transfer(source, style, method="look")
    assert np.abs(out.astype(float) - style).mean() <= 3.0
    assert np.abs(out.astype(float) - style).mean() <= np.abs(source.astype(float) - style).mean() * 0.5 + 0.5


def test_the_default_is_deterministic_and_a_function_of_color():
    source, style = photo("coffee"), graded(GRADES["sepia"], photo("rocket"))
    first, second = (colorot.transfer(source, style, method="look") for _ in range(2))
    assert np.array_equal(first, second)
    # the same color maps to the same color everywhere in the image
    flat, out = source.reshape(-1, 3), first.reshape(-1, 3)
    keys = flat @ np.array([65536, 256, 1])
    order = np.argsort(keys, kind="stable")
    same = keys[order][1:] == keys[order][:-1]
    assert np.array_equal(out[order][1:][same], out[order][:-1][same])


def test_a_style_is_read_once_for_every_photo_graded_to_it(monkeypatch):
    from colorot.learned import look as look_module

    sources = [photo("coffee"), photo("chelsea")]
    style = graded(GRADES["teal shadows"], photo("rocket"))
    alone = [colorot.transfer(source, style) for source in sources]  # each call reads the style itself
    model = colorot.ColorTransfer().fit(style)
    assert model.style_summary_[0][0] is model.style_colors_ and model.style_summary_[0][2:] == ("look", "rgb")
    read = []
    features = look_module.look_features
    monkeypatch.setattr(look_module, "look_features", lambda colors: read.append(colors.shape[0]) or features(colors))
    graded_ = [model.transform(source) for source in sources]
    assert len(read) == 2  # each photo's colors only: the style's features were read at fit
    assert all(np.array_equal(a, b) for a, b in zip(alone, graded_))  # the same bytes
    model.method = "mkl"  # an option changed since: the summary read for the look is not passed on
    assert model.fitter.style_summary is None
    assert model.transform(sources[0]).shape == sources[0].shape
    model.method = "look"  # and back: read again
    assert np.array_equal(model.transform(sources[0]), alone[0])
    copied = pickle.loads(pickle.dumps(model))  # a copy carries no look model; it reads the style again
    assert copied.style_summary_ is None and np.array_equal(copied.transform(sources[1]), alone[1])
    other = graded(GRADES["warm"], photo("astronaut"))
    model.fit(other)  # a new style: its own summary, never the last one's
    assert np.array_equal(model.transform(sources[0]), colorot.transfer(sources[0], other))


def test_the_scene_gate_leans_on_the_transport_for_a_shared_scene_and_away_for_another():
    """Two overlapping views of one photo, the reference warmed, against a photo of another scene warmed alike: the
    structure they share (or not) decides, whatever the colors say."""
    from colorot.measures.structure import shared_structure, structure_patches

    def patches(image, **kind):
        return structure_patches(torch.from_numpy(image.copy()).permute(2, 0, 1).flatten(1)[None], image.shape[:2],
                                 1 / 255, **kind)[0]

    def colors(image):
        return torch.from_numpy(image.reshape(-1, 3).copy()).float()[None] / 255

    scene, other = photo("astronaut", 240), photo("rocket", 240)
    view, warmed = scene[:, :160], graded(GRADES["warm"], scene[:, 80:])
    elsewhere = graded(GRADES["warm"], other[:, 80:])
    shares = [shared_structure(patches(view), patches(reference, reference=True)) for reference in (warmed, elsewhere)]
    assert shares[0] > 0.1 > shares[1]
    shared = fit_look(colors(view), colors(warmed), shared_structure=torch.tensor([shares[0]]))
    different = fit_look(colors(view), colors(elsewhere), shared_structure=torch.tensor([shares[1]]))
    assert float(shared.share) > 0.5 > float(different.share)
    assert "scene gate" in shared.describe()


def test_keep_luma_keeps_luma():
    source, style = photo("coffee"), graded(GRADES["green cast"], photo("rocket"))
    out = colorot.transfer(source, style, keep_luma=True, method="look")
    luma = lambda image: image.astype(float) @ LUMA  # noqa: E731
    assert np.abs(luma(out) - luma(source)).mean() < 1.5


def test_verbose_says_which_way_the_default_leaned(tmp_path):
    from click.testing import CliRunner
    from colorot.cli import main

    Image.fromarray(photo("coffee")).save(tmp_path / "photo.png")
    Image.fromarray(graded(GRADES["warm"], photo("rocket"))).save(tmp_path / "look.png")
    result = CliRunner().invoke(main, ["transfer", str(tmp_path / "photo.png"), str(tmp_path / "look.png"),
                                       "-o", str(tmp_path / "out.png"), "--verbose", "--method", "look"])
    assert result.exit_code == 0, result.output
    assert "scene gate" in result.output and "learned look" in result.output


# -- the weights file ---------------------------------------------------------------------------------------------


def test_the_shipped_weights_load_small_and_versioned():
    model = load_look()
    assert PRETRAINED_LOOK.stat().st_size <= 10 << 20
    assert model.metadata["format"] == "colorot-look" and model.metadata["version"] == LOOK_VERSION
    assert "manifest_sha256" in model.metadata["training"]


def test_a_saved_model_reads_back_the_same(tmp_path):
    model = LookModel(hidden=16)
    with torch.no_grad():
        model.net[-1].bias.normal_(0, 0.1)
    path = model.save(tmp_path / "look.safetensors")
    again = load_look(path)
    reference, colors = torch.rand(2, 300, 3), torch.rand(2, 200, 3)
    assert torch.equal(model(reference, colors), again(reference, colors))


def _safetensors(header: dict, body: bytes = b"") -> bytes:
    text = json.dumps(header).encode()
    return struct.pack("<Q", len(text)) + text + body


@pytest.mark.parametrize("content", [
    b"",
    b"not a weights file at all",
    _safetensors({"__metadata__": {"colorot": json.dumps({"format": "colorot-generator", "version": 2})}}),
    _safetensors({"__metadata__": {"colorot": json.dumps({"format": "colorot-look", "version": 99})}}),
    # a small file declaring a huge tensor: refused before anything is allocated
    _safetensors({"net.0.weight": {"dtype": "F32", "shape": [1 << 30, 1 << 20], "data_offsets": [0, 4]},
                  "__metadata__": {"colorot": json.dumps({"format": "colorot-look", "version": LOOK_VERSION})}}, b"\0" * 4),
    # a tiny file whose header declares a huge layer: refused before the layer is built
    _safetensors({"net.0.weight": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]},
                  "__metadata__": {"colorot": json.dumps({"format": "colorot-look", "version": LOOK_VERSION,
                                                          "parameters": {"hidden": 10 ** 9}})}}, b"\0" * 4),
    # an older format: a scene gate of other features
    _safetensors({"net.0.weight": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]},
                  "__metadata__": {"colorot": json.dumps({"format": "colorot-look", "version": 1})}}, b"\0" * 4),
    # the right format, weights of another shape
    _safetensors({"net.0.weight": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]},
                  "__metadata__": {"colorot": json.dumps({"format": "colorot-look", "version": LOOK_VERSION})}}, b"\0" * 4),
])
def test_a_corrupt_or_foreign_weights_file_gets_a_one_line_error(tmp_path, content):
    path = tmp_path / "look.safetensors"
    path.write_bytes(content)
    with pytest.raises(ColorotError) as caught:
        load_look(path)
    assert str(path) in str(caught.value) and "\n" not in str(caught.value)


def test_the_generator_file_is_not_a_look_file():
    from colorot.learned.conditioned import PRETRAINED

    with pytest.raises(ColorotError, match="not a colorot look model file"):
        load_look(PRETRAINED)


def test_grade_parameters_map_colors_inside_the_cube():
    parameters = torch.randn(3, N_GRADE_PARAMETERS, generator=torch.Generator().manual_seed(0)) * 2
    out = apply_grade(torch.rand(3, 1000, 3), parameters)
    assert out.min() >= 0 and out.max() <= 1 and torch.isfinite(out).all()


# -- training (the tiny version; the full one is training/train_look.py) ------------------------------------------


def test_training_lowers_the_error_and_writes_a_file_that_reads_back(tmp_path):
    from colorot.learned.look_training import PairSampler, evaluate_look, random_grade, train_look
    from colorot.learned.look_transfer import fit_scene_gate

    train = [photo(name, 96) for name in ("astronaut", "rocket", "chelsea")]
    held = [photo("coffee", 96), photo("hubble", 96)]
    model = train_look(train, steps=80, batch=16, n_colors=512, hidden=32, report_every=0, seed=0)
    pairs = PairSampler(train, n_colors=512, p_same=0.0, p_mix=0.0, seed=5).sample(64)
    scores = evaluate_look(model, pairs)
    assert scores["model"] < 0.95 * scores["identity"]
    fit_scene_gate(model, held, pairs=6, n_colors=512, log=lambda line: None)
    assert torch.isfinite(model.gate_weight).all() and model.gate_weight.abs().sum() > 0
    again = load_look(model.save(tmp_path / "look.safetensors"))
    assert torch.equal(again.gate_weight, model.gate_weight)
    # grades are functions of color: one draw applied twice gives the same colors
    grade = random_grade(np.random.default_rng(3), p_identity=0.0)
    colors = torch.rand(100, 3)
    assert torch.equal(grade(colors), grade(colors))


def test_the_training_script_runs_its_smoke_version(tmp_path):
    """CI's tiny version of ``training/train_look.py`` (the full one trains the shipped weights)."""
    import subprocess
    import sys

    script = Path(__file__).resolve().parent.parent / "training" / "train_look.py"
    out = tmp_path / "smoke.safetensors"
    done = subprocess.run([sys.executable, str(script), "--smoke", "--out", str(out)], capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "held-out" in done.stdout and "scene gate" in done.stdout
    assert load_look(out).metadata["training"] == {"smoke": True}


def test_a_style_of_three_flat_colors_keeps_a_photos_blue():
    """Colors without a counterpart are kept: a style of red, green and blue thirds (one tint per luma, but not a
    toned print: its tint swings from luma to luma) leaves a photo's strong blue blue, and its other colors near
    their own."""
    source = photo("coffee", 200).copy()
    height, width = source.shape[:2]
    blue = (slice(0, int(0.4 * height)), slice(0, int(0.4 * width)))  # 16% of the photo
    source[blue] = (20, 40, 220)
    style = np.zeros((90, 90, 3), np.uint8)
    style[:, :30], style[:, 30:60], style[:, 60:] = (220, 30, 30), (30, 200, 40), (30, 40, 220)
    out = colorot.transfer(source, style).astype(float)
    assert out[blue][..., 2].mean() > 180
    rest = (slice(int(0.5 * height), None), slice(None))
    assert np.abs(out[rest] - source[rest]).mean() < 30
