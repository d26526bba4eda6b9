"""The local web server of ``colorot ui``: a Starlette app over a :class:`~colorot.ui.workspace.Workspace`.

Security: the server answers only requests addressed to the host it serves (against DNS rebinding), refuses
requests that a page of another origin sends (``Origin`` / ``Sec-Fetch-Site``), caps uploads, reads only
what the page sends and writes only into the output folder, by plain file names. Errors come back as JSON
``{"error": "one line"}``, never as a traceback.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from importlib import resources
from pathlib import Path

import numpy as np

from ..errors import ColorotError
from .figures import chroma_histograms, evaluate_figures
from .jobs import JobRunner
from .workspace import Workspace, encode_preview, resize_mask

__all__ = ["create_app", "DEFAULT_MAX_UPLOAD"]

#: The largest file the page may send, in bytes.
DEFAULT_MAX_UPLOAD = 512 * 1024 * 1024

_STATIC = resources.files("colorot.ui") / "static"


def _error(message: str, status: int = 400):
    from starlette.responses import JSONResponse

    return JSONResponse({"error": message}, status_code=status)


class _Guard:
    """ASGI middleware: the request's Host must be the one served; a request from a page of another origin is
    refused; a body over the upload cap is refused before it is read."""

    def __init__(self, app, hosts: set[str], origins: set[str], max_upload: int):
        self.app, self.hosts, self.origins, self.max_upload = app, hosts, origins, max_upload

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = {key.decode("latin-1").lower(): value.decode("latin-1") for key, value in scope["headers"]}
        reason, status = self._refusal(scope, headers)
        if reason is None:
            return await self.app(scope, receive, send)
        return await _error(reason, status)(scope, receive, send)

    def _refusal(self, scope, headers: dict) -> tuple[str | None, int]:
        if headers.get("host", "") not in self.hosts:
            return "unknown host: colorot ui answers only on the address it printed", 403
        origin = headers.get("origin")
        fetch_site = headers.get("sec-fetch-site")
        if origin is not None and origin not in self.origins:
            return f"requests from {origin} are refused", 403
        if scope["method"] not in ("GET", "HEAD") and fetch_site not in (None, "same-origin", "none"):
            return "requests from other sites are refused", 403
        length = headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_upload):
            return f"the file is larger than the upload limit ({self.max_upload // 2**20} MB)", 413
        return None, 200


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
    """
    from starlette.applications import Starlette
    from starlette.responses import HTMLResponse, JSONResponse, Response
    from starlette.routing import Mount, Route
    from starlette.staticfiles import StaticFiles

    jobs = JobRunner()
    preload = preload or {"photos": [], "look": []}

    def guarded(handler):
        async def endpoint(request):
            try:
                return await handler(request)
            except ColorotError as error:
                return _error(str(error))
            except (ValueError, KeyError, TypeError, json.JSONDecodeError) as error:
                return _error(f"bad request: {error}")
        return endpoint

    async def run(function, *args):
        return await asyncio.get_running_loop().run_in_executor(None, function, *args)

    async def index(request):
        return HTMLResponse((_STATIC / "index.html").read_text(encoding="utf-8"))

    async def config(request):
        from ..options import METHOD_NAMES, SPACES

        return JSONResponse({"output_dir": str(workspace.output_dir), "methods": list(METHOD_NAMES),
                             "spaces": list(SPACES), "max_upload": max_upload,
                             "opened": [workspace.get(i).describe() for i in preload["photos"] + preload["look"]],
                             "preload": preload})

    async def upload(request):
        name = request.query_params.get("name", "file")
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > max_upload:
                return _error(f"{name}: larger than the upload limit ({max_upload // 2**20} MB)", 413)
        opened = await run(workspace.open_bytes, name, bytes(body))
        return JSONResponse(opened.describe())

    async def file_preview(request):
        opened = workspace.get(request.path_params["file_id"], "image")
        data = await run(encode_preview, opened.preview, opened.image.icc_profile)
        return Response(data, media_type="image/png" if opened.preview.shape[-1] == 4 else "image/jpeg")

    async def mask(request):
        """A mask for a photo: an image (the page's painting, or a mask file) -> its id."""
        from PIL import Image
        import io as bytes_io

        photo = workspace.get(request.query_params["photo"], "image")
        data = await request.body()

        def read() -> np.ndarray:
            try:
                image = Image.open(bytes_io.BytesIO(data))
                image.load()
            except Exception:  # noqa: BLE001
                raise ColorotError("the mask is not an image colorot can read") from None
            values = np.asarray(image.convert("L"), dtype=np.float32) / 255
            return resize_mask(values, *photo.preview.shape[:2])

        values = await run(read)
        mask_id = workspace._new_id("m")
        workspace.masks[mask_id] = values
        return JSONResponse({"id": mask_id})

    async def grade(request):
        body = await request.json()
        mask_id = body.get("mask")
        mask_values = None if not mask_id else workspace.masks.get(mask_id)
        if mask_id and mask_values is None:
            raise ColorotError(f"no mask {mask_id!r}")

        def work(job):
            job.step("fitting the map")
            fitted = workspace.grade(body["photo"], body["look"], body.get("options", {}), mask_values)
            return {"grade": fitted.id}

        return JSONResponse(jobs.submit(work).describe())

    async def grade_preview(request):
        fitted = workspace.get_grade(request.path_params["grade_id"])
        strength = float(request.query_params.get("strength", 1.0))
        pixels = await run(workspace.render, fitted, strength)
        data = await run(encode_preview, pixels, fitted.photo.image.icc_profile)
        return Response(data, media_type="image/png" if pixels.shape[-1] == 4 else "image/jpeg",
                        headers={"Cache-Control": "no-store"})

    async def grade_figures(request):
        fitted = workspace.get_grade(request.path_params["grade_id"])
        strength = float(request.query_params.get("strength", 1.0))
        result = await run(workspace.render, fitted, strength)
        styles = [opened.preview for opened in fitted.style_photos]
        figures = await run(evaluate_figures, result, fitted.photo.preview, styles[0] if styles else None)
        return JSONResponse({name: float(value) for name, value in figures.items()})

    async def grade_histograms(request):
        fitted = workspace.get_grade(request.path_params["grade_id"])
        strength = float(request.query_params.get("strength", 1.0))
        result = await run(workspace.render, fitted, strength)
        styles = [opened.preview for opened in fitted.style_photos]
        images = [fitted.photo.preview, *(styles[:1]), result]
        return Response(await run(chroma_histograms, *images), media_type="image/png",
                        headers={"Cache-Control": "no-store"})

    async def export(request):
        body = await request.json()
        fitted = workspace.get_grade(body["grade"])
        strength, what = float(body.get("strength", 1.0)), body.get("what", "photo")
        quality = body.get("quality")
        if body.get("name"):
            workspace.output_path(body["name"])  # a name that is not a plain file name: refused at once

        def work(job):
            job.step("grading at full resolution" if what == "photo" else f"baking the {what}")
            if what == "photo":
                path = workspace.export_photo(fitted, strength, body.get("name") or None,
                                              None if quality in (None, "") else int(quality))
            else:
                path = workspace.export_table(fitted, strength, what, int(body.get("size", 33)))
            return {"written": [str(path)]}

        return JSONResponse(jobs.submit(work).describe())

    async def batch(request):
        body = await request.json()
        photo_ids, strength = list(body["photos"]), float(body.get("strength", 1.0))
        look, options, shared = body["look"], body.get("options", {}), bool(body.get("shared"))
        for photo_id in photo_ids:
            workspace.get(photo_id, "image")

        def work(job):
            return workspace.grade_batch(photo_ids, look, options, strength, shared, job)

        return JSONResponse(jobs.submit(work, total=len(photo_ids)).describe())

    async def job_status(request):
        return JSONResponse(jobs.get(request.path_params["job_id"]).describe())

    async def job_cancel(request):
        job = jobs.get(request.path_params["job_id"])
        job.cancel_requested.set()
        return JSONResponse(job.describe())

    async def not_found(request, exc):
        return _error(getattr(exc, "detail", "not found"), getattr(exc, "status_code", 404))

    async def unexpected(request, exc):
        return _error(f"unexpected {type(exc).__name__}: {exc}", 500)

    @contextlib.asynccontextmanager
    async def lifespan(app):
        try:
            yield
        finally:  # Ctrl-C or the server stopping: no job left running, no temporary file left behind
            jobs.shutdown()
            workspace.close()

    routes = [
        Route("/", index),
        Route("/api/config", guarded(config)),
        Route("/api/files", guarded(upload), methods=["POST"]),
        Route("/api/files/{file_id}/preview", guarded(file_preview)),
        Route("/api/masks", guarded(mask), methods=["POST"]),
        Route("/api/grades", guarded(grade), methods=["POST"]),
        Route("/api/grades/{grade_id}/preview", guarded(grade_preview)),
        Route("/api/grades/{grade_id}/figures", guarded(grade_figures)),
        Route("/api/grades/{grade_id}/histograms", guarded(grade_histograms)),
        Route("/api/exports", guarded(export), methods=["POST"]),
        Route("/api/batches", guarded(batch), methods=["POST"]),
        Route("/api/jobs/{job_id}", guarded(job_status)),
        Route("/api/jobs/{job_id}/cancel", guarded(job_cancel), methods=["POST"]),
        Mount("/static", StaticFiles(directory=str(Path(str(_STATIC))))),
    ]
    app = Starlette(routes=routes, lifespan=lifespan,
                    exception_handlers={404: not_found, 405: not_found, Exception: unexpected})
    names = {host, "127.0.0.1", "localhost"} if host in ("127.0.0.1", "localhost") else {host}
    hosts = {f"{name}:{port}" for name in names} | ({"127.0.0.1", "localhost"} if port == 80 else set())
    origins = {f"http://{name}:{port}" for name in names}
    return _Guard(app, hosts, origins, max_upload)
