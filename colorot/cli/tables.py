"""Commands about maps kept as files: ``fit`` and ``train`` them, export a ``lut``, ``apply`` one."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..options import LUT_SIZE
from ._shell import (CONTEXT, LUT_ERROR_NOTE, SPACE_CHOICES, _check_paths, _fit_options, _lut_kind, _run, _say_stopping,
                     _show_notes, _UsageFail, default_output, main)


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
        _check_paths(output, (style, *sources), formats={".npz"})  # before torch and any fitting
        from ..apps import looks

        lut = looks.fit_lut_from_files(style, sources, size=LUT_SIZE, notes=_show_notes, **options)
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
@click.option("--seed", type=int, default=None, help="Another run of the training's random draws [default: 0: the same generator every run].")
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
        from ..learned.training import train_generator
        from ..apps.looks import read_fit_inputs

        style_pixels, images = read_fit_inputs(style, photos, notes=_show_notes)
        with click.progressbar(length=steps, label="training", file=sys.stderr) as bar:
            model = train_generator(style_pixels, images, space=space, n_steps=steps, smoothness=smoothness,
                                    monotone_luma=monotone_luma, seed=seed, device=device,
                                    progress=lambda step, loss: bar.update(1))
        return model.save(output, {"style": style.name, "photos": [p.name for p in photos], "seed": seed})

    click.echo(str(_run(action)))

@main.command(context_settings=CONTEXT)
@click.argument("look", metavar="STYLE|LOOK", type=click.Path(path_type=Path))
@click.option("--source", "sources", multiple=True, type=click.Path(path_type=Path),
              help="A photo the LUT is for (repeat for several) [default: the whole sRGB cube].")
@click.option("--size", type=click.IntRange(2, 256), default=None,
              help="Nodes per axis: 17, 33 or 65 for .cube; a square (16, 36, 64, 144) for Hald "
                   "[default: 33 for .cube, 64 for Hald].")
@click.option("--format", "lut_format", type=click.Choice(("cube", "hald")), default=None,
              help="cube (.cube text) or hald (16-bit PNG) [default: from the output's extension].")
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True, help="look.cube or hald.png.")
@_fit_options
def lut(look: Path, sources: tuple, size: int | None, lut_format: str | None, output: Path, **options) -> None:
    """Export a 3D LUT of STYLE's look (fitted here) or of a saved LOOK file (.npz, .safetensors).

    \b
    Examples:
      colorot lut look.jpg --size 33 -o look.cube
      colorot lut shoot.npz --format hald --size 64 -o hald.png
    """
    formats = {"cube": {".cube"}, "hald": {".png", ".tif", ".tiff"}}
    lut_format = lut_format or next((name for name, suffixes in formats.items() if output.suffix.lower() in suffixes),
                                    None)
    if lut_format is None:
        raise _UsageFail(f"{output}: unknown LUT format; use .cube, or .png/.tif for a Hald CLUT")
    size = size or (33 if lut_format == "cube" else 64)
    if lut_format == "hald":
        from ..maps.lut_files import hald_level_of
        from ..errors import ColorotError

        try:
            hald_level_of(size)
        except ColorotError as error:
            raise _UsageFail(f"--size {size}: {error}") from None
    larger = "--size 65" if lut_format == "cube" else "a larger --size (144)"

    def action():
        _check_paths(output, (look, *sources), formats=formats[lut_format])  # before torch and any fitting
        from ..apps import looks

        if _lut_kind(look) is not None:  # re-exported at the size asked for
            reference = looks.load_lut(look)
        else:
            reference = looks.fit_lut_from_files(look, sources, size=max(size, LUT_SIZE), notes=_show_notes, **options)
            _note_what_no_table_holds(options.get("method"))
        table = reference.resized(size) if reference.size != size or reference.shaper is not None else reference
        if table is not reference:
            typical, largest = looks.table_error(table, reference)
            if typical > LUT_ERROR_NOTE:
                click.echo(f"colorot: note: the {size}-node table is {typical:.0f} codes from the look at the 99th "
                           f"percentile ({largest:.0f} at most) over the RGB cube; {larger} comes closer",
                           err=True)
        if lut_format == "cube":
            return looks.write_cube(output, table, title=f"colorot {look.stem}")
        return looks.write_hald(output, table)

    click.echo(str(_run(action)))

def _note_what_no_table_holds(method: str | None) -> None:
    """Say so when the method's transfer filters its shift guided by each photo (its regrain): a table holds a
    function of color only, so it gives that transfer without the filter."""
    from ..methods import DEFAULT_METHOD, METHODS

    method = method or DEFAULT_METHOD
    radius = METHODS[method].regrain[0]
    if radius:
        click.echo(f"colorot: note: '{method}' transfers also filter the color shift guided by each photo (regrain, "
                   f"{radius} px), which no table holds; this table gives what 'colorot transfer --method {method} "
                   "--regrain 0' gives", err=True)


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

    from ..apps import batch as batches, graders

    def plan():
        from .. import io
        from ..apps import looks

        # A look/LUT file is read by the grader (tabulated without torch for many 8-bit photos); anything else
        # is read here, which reports why it is not a table.
        # A photo given here is read as a Hald CLUT when its size allows (apply takes tables only).
        table = None if _lut_kind(look, note=False) is not None else looks.load_lut(look)
        grade = graders.make_grader(look, {"device": device}, table=table, quality=quality,
                                    strip_metadata=strip_metadata, notes=_show_notes, interpolation=interpolation,
                                    photos=len(inputs))
        jobs = []
        for source in inputs:
            target = output or default_output(source)
            if output_dir is not None:
                target = output_dir / default_output(source).name
            job = batches.Job(source, target)
            if source.is_dir():
                job.status, job.error = "failed", (f"{source}: is a folder; 'colorot batch {look} {source} "
                                                   "--output-dir OUT' applies the look to every photo in it")
                jobs.append(job)
                continue
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
