"""The public fitter (colorot.fitting.MapFitter): the steps the estimator, refine, the module and the window share."""

from __future__ import annotations

import numpy as np
import torch

import colorot
from colorot.pixels import image_to_pixels


def test_the_estimator_grades_through_its_fitter(astronaut, coffee):
    model = colorot.ColorTransfer(seed=0).fit(coffee)
    fitter = model.fitter
    graded, notes = fitter.grade(image_to_pixels(astronaut), 1.0)
    assert np.array_equal(graded, model.transform(astronaut)) and notes == model.fit_notes_
    assert fitter.options == model.options and fitter.fit_space == "rgb"
    model.strength = 0.4  # an attribute set after fit is what the next fitter holds
    assert model.fitter.options.strength == 0.4
    half = fitter.grade(image_to_pixels(astronaut), 0.4)[0]
    assert np.array_equal(half, model.transform(astronaut))


def test_with_options_changes_one_option_and_checks_it(astronaut, coffee):
    fitter = colorot.ColorTransfer(method="sliced", seed=0, n_iter=4).fit(coffee).fitter
    assert fitter.regrain == (8, 4e-3)  # the palette method's default
    assert fitter.with_options(regrain_radius=0).regrain is None
    try:
        fitter.with_options(reach=-1)
    except colorot.ColorotError as error:
        assert "reach" in str(error)
    else:
        raise AssertionError("a bad option was taken")


def test_the_module_grades_without_writing_into_its_estimator(astronaut, coffee):
    module = colorot.ColorTransferModule(torch.from_numpy(coffee).permute(2, 0, 1), seed=0)
    before = {name: value for name, value in vars(module.model).items()}
    image = torch.from_numpy(astronaut).permute(2, 0, 1).float() / 255
    graded = module(image)
    assert vars(module.model).keys() == before.keys()
    assert all(value is before[name] for name, value in vars(module.model).items())
    assert torch.equal(graded, module.model.transform(image))
