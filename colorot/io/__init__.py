"""Image files in and out: their codecs, ICC profiles, the style-reading path; files only (the in-memory image
type is :mod:`colorot.pixels`, the lookup-table formats are :mod:`colorot.maps.lut_files`).

* :mod:`colorot.io.images` and :mod:`colorot.io.writing` -- decoding and encoding image files at their own
  depth, with their metadata;
* :mod:`colorot.io.files` -- atomic writes and the guards on paths (:func:`refuse_overwriting_inputs`);
* :mod:`colorot.io.icc` -- telling profiles apart and converting between them (LittleCMS);
* :mod:`colorot.io.styles` -- a style photo read and converted into the source's encoding.

The names below are importable from ``colorot.io`` as before; nothing here imports torch.
"""

from ..errors import ColorotError
from .files import OutputExists, atomic_output, atomic_write, check_input_file, refuse_overwriting_inputs, same_file
from .images import _FORMATS, DEFAULT_MAX_PIXELS, ImageFile, read_icc_profile, read_image, read_mask  # noqa: F401
from .writing import check_output_path, default_output, write_image

__all__ = ["ImageFile", "read_image", "read_mask", "write_image", "default_output", "read_icc_profile", "same_file", "atomic_write", "atomic_output",
           "check_output_path", "check_input_file", "refuse_overwriting_inputs", "OutputExists", "DEFAULT_MAX_PIXELS",
           "ColorotError"]
