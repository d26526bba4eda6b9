"""``colorot ui``'s server without a browser: what it reads and writes, what it refuses, what it leaves behind."""

from __future__ import annotations

import io
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

pytest.importorskip("starlette", reason="the ui extra is not installed")
try:  # Starlette >= 1.x runs its test client on httpx2, older releases on httpx
    import httpx2  # noqa: F401
except ImportError:
    pytest.importorskip("httpx", reason="Starlette's test client needs httpx2 (or httpx)")

from starlette.testclient import TestClient  # noqa: E402

from colorot import ColorotError  # noqa: E402
from colorot.ui.jobs import Job, JobRunner  # noqa: E402
from colorot.ui.server import create_app  # noqa: E402
from colorot.ui.workspace import GRADES_KEPT, Workspace  # noqa: E402

BASE = "http://127.0.0.1:8765"


@pytest.fixture
def files(tmp_path, astronaut, coffee, chelsea):
    Image.fromarray(astronaut).save(tmp_path / "photo.jpg", quality=90)
    Image.fromarray(chelsea).save(tmp_path / "cat.png")
    Image.fromarray(coffee).save(tmp_path / "look.png")
    return tmp_path


def _client(workspace, **options) -> TestClient:
    return TestClient(create_app(workspace, **options), base_url=BASE)


def _open(client, path) -> dict:
    response = client.post(f"/api/files?name={path.name}", content=path.read_bytes())
    assert response.status_code == 200, response.text
    return response.json()


def _finish(client, job: dict) -> dict:
    for _ in range(600):
        if job["state"] != "running":
            return job
        time.sleep(0.05)
        job = client.get(f"/api/jobs/{job['id']}").json()
    raise AssertionError("the job did not finish")


def _wait(job, seconds: float = 300) -> None:
    """Until a job of a JobRunner ends (a stuck one fails the test rather than hanging it)."""
    deadline = time.monotonic() + seconds
    while job.state == "running":
        assert time.monotonic() < deadline, job.describe()
        time.sleep(0.02)


def _grade(client, photo: dict, look: dict, **options) -> str:
    job = _finish(client, client.post("/api/grades", json={"photo": photo["id"], "look": [[look["id"], 1]],
                                                             "options": options}).json())
    assert job["state"] == "done", job
    return job["result"]["grade"]


def test_exports_match_the_cli_and_stay_in_the_output_folder(files):
    workspace = Workspace(files / "out")
    with _client(workspace) as client:
        photo, look = _open(client, files / "photo.jpg"), _open(client, files / "look.png")
        grade = _grade(client, photo, look)
        preview = client.get(f"/api/grades/{grade}/preview?strength=0")
        assert preview.status_code == 200 and preview.headers["content-type"] == "image/jpeg"
        job = _finish(client, client.post("/api/exports", json={"grade": grade, "strength": 0.7}).json())
        written = files / "out" / "photo_colorot.jpg"
        assert job["state"] == "done" and job["result"]["written"] == [str(written)]
        subprocess.run([sys.executable, "-m", "colorot", "transfer", str(files / "photo.jpg"), str(files / "look.png"),
                        "--strength", "0.7", "-o", str(files / "cli.jpg")], check=True, capture_output=True)
        assert written.read_bytes() == (files / "cli.jpg").read_bytes()
        # Again: a new name beside it, never over the first.
        job = _finish(client, client.post("/api/exports", json={"grade": grade, "strength": 0.7}).json())
        assert job["result"]["written"] == [str(files / "out" / "photo_colorot_1.jpg")]
        # The .cube at each size the issue names, and the look file; a size colorot does not export: refused.
        for size in (17, 33, 65):
            job = _finish(client, client.post("/api/exports", json={"grade": grade, "what": "cube", "size": size}).json())
            assert job["state"] == "done" and f"LUT_3D_SIZE {size}" in open(job["result"]["written"][0]).read()
        response = client.post("/api/exports", json={"grade": grade, "what": "cube", "size": 20})
        assert response.status_code == 400 and "17, 33 or 65" in response.json()["error"]
        job = _finish(client, client.post("/api/exports", json={"grade": grade, "what": "look"}).json())
        assert job["result"]["written"][0].endswith(".npz")
        # Names from the page that leave the output folder, or hide in it, are refused before any work.
        for name in ("../escape.jpg", "/tmp/escape.jpg", "sub/escape.jpg", "..", ".hidden.jpg", "a\\b.jpg", "c:x.jpg"):
            response = client.post("/api/exports", json={"grade": grade, "name": name})
            assert response.status_code == 400 and "plain file name" in response.json()["error"], name
        assert not (files / "escape.jpg").exists() and not (files.parent / "escape.jpg").exists()
        folder = workspace.folder
        assert folder.is_dir()
    assert not folder.exists()  # the server stopped: every file the page sent is gone


def test_a_photo_opened_from_disk_is_never_written_over(files):
    workspace = Workspace(files)  # the output folder is the photo's own
    photo = workspace.open_path(files / "photo.jpg")
    before = (files / "photo.jpg").read_bytes()
    with _client(workspace, preload={"photos": [photo.id], "look": []}) as client:
        look = _open(client, files / "look.png")
        grade = _grade(client, photo.describe(), look)
        response = client.post("/api/exports", json={"grade": grade, "name": "photo.jpg"})
        assert response.status_code == 400 and "never writes over" in response.json()["error"]
    assert (files / "photo.jpg").read_bytes() == before


def test_a_closed_page_leaves_none_of_its_files_and_the_others_keep_theirs(files):
    workspace = Workspace(files / "out")
    photo = workspace.open_path(files / "photo.jpg")  # named on the command line: read in place, kept
    with _client(workspace, preload={"photos": [photo.id], "look": []}) as client:
        opened = {}
        for page in ("A", "B"):
            response = client.post("/api/files?name=look.png", content=(files / "look.png").read_bytes(),
                                   headers={"X-Colorot-Page": page})
            opened[page] = response.json()
        job = client.post("/api/grades", json={"photo": photo.id, "look": [[opened["A"]["id"], 1]]},
                          headers={"X-Colorot-Page": "A"}).json()
        grade = _finish(client, job)["result"]["grade"]
        assert len(list(workspace.folder.iterdir())) == 2
        assert client.post("/api/close?page=A").json() == {"removed": 1}  # as the page's beacon sends it
        assert len(list(workspace.folder.iterdir())) == 1  # B's file only
        response = client.get(f"/api/grades/{grade}/preview")
        assert response.status_code == 400 and "grade the photo again" in response.json()["error"]
        assert client.get(f"/api/files/{opened['B']['id']}/preview").status_code == 200
        assert client.get(f"/api/files/{photo.id}/preview").status_code == 200
        # A page's grades go with it, even grades of files named on the command line (which stay open).
        job = client.post("/api/grades", json={"photo": photo.id, "look": [[opened["B"]["id"], 1]]},
                          headers={"X-Colorot-Page": "C"}).json()
        kept = _finish(client, job)["result"]["grade"]
        assert kept in workspace.grades
        client.post("/api/close?page=C")
        assert kept not in workspace.grades and photo.id in workspace.files
        assert client.post("/api/close?page=B").json() == {"removed": 1}
        assert client.post("/api/close").json() == {"removed": 0}  # no page named: nothing removed
        assert list(workspace.folder.iterdir()) == [] and (files / "photo.jpg").is_file()


def test_no_other_site_may_frame_or_embed_the_window_and_every_interface_refuses_rebound_names(files):
    with _client(Workspace(files / "out")) as client:
        page = client.get("/")
        assert page.headers["x-frame-options"] == "DENY" and "frame-ancestors 'none'" in \
            page.headers["content-security-policy"]
        framed = client.get("/", headers={"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Dest": "iframe"})
        assert framed.status_code == 403 and framed.headers["x-frame-options"] == "DENY"
        assert client.get("/api/config", headers={"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Dest": "image"}
                          ).status_code == 403
        assert client.get("/", headers={"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Dest": "document"}
                          ).status_code == 200  # a link from elsewhere opens the window
    app = create_app(Workspace(files / "out"), host="0.0.0.0", port=8765)
    with TestClient(app, base_url="http://192.168.1.20:8765") as client:
        assert client.get("/api/config").status_code == 200  # an address of this machine
        for host in ("rebound.example:8765", "192.168.1.20:9999", "192.168.1.20"):
            assert client.get("/api/config", headers={"Host": host}).status_code == 403, host
        assert client.get("/api/config", headers={"Host": "localhost:8765"}).status_code == 200
        assert client.get("/api/config", headers={"Host": "[::1]:8765"}).status_code == 200


def test_other_origins_hosts_big_uploads_and_bad_files_are_refused(files):
    workspace = Workspace(files / "out")
    with _client(workspace, max_upload=4096) as client:
        data = (files / "look.png").read_bytes()
        assert len(data) > 4096
        response = client.post("/api/files?name=look.png", content=data)
        message = response.json()["error"]
        assert response.status_code == 413 and "upload limit" in message
        assert "look.png" in message and "--max-upload-mb" in message  # which file, and what to do
        response = client.post("/api/files?name=tiny.png", content=b"x" * 100,
                               headers={"Origin": "http://evil.example"})
        assert response.status_code == 403
        response = client.post("/api/files?name=tiny.png", content=b"x" * 100, headers={"Sec-Fetch-Site": "cross-site"})
        assert response.status_code == 403
        response = client.get("/api/config", headers={"Host": "rebound.example:8765"})  # DNS rebinding
        assert response.status_code == 403
        response = client.post("/api/files?name=broken.jpg", content=b"\xff\xd8\xff\xe0" + bytes(300),
                               headers={"Origin": BASE})
        assert response.status_code == 400
        message = response.json()["error"]
        assert message.startswith("broken.jpg") and "Traceback" not in message and str(workspace.folder) not in message
        assert client.get("/api/grades/g999/preview").status_code == 400
        assert client.get("/static/../server.py").status_code == 404
        assert client.get("/api/nowhere").json() == {"error": "Not Found"}
        assert list(workspace.folder.iterdir()) == []  # nothing refused was kept


def test_the_pixel_limit_guards_the_page_as_it_guards_the_cli(files):
    with _client(Workspace(files / "out", max_pixels=1000)) as client:
        response = client.post("/api/files?name=photo.jpg", content=(files / "photo.jpg").read_bytes())
        assert response.status_code == 400 and "pixels" in response.json()["error"]


def test_a_mask_keeps_its_pixels_and_the_batch_grades_every_photo(files):
    workspace = Workspace(files / "out")
    with _client(workspace) as client:
        photo, cat, look = (_open(client, files / name) for name in ("photo.jpg", "cat.png", "look.png"))
        height, width = photo["height"], photo["width"]
        mask = np.full((height, width), 255, np.uint8)
        mask[:, : width // 3] = 0  # keep the left third
        buffer = io.BytesIO()
        Image.fromarray(mask).save(buffer, "PNG")
        mask_id = client.post(f"/api/masks?photo={photo['id']}", content=buffer.getvalue()).json()["id"]
        job = _finish(client, client.post("/api/grades", json={"photo": photo["id"], "look": [[look["id"], 1]], "options": {"method": "unbalanced"},
                                                                 "mask": mask_id}).json())
        grade = job["result"]["grade"]
        job = _finish(client, client.post("/api/exports", json={"grade": grade, "strength": 1}).json())
        graded = np.asarray(Image.open(job["result"]["written"][0])).astype(int)
        original = np.asarray(Image.open(files / "photo.jpg")).astype(int)
        assert np.abs(graded[:, : width // 4] - original[:, : width // 4]).mean() < 1.5  # JPEG re-encoding only
        assert np.abs(graded[:, width // 2:] - original[:, width // 2:]).mean() > 8
        assert (files / "out" / "photo_colorot_mask.png").is_file()  # to redo it with --source-mask
        written = {}
        for shared in (False, True):
            job = _finish(client, client.post("/api/batches", json={
                "photos": [photo["id"], cat["id"]], "look": [[look["id"], 1]], "shared": shared,
                "options": {"method": "unbalanced"}}).json())
            assert job["state"] == "done" and job["done"] == job["total"] == 2 and job["result"]["failed"] == [], job
            written[shared] = [np.asarray(Image.open(path)).astype(int) for path in job["result"]["written"]]
        # One map fitted on both photos is not each photo's own: the cat, graded with the astronaut's colors
        # in the fit, comes out otherwise.
        assert np.abs(written[True][1] - written[False][1]).mean() > 1.0
        # The shared map is colorot batch --shared-map's: the same map fitted on the same files, the same bytes.
        from click.testing import CliRunner

        from colorot.cli import main

        result = CliRunner().invoke(main, ["batch", str(files / "look.png"), str(files / "photo.jpg"),
                                           str(files / "cat.png"), "--shared-map", "--method", "unbalanced",
                                           "--output-dir", str(files / "cli")])
        assert result.exit_code == 0, result.output
        for ours, name in zip(written[True], ("photo_colorot", "cat_colorot")):
            theirs = np.asarray(Image.open(next((files / "cli").glob(name.split("_")[0] + ".*")))).astype(int)
            assert ours.shape == theirs.shape and np.array_equal(ours, theirs), name
        figures = client.get(f"/api/grades/{grade}/figures?strength=1").json()
        assert set(figures) >= {"sliced_w2_to_style", "structure_to_source"}
        histograms = client.get(f"/api/grades/{grade}/histograms?strength=1")
        assert histograms.headers["content-type"] == "image/png"
        assert Image.open(io.BytesIO(histograms.content)).size[0] > 3 * 150  # photo, style, result


def test_a_mask_on_a_photo_larger_than_the_preview_exports_what_the_cli_makes_of_the_mask_file(files):
    """The export's mask is the *_mask.png written beside it, to the code: the command line with
    --source-mask gives the same bytes."""
    big = Image.open(files / "photo.jpg").resize((1800, 1800), Image.Resampling.BICUBIC)
    big.save(files / "big.jpg", quality=92)
    workspace = Workspace(files / "out")
    with _client(workspace) as client:
        photo, look = _open(client, files / "big.jpg"), _open(client, files / "look.png")
        ramp = np.tile(np.linspace(0, 255, 1280), (1280, 1)).astype(np.uint8)  # a soft mask at the preview's size
        buffer = io.BytesIO()
        Image.fromarray(ramp).save(buffer, "PNG")
        mask_id = client.post(f"/api/masks?photo={photo['id']}", content=buffer.getvalue()).json()["id"]
        job = _finish(client, client.post("/api/grades", json={"photo": photo["id"], "look": [[look["id"], 1]],
                                                                 "mask": mask_id}).json())
        grade = job["result"]["grade"]
        assert client.get(f"/api/grades/{grade}").json()["photo"] == photo["id"]
        # The 100% view: the photo and the grade at full resolution, the grade as the export gives it.
        before = client.get(f"/api/files/{photo['id']}/full")
        full_view = client.get(f"/api/grades/{grade}/full?strength=0.8")
        job = _finish(client, client.post("/api/exports", json={"grade": grade, "strength": 0.8}).json())
    exported = files / "out" / "big_colorot.jpg"
    assert job["result"]["written"] == [str(exported)]
    assert Image.open(io.BytesIO(before.content)).size == (1800, 1800)
    view = np.asarray(Image.open(io.BytesIO(full_view.content)), dtype=float)
    assert view.shape == (1800, 1800, 3)
    assert np.abs(view - np.asarray(Image.open(exported), dtype=float)).mean() < 1.5  # two JPEG encodings
    subprocess.run([sys.executable, "-m", "colorot", "transfer", str(files / "big.jpg"), str(files / "look.png"),
                    "--strength", "0.8", "--source-mask", str(files / "out" / "big_colorot_mask.png"),
                    "-o", str(files / "cli.jpg")], check=True, capture_output=True)
    assert exported.read_bytes() == (files / "cli.jpg").read_bytes()


def test_refits_keep_a_few_grades_and_masks_and_a_cancelled_batch_keeps_what_it_wrote(files):
    workspace = Workspace(files / "out")
    with _client(workspace) as client:
        photo, cat, look = (_open(client, files / name) for name in ("photo.jpg", "cat.png", "look.png"))
        grades = [_grade(client, photo, look, reach=0.2 + 0.05 * k) for k in range(GRADES_KEPT + 2)]
        assert sorted(workspace.grades) == sorted(grades[-GRADES_KEPT:])  # the newest of this page
        assert client.get(f"/api/grades/{grades[0]}/preview").status_code == 400
        assert client.get(f"/api/grades/{grades[0]}").status_code == 400  # the page then fits it again
        as_text = _grade(client, photo, look, keep_luma="false", refine="0")
        as_json = _grade(client, photo, look, keep_luma=False, refine=0)
        assert client.get(f"/api/grades/{as_text}/preview").content == \
            client.get(f"/api/grades/{as_json}/preview").content
        for _ in range(4):
            client.post(f"/api/masks?photo={photo['id']}", content=(files / "look.png").read_bytes())
        assert len(workspace.masks) == 2
        runner, photos = JobRunner(), [photo["id"], cat["id"], photo["id"], cat["id"]]

        def batch(job):
            def stop_after_the_first(done):
                if done >= 1:
                    job.cancel_requested.set()

            original = job.step
            job.step = lambda message, done=None: (stop_after_the_first(done or 0), original(message, done))
            return workspace.grade_batch(photos, [[look["id"], 1]], {}, 1.0, False, job)

        job = runner.submit(batch, total=4)
        _wait(job)
        runner.shutdown()
        assert job.state == "cancelled" and len(job.result["written"]) == 1, (job.describe(), job.result)
        assert Path(job.result["written"][0]).is_file()
        # A failure names the page's files as the page knows them, not by their temporary paths.
        workspace.get(look["id"]).path.unlink()
        result = workspace.grade_batch([photo["id"]], [[look["id"], 1]], {}, 1.0, False)
        assert result["failed"][0]["error"] == "look.png: no such file", result


def test_a_refit_cancelled_or_left_by_its_page_stores_no_grade(files, monkeypatch):
    from colorot import progress

    workspace = Workspace(files / "out")
    photo, look = workspace.open_path(files / "photo.jpg"), workspace.open_path(files / "look.png")

    def cancelled(fraction, message):
        raise RuntimeError("cancelled")

    with progress.reporting(cancelled), pytest.raises(RuntimeError):
        workspace.grade(photo.id, [(look.id, 1.0)], {}, page="A")
    assert workspace.grades == {}
    original = workspace._styles

    def page_left(chosen, photo):  # the page is closed while the map is fitted
        styles = original(chosen, photo)
        workspace.forget({look.id})
        return styles

    monkeypatch.setattr(workspace, "_styles", page_left)
    with pytest.raises(ColorotError, match="was closed"):
        workspace.grade(photo.id, [(look.id, 1.0)], {}, page="A")
    assert workspace.grades == {}
    workspace.close()


def test_a_long_job_reports_progress_and_can_be_cancelled():
    runner = JobRunner()
    steps = []

    def work(job):
        for index in range(1000):
            job.step(f"step {index}", index)
            steps.append(index)
            time.sleep(0.01)
        return {"finished": True}

    job = runner.submit(work, total=1000)
    while len(steps) < 3:
        time.sleep(0.01)
    assert job.describe()["state"] == "running" and job.done >= 1
    job.cancel_requested.set()
    runner.shutdown()
    assert job.state == "cancelled" and len(steps) < 1000 and job.result == {}


def test_malformed_requests_get_one_line_errors_not_tracebacks(files):
    workspace = Workspace(files / "out")
    with _client(workspace) as client:
        photo, look = _open(client, files / "photo.jpg"), _open(client, files / "look.png")
        cat = _open(client, files / "cat.png")
        grade = _grade(client, photo, look)
        for body in ([1], "text"):
            response = client.post("/api/grades", json=body)
            assert response.status_code == 400 and "JSON object" in response.json()["error"], body
        response = client.post("/api/grades", json={})
        assert response.status_code == 400 and "no opened file" in response.json()["error"]
        assert client.get(f"/api/grades/{grade}/preview?strength=nan").status_code == 400
        assert client.get(f"/api/grades/{grade}/preview?strength=2").status_code == 400
        response = client.post("/api/exports", content=f'{{"grade": "{grade}", "what": "cube", "size": 1e999}}',
                               headers={"Content-Type": "application/json"})
        assert response.status_code == 400 and "whole number" in response.json()["error"]
        for export in ({"quality": 500}, {"quality": 50.7}, {"what": "cube", "size": "abc"}, {"what": "svg"},
                       {"what": "cube", "size": 33.5}, {"what": "cube", "size": True},
                       {"name": "notes.txt"}, {"name": "noextension"}, {"name": "x" * 300 + ".jpg"}):
            response = client.post("/api/exports", json={"grade": grade, **export})  # refused before any work
            assert response.status_code == 400 and "unexpected" not in response.json()["error"], export
        for body in ({"look": [[look["id"]]]}, {"look": [[look["id"], "heavy"]]}, {"options": {"refine": 2.5}},
                     {"options": {"keep_luma": "maybe"}}, {"options": []}):
            response = client.post("/api/grades", json={"photo": photo["id"], "look": [[look["id"], 1]], **body})
            assert response.status_code in (200, 400), body
            job = response.json() if response.status_code == 400 else _finish(client, response.json())
            message = job.get("error") or ""
            assert message and "unexpected" not in message and "\n" not in message, (body, job)
        response = client.post("/api/batches", json={"photos": 5, "look": [[look["id"], 1]]})
        assert response.status_code == 400 and "unexpected" not in response.json()["error"]
        # A file named "..": kept under a name of ours, read (here refused as not an image), never a crash.
        response = client.post("/api/files?name=..", content=b"not an image")
        assert response.status_code == 400 and "unexpected" not in response.json()["error"]
        # A mask made for another photo is refused, not stretched.
        buffer = io.BytesIO()
        Image.new("L", (cat["width"], cat["height"]), 255).save(buffer, "PNG")
        mask_id = client.post(f"/api/masks?photo={cat['id']}", content=buffer.getvalue()).json()["id"]
        response = client.post("/api/grades", json={"photo": photo["id"], "look": [[look["id"], 1]], "mask": mask_id})
        assert response.status_code == 400 and "for this photo" in response.json()["error"]


def test_a_lut_file_is_the_whole_look_previewed_by_strength_and_exported(files):
    cube = files / "look.cube"
    subprocess.run([sys.executable, "-m", "colorot", "lut", str(files / "look.png"), "--size", "17", "-o", str(cube)],
                   check=True, capture_output=True)
    workspace = Workspace(files / "out")
    with _client(workspace) as client:
        photo, table = _open(client, files / "photo.jpg"), _open(client, cube)
        assert table["kind"] == "cube"
        grade = _grade(client, photo, table)
        previews = [np.asarray(Image.open(io.BytesIO(client.get(f"/api/grades/{grade}/preview?strength={s}").content)))
                    .astype(float) for s in (0, 1)]
        original = workspace.get(photo["id"]).preview.astype(float)
        assert np.abs(previews[0] - original).mean() < 1.5 < np.abs(previews[1] - original).mean()
        job = _finish(client, client.post("/api/exports", json={"grade": grade, "strength": 1}).json())
        subprocess.run([sys.executable, "-m", "colorot", "apply", str(cube), str(files / "photo.jpg"), "--output-dir",
                        str(files / "applied")], check=True, capture_output=True)
        ours = np.asarray(Image.open(job["result"]["written"][0])).astype(int)
        theirs = np.asarray(Image.open(files / "applied" / "photo_colorot.jpg")).astype(int)
        assert np.abs(ours - theirs).mean() < 0.5  # the same table; JPEG encoding of the same pixels
        # A table cannot be mixed with a style photo.
        look = _open(client, files / "look.png")
        job = _finish(client, client.post("/api/grades", json={"photo": photo["id"],
                                                                 "look": [[table["id"], 1], [look["id"], 1]]}).json())
        assert job["state"] == "failed" and "whole look" in job["error"]


def test_an_export_reports_the_engines_progress_and_stops_inside_it_when_cancelled(tmp_path, coffee, monkeypatch):
    """A full-resolution export shows the engine's progress as the strips of the photo are looked up, and a
    cancel stops it there: the job ends cancelled and nothing is written."""
    rng = np.random.default_rng(0)
    large = np.clip(rng.normal(120, 40, (2000, 3000, 3)), 0, 255).astype(np.uint8)
    Image.fromarray(large).save(tmp_path / "large.png")
    Image.fromarray(coffee).save(tmp_path / "look.png")
    workspace = Workspace(tmp_path / "out")
    photo, look = workspace.open_path(tmp_path / "large.png"), workspace.open_path(tmp_path / "look.png")
    fitted = workspace.grade(photo.id, [(look.id, 1.0)], {})
    report = Job.report

    def export(cancel_inside: bool, seen: list):
        def watched(job, fraction, message=None):
            seen.append(fraction)
            if cancel_inside and 0 < fraction < 0.85:  # the user presses Cancel while the pixels are graded
                job.cancel_requested.set()
            report(job, fraction, message)

        def work(job):
            job.step("grading at full resolution")
            return {"written": [str(workspace.export_photo(fitted, 1.0))]}

        monkeypatch.setattr(Job, "report", watched)
        runner = JobRunner()
        job = runner.submit(work)
        _wait(job)
        runner.shutdown()
        return job

    seen = []
    job = export(True, seen)
    assert job.state == "cancelled", job.describe()
    assert seen and 0 < seen[-1] < 0.85  # stopped inside the grading, before the writing
    assert not (tmp_path / "out").exists() or list((tmp_path / "out").iterdir()) == []

    seen = []
    job = export(False, seen)
    assert job.state == "done" and Path(job.result["written"][0]).is_file()
    assert any(0 < fraction < 0.85 for fraction in seen)  # the strips, as they finish
    assert seen == sorted(seen) and seen[-1] == 0.85  # then "writing"
    workspace.close()
