"""The ``colorot`` command line: a thin shell over the Python API.

Heavy modules (torch) are imported inside the commands, so ``colorot -h``
answers at once. Every failure is one line on stderr and a non-zero exit.
"""

from __future__ import annotations

import os
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import click

SPACE_CHOICES = ("rgb", "linear", "lab", "oklab")
CONTEXT = dict(help_option_names=["-h", "--help"], max_content_width=100)


class _Fail(click.ClickException):
    """A one-line error, printed as ``colorot: error: ...``."""

    def show(self, file=None) -> None:
        click.echo(f"colorot: error: {self.format_message()}", err=True)


class _UsageFail(_Fail):
    """A one-line error about how the command was called (exit status 2, as click's own)."""

    exit_code = 2


def _run(action):
    """Run ``action`` and turn every failure into a one-line error."""
    from .errors import ColorotError

    try:
        return action()
    except ColorotError as error:
        raise _Fail(str(error)) from None
    except (click.ClickException, click.Abort, KeyboardInterrupt):
        raise
    except MemoryError:
        raise _Fail("out of memory; try a smaller image or --device cpu") from None
    except Exception as error:  # noqa: BLE001 - the CLI never shows a traceback
        if os.environ.get("COLOROT_DEBUG"):
            raise
        raise _Fail(f"unexpected {type(error).__name__}: {error} (set COLOROT_DEBUG=1 for details)") from None


def _parse_weights(text: str | None, n_styles: int) -> list | None:
    if text is None:
        return None
    try:
        weights = [float(part) for part in text.split(",")]
    except ValueError:
        raise _UsageFail(f"--weights must be numbers separated by commas, got {text!r}") from None
    if len(weights) != n_styles:
        raise _UsageFail(f"--weights has {len(weights)} numbers for {n_styles} styles")
    return weights


def _read_mask(path: Path, max_pixels: int | None):
    """A mask file as an (H, W) float array in [0, 1]: its first channel (gray images are replicated to RGB)."""
    from . import io

    pixels = io.read_image(path, max_pixels=max_pixels).pixels[..., 0]
    scale = {"uint8": 255.0, "uint16": 65535.0}.get(pixels.dtype.name, 1.0)
    return (pixels.astype("float32") / scale).clip(0, 1)


def _show_notes(image_file) -> None:
    for note in image_file.notes:
        click.echo(f"colorot: note: {image_file.path}: {note}", err=True)


def default_output(source: Path) -> Path:
    """``photo.jpg`` -> ``photo_colorot.jpg`` next to the source (PNG for formats colorot cannot write)."""
    from .io import _FORMATS

    suffix = source.suffix if source.suffix.lower() in _FORMATS else ".png"
    return source.with_name(f"{source.stem}_colorot{suffix}")


@click.group(context_settings=CONTEXT)
@click.version_option(package_name="colorot", prog_name="colorot")
def main() -> None:
    """Give photos the colors of other photos with sliced optimal transport."""


@main.command(context_settings=CONTEXT)
@click.argument("source", type=click.Path(path_type=Path))
@click.argument("styles", metavar="STYLE...", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("-o", "--output", type=click.Path(path_type=Path), help="Output file [default: SOURCE_colorot.EXT].")
@click.option("--space", type=click.Choice(SPACE_CHOICES), default="rgb", show_default=True,
              help="Color space the distributions are matched in.")
@click.option("--strength", type=click.FloatRange(0, 1), default=1.0, show_default=True,
              help="0 keeps the source, 1 is the full transfer.")
@click.option("--seed", type=int, default=None, help="Seed for reproducible results.")
@click.option("--device", default="auto", show_default=True, help="auto, cpu, cuda or cuda:N.")
@click.option("--method", type=click.Choice(("sliced", "mkl", "reinhard", "histogram", "emd")), default="sliced",
              show_default=True, help="sliced optimal transport, or a classic method for comparison.")
@click.option("--keep-luma", is_flag=True, help="Match only chroma; every pixel keeps its luma.")
@click.option("--quality", type=click.IntRange(1, 100), default=None,
              help="JPEG/WebP/AVIF quality [default: the source JPEG's own, else 95].")
@click.option("--in-place", is_flag=True, help="Overwrite SOURCE with the result (atomically).")
@click.option("--strip-metadata", is_flag=True,
              help="Leave EXIF (camera, place, time) out of the output; the ICC profile is kept.")
@click.option("--max-pixels", type=click.IntRange(1), default=None,
              help="Refuse larger images [default: COLOROT_MAX_PIXELS or 250000000].")
@click.option("--regrain", type=click.IntRange(0), default=0, show_default=True, metavar="RADIUS",
              help="Filter the color shift guided by SOURCE (radius in pixels) so noise is not amplified; "
                   "0 = off.")
@click.option("--weights", default=None, metavar="W1,W2,...",
              help="Mix of several styles, e.g. 0.7,0.3 [default: equal].")
@click.option("--source-mask", type=click.Path(path_type=Path), default=None,
              help="Grayscale image: white pixels define the statistics and change, black ones stay as they are.")
@click.option("--style-mask", type=click.Path(path_type=Path), multiple=True,
              help="Grayscale image: which STYLE pixels define the look (once per style, in order).")
def transfer(source: Path, styles: tuple, output: Path | None, space: str, strength: float,
             seed: int | None, device: str, method: str, keep_luma: bool, quality: int | None,
             in_place: bool, strip_metadata: bool, max_pixels: int | None, regrain: int, weights: str | None,
             source_mask: Path | None, style_mask: tuple) -> None:
    """Give SOURCE the colors of STYLE (or a mix of several) and write the result.

    The output keeps SOURCE's bit depth (16-bit PNG and TIFF, float TIFF), alpha, ICC profile and EXIF.
    When STYLE has another ICC profile, its colors are converted into SOURCE's profile first.

    \b
    Examples:
      colorot transfer photo.jpg look.jpg -o graded.jpg
      colorot transfer photo.jpg warm.jpg teal.jpg --weights 0.7,0.3
      colorot transfer photo.jpg look.jpg --source-mask sky.png
    """
    if in_place and output is not None:
        raise _UsageFail("use either -o/--output or --in-place, not both")
    output = source if in_place else (output or default_output(source))

    mix = _parse_weights(weights, len(styles))
    if style_mask and len(style_mask) != len(styles):
        raise _UsageFail(f"got {len(style_mask)} --style-mask for {len(styles)} styles; give one per style")

    def action():
        from . import api, icc, io

        inputs = (source, *styles, *((source_mask,) if source_mask else ()), *style_mask)
        for path in inputs:
            if io.same_file(path, output) and not (in_place and path == source):
                raise api.ColorotError(
                    f"{output}: refusing to overwrite an input file; choose another -o (or --in-place)"
                )
        source_profile = io.read_icc_profile(source)
        # Decode the source in the background while the styles are read and sampled. Masks are read whole:
        # a style mask must match its style, which is then decoded at full size too.
        with ThreadPoolExecutor(1) as pool:
            source_job = pool.submit(io.read_image, source, max_pixels=max_pixels)
            style_pixels = []
            for style in styles:
                style_file = io.read_image(style, max_side=None if style_mask else 1024, max_pixels=max_pixels)
                _show_notes(style_file)
                style_pixels.append(icc.convert_to_profile(style_file.pixels, style_file.icc_profile, source_profile))
            model = api.ColorTransfer(
                space=space, strength=strength, seed=seed, device=device, keep_luma=keep_luma, method=method,
                regrain_radius=regrain,
            )
            masks = [_read_mask(path, max_pixels) for path in style_mask] or None
            model.fit(style_pixels, weights=mix, style_mask=masks)
            source_file = source_job.result()
        _show_notes(source_file)
        weights_of_pixels = _read_mask(source_mask, max_pixels) if source_mask else None
        result = model.transform(source_file.pixels, source_mask=weights_of_pixels)
        io.write_image(output, result, like=source_file, quality=quality, strip_metadata=strip_metadata)
        return output

    written = _run(action)
    click.echo(str(written), err=False)


@main.command(context_settings=CONTEXT)
@click.argument("output", type=click.Path(path_type=Path))
@click.option("--style", type=click.Path(path_type=Path), help="The style OUTPUT should match.")
@click.option("--source", type=click.Path(path_type=Path), help="The image OUTPUT was made from.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the subsamples.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON object instead of text.")
def evaluate(output: Path, style: Path | None, source: Path | None, seed: int, as_json: bool) -> None:
    """Measure OUTPUT: its color distance to STYLE and the structure it kept from SOURCE.

    \b
    Figures: sliced_w2_to_style and exact_w2_to_style (RGB in [0, 1], lower is closer),
    ssim_to_source and structure_to_source (1 = identical structure).
    Example:
      colorot evaluate graded.jpg --style look.jpg --source photo.jpg --json
    """

    def action():
        from . import io, metrics

        images = {name: io.read_image(path).pixels for name, path in (("style", style), ("source", source)) if path}
        return metrics.evaluate(io.read_image(output).pixels, seed=seed, **images)

    figures = _run(action)
    if as_json:
        import json

        click.echo(json.dumps({"file": str(output), **figures}))
    else:
        for name, value in figures.items():
            click.echo(f"{name:<20} {value:.5f}")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
