"""The shell's shared parts: one-line errors, the options every fitting command takes, notes, output paths.

The library is the product; these commands only parse, call one public function and print. Heavy modules
(torch) are imported inside the commands, so ``colorot -h`` answers at once and bad paths are refused before
torch is imported.
"""

from __future__ import annotations

import contextlib
import functools
import os
import signal
from pathlib import Path

import click

from ..options import SPACES, offered_name, offered_options

SPACE_CHOICES = SPACES

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
    from ..errors import ColorotError

    try:
        return action()
    except ColorotError as error:
        raise _Fail(str(error)) from None
    except (click.ClickException, click.Abort):
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
    if any(not weight >= 0 for weight in weights) or sum(weights) <= 0:
        raise _UsageFail(f"--weights must be non-negative with a positive sum, got {text}")
    return weights

def _read_mask(path: Path, max_pixels: int | None):
    """:func:`colorot.io.read_mask`, imported when a command reads a mask (``colorot -h`` stays quick)."""
    from ..io.images import read_mask

    return read_mask(path, max_pixels)

#: A table exported smaller than its look is noted when it is farther than this (8-bit codes, 99th percentile).
LUT_ERROR_NOTE = 2.0

#: How the notes name each kind of lookup table (:func:`colorot.apps.looks.lut_kind`).
LUT_KIND_NAMES = {"look": "a colorot look", "generator": "a trained generator", "cube": "a .cube LUT",
                  "hald": "a Hald CLUT, told from its content"}

def _lut_kind(look: Path, *, note: bool = True) -> str | None:
    """What kind of lookup table ``look`` is (None for a photo); when it is one (and ``note``), a note on stderr
    says so: for the arguments that may be a photo or a table."""
    from ..apps.looks import lut_kind

    kind = lut_kind(look)
    if kind is not None and note and Path(look).is_file():
        click.echo(f"colorot: note: {look}: applied as a lookup table ({LUT_KIND_NAMES[kind]})", err=True)
    return kind

def _show_notes(image_file) -> None:
    for note in image_file.notes:
        click.echo(f"colorot: note: {image_file.path}: {note}", err=True)

def default_output(source: Path) -> Path:
    """:func:`colorot.io.default_output`: ``photo.jpg`` -> ``photo_colorot.jpg`` beside it."""
    from ..io.writing import default_output

    return default_output(source)

class _Commands(click.Group):
    """colorot's commands: Ctrl-C stops one with a line and the shell's status for it (130), not click's
    "Aborted!" and 1 (what was being written is removed by the atomic writes)."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            click.echo("\ncolorot: interrupted; nothing half-written was left", err=True)
            raise click.exceptions.Exit(130) from None


@click.group(cls=_Commands, context_settings=CONTEXT)
@click.version_option(package_name="colorot", prog_name="colorot")
def main() -> None:
    """Give photos the look of other photos with optimal transport and a learned look model."""

def transfer_options(*names: str, more_help: dict | None = None):
    """Click options for these fields of :class:`colorot.options.TransferOptions` (its type, range, default and
    help, written there once; ``more_help`` appends a command's own words to an option's help). Each reaches the
    command as a keyword of the field's name, ready for :class:`colorot.ColorTransfer`."""
    def option(field):
        meta, flag = field.metadata, "--" + offered_name(field).replace("_", "-")
        help = meta["help"] + (more_help or {}).get(field.name, "")
        if meta["kind"] is bool:
            return click.option(flag, field.name, is_flag=True, help=help)
        if "choices" in meta:
            kind = click.Choice(meta["choices"])
        elif meta["kind"] in (int, float) and {"low", "high"} & set(meta):
            ranged = click.IntRange if meta["kind"] is int else click.FloatRange
            kind = ranged(meta.get("low"), meta.get("high"), **({"min_open": True} if meta.get("low_open") else {}))
        else:
            kind = meta["kind"]
        default = field.default if meta["shown"] is None else meta["shown"]
        return click.option(flag, field.name, type=kind, default=default, show_default=default is not None,
                            metavar=meta.get("metavar"), help=help)

    def decorate(function):
        fields = offered_options(*names)

        @functools.wraps(function)  # click's parameters so far travel with the wrapper's __dict__
        def checked(**kwargs):
            _check_option_values({field.name: kwargs[field.name] for field in fields if field.name in kwargs})
            return function(**kwargs)

        for field in reversed(fields):
            checked = option(field)(checked)
        return checked

    return decorate


def _check_option_values(values: dict) -> None:
    """Refuse a value that the option's type lets through but :class:`colorot.options.TransferOptions` does not
    (``--strength nan``, ``--seed -1``) as a usage error, before any work: exit status 2, as for click's own."""
    from ..errors import ColorotError
    from ..options import TransferOptions

    try:
        TransferOptions(**values)
    except ColorotError as error:
        flags = {field.name: "--" + offered_name(field).replace("_", "-") for field in offered_options(*values)}
        message = str(error)
        for name, flag in flags.items():
            if message.startswith(name + " "):
                message = flag + message[len(name):]
        raise _UsageFail(message) from None


#: The options shared by the commands that fit a map: space, strength, seed, device, method, reach, luma.
_fit_options = transfer_options("space", "strength", "seed", "device", "method", "reach", "keep_luma")

def _check_paths(output: Path | None, inputs, *, in_place: Path | None = None, formats=None) -> None:
    """What can be refused before any work (and before torch is imported): a missing, empty or directory input,
    an output colorot cannot write (``formats``: the extensions it may have, default the image formats), an
    output over an input."""
    from .. import io

    for path in inputs:
        if path is not None:
            io.check_input_file(path)
    if output is None:
        return
    io.refuse_overwriting_inputs(output, inputs, in_place=in_place)
    io.check_output_path(output, formats=formats)


@contextlib.contextmanager
def _stoppable():
    """SIGINT, SIGTERM and SIGHUP (the terminal closed) raise :class:`colorot.apps.batch.Stopped` in the block, the
    first time; once the list
    it yields holds a signal (the run has stopped), further signals are ignored until the block ends, so a
    summary and a manifest are written whole."""
    from ..apps.batch import Stopped

    stopped: list = []

    def handler(number, frame) -> None:
        if not stopped:
            stopped.append(number)
            raise Stopped(number)

    numbers = [signal.SIGINT, signal.SIGTERM] + ([signal.SIGHUP] if hasattr(signal, "SIGHUP") else [])
    previous = {number: signal.signal(number, handler) for number in numbers}
    try:
        yield stopped
    finally:
        for number, old in previous.items():
            signal.signal(number, old)

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
