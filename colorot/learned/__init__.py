"""Learned maps: generators trained with a sliced Wasserstein loss, and the shipped style-conditioned model.

* :mod:`colorot.learned.generator` -- a per-style generator (``colorot train``), a look once saved;
* :mod:`colorot.learned.conditioned` -- the pretrained style-conditioned generator (``--method conditioned``).
"""
