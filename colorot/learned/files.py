"""Generator files: ``.safetensors`` holding the weights and JSON parameters (never code), read back as the
right kind of generator."""

from __future__ import annotations

from torch import nn

from ..errors import ColorotError
from .conditioned import ConditionedGenerator
from .generator import ColorGenerator, build_generator, read_generator_file

__all__ = ["load_generator"]


def load_generator(path, device=None) -> nn.Module:
    """Read a generator file written by :func:`colorot.learned.generator.save_generator` (never runs code from it).

    Examples
    --------
    >>> import tempfile, os, torch
    >>> path = ColorGenerator(hidden=8).save(os.path.join(tempfile.mkdtemp(), "g.safetensors"), {"style": "x"})
    >>> model = load_generator(path)
    >>> type(model).__name__, model.hidden, model.metadata["style"]
    ('ColorGenerator', 8, 'x')
    """
    tensors, header = read_generator_file(path)
    kind = {"ColorGenerator": ColorGenerator, "ConditionedGenerator": ConditionedGenerator}.get(header.get("kind"))
    if kind is None:
        raise ColorotError(f"{path}: unknown generator kind {header.get('kind')!r}")
    return build_generator(kind, tensors, header, path, device)


