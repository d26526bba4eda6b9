"""The engine: optimal transport between color distributions.

* :mod:`colorot.ot.sliced` -- 1-D optimal transport, the sliced Wasserstein distance, iterative sliced
  transport (the fitted map, a composition of monotone 1-D steps) and sliced barycenters;
* :mod:`colorot.ot.unbalanced` -- unbalanced entropic transport and the affine grade it fits (the default,
  ``"unbalanced"``);
* :mod:`colorot.ot.linear` -- batched affine maps of color;
* :mod:`colorot.ot.classic` -- the classic maps (``"mkl"``, ``"reinhard"``, ``"histogram"``, ``"emd"``).

The method registry that names them all sits above the engine, in :mod:`colorot.methods`.
"""
