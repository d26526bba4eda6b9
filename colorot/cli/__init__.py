"""The ``colorot`` command line: a thin shell over the Python API (``colorot.cli:main``).

Every failure is one line on stderr and a non-zero exit; ``colorot -h`` imports no torch.
"""

from __future__ import annotations

from . import folders, grading, tables, ui  # noqa: F401 - each registers its commands on ``main``
from ._shell import default_output, main

__all__ = ["main", "default_output"]

if __name__ == "__main__":  # pragma: no cover
    main()
