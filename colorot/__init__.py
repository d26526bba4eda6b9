"""colorot: give one photo the look of another with optimal transport (unbalanced and sliced) and a learned look
model.

The main entry points:

* :func:`colorot.transfer` -- recolor an array, PIL image or tensor;
* :class:`colorot.ColorTransfer` -- the same as a fit/transform estimator;
* :class:`colorot.ColorTransferModule` -- the same as an ``nn.Module``;
* :func:`colorot.sliced_wasserstein` -- the distance the engine minimizes;
* :func:`colorot.read_image` / :func:`colorot.write_image` -- files in and out;
* :func:`colorot.grade_file` / :func:`colorot.grade_clip` -- a photo file or a clip graded and written, as the
  command line does;
* :class:`colorot.MapFitter` -- the steps of a transfer one at a time (sample, fit, bake, apply);
* :func:`colorot.fit_lut` / :func:`colorot.apply_lut` -- one map baked as a 3D LUT, and applying it
  (:mod:`colorot.apps.looks` writes and reads look, ``.cube`` and Hald files);
* :func:`colorot.train_generator` -- a network trained with a sliced Wasserstein loss that
  amortizes the map (:class:`colorot.ColorGenerator`, an ``nn.Module``; a look once saved);
  :class:`colorot.ConditionedGenerator` is its style-conditioned variant.

Names are imported on first use, so that ``import colorot`` (and the command
line's ``--help``) stays fast until the engine is needed. The package shows
the data flow: :mod:`colorot.io` (pictures in and out) -> :mod:`colorot.measures`
(color distributions) -> :mod:`colorot.ot` (the engine) -> :mod:`colorot.maps`
(the fitted map as a LUT, applied) -> :mod:`colorot.apps` (workflows from files),
with :mod:`colorot.learned` beside the engine and :mod:`colorot.cli` at the edge;
``docs/architecture.md`` maps it.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

_EXPORTS = {
    "transfer": "api",
    "fit_lut": "api",
    "apply_lut": "api",
    "ColorTransfer": "api",
    "ColorTransferModule": "api",
    "ColorotError": "errors",
    "color_measure": "measures",
    "sliced_wasserstein": "ot.sliced",
    "SPACES": "measures.colorspaces",
    "to_space": "measures.colorspaces",
    "from_space": "measures.colorspaces",
    "color_distance": "measures.metrics",
    "structure_similarity": "measures.metrics",
    "exact_distance": "measures.metrics",
    "evaluate": "measures.metrics",
    "read_image": "io",
    "write_image": "io",
    "ColorGenerator": "learned.generator",
    "train_generator": "learned.training",
    "load_generator": "learned.files",
    "ConditionedGenerator": "learned.conditioned",
    "grade_file": "apps.grading",
    "grade_clip": "apps.grading",
    "MapFitter": "fitting",
}

__all__ = [*_EXPORTS, "__version__"]


def __getattr__(name: str):
    if name in _EXPORTS:
        value = getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'colorot' has no attribute {name!r}")


def __dir__():
    return sorted(__all__)
