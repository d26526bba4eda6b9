"""Commands over many frames or photos: ``video`` and ``batch``."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from ._shell import (CONTEXT, transfer_options, _check_paths, _fit_options, _lut_kind, _report_batch, _run,
                     _say_stopping, _show_notes, _stoppable, _UsageFail, main)


@main.command(context_settings=CONTEXT)
@click.argument("source", metavar="INPUT", type=click.Path(path_type=Path))
@click.argument("look", metavar="STYLE|LOOK", type=click.Path(path_type=Path))
@click.option("-o", "--output", type=click.Path(path_type=Path), help="Output video [default: INPUT_colorot.EXT].")
@click.option("--frames", type=click.IntRange(1), default=24, show_default=True,
              help="Frames sampled across the clip to fit the map.")
@click.option("--crf", type=click.IntRange(0, 51), default=18, show_default=True,
              help="Quality of the video encoding (lower is better).")
@click.option("--hdr", type=click.Choice(("refuse", "codes")), default="refuse", show_default=True,
              help="A PQ/HLG or BT.2020 clip: refuse it, or grade its code values as they are "
                   "(for a LUT made for that encoding).")
@_fit_options
def video(source: Path, look: Path, output: Path | None, frames: int, crf: int, hdr: str, **options) -> None:
    """Grade a video: one map fitted on frames sampled across INPUT (or a LOOK, .cube or Hald file),
    applied to every frame, so the colors do not flicker. Frame rate, size, bit depth, color tags
    (primaries, transfer, matrix, range) and audio are kept.

    \b
    Example:
      colorot video clip.mp4 look.jpg -o graded.mp4
    """
    from ..apps.video import VIDEO_SUFFIXES

    suffix = source.suffix if source.suffix.lower() in VIDEO_SUFFIXES else ".mp4"
    output = output or source.with_name(f"{source.stem}_colorot{suffix}")

    def action():
        _check_paths(output, (source, look), formats=VIDEO_SUFFIXES)  # before torch and any decoding
        from ..apps.batch import Stopped
        from ..apps.grading import grade_clip

        _lut_kind(look)  # a note when it is a table
        bars: list = []

        def progress(count: int, total: int) -> None:
            if not bars:  # the clip checked and the map fitted: the bar starts
                if not total:  # no frame count and no duration (a raw stream): no bar
                    click.echo("colorot: grading (the clip declares no length)", err=True)
                bar = click.progressbar(length=total, label="grading", file=sys.stderr) if total else None
                bars.append(bar.__enter__() if bar is not None else None)
            if bars[0] is not None:
                bars[0].update(count)

        # A signal (Ctrl-C, kill, the terminal closed) stops the grading: the partial file is removed, nothing
        # is written, and the exit status says which signal.
        with _stoppable():
            try:
                return grade_clip(source, look, output, frames=frames, crf=crf, hdr=hdr, options=options,
                                  notes=lambda line: click.echo(f"colorot: note: {line}", err=True),
                                  progress=progress)
            except Stopped as stop:
                import signal

                click.echo(f"\ncolorot: {signal.Signals(stop.signal_number).name}: stopped; {output} not written",
                           err=True)
                sys.exit(128 + stop.signal_number)
            finally:
                if bars and bars[0] is not None:
                    bars[0].__exit__(None, None, None)

    click.echo(str(_run(action)))

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
@click.option("--verbose", is_flag=True, help="--engine ray: show Ray's own logs.")
@transfer_options("refine", more_help={"refine": "; a map per photo, not with --shared-map or a look file; 0 = off."})
@_fit_options
def batch(look: Path, inputs: tuple, output_dir: Path, recursive: bool, suffix: str, extension: str | None,
          quality: int | None, on_conflict: str, shared_map: bool, style_dir: Path | None, jobs: int,
          fit_batch: int | None, manifest: Path | None, strip_metadata: bool, engine: str, address: str | None,
          verbose: bool, refine: int, **options) -> None:
    """Grade many photos to one STYLE (or a LOOK, .cube or Hald file).

    INPUT is a file, a folder, a glob pattern or - (paths on stdin). One bad file is reported and the
    others go on; the exit status is 1 if any failed.

    \b
    Examples:
      colorot batch look.jpg shoot/ -r --output-dir graded/ --jobs 2
      colorot batch look.cube "archive/**/*.jpg" -r --output-dir out/ --on-conflict skip
    """
    from ..apps import batch as batches

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

    if style_dir is None:
        _run(lambda: _check_paths(None, (look,)))  # a missing style: one line, before torch is imported
    planned: list = []
    with _stoppable() as stopped:  # a signal before grading: a line and 130/143; while reporting: ignored
        try:
            planned[:] = _run(lambda: _plan_batch(inputs, recursive, output_dir, suffix, extension, on_conflict))
            if engine == "ray":
                from ..apps import ray_engine

                with _LazyBar(sum(j.status == "pending" for j in planned)) as bar:
                    _run(lambda: ray_engine.run_jobs_on_ray(
                        planned, look, options, address=address, actors=jobs if jobs > 1 else None,
                        shared_map=shared_map, quality=quality, strip_metadata=strip_metadata,
                        evaluate=manifest is not None, extension=extension, progress=bar.update,
                        say=lambda line: click.echo(f"colorot: {line}", err=True), verbose=verbose))
            else:
                grade, jobs = _batch_grader(look, planned, options, style_dir, shared_map, look_is_table, refine,
                                            fit_batch, jobs, on_conflict, dict(quality=quality,
                                            strip_metadata=strip_metadata, evaluate=manifest is not None))
                show = sys.stderr.isatty()
                with click.progressbar(length=sum(j.status == "pending" for j in planned), label="grading",
                                       file=sys.stderr if show else open(os.devnull, "w")) as bar:
                    batches.run_jobs(planned, grade, workers=jobs, progress=bar.update,
                                     on_stop=lambda *args: stopped.append(args[0]) or _say_stopping(*args))
        except batches.Stopped as signal_stop:
            stopped.append(signal_stop.signal_number)
            if not planned:
                click.echo("colorot: interrupted before any photo was graded", err=True)
                raise SystemExit(signal_stop.exit_status) from None
            _report_batch(planned, manifest, exit_status=signal_stop.exit_status)
        _report_batch(planned, manifest)


class _CurrentStderr:
    """Writes to whatever ``sys.stderr`` is at each call (the Ray engine swaps it for its run)."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()

    def isatty(self) -> bool:
        return sys.stderr.isatty()


class _LazyBar:
    """A progress bar on stderr that appears at its first update, after a start-up's messages."""

    def __init__(self, length: int):
        self.length, self.bar = length, None

    def __enter__(self):
        return self

    def update(self, count: int) -> None:
        if self.bar is None:
            self.bar = click.progressbar(length=self.length, label="grading", file=_CurrentStderr()).__enter__()
        self.bar.update(count)

    def __exit__(self, *exc) -> None:
        if self.bar is not None:
            self.bar.__exit__(*exc)


def _plan_batch(inputs, recursive: bool, output_dir: Path, suffix: str, extension, on_conflict: str) -> list:
    from ..apps import batch as batches

    found = batches.collect_inputs(inputs, recursive=recursive, exclude=output_dir)
    if not found:
        raise _UsageFail("no input images found")
    return batches.plan_jobs(found, output_dir, suffix=suffix, extension=extension, on_conflict=on_conflict)


def _batch_grader(look: Path, planned: list, options: dict, style_dir, shared_map: bool, look_is_table: bool,
                  refine: int, fit_batch, jobs: int, on_conflict: str, output_options: dict):
    """The batch's grader and its number of worker threads."""
    from ..apps import batch as batches, graders

    # Batched fits need one map per photo to one style, fitted by the engine alone: not a shared map, a look/LUT
    # file, paired styles or refine (whose rounds are fitted image by image).
    if shared_map or style_dir is not None or look_is_table or refine:
        fit_batch = 1
    elif fit_batch is None:
        from ..devices import resolve_device

        fit_batch = 1 if _run(lambda: resolve_device(options["device"])).type == "cpu" else 8
    grader_options = dict(fit_batch=fit_batch, workers=jobs, on_exists=batches.ON_EXISTS[on_conflict],
                          **output_options)
    if fit_batch > 1:
        jobs = max(jobs, fit_batch)  # enough photos decoded at once to fill a batch
    if style_dir is not None:
        return graders.paired_grader(style_dir, planned, options, **grader_options), jobs
    pending = [j for j in planned if j.status == "pending"]
    return _run(lambda: graders.make_grader(
        look, options, shared_sources=[j.source for j in pending] if shared_map else None, notes=_show_notes,
        photos=len(pending), **grader_options)), jobs
