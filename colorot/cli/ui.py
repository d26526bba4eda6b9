"""``colorot ui``: the local web window (the ``ui`` extra: Starlette and uvicorn)."""

from __future__ import annotations

import signal
import socket
import sys
from pathlib import Path

import click

from ._shell import CONTEXT, _run, _UsageFail, main

#: The port tried first; when it is taken (and no --port was given), a free one is used.
DEFAULT_PORT = 8765


def _listening_socket(host: str, port: int | None) -> socket.socket:
    """A bound socket: ``port``, or DEFAULT_PORT, or (that one taken) any free port."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    for candidate in ([port] if port is not None else [DEFAULT_PORT, 0]):
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, candidate))
            sock.listen(128)  # connections wait from now on, while the server starts
            return sock
        except OSError as error:
            sock.close()
            if port is not None:
                raise _UsageFail(f"cannot listen on {host}:{port} ({error.strerror}); try --port 0 for a free one")
    raise _UsageFail(f"cannot listen on {host}")  # pragma: no cover - port 0 always binds


@main.command(context_settings=CONTEXT)
@click.argument("photos", metavar="[PHOTO...]", nargs=-1, type=click.Path(path_type=Path))
@click.option("--style", "styles", multiple=True, type=click.Path(path_type=Path),
              help="A style photo, look file, .cube or Hald CLUT to open (repeat to mix photos).")
@click.option("--output-dir", type=click.Path(path_type=Path, file_okay=False), default=Path("."),
              show_default=True, help="The only folder the window writes into.")
@click.option("--port", type=click.IntRange(0, 65535), default=None,
              help=f"Port [default: {DEFAULT_PORT}, or a free one when it is taken; 0: a free one].")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; anything but this machine lets others on the network in.")
@click.option("--no-browser", is_flag=True, help="Print the address without opening a browser.")
@click.option("--max-pixels", type=click.IntRange(1), default=None,
              help="Refuse larger images [default: COLOROT_MAX_PIXELS or 250000000].")
@click.option("--max-upload-mb", type=click.IntRange(1), default=512, show_default=True,
              help="The largest file the page may send.")
def ui(photos: tuple, styles: tuple, output_dir: Path, port: int | None, host: str, no_browser: bool,
       max_pixels: int | None, max_upload_mb: int) -> None:
    """Grade photos in a browser window, with a live preview, on this machine.

    Starts a local server and opens the browser on it. Open photos and a look (drag and drop or a file
    picker), move the strength and the other knobs while the preview follows, paint a mask, export the
    photo at full resolution, a .cube or a look into --output-dir. Ctrl-C stops it and removes every
    temporary file.

    \b
    Example:
      colorot ui photo.jpg --style look.jpg
    """
    try:
        import uvicorn

        from ..ui.server import create_app
        from ..ui.workspace import Workspace
    except ImportError:
        raise _UsageFail("colorot ui needs the ui extra: pip install 'colorot[ui]'") from None
    if host not in ("127.0.0.1", "localhost", "::1"):
        click.echo(f"colorot: warning: listening on {host}: anyone who can reach this machine can open the "
                   "window, read what you open in it and write into the output folder", err=True)
    workspace = Workspace(output_dir, max_pixels=max_pixels)
    try:
        preload = _run(lambda: {"photos": [workspace.open_path(path).id for path in photos],
                                "look": [workspace.open_path(path).id for path in styles]})
        sock = _listening_socket(host, port)
        port = sock.getsockname()[1]
        shown = f"[{host}]" if ":" in host else host
        url = f"http://{shown}:{port}/"
        app = create_app(workspace, host=shown, port=port, max_upload=max_upload_mb * 2**20, preload=preload)
        server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
        click.echo(f"colorot ui: {url}  (Ctrl-C to stop)", err=True)
        if not no_browser:
            _open_browser_when_up(server, url)
        # The terminal closed (SIGHUP): shut down as on Ctrl-C or SIGTERM, so the opened files are removed.
        hangup = getattr(signal, "SIGHUP", None)
        previous = signal.signal(hangup, lambda number, frame: server.handle_exit(number, frame)) \
            if hangup is not None else None
        try:
            server.run(sockets=[sock])
        except KeyboardInterrupt:  # uvicorn re-raises Ctrl-C once it has shut down cleanly
            pass
        finally:
            if hangup is not None:
                signal.signal(hangup, previous)
    finally:
        workspace.close()
    click.echo("colorot ui: stopped", err=True)


def _open_browser_when_up(server, url: str) -> None:
    import threading
    import time
    import webbrowser

    def wait_then_open() -> None:
        while not server.started and not server.should_exit:
            time.sleep(0.05)
        if server.started:
            webbrowser.open(url)

    threading.Thread(target=wait_then_open, daemon=True).start()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
