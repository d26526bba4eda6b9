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
REFINE_HELP = ("Rounds of regrain and re-transfer: closer to the style with more of the photo's detail kept, "
               "not a function of color (about 4x the time of a plain transfer at 12 MP); 11 meets both quality "
               "targets on every sample pair")


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


#: A table exported smaller than its look is noted when it is farther than this (8-bit codes, 99th percentile).
LUT_ERROR_NOTE = 2.0

#: How the notes name each kind of lookup table (:func:`colorot.looks.lut_kind`).
LUT_KIND_NAMES = {"look": "a colorot look", "generator": "a trained generator", "cube": "a .cube 3D LUT",
                  "hald": "a Hald CLUT, told from its content"}


def _lut_kind(look: Path) -> str | None:
    """What kind of lookup table ``look`` is (None for a photo); when it is one, a note on stderr says so."""
    from .looks import lut_kind

    kind = lut_kind(look)
    if kind is not None:
        click.echo(f"colorot: note: {look}: applied as a lookup table ({LUT_KIND_NAMES[kind]})", err=True)
    return kind


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


def _fit_options(function):
    """The options shared by the commands that fit a map: space, strength, seed, device, method, luma."""
    options = [
        click.option("--space", type=click.Choice(SPACE_CHOICES), default="rgb", show_default=True,
                     help="Color space the distributions are matched in."),
        click.option("--strength", type=click.FloatRange(0, 1), default=1.0, show_default=True,
                     help="0 keeps the colors, 1 is the full transfer."),
        click.option("--seed", type=int, default=None, help="Seed for reproducible results."),
        click.option("--device", default="auto", show_default=True, help="auto, cpu, cuda or cuda:N."),
        click.option("--method", type=click.Choice(("sliced", "mkl", "reinhard", "histogram", "emd", "conditioned")),
                     default="sliced", show_default=True, help="sliced optimal transport, a classic method, or the pretrained conditioned generator."),
        click.option("--keep-luma", is_flag=True, help="Match only chroma; every pixel keeps its luma."),
    ]
    for option in reversed(options):
        function = option(function)
    return function


@main.command(context_settings=CONTEXT)
@click.argument("source", type=click.Path(path_type=Path))
@click.argument("styles", metavar="STYLE...", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("-o", "--output", type=click.Path(path_type=Path), help="Output file [default: SOURCE_colorot.EXT].")
@_fit_options
@click.option("--quality", type=click.IntRange(1, 100), default=None,
              help="JPEG/WebP/AVIF quality [default: the source JPEG's own, else 95].")
@click.option("--in-place", is_flag=True, help="Overwrite SOURCE with the result (atomically).")
@click.option("--strip-metadata", is_flag=True,
              help="Leave EXIF (camera, place, time) out of the output; the ICC profile is kept.")
@click.option("--max-pixels", type=click.IntRange(1), default=None,
              help="Refuse larger images [default: COLOROT_MAX_PIXELS or 250000000].")
@click.option("--regrain", type=click.IntRange(0), default=0, show_default=True, metavar="RADIUS",
              help="Filter the color shift guided by SOURCE (radius in pixels) so noise is shifted, not amplified; "
                   "0 = off.")
@click.option("--refine", type=click.IntRange(0), default=0, show_default=True, metavar="ROUNDS",
              help=REFINE_HELP + "; the filter's radius is --regrain, else from 1/2 to 1/64 of the long side; 0 = off.")
@click.option("--weights", default=None, metavar="W1,W2,...",
              help="Mix of several styles, e.g. 0.7,0.3 [default: equal].")
@click.option("--source-mask", type=click.Path(path_type=Path), default=None,
              help="Grayscale image: white pixels define the statistics and change, black ones stay as they are.")
@click.option("--style-mask", type=click.Path(path_type=Path), multiple=True,
              help="Grayscale image: which STYLE pixels define the look (once per style, in order).")
def transfer(source: Path, styles: tuple, output: Path | None, quality: int | None, in_place: bool,
             strip_metadata: bool, max_pixels: int | None, regrain: int, refine: int, weights: str | None,
             source_mask: Path | None, style_mask: tuple, **options) -> None:
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
        from . import io

        _check_paths(output, (source, *styles, source_mask, *style_mask), in_place=source if in_place else None)
        from . import api, styles as style_files

        source_profile = io.read_icc_profile(source)
        # Decode the source in the background while the styles are read and sampled. Masks are read whole:
        # a style mask must match its style, which is then decoded at full size too.
        with ThreadPoolExecutor(1) as pool:
            source_job = pool.submit(io.read_image, source, max_pixels=max_pixels)
            style_pixels = []
            for style in styles:
                style_pixels.append(style_files.read_style_pixels(
                    style, source_profile, max_side=None if style_mask else style_files.STYLE_SIDE,
                    max_pixels=max_pixels, notes=_show_notes))
            model = api.ColorTransfer(regrain_radius=regrain, refine=refine, **options)
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
@click.argument("style", type=click.Path(path_type=Path))
@click.argument("sources", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True, help="The look file (.npz).")
@_fit_options
def fit(style: Path, sources: tuple, output: Path, **options) -> None:
    """Fit one map from SOURCES (a whole shoot) to STYLE and save it as a look file.

    \b
    Example:
      colorot fit look.jpg shoot/*.jpg -o shoot.npz
      colorot apply shoot.npz shoot/*.jpg --output-dir graded/
    """

    def action():
        from . import looks

        lut = looks.fit_lut_from_files(style, sources, size=65, notes=_show_notes, **options)
        parameters = {**options, "style": style.name, "sources": [s.name for s in sources]}
        return looks.save_look(output, lut, parameters)

    click.echo(str(_run(action)))


@main.command(context_settings=CONTEXT)
@click.argument("style", type=click.Path(path_type=Path))
@click.argument("photos", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True,
              help="The generator file (.safetensors).")
@click.option("--space", type=click.Choice(SPACE_CHOICES), default="rgb", show_default=True,
              help="Color space the generator works in.")
@click.option("--steps", type=click.IntRange(1), default=1500, show_default=True, help="Most training steps.")
@click.option("--smoothness", type=click.FloatRange(0), default=1e-3, show_default=True,
              help="Weight of the smoothness term (higher: less noise amplified, looser match).")
@click.option("--monotone-luma/--free-luma", default=True, show_default=True,
              help="Map luma by an increasing function of luma alone, the network moving chroma only (keeps the "
                   "structure of dark, noisy photos), or let the network move luma too.")
@click.option("--seed", type=int, default=None, help="Seed for reproducible training.")
@click.option("--device", default="auto", show_default=True, help="auto, cpu, cuda or cuda:N.")
def train(style: Path, photos: tuple, output: Path, space: str, steps: int, smoothness: float, monotone_luma: bool,
          seed: int | None, device: str) -> None:
    """Train a generator that maps the colors of PHOTOS to STYLE's, and save it.

    A small network trained with a sliced Wasserstein loss (a minimum Kantorovich estimator): once
    trained, it grades any photo, clip or LUT with no further fitting.

    \b
    Example:
      colorot train look.jpg shoot/*.jpg -o shoot.safetensors
      colorot apply shoot.safetensors new/*.jpg --output-dir graded/
    """

    def action():
        from .generator import train_generator
        from .looks import read_fit_inputs

        style_pixels, images = read_fit_inputs(style, photos, notes=_show_notes)
        with click.progressbar(length=steps, label="training", file=sys.stderr) as bar:
            model = train_generator(style_pixels, images, space=space, n_steps=steps, smoothness=smoothness,
                                    monotone_luma=monotone_luma, seed=seed, device=device,
                                    progress=lambda step, loss: bar.update(1))
        return model.save(output, {"style": style.name, "photos": [p.name for p in photos], "seed": seed})

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
@click.option("--seed", type=int, default=None, help="Seed for reproducible results.")
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

        from . import io

        _check_paths(output, (content, style, mask))
        from . import styles as style_files
        from .stylize import stylize

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
        scale = {"uint8": 255, "uint16": 65535}.get(pixels.dtype.name)
        if scale is not None:
            result = (result * scale).round().astype(pixels.dtype)
        io.write_image(output, np.ascontiguousarray(result), like=content_file, quality=quality)
        return output

    click.echo(str(_run(action)))


@main.command(context_settings=CONTEXT)
@click.argument("look", metavar="STYLE|LOOK", type=click.Path(path_type=Path))
@click.option("--source", "sources", multiple=True, type=click.Path(path_type=Path),
              help="A photo the LUT is for (repeat for several) [default: the whole sRGB cube].")
@click.option("--size", type=click.IntRange(2, 256), default=33, show_default=True,
              help="Nodes per axis: 17, 33 or 65 for .cube; a square (16, 36, 64, 144) for Hald.")
@click.option("--format", "lut_format", type=click.Choice(("cube", "hald")), default=None,
              help="cube (.cube text) or hald (16-bit PNG) [default: from the output's extension].")
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True, help="look.cube or hald.png.")
@_fit_options
def lut(look: Path, sources: tuple, size: int, lut_format: str | None, output: Path, **options) -> None:
    """Export a 3D LUT of STYLE's look (fitted here) or of a saved LOOK file (.npz, .safetensors).

    \b
    Examples:
      colorot lut look.jpg --size 33 -o look.cube
      colorot lut shoot.npz --format hald --size 64 -o hald.png
    """
    lut_format = lut_format or ("cube" if output.suffix.lower() == ".cube" else "hald")

    def action():
        from . import looks

        if _lut_kind(look) is not None:  # re-exported at the size asked for
            reference = looks.load_lut(look)
        else:
            reference = looks.fit_lut_from_files(look, sources, size=max(size, 65), notes=_show_notes, **options)
        table = reference.resized(size) if reference.size != size or reference.shaper is not None else reference
        if table is not reference:
            typical, largest = looks.table_error(table, reference)
            if typical > LUT_ERROR_NOTE:
                click.echo(f"colorot: note: the {size}-node table is {typical:.0f} codes from the look at the 99th "
                           f"percentile ({largest:.0f} at most) over the RGB cube; --size 65 reproduces it",
                           err=True)
        if lut_format == "cube":
            return looks.write_cube(output, table, title=f"colorot {look.stem}")
        return looks.write_hald(output, table)

    click.echo(str(_run(action)))


@main.command(context_settings=CONTEXT)
@click.argument("look", metavar="LOOK|CUBE", type=click.Path(path_type=Path))
@click.argument("inputs", metavar="INPUT...", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("-o", "--output", type=click.Path(path_type=Path), help="Output file (one INPUT only).")
@click.option("--output-dir", type=click.Path(path_type=Path, file_okay=False),
              help="Write INPUT_colorot.EXT files here [default: next to each INPUT].")
@click.option("--device", default="auto", show_default=True, help="auto, cpu, cuda or cuda:N.")
@click.option("--quality", type=click.IntRange(1, 100), default=None, help="JPEG/WebP/AVIF quality.")
@click.option("--strip-metadata", is_flag=True, help="Leave EXIF out of the outputs.")
@click.option("--interpolation", type=click.Choice(("trilinear", "tetrahedral")), default="trilinear",
              show_default=True, help="How colors between the LUT's nodes are looked up.")
def apply(look: Path, inputs: tuple, output: Path | None, output_dir: Path | None, device: str,
          quality: int | None, strip_metadata: bool, interpolation: str) -> None:
    """Apply a look file (.npz), a trained generator (.safetensors), a .cube LUT or a Hald CLUT to INPUT photos.

    Each photo keeps its depth, alpha, ICC profile and EXIF; one bad file does not stop the others.

    \b
    Example:
      colorot apply look.cube photos/*.jpg --output-dir graded/
    """
    if output is not None and len(inputs) > 1:
        raise _UsageFail("-o names one output; use --output-dir for several inputs")

    from . import batch as batches

    def plan():
        from . import io, looks

        # A look/LUT file is read by the grader (tabulated without torch for many 8-bit photos); anything else
        # is read here, which reports why it is not a table.
        # A photo given here is read as a Hald CLUT when its size allows (apply takes tables only).
        table = None if _lut_kind(look) is not None else looks.load_lut(look)
        grade = batches.make_grader(look, {"device": device}, table=table, quality=quality,
                                    strip_metadata=strip_metadata, notes=_show_notes, interpolation=interpolation,
                                    photos=len(inputs))
        jobs = []
        for source in inputs:
            target = output or default_output(source)
            if output_dir is not None:
                target = output_dir / default_output(source).name
            job = batches.Job(source, target)
            try:
                io.refuse_overwriting_inputs(target, (look, source))
                io.check_output_path(target, folder_must_exist=output_dir is None)
            except io.ColorotError as error:
                job.status, job.error = "failed", str(error)
            jobs.append(job)
        return jobs, grade

    jobs, grade = _run(plan)
    stopped = None
    try:
        batches.run_jobs(jobs, grade, on_stop=_say_stopping)
    except batches.Stopped as error:
        stopped = error
    for job in jobs:
        if job.status == "written":
            click.echo(str(job.output))
        elif job.status == "failed":
            click.echo(f"colorot: error: {job.error}", err=True)
    if stopped is not None:
        raise SystemExit(stopped.exit_status)
    if any(job.status == "failed" for job in jobs):
        raise SystemExit(1)


@main.command(context_settings=CONTEXT)
@click.argument("source", metavar="INPUT", type=click.Path(path_type=Path))
@click.argument("look", metavar="STYLE|LOOK", type=click.Path(path_type=Path))
@click.option("-o", "--output", type=click.Path(path_type=Path), help="Output video [default: INPUT_colorot.EXT].")
@click.option("--frames", type=click.IntRange(1), default=24, show_default=True,
              help="Frames sampled across the clip to fit the map.")
@click.option("--crf", type=click.IntRange(0, 51), default=18, show_default=True,
              help="Quality of the H.264/VP9 encoding (lower is better).")
@_fit_options
def video(source: Path, look: Path, output: Path | None, frames: int, crf: int, **options) -> None:
    """Grade a video: one map fitted on frames sampled across INPUT (or a LOOK, .cube or Hald file),
    applied to every frame, so the colors do not flicker. Audio, frame rate and size are kept.

    \b
    Example:
      colorot video clip.mp4 look.jpg -o graded.mp4
    """
    from .video import VIDEO_SUFFIXES

    suffix = source.suffix if source.suffix.lower() in VIDEO_SUFFIXES else ".mp4"
    output = output or source.with_name(f"{source.stem}_colorot{suffix}")

    def action():
        from . import io

        io.check_input_file(source)
        io.check_input_file(look)
        io.refuse_overwriting_inputs(output, (source, look))
        from . import api, looks, video as clips

        device = api.resolve_device(options["device"])
        if _lut_kind(look) is not None:
            table = looks.load_lut(look, device)
        else:
            sampled = clips.sample_frames(source, frames)
            table = _fit_lut_from_arrays(look, sampled, options)
        with click.progressbar(length=clips.frame_count(source), label="grading", file=sys.stderr) as bar:
            return clips.grade_video(source, output, clips.lut_applier(table, device), crf=crf,
                                     progress=bar.update)

    click.echo(str(_run(action)))


def _check_paths(output: Path, inputs, *, in_place: Path | None = None) -> None:
    """What can be refused before any work (and before torch is imported): a missing, empty or directory input,
    an output colorot cannot write, an output over an input."""
    from . import io

    for path in inputs:
        if path is not None:
            io.check_input_file(path)
    io.refuse_overwriting_inputs(output, inputs, in_place=in_place)
    io.check_output_path(output)


def _fit_lut_from_arrays(style: Path, frames: list, options: dict):
    from . import api
    from .styles import read_style_pixels

    # Decoded frames are sRGB-encoded (BT.709 has sRGB's primaries): the style is converted into sRGB.
    return api.fit_lut(read_style_pixels(style, None, notes=_show_notes), frames, size=65, **options)


@main.command(context_settings=CONTEXT)
@click.argument("look", metavar="STYLE|LOOK", type=click.Path(path_type=Path))
@click.argument("inputs", metavar="INPUT...", nargs=-1)
@click.option("--output-dir", type=click.Path(path_type=Path, file_okay=False), required=True,
              help="Where the graded photos go (the input tree is mirrored).")
@click.option("-r", "--recursive", is_flag=True, help="Walk folders (and ** in globs) recursively.")
@click.option("--suffix", default="", help="Appended to each output's name, e.g. _graded.")
@click.option("--format", "extension", default=None, help="Output extension (jpg, png, tif...) [default: the input's].")
@click.option("--quality", type=click.IntRange(1, 100), default=None, help="JPEG/WebP/AVIF quality.")
@click.option("--on-conflict", type=click.Choice(("skip", "overwrite", "rename", "error")), default="error",
              show_default=True, help="When an output exists; skip makes an interrupted run resumable.")
@click.option("--shared-map", is_flag=True, help="Fit one map over all the photos (one consistent look).")
@click.option("--style-dir", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="Pair each photo with the style of the same relative path and name here "
                   "(then every argument is an INPUT).")
@click.option("-j", "--jobs", type=click.IntRange(1), default=1, show_default=True, help="Photos in parallel.")
@click.option("--fit-batch", type=click.IntRange(1), default=None,
              help="Photos whose maps are fitted together in one batched call (same results) "
                   "[default: 8 on a GPU, where it runs at least as many threads; 1 on the CPU].")
@click.option("--json", "manifest", type=click.Path(path_type=Path), default=None,
              help="Write a manifest: per file, status, time and the sliced W2 to the style.")
@click.option("--strip-metadata", is_flag=True, help="Leave EXIF out of the outputs.")
@click.option("--engine", type=click.Choice(("local", "ray")), default="local", show_default=True,
              help="local: a pool of threads here; ray: a Ray Data actor pool (the ray extra).")
@click.option("--address", default=None, help="Ray cluster to join (e.g. ray://head:10001) [default: start one here].")
@click.option("--refine", type=click.IntRange(0), default=0, show_default=True, metavar="ROUNDS",
              help=REFINE_HELP + "; a map per photo, not with --shared-map or a look file; 0 = off.")
@_fit_options
def batch(look: Path, inputs: tuple, output_dir: Path, recursive: bool, suffix: str, extension: str | None,
          quality: int | None, on_conflict: str, shared_map: bool, style_dir: Path | None, jobs: int,
          fit_batch: int | None, manifest: Path | None, strip_metadata: bool, engine: str, address: str | None,
          refine: int, **options) -> None:
    """Grade many photos to one STYLE (or a LOOK, .cube or Hald file).

    INPUT is a file, a folder, a glob pattern or - (paths on stdin). One bad file is reported and the
    others go on; the exit status is 1 if any failed.

    \b
    Examples:
      colorot batch look.jpg shoot/ -r --output-dir graded/ --jobs 2
      colorot batch look.cube "archive/**/*.jpg" -r --output-dir out/ --on-conflict skip
    """
    from . import batch as batches

    if style_dir is None and not inputs:
        raise _UsageFail("no INPUT given: name photos, folders, globs or - after the style")
    if style_dir is not None:
        if shared_map or engine == "ray":
            raise _UsageFail("--style-dir pairs photos one by one: not with --shared-map or --engine ray")
        inputs = (str(look), *inputs)
    look_is_table = style_dir is None and _lut_kind(look) is not None
    if refine:
        if shared_map or look_is_table:
            raise _UsageFail("--refine fits a map for each photo: not with --shared-map or a look file")
        options["refine"] = refine

    def plan():
        found = batches.collect_inputs(inputs, recursive=recursive, exclude=output_dir)
        if not found:
            raise _UsageFail("no input images found")
        return batches.plan_jobs(found, output_dir, suffix=suffix, extension=extension, on_conflict=on_conflict)

    planned = _run(plan)
    if engine == "ray":
        _run(lambda: batches.run_jobs_on_ray(
            planned, look, options, address=address, actors=jobs if jobs > 1 else None, shared_map=shared_map,
            quality=quality, strip_metadata=strip_metadata, evaluate=manifest is not None, extension=extension,
        ))
        _report_batch(planned, manifest)
        return
    # Batched fits need one map per photo to one style, fitted by the engine alone: not a shared map, a look/LUT
    # file, paired styles or refine (whose rounds are fitted image by image).
    if shared_map or style_dir is not None or look_is_table or refine:
        fit_batch = 1
    elif fit_batch is None:
        from .api import resolve_device

        fit_batch = 1 if _run(lambda: resolve_device(options["device"])).type == "cpu" else 8
    # torch's threads are split among the --jobs workers; the extra decoding threads of a batched fit (which
    # runs in one thread of its own) do not use torch.
    grader_options = dict(quality=quality, strip_metadata=strip_metadata, evaluate=manifest is not None,
                          fit_batch=fit_batch, workers=jobs, on_exists=batches.ON_EXISTS[on_conflict])
    if fit_batch > 1:
        jobs = max(jobs, fit_batch)  # enough photos decoded at once to fill a batch
    if style_dir is not None:
        grade = batches.paired_grader(style_dir, planned, options, **grader_options)
    else:
        grade = _run(lambda: batches.make_grader(
            look, options, shared_sources=[j.source for j in planned if j.status == "pending"] if shared_map else None,
            notes=_show_notes, photos=sum(j.status == "pending" for j in planned), **grader_options,
        ))
    show = sys.stderr.isatty()
    try:
        with click.progressbar(length=sum(j.status == "pending" for j in planned), label="grading",
                               file=sys.stderr if show else open(os.devnull, "w")) as bar:
            batches.run_jobs(planned, grade, workers=jobs, progress=bar.update, on_stop=_say_stopping)
    except batches.Stopped as stopped:
        _report_batch(planned, manifest, exit_status=stopped.exit_status)
    _report_batch(planned, manifest)


def _say_stopping(signal_number: int, in_progress: int) -> None:
    import signal

    name = signal.Signals(signal_number).name
    click.echo(f"\ncolorot: {name}: interrupted; finishing the {in_progress} photo(s) in progress", err=True)


def _report_batch(planned: list, manifest: Path | None, exit_status: int | None = None) -> None:
    """Failures one line each, a summary, the manifest; exit status 1 if any file failed, ``exit_status`` (a
    stopped run: 130, 143) when given."""
    for job in planned:
        if job.status == "failed":
            click.echo(f"colorot: error: {job.error}", err=True)
    counts = {status: sum(job.status == status for job in planned)
              for status in ("written", "skipped", "failed", "pending")}
    stopped = f", {counts['pending']} not started (stopped; rerun with --on-conflict skip to resume)" \
        if exit_status is not None else ""
    click.echo(f"colorot: {counts['written']} written, {counts['skipped']} skipped, {counts['failed']} failed"
               f"{stopped}", err=True)
    if manifest is not None:
        import json

        manifest.write_text(json.dumps({"counts": counts, "files": [job.record() for job in planned]}, indent=1))
    if exit_status is not None:
        raise SystemExit(exit_status)
    if counts["failed"]:
        raise SystemExit(1)


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
