"""The fitted color map as a 3D lookup table over sRGB.

The sliced transport map (:class:`colorot.ot.sliced.SlicedSteps`) is a function
of color in the working space. :func:`bake_lut` samples it, composed with the
conversions to and from the working space and with the strength
interpolation, on a regular grid of the sRGB cube. Applying the map to an
image is then one trilinear lookup per pixel, whatever the working space or
the number of steps, and the same table exports to ``.cube`` files.

Three lookup kernels give the same result (within one 8-bit code):

* 8-bit arrays on the CPU go through Pillow's C implementation
  (:class:`PIL.ImageFilter.Color3DLUT`), in parallel strips;
* or, once :meth:`ColorLUT.densify` has tabulated the map at every 8-bit
  color (for a table applied to many photos or frames), through one gather
  per pixel (:mod:`colorot.maps.dense`), 2-5x faster than Pillow;
* everything else (16-bit, float, any torch device) goes through
  ``torch.nn.functional.grid_sample`` in chunks of bounded size.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from . import dense as dense_lut
from .. import threads
from ..measures.colorspaces import from_space, to_space
from ..options import LUT_SIZE
from .shaper import Shaper
from .protocol import ColorMap

__all__ = ["ColorLUT", "bake_lut", "MapAtNodes", "identity_grid", "used_nodes"]

#: Pixels looked up at a time: small on the CPU (cache), large on accelerators (fewer launches).
CHUNK_PIXELS = {"cpu": 1 << 18, "accelerator": 1 << 23}


#: Pixels :func:`used_nodes` reads at a time (per thread).
USED_NODES_CHUNK = 1 << 20

#: The largest grid (nodes per axis) Pillow's ``Color3DLUT`` kernel takes.
PILLOW_LUT_MAX = 65


def identity_grid(size: int, *, device=None, dtype=torch.float32) -> torch.Tensor:
    """The sRGB cube's grid nodes, shape ``(size**3, 3)``, red index fastest.

    Examples
    --------
    >>> identity_grid(2).tolist()[:3]
    [[0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]
    """
    axis = torch.linspace(0, 1, size, device=device, dtype=dtype)
    blue, green, red = torch.meshgrid(axis, axis, axis, indexing="ij")
    return torch.stack((red, green, blue), dim=-1).reshape(-1, 3)


class ColorLUT:
    """A batch of 3D lookup tables over the sRGB cube.

    Parameters
    ----------
    table : torch.Tensor, shape (B, 3, S, S, S)
        Output sRGB colors; ``table[b, :, k, j, i]`` is the output for the input
        color ``(i, j, k) / (S - 1)`` (red, green, blue), red index fastest as
        in ``.cube`` files.
    shaper : colorot.maps.shaper.Shaper, optional
        The table's input side: which grid coordinate each input value reads
        (a domain other than ``[0, 1]``, or a 1-D shaper before the table, as
        ``.cube`` files may carry). Default: the input color itself.
    clamps_inputs : bool
        Float inputs outside ``[0, 1]`` read the table at the nearest face (as
        ``.cube`` readers do: a table read from a file sets it) instead of
        moving with that face's displacement (see Notes).

    Notes
    -----
    The lookup interpolates the *displacement* ``table - identity`` and adds
    it to the input, so an identity table returns its input exactly and
    colors outside ``[0, 1]`` (float images) are shifted by the displacement
    of the nearest face of the cube rather than clipped.

    Examples
    --------
    >>> import torch
    >>> nodes = identity_grid(17).T.reshape(1, 3, 17, 17, 17)
    >>> darker = ColorLUT(nodes * 0.5)
    >>> darker.size
    17
    >>> [round(v, 6) for v in darker.apply_pixels(torch.tensor([[[0.2], [0.6], [1.0]]])).flatten().tolist()]
    [0.1, 0.3, 0.5]
    """

    def __init__(self, table: torch.Tensor, shaper: Shaper | None = None, *, clamps_inputs: bool = False):
        if table.ndim == 4:
            table = table.unsqueeze(0)
        if table.ndim != 5 or table.shape[1] != 3 or len(set(table.shape[2:])) != 1:
            raise ValueError(f"a LUT table has shape (B, 3, S, S, S), got {tuple(table.shape)}")
        self.table = table
        self.shaper = shaper
        self.clamps_inputs = clamps_inputs
        self.dense: list[np.ndarray] | None = None

    @property
    def size(self) -> int:
        return self.table.shape[-1]

    def displacement(self) -> torch.Tensor:
        """``table - identity``, shape (B, 3, S, S, S)."""
        nodes = identity_grid(self.size, device=self.table.device, dtype=self.table.dtype)
        return self.table - nodes.T.reshape(1, 3, self.size, self.size, self.size)

    def to(self, device=None, dtype=None) -> "ColorLUT":
        """This LUT on another device or in another dtype (itself when nothing changes; a table tabulated by
        :meth:`densify` is kept)."""
        table = self.table.to(device=device, dtype=dtype)
        if table is self.table:
            return self
        moved = ColorLUT(table, self.shaper, clamps_inputs=self.clamps_inputs)
        moved.dense = self.dense
        return moved

    def resized(self, size: int) -> "ColorLUT":
        """The same map sampled on a ``size``-node grid over ``[0, 1]`` (trilinear interpolation of this table,
        after its shaper: the result has none)."""
        if size == self.size and self.shaper is None:
            return self
        nodes = identity_grid(size, device=self.table.device).T[None]  # (1, 3, size^3)
        table = self.apply_pixels(nodes.expand(self.table.shape[0], -1, -1))
        return ColorLUT(table.reshape(-1, 3, size, size, size))

    def without_shaper(self, size: int = LUT_SIZE) -> "ColorLUT":
        """This map as a plain table over ``[0, 1]`` (for files that carry no shaper): itself when it has none,
        else sampled on ``max(size, self.size)`` nodes."""
        return self if self.shaper is None else self.resized(max(size, self.size))

    def _grid_coordinates(self, colors: torch.Tensor) -> torch.Tensor:
        """The grid coordinates, in ``[0, 1]``, that colors ``(B, 3, P)`` read through the shaper."""
        shaper = self.shaper
        values = torch.as_tensor(shaper.values, device=colors.device, dtype=torch.float32)
        low, high = (torch.as_tensor(bound, device=colors.device, dtype=torch.float32)[:, None]
                     for bound in shaper.domain)
        nodes = values.shape[1]
        position = ((colors - low) / (high - low) * (nodes - 1)).clamp_(0, nodes - 1)
        start = position.floor().clamp_(max=nodes - 2)
        weight = position - start
        index = start.long()
        rows = values[None].expand(colors.shape[0], -1, -1)
        first, second = rows.gather(-1, index), rows.gather(-1, index + 1)
        return torch.lerp(first, second, weight).clamp_(0, 1)

    def apply_pixels(
        self, pixels: torch.Tensor, *, scale: float = 1.0, device=None, interpolation: str = "trilinear"
    ) -> torch.Tensor:
        """Look up pixels ``(B, 3, P)`` of any dtype holding sRGB values in ``[0, scale]``.

        The tables apply image by image (one table broadcasts over the batch).
        Works in chunks of bounded size (``CHUNK_PIXELS``) on ``device`` (default: the
        pixels' device) and returns a tensor of the pixels' dtype on that
        device: rounded and clipped for integer dtypes; for floats, clipped to
        ``[0, scale]`` where the input was inside it. ``interpolation`` is
        ``"trilinear"`` (of the displacement, so colors outside the cube are
        shifted like its nearest face) or ``"tetrahedral"`` (inputs clamped to
        the cube), as other software applies ``.cube`` files.
        """
        if interpolation not in ("trilinear", "tetrahedral"):
            raise ValueError(f"interpolation is trilinear or tetrahedral, not {interpolation!r}")
        device = pixels.device if device is None else torch.device(device)
        displacement = self.displacement().to(device=device, dtype=torch.float32)
        table = self.table.to(device=device, dtype=torch.float32)
        batch = max(pixels.shape[0], displacement.shape[0])
        displacement = displacement.expand(batch, *displacement.shape[1:])
        out = torch.empty((batch, 3, pixels.shape[-1]), device=device, dtype=pixels.dtype)
        chunk_pixels = max(1, CHUNK_PIXELS["cpu" if device.type == "cpu" else "accelerator"] // batch)
        with threads.torch_threads(threads.for_work(batch * pixels.shape[-1])):
            self._apply_chunks(pixels, out, displacement, table, scale, chunk_pixels, interpolation)
        return out

    def _apply_chunks(self, pixels, out, displacement, table, scale, chunk_pixels, interpolation) -> None:
        """:meth:`apply_pixels`' lookup, chunk by chunk, into ``out``."""
        batch = out.shape[0]
        device = out.device
        is_integer = not pixels.dtype.is_floating_point
        for start in range(0, pixels.shape[-1], chunk_pixels):
            chunk = pixels[:, :3, start : start + chunk_pixels].to(device=device, dtype=torch.float32)
            chunk = chunk.expand(batch, 3, -1) / scale
            if self.shaper is not None:
                read = self._grid_coordinates(chunk)
            else:
                read = chunk.clamp(0, 1) if self.clamps_inputs else chunk
            if interpolation == "tetrahedral":
                moved = _tetrahedral(table.expand(batch, *table.shape[1:]), read)
            else:
                grid = (read * 2 - 1).transpose(1, 2).reshape(batch, 1, 1, -1, 3)
                shift = F.grid_sample(displacement, grid, mode="bilinear", padding_mode="border", align_corners=True)
                moved = read + shift.reshape(batch, 3, -1)
            if is_integer:
                moved = (moved * scale).round_().clamp_(0, scale)
            else:
                low = torch.clamp(chunk, max=0)
                high = torch.clamp(chunk, min=1)
                moved = torch.minimum(torch.maximum(moved, low), high) * scale
            out[..., start : start + chunk_pixels] = moved.to(pixels.dtype)

    def densify(self) -> "ColorLUT":
        """Tabulate the map at every 8-bit color, so that :meth:`apply_uint8` is one gather per pixel.

        Worth it for a table applied to many 8-bit images (a batch with one
        map, a look, a video): building takes about 0.2 s and 64 MB per
        table, after which a lookup costs a fifth to a half of Pillow's
        trilinear kernel. The tabulated outputs are this table's trilinear
        interpolation rounded to the nearest code (Pillow's fixed-point kernel
        differs from it by one code at most, on about 1% of colors).

        Examples
        --------
        >>> import numpy as np, torch
        >>> nodes = identity_grid(9).T.reshape(1, 3, 9, 9, 9)
        >>> lut = ColorLUT(1 - nodes).densify()  # a negative
        >>> lut.apply_uint8(np.array([[[0, 100, 255]]], dtype=np.uint8)).tolist()
        [[[255, 155, 0]]]
        """
        if self.dense is None and dense_lut.AVAILABLE:
            tables = self.table.detach().to("cpu", torch.float32).numpy()
            coordinates = None if self.shaper is None else self.shaper.at_codes()
            self.dense = [dense_lut.tabulate_uint8(table, coordinates) for table in tables]
        return self

    @property
    def applies_uint8(self) -> bool:
        """Whether :meth:`apply_uint8` can look this table up: tabulated, or small enough for Pillow's kernel
        (which reads no shaper)."""
        return self.dense is not None or (self.size <= PILLOW_LUT_MAX and self.shaper is None)

    def apply_uint8(self, image: np.ndarray, index: int = 0) -> np.ndarray:
        """Look up an 8-bit ``(H, W, 3|4)`` array on the CPU (alpha kept): one gather per pixel once
        :meth:`densify` has run, else Pillow's C kernel in parallel strips."""
        from PIL import Image, ImageFilter

        if self.dense is not None:
            return dense_lut.lookup_uint8(self.dense[index if len(self.dense) > 1 else 0], image)

        # Nodes outside [0, 1] are interpolated as they are and the output clipped, as every other kernel does.
        table = self.table[index].permute(1, 2, 3, 0).reshape(-1).to("cpu", torch.float32).numpy()
        lut_filter = ImageFilter.Color3DLUT(self.size, table, channels=3)
        mode = "RGBA" if image.shape[-1] == 4 else "RGB"
        out = np.empty_like(image)
        n_workers = min(threads.cpu_threads(), 8)
        bounds = np.linspace(0, image.shape[0], 2 * n_workers + 1).astype(int)

        def work(rows: slice) -> None:
            strip = Image.fromarray(np.ascontiguousarray(image[rows]), mode)
            out[rows] = np.asarray(strip.filter(lut_filter))

        threads.in_strips(work, [slice(a, b) for a, b in zip(bounds[:-1], bounds[1:]) if b > a], n_workers)
        return out


def _tetrahedral(table: torch.Tensor, colors: torch.Tensor) -> torch.Tensor:
    """Tetrahedral interpolation of tables ``(B, 3, S, S, S)`` at colors ``(B, 3, P)`` in ``[0, 1]``.

    The cell's fractional coordinates, sorted ``f1 >= f2 >= f3`` along axes
    ``a1, a2, a3``, pick the tetrahedron from the cell's origin through
    ``+a1``, ``+a1+a2`` to the opposite corner; the weights are
    ``1 - f1, f1 - f2, f2 - f3, f3``.
    """
    size = table.shape[-1]
    position = colors.clamp(0, 1) * (size - 1)
    base = position.floor().clamp_(max=size - 2)
    fraction = position - base
    strides = torch.tensor([1, size, size * size], device=colors.device)  # red fastest, then green, then blue
    origin = (base.long() * strides[None, :, None]).sum(dim=1)  # (B, P)
    sorted_fraction, axis = fraction.sort(dim=1, descending=True)
    step = strides[axis]  # (B, 3, P): the stride along a1, a2, a3
    corners = [origin, origin + step[:, 0], origin + step[:, 0] + step[:, 1], origin + strides.sum()]
    weights = [1 - sorted_fraction[:, 0], sorted_fraction[:, 0] - sorted_fraction[:, 1],
               sorted_fraction[:, 1] - sorted_fraction[:, 2], sorted_fraction[:, 2]]
    flat = table.reshape(table.shape[0], 3, -1)
    out = torch.zeros_like(colors)
    for corner, weight in zip(corners, weights):
        out += flat.gather(-1, corner[:, None, :].expand(-1, 3, -1)) * weight[:, None, :]
    return out


def bake_lut(
    steps: ColorMap,
    space: str,
    *,
    size: int = LUT_SIZE,
    strength: float = 1.0,
    blur: float = 0.0,
    nodes: torch.Tensor | None = None,
) -> ColorLUT:
    """Sample a fitted map on the sRGB grid.

    Parameters
    ----------
    steps : ColorMap
        Map in the working space ``space``; its knots may carry a batch axis.
    space : str
        Working space of the map (see :data:`colorot.measures.colorspaces.SPACES`).
    size : int
        Grid nodes per axis (17, 33 and 65 are the usual ``.cube`` sizes).
    strength : float
        Displacement interpolation ``x + strength * (T(x) - x)`` in the working space.
    blur : float
        Standard deviation, in sRGB units, of a Gaussian that smooths the
        displacement over the cube: it bounds how fast the map can change
        between neighbouring colors (a blurred function of luma alone stays
        one, so luma order is kept). 0 disables it.
    nodes : torch.Tensor of bool, shape (size**3,), optional
        Bake only these grid nodes (red index fastest, see
        :func:`identity_grid`); the others keep the identity. The table is
        then only valid for colors in the cells around them, e.g. the nodes
        :func:`used_nodes` finds for one image: that image's lookup gives
        the same result as with the whole table, for a fraction of the cost.
        Ignored when ``blur`` is set (the blur mixes all nodes).

    Returns
    -------
    ColorLUT
        Output colors clipped to the sRGB cube.
    """
    return MapAtNodes(steps, space, size=size, blur=blur, nodes=nodes).table(strength)


class MapAtNodes:
    """A fitted map evaluated once at the sRGB grid's nodes, tabled at any strength: what :func:`bake_lut`
    does, split so that a strength slider re-evaluates nothing (``table(s)`` is ``bake_lut(..., strength=s)``).

    Parameters are those of :func:`bake_lut`.

    Examples
    --------
    >>> from colorot.ot.linear import LinearMap
    >>> darker = LinearMap(0.5 * torch.eye(3)[None], torch.zeros(1, 1, 3), torch.zeros(1, 1, 3))
    >>> at_nodes = MapAtNodes(darker, "rgb", size=5)
    >>> float(at_nodes.table(0.5).table.max())
    0.75
    """

    def __init__(self, steps: ColorMap, space: str, *, size: int = LUT_SIZE, blur: float = 0.0,
                 nodes: torch.Tensor | None = None):
        self.space, self.size, self.blur = space, size, blur
        self.grid = identity_grid(size, device=steps.device, dtype=torch.float32)
        self.nodes = nodes.to(self.grid.device) if nodes is not None and blur == 0 else None
        grid = self.grid if self.nodes is None else self.grid[self.nodes]
        self.start = to_space(grid, space).expand(*steps.batch_shape, -1, -1)
        self.moved = steps(self.start)

    def table(self, strength: float = 1.0) -> "ColorLUT":
        """The table of ``x + strength * (T(x) - x)`` (in the working space), clipped to the sRGB cube."""
        size, grid = self.size, self.grid
        colors = from_space(self.start + strength * (self.moved - self.start), self.space)
        if self.nodes is not None:
            baked = colors
            colors = grid.expand(*baked.shape[:-2], -1, -1).clone()
            colors[..., self.nodes, :] = baked
        table = colors.reshape(-1, size, size, size, 3).permute(0, 4, 1, 2, 3)
        if self.blur > 0:
            identity = grid.T.reshape(1, 3, size, size, size)
            table = identity + _gaussian_blur_3d(table - identity, self.blur * (size - 1))
        return ColorLUT(table.clamp(0, 1).contiguous())


def used_nodes(image: np.ndarray, size: int) -> torch.Tensor:
    """The grid nodes a trilinear lookup of an 8-bit image can read: the corners of the cells its colors
    fall in, with a margin of one node on every side (for kernels that round a color into the next
    cell, as fixed-point ones may). A boolean mask of shape ``(size**3,)``, red index fastest.

    Examples
    --------
    >>> mask = used_nodes(np.zeros((2, 2, 3), dtype=np.uint8), 65)
    >>> int(mask.sum()), bool(mask[0]), bool(mask[2 + 2 * 65 + 2 * 65 * 65]), bool(mask[3])
    (27, True, True, False)
    """
    lower = ((np.arange(256) * (size - 1)) // 255).astype(np.int32)  # the cell of each code along one axis
    offsets = (lower, lower * size, lower * size * size)
    flat = image.reshape(-1, image.shape[-1])

    def mark(bounds: tuple[int, int]) -> np.ndarray:  # in chunks that stay in cache
        cells = np.zeros(size**3, dtype=bool)
        for start in range(bounds[0], bounds[1], USED_NODES_CHUNK):
            chunk = flat[start : min(bounds[1], start + USED_NODES_CHUNK)]
            index = np.take(offsets[0], chunk[:, 0])
            index += np.take(offsets[1], chunk[:, 1])
            index += np.take(offsets[2], chunk[:, 2])
            cells[index] = True
        return cells

    # Strips in Python threads (numpy releases the GIL; blocked threads do not spin as OpenMP's do).
    strips = max(1, min(threads.cpu_threads(), len(flat) // USED_NODES_CHUNK))
    bounds = [(len(flat) * k // strips, len(flat) * (k + 1) // strips) for k in range(strips)]
    cells = np.logical_or.reduce(threads.in_strips(mark, bounds, strips))
    marked = cells.reshape(size, size, size)  # [blue, green, red]
    for axis in range(3):  # nodes lower - 1 .. lower + 2 along each axis
        grown = marked.copy()
        view, source = np.moveaxis(grown, axis, 0), np.moveaxis(marked, axis, 0)
        view[1:] |= source[:-1]
        view[2:] |= source[:-2]
        view[:-1] |= source[1:]
        marked = grown
    return torch.from_numpy(marked.reshape(-1))


def _gaussian_blur_3d(volume: torch.Tensor, sigma: float) -> torch.Tensor:
    """Separable Gaussian blur of ``(B, C, S, S, S)`` volumes, edges replicated.

    Each axis is a sum of shifted copies weighted by the kernel's taps, added in one fixed order: the result does
    not depend on the number of threads, nor on a table's place in a batch (``conv3d`` blocks its work by both,
    which changed the last bit of a node and, through it, a code of the output)."""
    radius = max(1, int(math.ceil(3 * sigma)))
    offsets = torch.arange(-radius, radius + 1, device=volume.device, dtype=volume.dtype)
    kernel = torch.exp(-0.5 * (offsets / sigma) ** 2)
    kernel = (kernel / kernel.sum()).tolist()
    out = volume
    for axis in (2, 3, 4):
        size = out.shape[axis]
        index = torch.arange(-radius, size + radius, device=volume.device).clamp(0, size - 1)  # edges replicated
        padded = out.index_select(axis, index)
        blurred = padded.narrow(axis, 0, size) * kernel[0]
        for tap in range(1, 2 * radius + 1):
            blurred.add_(padded.narrow(axis, tap, size), alpha=kernel[tap])
        out = blurred
    return out
