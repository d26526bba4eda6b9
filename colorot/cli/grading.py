"""Commands that grade one photo: ``transfer``, ``style``, and ``evaluate`` a result."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..errors import ColorotError
from ..options import PIXEL_SCALES
from ._shell import (CONTEXT, transfer_options, _check_paths, _fit_options, _parse_weights, _read_mask,
                     _run, _show_notes, _UsageFail, default_output, main)


@main.command(context_settings=CONTEXT)
@click.argument("source", type=click.Path(path_type=Path))
@click.argument("styles", metavar="STYLE...", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("-o", "--output", type=click.Path(path_type=Path), help="Output file [default: SOURCE_colorot.EXT].")
@_fit_options
@click.option("--quality", type=click.IntRange(1, 100), default=None,
              help="JPEG/WebP/AVIF quality [default: the source JPEG's own, else 95].")
@click.option("--in-place", is_flag=True,
              help="Overwrite SOURCE with the result (atomically; through a symbolic link, its file).")
@click.option("--strip-metadata", is_flag=True,
              help="Leave EXIF (camera, place, time) out of the output; the ICC profile is kept.")
@click.option("--max-pixels", type=click.IntRange(1), default=None,
              help="Refuse larger images [default: COLOROT_MAX_PIXELS or 250000000].")
@transfer_options("regrain_radius", "refine", more_help={
    "refine": "; the filter's radius is --regrain, else from 1/2 to 1/64 of the long side; 0 = off."})
@click.option("--weights", default=None, metavar="W1,W2,...",
              help="Mix of several styles, e.g. 0.7,0.3 [default: equal].")
@click.option("--source-mask", type=click.Path(path_type=Path), default=None,
              help="Grayscale image: white pixels define the statistics and change, black ones stay as they are.")
@click.option("--style-mask", type=click.Path(path_type=Path), multiple=True,
              help="Grayscale image: which STYLE pixels define the look (once per style, in order).")
@click.option("--verbose", is_flag=True, help="Say how the map was fitted (which way the default's scene gate "
                                              "leaned: the transport, for a shared scene, or the learned look).")
def transfer(source: Path, styles: tuple, output: Path | None, quality: int | None, in_place: bool,
             strip_metadata: bool, max_pixels: int | None, weights: str | None,
             source_mask: Path | None, style_mask: tuple, verbose: bool, **options) -> None:
    """Give SOURCE the colors of STYLE (or a mix of several) and write the result.

    The output keeps SOURCE's bit depth (16-bit PNG and TIFF, float TIFF), alpha, ICC profile and EXIF.
    When STYLE has another ICC profile, its colors are converted into SOURCE's profile first.

    \b
    Examples:
      colorot transfer photo.jpg look.jpg -o graded.jpg
      colorot transfer photo.jpg warm.jpg teal.jpg --weights 0.7,0.3
      colorot transfer photo.jpg look.jpg --source-mask sky.png
      colorot transfer photo.jpg look.jpg --refine 11
    """
    if in_place and output is not None:
        raise _UsageFail("use either -o/--output or --in-place, not both")
    output = source if in_place else (output or default_output(source))

    mix = _parse_weights(weights, len(styles))
    if style_mask and len(style_mask) != len(styles):
        raise _UsageFail(f"got {len(style_mask)} --style-mask for {len(styles)} styles; give one per style")

    def action():
        _check_paths(output, (source, *styles, source_mask, *style_mask), in_place=source if in_place else None)
        from ..apps.grading import grade_file

        graded = grade_file(source, styles, output, options=options, weights=mix, source_mask=source_mask,
                            style_masks=style_mask, quality=quality, strip_metadata=strip_metadata,
                            max_pixels=max_pixels, notes=lambda line: click.echo(f"colorot: note: {line}", err=True))
        for line in graded.fit_notes:
            if verbose or line.startswith("warning"):
                click.echo(f"colorot: {line}", err=True)
        return graded.path

    click.echo(str(_run(action)))

@main.command(context_settings=CONTEXT)
@click.argument("content", type=click.Path(path_type=Path))
@click.argument("style", type=click.Path(path_type=Path))
@click.option("-o", "--output", type=click.Path(path_type=Path), help="Output file [default: CONTENT_colorot.EXT].")
@click.option("--size", type=click.IntRange(16), default=512, show_default=True,
              help="Longer side of the result (never above the content's own).")
@click.option("--content-weight", type=click.FloatRange(0), default=1.0, show_default=True,
              help="Higher keeps more of the content's structure; lower lets the style's texture in.")
@click.option("--patch-size", type=click.IntRange(3, 15), default=7, show_default=True, help="Patch side (odd).")
@click.option("--strength", type=click.FloatRange(0, 1), default=1.0, show_default=True,
              help="0 gives the color transfer only, 1 the full texture transfer.")
@click.option("--mask", type=click.Path(path_type=Path), default=None,
              help="Where the style applies (an image: white = fully, black = not at all).")
@click.option("--seed", type=int, default=None, help="Another run of the random draws [default: 0: the same output every run].")
@click.option("--device", default="auto", show_default=True, help="auto, cpu, cuda or cuda:N.")
@click.option("--quality", type=click.IntRange(1, 100), default=None, help="JPEG/WebP/AVIF quality.")
def style(content: Path, style: Path, output: Path | None, size: int, content_weight: float, patch_size: int,
          strength: float, mask: Path | None, seed: int | None, device: str, quality: int | None) -> None:
    """Give CONTENT the colors and the texture of STYLE (patch distributions matched by sliced OT).

    \b
    Examples:
      colorot style photo.jpg painting.jpg -o painted.png
      colorot style photo.jpg painting.jpg --content-weight 5 --size 1024 --device cuda
    """
    output = output or default_output(content)
    if patch_size % 2 == 0:
        raise _UsageFail(f"--patch-size must be odd, got {patch_size}")

    def action():
        import numpy as np

        from .. import io

        _check_paths(output, (content, style, mask))
        from ..io import styles as style_files
        from ..stylize import stylize

        content_file = io.read_image(content)
        _show_notes(content_file)
        style_pixels = style_files.read_style_pixels(style, content_file.icc_profile, max_side=2 * size,
                                                     notes=_show_notes)
        weights = _read_mask(mask, None) if mask else None
        pixels = content_file.pixels[..., :3]
        with click.progressbar(length=1, label="stylizing", file=sys.stderr) as bar:
            def progress(done, total):
                bar.length = total
                bar.update(done - bar.pos)

            result = stylize(pixels, style_pixels, size=size, content_weight=content_weight, patch_size=patch_size,
                             strength=strength, content_mask=weights, seed=seed, device=device, progress=progress)
        scale = PIXEL_SCALES.get(pixels.dtype.name)
        if scale is not None:
            result = (result * scale).round().astype(pixels.dtype)
        io.write_image(output, np.ascontiguousarray(result), like=content_file, quality=quality)
        return output

    click.echo(str(_run(action)))

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
        from .. import io
        from ..measures import metrics

        images = {name: io.read_image(path).pixels for name, path in (("style", style), ("source", source)) if path}
        pixels = io.read_image(output).pixels
        if source and images["source"].shape[:2] != pixels.shape[:2]:
            (height, width), (source_height, source_width) = pixels.shape[:2], images["source"].shape[:2]
            raise ColorotError(f"{output} is {width} x {height} pixels but --source {source} is {source_width} x "
                               f"{source_height}: give the image {output} was made from")
        return metrics.evaluate(pixels, seed=seed, **images)

    figures = _run(action)
    if as_json:
        import json

        click.echo(json.dumps({"file": str(output), **figures}))
    else:
        for name, value in figures.items():
            click.echo(f"{name:<20} {value:.5f}")
