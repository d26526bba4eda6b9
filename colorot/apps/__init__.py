"""Workflows from files: looks and LUT files, folders of photos (locally or on Ray), video.

* :mod:`colorot.apps.looks` -- a fitted map saved as a look, exported as a LUT, read back;
* :mod:`colorot.apps.batch` -- inputs, jobs and graders for ``colorot batch`` and ``colorot apply``;
* :mod:`colorot.apps.video` -- grading a clip with one map.
"""
