"""One options object: checked once, the method's own defaults, and an option the method does not use said."""

from __future__ import annotations

import numpy as np
from click.testing import CliRunner
from PIL import Image

import colorot
from colorot.cli import main
import dataclasses

from colorot.methods import METHODS
from colorot.options import TransferOptions


def test_an_option_the_method_does_not_use_is_said_not_dropped(tmp_path):
    assert TransferOptions(method="sliced").ignored() == []  # defaults say nothing
    assert TransferOptions(method="look", reach=0.5, keep_luma=True).ignored() == []  # used by the look
    lines = TransferOptions(method="mkl", reach=0.5, n_iter=5).ignored()
    assert len(lines) == 2 and all(line.startswith("warning:") and "'mkl'" in line for line in lines)
    rng = np.random.default_rng(0)
    style, photo = (rng.random((16, 16, 1)) * [200, 150, 90]).astype(np.uint8), rng.random((16, 16, 3))
    model = colorot.ColorTransfer(method="sliced", reach=0.5, n_iter=4, seed=0).fit(style)
    model.transform(photo)
    assert any("reach=0.5 is ignored by method 'sliced'" in line for line in model.fit_notes_)
    Image.fromarray(style).save(tmp_path / "style.png")
    Image.fromarray((photo * 255).astype(np.uint8)).save(tmp_path / "photo.png")
    result = CliRunner().invoke(main, ["transfer", str(tmp_path / "photo.png"), str(tmp_path / "style.png"),
                                       "--method", "mkl", "--reach", "0.5", "-o", str(tmp_path / "out.png")])
    assert result.exit_code == 0 and "reach=0.5 is ignored by method 'mkl'" in result.output


def test_every_option_a_method_honours_is_an_option():
    fields = {field.name for field in dataclasses.fields(TransferOptions)}
    assert all(set(method.options) <= fields for method in METHODS.values())


def test_the_estimator_and_the_commands_take_the_options_as_the_options_object_has_them():
    import inspect

    from colorot.cli import main as commands

    fields = {field.name: field for field in dataclasses.fields(TransferOptions)}
    signature = inspect.signature(colorot.ColorTransfer.__init__).parameters
    assert set(signature) - {"self"} == set(fields)
    assert all(signature[name].default == field.default for name, field in fields.items())
    for command in ("transfer", "batch", "video", "fit", "lut"):
        offered = [param for param in commands.commands[command].params if param.name in fields]
        assert {"method", "space", "reach", "keep_luma"} <= {param.name for param in offered}, command
        for param in offered:
            field = fields[param.name]
            assert param.default == (field.metadata["shown"] or field.default), (command, param.name)
            assert field.metadata["help"] in param.help, (command, param.name)


def test_no_seed_is_seed_0_everywhere():
    """One seed rule: ``seed=None`` is :data:`colorot.options.DEFAULT_SEED` in every function that draws."""
    import torch

    from colorot.learned.training import train_generator
    from colorot.measures.sampling import color_measure

    rng = np.random.default_rng(0)
    photo, warm, cool = rng.random((24, 24, 3)), rng.random((16, 16, 3)) ** 2, rng.random((16, 16, 3)) ** 0.5
    assert np.array_equal(colorot.transfer(photo, [warm, cool], weights=[0.5, 0.5]),
                          colorot.transfer(photo, [warm, cool], weights=[0.5, 0.5], seed=0))  # a mix too
    assert torch.equal(color_measure(photo, n_samples=64)[0], color_measure(photo, n_samples=64, seed=0)[0])
    x, y = torch.rand(200, 3), torch.rand(200, 3)
    assert float(colorot.sliced_wasserstein(x, y)) == float(colorot.sliced_wasserstein(x, y, seed=0))
    state = torch.get_rng_state()
    first, second = (train_generator(warm, [photo], n_steps=3, batch_size=64, seed=seed) for seed in (None, 0))
    assert all(torch.equal(a, b) for a, b in zip(first.state_dict().values(), second.state_dict().values()))
    assert torch.equal(torch.get_rng_state(), state)  # torch's global generator is left alone
