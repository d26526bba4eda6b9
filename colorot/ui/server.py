"""The local web server of ``colorot ui``: a Starlette app over a :class:`~colorot.ui.workspace.Workspace`.

Security: the server answers only requests addressed to the host it serves (against DNS rebinding), refuses
requests that a page of another origin sends (``Origin`` / ``Sec-Fetch-Site``), caps uploads, reads only
what the page sends and writes only into the output folder, by plain file names. Errors come back as JSON
``{"error": "one line"}``, never as a traceback.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import mimetypes
from importlib import resources
from pathlib import Path

import numpy as np

from .. import progress
from ..errors import ColorotError
from .checks import check_table
from .figures import chroma_histograms, evaluate_figures
from .jobs import JobRunner
from .pictures import eight_bit, encode_preview
from .workspace import Workspace

__all__ = ["create_app", "DEFAULT_MAX_UPLOAD"]

#: The largest file the page may send, in bytes.
DEFAULT_MAX_UPLOAD = 512 * 1024 * 1024

_STATIC = resources.files("colorot.ui") / "static"

# The page's own types, whatever the system's registry says (with nosniff, a script served as text/plain, as
# some Windows registries map .js, would not run).
mimetypes.add_type("text/javascript", ".js")
mimetypes.add_type("text/css", ".css")


def _error(message: str, status: int = 400):
    from starlette.responses import JSONResponse

    return JSONResponse({"error": message}, status_code=status)


#: Sent with every answer: no page of another site may frame this one (clickjacking), and the page loads only
#: what this server serves.
SECURITY_HEADERS = [(b"x-frame-options", b"DENY"), (b"x-content-type-options", b"nosniff"),
                    (b"content-security-policy", b"default-src 'self'; img-src 'self' blob: data:; "
                                                 b"style-src 'self' 'unsafe-inline'; frame-ancestors 'none'"),
                    (b"referrer-policy", b"no-referrer")]


class _Guard:
    """ASGI middleware: the request's Host must be the one served (on every interface: an address or this
    machine's name, never a name a DNS-rebinding page controls); a request from a page of another origin is
    refused, and so is another site's embedding of anything but a top-level visit; a body over the upload cap
    is refused before it is read; every answer carries :data:`SECURITY_HEADERS`."""

    def __init__(self, app, hosts: set[str] | None, origins: set[str] | None, max_upload: int, port: int = 0):
        self.app, self.hosts, self.origins, self.max_upload, self.port = app, hosts, origins, max_upload, port
        self.names = _machine_names() if hosts is None else set()  # looked up once, not on every request

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *SECURITY_HEADERS]}
            await send(message)

        headers = {key.decode("latin-1").lower(): value.decode("latin-1") for key, value in scope["headers"]}
        reason, status = self._refusal(scope, headers)
        if reason is None:
            return await self.app(scope, receive, send_with_headers)
        return await _error(reason, status)(scope, receive, send_with_headers)

    def _refusal(self, scope, headers: dict) -> tuple[str | None, int]:
        host = headers.get("host", "")
        if not (host in self.hosts if self.hosts is not None else _names_this_machine(host, self.port, self.names)):
            return "unknown host: colorot ui answers only on the address it printed", 403
        origin = headers.get("origin")
        fetch_site, fetch_dest = headers.get("sec-fetch-site"), headers.get("sec-fetch-dest")
        origins = self.origins if self.origins is not None else {f"http://{host}"}
        if origin is not None and origin not in origins:
            return f"requests from {origin} are refused", 403
        if scope["method"] not in ("GET", "HEAD") and fetch_site not in (None, "same-origin", "none"):
            return "requests from other sites are refused", 403
        if fetch_site in ("cross-site", "same-site") and fetch_dest not in (None, "document"):
            return "other sites may only link to this page", 403
        length = headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_upload):
            from urllib.parse import parse_qs

            name = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("name", ["the file"])[0]
            return _too_large(name, self.max_upload), 413
        return None, 200


class _Api:
    """The endpoints, over one workspace and its job runner; each returns JSON, or a picture."""

    def __init__(self, workspace: Workspace, max_upload: int, preload: dict):
        self.workspace, self.max_upload, self.preload = workspace, max_upload, preload
        self.jobs = JobRunner(workspace.shown)

    @staticmethod
    async def _run(function, *args):
        return await asyncio.get_running_loop().run_in_executor(None, function, *args)

    async def index(self, request):
        from starlette.responses import HTMLResponse

        return HTMLResponse((_STATIC / "index.html").read_text(encoding="utf-8"))

    async def config(self, request):
        from ..methods import METHODS
        from ..options import METHOD_INTENTS, METHOD_NAMES, SPACES
        from .checks import GRADE_OPTIONS

        opened = [self.workspace.get(i).describe() for i in self.preload["photos"] + self.preload["look"]]
        return _json({"output_dir": str(self.workspace.output_dir), "methods": list(METHOD_NAMES),
                      "intents": METHOD_INTENTS,
                      # the form's defaults and the options each method honours, from the options object
                      "defaults": {name: default for name, (_, default) in GRADE_OPTIONS.items()},
                      "method_options": {name: list(method.options) for name, method in METHODS.items()},
                      "spaces": list(SPACES), "max_upload": self.max_upload, "opened": opened,
                      "preload": self.preload})

    async def upload(self, request):
        """A file's bytes (the body), named by ``?name=``: read as a photo, a look or a LUT."""
        name = request.query_params.get("name", "file")
        try:
            body = await _read_body(request, self.max_upload, name)
        except ColorotError as error:
            return _error(str(error), 413)
        opened = await self._run(self.workspace.open_bytes, name, body, _page(request))
        return _json(opened.describe())

    async def close_file(self, request):
        """The page closed one file (removed from a list, or opened in the wrong place)."""
        return _json({"removed": await self._run(self.workspace.forget, {request.path_params["file_id"]})})

    async def close_page(self, request):
        """The page is closing (``navigator.sendBeacon`` on ``pagehide``): its files and jobs go."""
        page = request.query_params.get("page", "")
        self.jobs.cancel_page(page)
        return _json({"removed": await self._run(self.workspace.forget_page, page)})

    async def file_preview(self, request):
        opened = self.workspace.get(request.path_params["file_id"], "image")
        return _picture(await self._run(encode_preview, opened.preview, opened.image.icc_profile), opened.preview)

    async def file_full(self, request):
        """The photo at full resolution (the 100% view), 8-bit, JPEG 4:4:4."""
        opened = self.workspace.get(request.path_params["file_id"], "image")
        pixels = await self._run(eight_bit, opened.image.pixels)
        return _picture(await self._run(_full_jpeg, pixels, opened.image.icc_profile), pixels)

    async def mask(self, request):
        """A mask for ``?photo=``: an image (the page's painting, or a mask file), resized to its preview."""
        photo_id = request.query_params["photo"]
        self.workspace.get(photo_id, "image")
        data = await _read_body(request, self.max_upload, "the mask")
        return _json({"id": await self._run(self.workspace.open_mask, photo_id, data)})

    async def grade(self, request):
        """Fit the map of a photo to a look (a job): ``{"photo", "look": [[id, weight]], "options", "mask"}``."""
        body = await _json_object(request)
        self.workspace.get(body.get("photo"), "image")
        if not isinstance(body.get("look"), list):
            raise ColorotError("look must be a list of [file id, weight]")
        mask_id, mask_values = body.get("mask"), None
        if mask_id:
            photo_id, mask_values = self.workspace.masks.get(mask_id, (None, None))
            if photo_id != body.get("photo"):
                raise ColorotError(f"no mask {mask_id!r} for this photo")

        page = _page(request)

        def work(job):
            job.step("fitting the map")
            with progress.part(0.0, 1.0):  # the bar never goes back (several fits report 0 to 1 in turn)
                fitted = self.workspace.grade(body["photo"], body["look"], body.get("options", {}), mask_values, page)
            return {"grade": fitted.id}

        return _json(self.jobs.submit(work, page=_page(request)).describe())

    async def _rendered(self, request):
        fitted = self.workspace.get_grade(request.path_params["grade_id"])
        strength = _strength(request.query_params.get("strength", 1.0))
        return fitted, await self._run(self.workspace.render, fitted, strength)

    async def grade_preview(self, request):
        fitted, pixels = await self._rendered(request)
        return _picture(await self._run(encode_preview, pixels, fitted.photo.image.icc_profile), pixels)

    async def grade_full(self, request):
        """The graded photo at full resolution and ``?strength=``, as the export gives it (the 100% view)."""
        fitted = self.workspace.get_grade(request.path_params["grade_id"])
        strength = _strength(request.query_params.get("strength", 1.0))
        pixels = await self._run(self.workspace.render_full_view, fitted, strength)
        return _picture(await self._run(_full_jpeg, pixels, fitted.photo.image.icc_profile), pixels)

    async def grade_info(self, request):
        """Whether a grade is still kept, and what it was fitted with."""
        fitted = self.workspace.get_grade(request.path_params["grade_id"])
        return _json({"id": fitted.id, "photo": fitted.photo.id, "options": fitted.options})

    async def grade_figures(self, request):
        fitted, result = await self._rendered(request)
        styles = [opened.preview for opened in fitted.style_photos]
        figures = await self._run(evaluate_figures, result, fitted.photo.preview, styles[0] if styles else None)
        return _json({name: float(value) for name, value in figures.items()})

    async def grade_histograms(self, request):
        from starlette.responses import Response

        fitted, result = await self._rendered(request)
        styles = [opened.preview for opened in fitted.style_photos]
        data = await self._run(chroma_histograms, fitted.photo.preview, *styles[:1], result)
        return Response(data, media_type="image/png", headers={"Cache-Control": "no-store"})

    async def export(self, request):
        """Export a grade (a job): ``{"grade", "strength", "what": photo|cube|look, "size", "name", "quality"}``."""
        body = await _json_object(request)
        fitted = self.workspace.get_grade(body["grade"])
        strength, what = _strength(body.get("strength", 1.0)), body.get("what", "photo")
        quality, size = body.get("quality"), _whole(body.get("size", 33), "size")
        if what not in ("photo", "cube", "look"):
            raise ColorotError(f"unknown export {what!r}: photo, cube or look")
        if quality not in (None, "") and (not str(quality).isdigit() or not 1 <= int(quality) <= 100):
            raise ColorotError(f"quality must be a whole number from 1 to 100, not {quality!r}")
        quality = None if quality in (None, "") else int(quality)
        if what != "photo":
            check_table(what, size)
        else:
            self.workspace.photo_name(fitted, body.get("name") or None)  # refused now, not after the grading

        def work(job):
            job.step("grading at full resolution" if what == "photo" else f"baking the {what}")
            if what == "photo":
                path = self.workspace.export_photo(fitted, strength, body.get("name") or None, quality)
            else:
                path = self.workspace.export_table(fitted, strength, what, size)
            return {"written": [str(path)]}

        return _json(self.jobs.submit(work, page=_page(request)).describe())

    async def batch(self, request):
        """Grade and export several photos (a job with a step per photo)."""
        body = await _json_object(request)
        if not isinstance(body.get("photos"), list) or not body["photos"]:
            raise ColorotError("photos must be a list of opened photos' ids")
        photo_ids, strength = [str(photo_id) for photo_id in body["photos"]], _strength(body.get("strength", 1.0))
        look, options, shared = body["look"], body.get("options", {}), bool(body.get("shared"))
        for photo_id in photo_ids:
            self.workspace.get(photo_id, "image")
        work = lambda job: self.workspace.grade_batch(photo_ids, look, options, strength, shared, job)  # noqa: E731
        return _json(self.jobs.submit(work, total=len(photo_ids), page=_page(request)).describe())

    async def job_status(self, request):
        return _json(self.jobs.get(request.path_params["job_id"]).describe())

    async def job_cancel(self, request):
        job = self.jobs.get(request.path_params["job_id"])
        job.cancel_requested.set()
        return _json(job.describe())

    def routes(self) -> list:
        from starlette.routing import Mount, Route
        from starlette.staticfiles import StaticFiles

        post = ["POST"]
        table = [("/api/config", self.config, None), ("/api/files", self.upload, post),
                 ("/api/files/{file_id}/preview", self.file_preview, None), ("/api/masks", self.mask, post),
                 ("/api/files/{file_id}/full", self.file_full, None), ("/api/grades/{grade_id}", self.grade_info, None),
                 ("/api/grades", self.grade, post), ("/api/grades/{grade_id}/preview", self.grade_preview, None),
                 ("/api/grades/{grade_id}/full", self.grade_full, None),
                 ("/api/grades/{grade_id}/figures", self.grade_figures, None),
                 ("/api/grades/{grade_id}/histograms", self.grade_histograms, None),
                 ("/api/exports", self.export, post), ("/api/batches", self.batch, post),
                 ("/api/jobs/{job_id}", self.job_status, None), ("/api/jobs/{job_id}/cancel", self.job_cancel, post),
                 ("/api/files/{file_id}/close", self.close_file, post), ("/api/close", self.close_page, post)]
        return [Route("/", self.index), *(Route(path, _guarded(handler, self.workspace.shown), methods=methods)
                                           for path, handler, methods in table),
                Mount("/static", StaticFiles(directory=str(Path(str(_STATIC)))))]


#: The largest JSON request body, in bytes.
MAX_JSON = 1 << 20


def _too_large(name: str, limit: int) -> str:
    return (f"{name:.80} is larger than the upload limit ({limit / 2**20:g} MB); start colorot ui with "
            "--max-upload-mb N to open larger files")


async def _read_body(request, limit: int, name: str = "the request") -> bytes:
    """The body, counted as it streams (a chunked body has no Content-Length for the guard to check)."""
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise ColorotError(_too_large(name, limit))
    return bytes(body)


def _whole(value, name: str) -> int:
    """A whole number from a JSON value (33 or 33.0), else a one-line error (33.5, 1e999, "big")."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
            or value != int(value):
        raise ColorotError(f"{name} must be a whole number, not {value!r:.40}")
    return int(value)


async def _json_object(request) -> dict:
    import json

    body = json.loads(await _read_body(request, MAX_JSON) or b"{}")
    if not isinstance(body, dict):
        raise ColorotError("the request must be a JSON object")
    return body


def _machine_names() -> set[str]:
    """``localhost`` and this machine's own names (lower case)."""
    import socket

    return {"localhost", socket.gethostname().lower(), socket.getfqdn().lower()}


def _names_this_machine(host_header: str, port: int, names: set[str]) -> bool:
    """Whether a Host header names this server by an IP address or one of this machine's ``names`` (a
    DNS-rebinding page can only send a domain name it controls), with the port served."""
    import ipaddress

    name, _, served_port = host_header.rpartition(":")
    if not name or not served_port.isdigit() or int(served_port) != port:
        return False
    name = name.strip("[]").lower()
    try:
        ipaddress.ip_address(name)
        return True
    except ValueError:
        return name in names


def _page(request) -> str | None:
    """The page a request comes from (a random name each page load gives itself), or None."""
    return request.headers.get("x-colorot-page") or request.query_params.get("page") or None


def _strength(value) -> float:
    from ..options import check_strength

    try:
        return check_strength(float(value))
    except (TypeError, ValueError):
        raise ColorotError(f"strength must be a number in [0, 1], not {value!r}") from None


def _json(content):
    from starlette.responses import JSONResponse

    return JSONResponse(content)


def _picture(data: bytes, pixels: np.ndarray):
    from starlette.responses import Response

    return Response(data, media_type="image/png" if pixels.shape[-1] == 4 else "image/jpeg",
                    headers={"Cache-Control": "no-store"})


def _full_jpeg(pixels: np.ndarray, icc_profile: bytes | None) -> bytes:
    return encode_preview(pixels, icc_profile, quality=95, subsampling=0)


def _guarded(handler, shown=str):
    """A handler whose refusals (ColorotError, a malformed request) come back as one-line JSON errors, with the
    page's files named as the page knows them (``shown``)."""
    async def endpoint(request):
        try:
            return await handler(request)
        except ColorotError as error:
            return _error(shown(str(error)))
        except (ValueError, KeyError, TypeError) as error:  # json.JSONDecodeError is a ValueError
            return _error(shown(f"bad request: {type(error).__name__}: {error}"))
        except MemoryError:
            return _error("out of memory; try a smaller photo", 500)
        except Exception as error:  # noqa: BLE001 - one line in the page, no traceback in the terminal
            return _error(shown(f"unexpected {type(error).__name__}: {error}"), 500)
    return endpoint


def create_app(workspace: Workspace, *, host: str = "127.0.0.1", port: int = 8765,
               max_upload: int = DEFAULT_MAX_UPLOAD, preload: dict | None = None):
    """The Starlette application of ``colorot ui`` (wrapped in its guard).

    Parameters
    ----------
    workspace : Workspace
        Where opened files, grades and exports live; closed when the app shuts down.
    host, port : str, int
        The address served: requests to another Host, or from another origin, are refused.
    max_upload : int
        The largest file the page may send, in bytes.
    preload : dict, optional
        ``{"photos": [ids], "look": [ids]}`` opened from the command line, which the page shows at once.

    Examples
    --------
    >>> import tempfile
    >>> from starlette.testclient import TestClient
    >>> app = create_app(Workspace(tempfile.mkdtemp()))
    >>> with TestClient(app, base_url="http://127.0.0.1:8765") as client:
    ...     client.get("/api/config").json()["methods"][0]
    'look'
    """
    from starlette.applications import Starlette

    api = _Api(workspace, max_upload, preload or {"photos": [], "look": []})

    @contextlib.asynccontextmanager
    async def lifespan(app):
        try:
            yield
        finally:  # Ctrl-C or the server stopping: no job left running, no temporary file left behind
            api.jobs.shutdown()
            workspace.close()

    async def not_found(request, exc):
        return _error(getattr(exc, "detail", "not found"), getattr(exc, "status_code", 404))

    async def unexpected(request, exc):
        return _error(f"unexpected {type(exc).__name__}: {exc}", 500)

    app = Starlette(routes=api.routes(), lifespan=lifespan,
                    exception_handlers={404: not_found, 405: not_found, Exception: unexpected})
    if host in ("0.0.0.0", "::", "[::]"):  # every interface: an address or this machine's name, same-origin pages
        return _Guard(app, None, None, max_upload, port)
    names = {host, "127.0.0.1", "localhost"} if host in ("127.0.0.1", "localhost") else {host}
    return _Guard(app, {f"{name}:{port}" for name in names}, {f"http://{name}:{port}" for name in names}, max_upload)
