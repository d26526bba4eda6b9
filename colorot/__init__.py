"""colorot: give one photo the colors of another with sliced optimal transport.

The main entry points:

* :func:`colorot.transfer` -- recolor an array, PIL image or tensor;
* :class:`colorot.ColorTransfer` -- the same as a fit/transform estimator;
* :class:`colorot.ColorTransferModule` -- the same as an ``nn.Module``;
* :func:`colorot.sliced_wasserstein` -- the distance the engine minimizes.
"""

from .api import ColorTransfer, ColorTransferModule, transfer
from .colorspaces import SPACES, from_space, to_space
from .errors import ColorotError
from .measures import color_measure
from .sliced import sliced_wasserstein

__version__ = "0.1.0"

__all__ = [
    "transfer",
    "ColorTransfer",
    "ColorTransferModule",
    "ColorotError",
    "color_measure",
    "sliced_wasserstein",
    "SPACES",
    "to_space",
    "from_space",
    "__version__",
]
