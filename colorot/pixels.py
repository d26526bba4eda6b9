"""The in-memory image type. Conversions at the edge: numpy arrays, PIL images and torch tensors to one
internal pixel view, and back to the caller's type, dtype, range and device.

The internal view is a torch tensor ``(B, C, P)`` of the input's own dtype
(no copy where the input's layout allows), with ``C`` = 3 (RGB) or 4 (RGBA)
and ``P`` pixels, and ``scale``, the value of full intensity (255 for uint8,
65535 for uint16, 1 for floats).
"""

from __future__ import annotations

import warnings
import dataclasses
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import torch

from .errors import ColorotError
from .io.icc import is_gray_profile, profile_for_rgb
from .options import PIXEL_SCALES

_SCALES = {
    np.dtype(np.uint8): PIXEL_SCALES["uint8"],
    np.dtype(np.uint16): PIXEL_SCALES["uint16"],
    np.dtype(np.float16): 1.0,
    np.dtype(np.float32): 1.0,
    np.dtype(np.float64): 1.0,
}
_TORCH_SCALES = {
    torch.uint8: PIXEL_SCALES["uint8"],
    torch.uint16: PIXEL_SCALES["uint16"],
    torch.float16: 1.0,
    torch.bfloat16: 1.0,
    torch.float32: 1.0,
    torch.float64: 1.0,
}


@dataclass
class PixelView:
    """An image seen as pixels ``(B, C, P)``, and how to rebuild the caller's type."""

    pixels: torch.Tensor
    scale: float
    kind: str  # "numpy", "pil" or "torch"
    rebuild: Callable[[torch.Tensor | np.ndarray], Any]
    size: tuple[int, int]  # (H, W)
    array: np.ndarray | None = None  # the (H, W, C) array behind numpy and PIL inputs

    @property
    def is_uint8_array(self) -> bool:
        return self.array is not None and self.array.dtype == np.uint8

    def to(self, device: torch.device) -> "PixelView":
        """The view with its pixels on ``device``.

        The copy keeps the pixels' own memory layout (channels last for arrays
        and PIL images) and the axes are swapped on arrival, so that no
        transposed copy is made on the host.
        """
        pixels, device = self.pixels, torch.device(device)
        if pixels.device.type == device.type and device.index in (None, pixels.device.index):
            return self
        if not pixels.is_contiguous() and pixels.transpose(1, 2).is_contiguous():
            pixels = pixels.transpose(1, 2).to(device).transpose(1, 2)
        else:
            pixels = pixels.to(device)
        if pixels.dtype == torch.uint16 and device.type != "cpu":
            pixels = pixels.to(torch.int32)  # CUDA kernels index and gather no uint16
        return dataclasses.replace(self, pixels=pixels)


def _check_finite(values, name: str) -> None:
    finite = np.isfinite(values).all() if isinstance(values, np.ndarray) else bool(torch.isfinite(values).all())
    if not finite:
        raise ColorotError(f"{name} contains NaN or infinite values")


def _check_channels(channels: int, shape: tuple, name: str, layout: str, hint: str | None = None) -> None:
    """Refuse an image without 3 or 4 channels where ``layout`` puts them; ``hint``: what to do instead (default:
    convert grayscale to RGB)."""
    if channels not in (3, 4):
        raise ColorotError(f"{name} must be an RGB or RGBA image laid out {layout}, got shape {shape}; "
                           f"{hint or 'convert grayscale images to RGB first'}")


def _from_numpy(array: np.ndarray, name: str, rebuild_pil=None) -> PixelView:
    if array.ndim != 3:
        raise ColorotError(f"{name} must be an (H, W, 3) or (H, W, 4) array, got shape {array.shape}")
    _check_channels(array.shape[2], array.shape, name, "(H, W, C)")
    dtype = array.dtype  # given back as it came, byte order included
    if dtype.byteorder not in ("=", "|") and dtype.newbyteorder("=") in _SCALES:
        array = array.astype(dtype.newbyteorder("="))  # big-endian samples (">u2", ">f4"...): same values, native
    if array.dtype not in _SCALES:
        raise ColorotError(f"{name} has dtype {array.dtype}; use uint8, uint16 or float16/32/64 in [0, 1]")
    if array.shape[0] * array.shape[1] == 0:
        raise ColorotError(f"{name} is empty (shape {array.shape})")
    if array.dtype.kind == "f":
        _check_finite(array, name)
    array = np.ascontiguousarray(array)
    height, width, channels = array.shape
    source = array.astype(np.float32) if array.dtype == np.float16 else array
    with warnings.catch_warnings():
        # Read-only arrays (from PIL, say) are only ever read here.
        warnings.filterwarnings("ignore", message="The given NumPy array is not writable")
        pixels = torch.from_numpy(source).reshape(height * width, channels).T.unsqueeze(0)

    def rebuild(result):
        if isinstance(result, torch.Tensor):
            result = result[0].T.reshape(height, width, channels).cpu().numpy()
        result = np.ascontiguousarray(result)
        result = result.astype(dtype, copy=False)
        return result if rebuild_pil is None else rebuild_pil(result)

    kind = "numpy" if rebuild_pil is None else "pil"
    return PixelView(pixels, _SCALES[array.dtype], kind, rebuild, (height, width), array)


#: PIL modes of one gray channel (with or without alpha), at any depth: refused, never cut to 8-bit RGB.
_PIL_GRAY_MODES = ("1", "L", "LA", "La", "I", "F") + tuple(f"I;16{order}" for order in ("", "L", "B", "N"))


def _from_pil(image, name: str) -> PixelView:
    mode = image.mode
    if mode not in ("RGB", "RGBA"):
        if mode in _PIL_GRAY_MODES or mode.startswith("I;"):
            raise ColorotError(f"{name} is a grayscale PIL image (mode {mode}); convert it to RGB or pass its "
                               "pixels as an (H, W, 3) array at their own depth")
        # The other modes hold 8-bit samples (P, PA, CMYK, YCbCr, RGBX, RGBa...): converting keeps their depth.
        target = "RGBA" if (mode in ("P", "PA") and "transparency" in image.info) or mode[-1] in "Aa" else "RGB"
        try:
            image = image.convert(target)
        except ValueError as error:
            raise ColorotError(f"{name}: PIL mode {mode} cannot be converted to {target} ({error})") from None
    info = dict(image.info)
    if is_gray_profile(info.get("icc_profile")):  # a gray image converted to RGB keeps Pillow's gray profile
        info["icc_profile"] = profile_for_rgb(info["icc_profile"])
    out_mode = image.mode

    def rebuild_pil(array):
        from PIL import Image

        result = Image.fromarray(array, out_mode)
        result.info.update(info)
        return result

    return _from_numpy(np.asarray(image), name, rebuild_pil)


def _from_torch(tensor: torch.Tensor, name: str) -> PixelView:
    if tensor.ndim < 3:
        raise ColorotError(f"{name} must be a (..., C, H, W) tensor, got shape {tuple(tensor.shape)}")
    _check_channels(tensor.shape[-3], tuple(tensor.shape), name, "(..., C, H, W)",
                    "it looks laid out (H, W, C): pass tensor.permute(2, 0, 1) (or movedim(-1, -3) for a batch)"
                    if tensor.shape[-1] in (3, 4) else None)
    if tensor.dtype not in _TORCH_SCALES:
        raise ColorotError(f"{name} has dtype {tensor.dtype}; use uint8 (0-255), uint16 (0-65535) or a floating "
                           "dtype in [0, 1]")
    if tensor.numel() == 0:
        raise ColorotError(f"{name} is empty (shape {tuple(tensor.shape)})")
    if tensor.is_floating_point():
        _check_finite(tensor, name)
    shape, dtype = tensor.shape, tensor.dtype
    channels = shape[-3]
    pixels = tensor.detach().reshape(-1, channels, shape[-2] * shape[-1])

    def rebuild(result):
        if isinstance(result, np.ndarray):
            result = torch.from_numpy(result)
        return result.reshape(shape).to(device=tensor.device, dtype=dtype)

    return PixelView(pixels, _TORCH_SCALES[dtype], "torch", rebuild, tuple(shape[-2:]))


def image_to_pixels(image, name: str = "image") -> PixelView:
    """Validate an image and view it as pixels ``(B, C, P)``.

    Raises
    ------
    ColorotError
        For unsupported types, shapes, dtypes, empty images and NaN values.
    """
    if isinstance(image, torch.Tensor):
        return _from_torch(image, name)
    if isinstance(image, np.ndarray):
        return _from_numpy(image, name)
    try:
        from PIL import Image
    except ImportError:  # pragma: no cover - pillow is a core dependency
        Image = None
    if Image is not None and isinstance(image, Image.Image):
        return _from_pil(image, name)
    raise ColorotError(
        f"{name} must be a numpy array, a PIL image or a torch tensor, not {type(image).__name__}; "
        "read files with colorot.read_image"
    )


def mask_to_weights(mask, view: PixelView, name: str = "mask") -> torch.Tensor:
    """A mask as per-pixel weights ``(B or 1, P)`` in ``[0, 1]`` on the view's device.

    Accepts an ``(H, W)`` numpy array (bool, uint8 0-255, uint16 0-65535 or
    float in ``[0, 1]``), a PIL image (converted to grayscale), or a tensor
    ``(H, W)``, ``(B, H, W)`` or ``(B, 1, H, W)``; ``(H, W)`` must match the image.

    Examples
    --------
    >>> import numpy as np
    >>> view = image_to_pixels(np.zeros((2, 3, 3), np.uint8))
    >>> mask_to_weights(np.array([[0, 1, 1], [0.5, 1, 0]]), view).tolist()
    [[0.0, 1.0, 1.0, 0.5, 1.0, 0.0]]
    """
    if isinstance(mask, torch.Tensor):
        values = mask.detach()
        if values.ndim == 4 and values.shape[1] == 1:
            values = values[:, 0]
        if values.ndim == 2:
            values = values[None]
        scale = _TORCH_SCALES.get(values.dtype, 1.0)  # uint8 0-255; floats and bool as they are
    else:
        try:
            from PIL import Image
        except ImportError:  # pragma: no cover - pillow is a core dependency
            Image = None
        if Image is not None and isinstance(mask, Image.Image):
            mask = np.asarray(mask.convert("L"))
        values = np.asarray(mask)
        if values.ndim != 2:
            raise ColorotError(f"{name} must be an (H, W) array, got shape {values.shape}")
        scale = _SCALES.get(values.dtype, 1.0)  # uint8 0-255, uint16 0-65535; floats and bool as they are
        values = torch.from_numpy(values.astype(np.float32))[None]
    if values.ndim != 3 or tuple(values.shape[-2:]) != tuple(view.size):
        raise ColorotError(f"{name} has shape {tuple(values.shape)}; it must be (H, W) = {tuple(view.size)} like its image")
    values = values.to(torch.float32) / scale
    if not bool(torch.isfinite(values).all()) or bool((values < 0).any()) or bool((values > 1).any()):
        raise ColorotError(f"{name} must hold values in [0, 1] (or 0-255 for uint8)")
    return values.reshape(values.shape[0], -1).to(view.pixels.device)
