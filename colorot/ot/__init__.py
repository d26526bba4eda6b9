"""The engine: optimal transport between color distributions.

* :mod:`colorot.ot.sliced` -- 1-D optimal transport, the sliced Wasserstein distance, iterative sliced
  transport (the fitted map, a composition of monotone 1-D steps) and sliced barycenters;
* :mod:`colorot.ot.methods` -- the method registry (``"sliced"`` and the classic maps it is compared with).
"""
