"""Samples as torchvision's transforms v2 see them: the images in a structure, transformed; the rest passed through.

A v2 transform takes one input or several (``t(image)``, ``t(image, label)``, ``t({"image": ..., "boxes": ...})``)
and returns the same structure (tuples, lists and dicts, nested). Which leaves are images follows v2's rule:
``tv_tensors.Image`` and ``Video`` and PIL images are; when a sample holds none of those, its first plain tensor
is (v2's heuristic for pure tensors); everything else (labels, boxes, masks, other tensors) passes through
untouched. A transformed tensor keeps its tensor subclass (a ``tv_tensors.Image`` comes back as one).

This module needs no torchvision: subclasses are told by their class names ``Image`` and ``Video``, as
torchvision names them.
"""

from __future__ import annotations

from typing import Any, Callable

import torch

__all__ = ["map_images"]

_IMAGE_CLASSES = ("Image", "Video")


def _is_tagged_image(leaf: Any) -> bool:
    if isinstance(leaf, torch.Tensor):
        return type(leaf) is not torch.Tensor and type(leaf).__name__ in _IMAGE_CLASSES
    try:
        from PIL import Image
    except ImportError:  # pragma: no cover - Pillow is a core dependency
        return False
    return isinstance(leaf, Image.Image)


def _leaves(sample: Any, path: tuple = ()):
    if isinstance(sample, (tuple, list)):
        for index, item in enumerate(sample):
            yield from _leaves(item, (*path, index))
    elif isinstance(sample, dict):
        for key, item in sample.items():
            yield from _leaves(item, (*path, key))
    else:
        yield path, sample


def _rebuild(sample: Any, replaced: dict, path: tuple = ()):
    if path in replaced:
        return replaced[path]
    if isinstance(sample, (tuple, list)):
        items = [_rebuild(item, replaced, (*path, index)) for index, item in enumerate(sample)]
        return type(sample)(items) if not hasattr(sample, "_fields") else type(sample)(*items)
    if isinstance(sample, dict):
        return type(sample)((key, _rebuild(item, replaced, (*path, key))) for key, item in sample.items())
    return sample


def map_images(sample: Any, transform: Callable[[Any], Any]) -> Any:
    """Apply ``transform`` to the images of ``sample`` (v2's rule, above), keeping its structure and types.

    Parameters
    ----------
    sample : image, or tuple / list / dict (nested) of images and other values
    transform : callable
        Image -> image of the same type (tensor, PIL).

    Examples
    --------
    >>> import torch
    >>> image, label = map_images((torch.zeros(3, 2, 2), 7), lambda image: image + 1)
    >>> float(image.max()), label
    (1.0, 7)
    """
    leaves = list(_leaves(sample))
    images = [path for path, leaf in leaves if _is_tagged_image(leaf)]
    if not images:
        images = [path for path, leaf in leaves if type(leaf) is torch.Tensor][:1]
    if not images and not isinstance(sample, (tuple, list, dict)):
        images = [()]  # a lone image of another form (an array): the transform says whether it takes it
    replaced = {}
    for path in images:
        leaf = dict(leaves)[path]
        if isinstance(leaf, torch.Tensor) and type(leaf) is not torch.Tensor:
            out = transform(leaf.as_subclass(torch.Tensor)).as_subclass(type(leaf))
        else:
            out = transform(leaf)
        replaced[path] = out
    return _rebuild(sample, replaced)
