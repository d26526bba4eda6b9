"""The method registry (colorot.methods): one line per method, the arguments its fitter takes, its defaults."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

import colorot
from colorot.methods import ARGUMENTS, METHODS, Method, fit_notes
from colorot.ot.linear import LinearMap
from colorot.options import TransferOptions


@pytest.mark.parametrize("name", sorted(METHODS))
def test_every_fitter_imports(name):
    assert callable(METHODS[name].fitter())


def test_a_registry_line_is_checked(monkeypatch):
    with pytest.raises(ValueError):
        Method("colorot.ot.classic:fit_mkl", "mood")
    monkeypatch.setitem(METHODS, "odd", Method(_half_way, "palette", takes=("radius",)))
    with pytest.raises(colorot.ColorotError, match="radius"):  # neither an option nor an argument: said at fit
        colorot.transfer(np.zeros((8, 8, 3)), np.ones((8, 8, 3)), method="odd")


def _of_its_own(source, style, *, lut_blur, strength):
    """A method that reads two options by their own names."""
    _of_its_own.seen = (lut_blur, strength)
    return _half_way(source, style, reach=None, generator=None)


def test_a_method_reads_any_option_by_its_name(monkeypatch):
    monkeypatch.setitem(METHODS, "own", Method(_of_its_own, "palette", takes=("lut_blur", "strength")))
    assert METHODS["own"].options == ("lut_blur", "strength")
    colorot.transfer(np.zeros((8, 8, 3)), np.ones((8, 8, 3)), method="own", lut_blur=0.05, strength=0.5)
    assert _of_its_own.seen == (0.05, 0.5)


def _half_way(source, style, *, reach, generator):
    """A new method: every color moves half way to the style's mean (reads ``reach`` and the generator)."""
    _half_way.seen = (reach, generator)
    mean = style.mean(dim=-2, keepdim=True).expand(*source.shape[:-2], 1, 3)
    eye = torch.eye(3, dtype=source.dtype).expand(*source.shape[:-2], 3, 3)
    return LinearMap(0.5 * eye, source.mean(dim=-2, keepdim=True) * 0 + mean, mean)


def test_a_new_method_is_one_registry_line(monkeypatch):
    """Registered with one line, a method is fitted through the estimator with exactly the arguments its line
    names, honours the options they come from, and says when another is set for it."""
    monkeypatch.setitem(METHODS, "half", Method(_half_way, "palette", takes=("reach", "generator")))
    assert METHODS["half"].options == ("reach",)
    rng = np.random.default_rng(0)
    photo = rng.random((24, 24, 3))
    style = np.full((16, 16, 3), [0.9, 0.5, 0.1])
    model = colorot.ColorTransfer(method="half", reach=0.7, n_iter=3, seed=0).fit(style)
    out = model.transform(photo)
    reach, generator = _half_way.seen
    assert reach == 0.7 and isinstance(generator, torch.Generator)
    expected = 0.5 * photo + 0.5 * np.array([0.9, 0.5, 0.1])  # the affine map, through the baked table
    assert np.abs(out - expected).max() < 0.01
    assert any("n_iter=3 is ignored by method 'half'" in line for line in model.fit_notes_)
    assert TransferOptions(method="half", reach=0.7).ignored() == []


def test_each_method_gets_only_what_its_line_names(monkeypatch):
    seen = {}
    for name, method in list(METHODS.items()):
        def spy(*args, _name=name, _fit=method.fitter(), **kwargs):
            seen[_name] = set(kwargs)
            return _fit(*args, **kwargs)

        monkeypatch.setitem(METHODS, name, dataclasses.replace(method, fit=spy))
    rng = np.random.default_rng(1)
    photo, style = rng.random((16, 16, 3)), rng.random((16, 16, 3)) ** 2
    for name in METHODS:
        colorot.transfer(photo, style, method=name, seed=0, n_iter=2)
        assert seen[name] == set(METHODS[name].takes), name
    assert set().union(*(method.takes for method in METHODS.values())) <= set(ARGUMENTS)


def test_the_defaults_of_a_method_come_from_its_line():
    for name, method in METHODS.items():
        options = TransferOptions(method=name)
        assert (options.n_samples, options.regrain_radius, options.lut_blur) == \
            (method.n_samples, method.regrain[0], method.lut_blur)


def test_a_map_without_notes_says_nothing():
    assert fit_notes(LinearMap(torch.eye(3)[None], torch.zeros(1, 1, 3), torch.zeros(1, 1, 3))) == []


def test_a_transport_that_matches_few_colors_says_so_in_one_line():
    rng = np.random.default_rng(0)
    photo = np.clip(rng.normal(0.2, 0.03, (32, 32, 3)), 0, 1)
    style = np.clip(rng.normal([0.9, 0.3, 0.2], 0.03, (32, 32, 3)), 0, 1)
    model = colorot.ColorTransfer(method="unbalanced", reach=0.05, seed=0).fit(style)
    model.transform(photo)
    warnings = [line for line in model.fit_notes_ if "matched only" in line]
    assert len(warnings) == 1 and "\n" not in warnings[0] and "--reach inf" in warnings[0]
    model = colorot.ColorTransfer(method="unbalanced", seed=0).fit(photo[::-1])  # the same colors
    model.transform(photo)
    assert not any("matched only" in line for line in model.fit_notes_)
