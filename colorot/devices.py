"""Where colorot computes, and its random numbers: a device resolved from the user's words, a seeded generator."""

from __future__ import annotations

import torch

from .errors import ColorotError
from .options import DEFAULT_SEED

__all__ = ["resolve_device", "seeded_generator"]


def resolve_device(device=None, like=None) -> torch.device:
    """The device to compute on.

    ``None`` or ``"auto"`` follows ``like`` when it is a tensor, else picks CUDA
    when available and the CPU otherwise; ``"cpu"``, ``"cuda"`` and
    ``"cuda:N"`` are taken as given (CUDA must be available).

    Examples
    --------
    >>> resolve_device("cpu")
    device(type='cpu')
    """
    if device is None or device == "auto":
        if isinstance(like, torch.Tensor):
            return like.device
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(device)
    except (RuntimeError, TypeError) as error:
        raise ColorotError(f"unknown device {device!r}; use auto, cpu, cuda or cuda:N") from error
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise ColorotError(f"device {device} requested but CUDA is not available; use --device cpu")
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise ColorotError(f"device {device} requested but only {torch.cuda.device_count()} CUDA device(s) exist")
    return device


def seeded_generator(seed: int | None, device: torch.device) -> torch.Generator:
    """A generator on ``device`` seeded with ``seed``; None is :data:`colorot.options.DEFAULT_SEED`, so that a
    call without a seed gives the same result every run (on one device)."""
    generator = torch.Generator(device=device)
    generator.manual_seed(DEFAULT_SEED if seed is None else int(seed))
    return generator

