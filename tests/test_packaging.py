"""The sdist carries the license and what its own tests need, and passes a smoke test from its unpacked copy."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_the_sdist_ships_the_license_tests_and_samples_and_passes_a_smoke_test(tmp_path):
    pytest.importorskip("build")
    built = subprocess.run([sys.executable, "-m", "build", "--sdist", "--no-isolation", "--outdir", str(tmp_path),
                            str(ROOT)], capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stderr[-2000:]
    archive = next(tmp_path.glob("colorot-*.tar.gz"))
    with tarfile.open(archive) as sdist:
        names = sdist.getnames()
        sdist.extractall(tmp_path / "unpacked", filter="data")
    top = names[0].split("/")[0]
    for needed in ("LICENSE", "tests/conftest.py", "samples/astronaut.jpg", "colorot/learned/weights", "docs/api.rst"):
        assert any(name.startswith(f"{top}/{needed}") for name in names), needed
    unpacked = tmp_path / "unpacked" / top
    assert "License-Expression: BSD-3-Clause" in (unpacked / "PKG-INFO").read_text()
    where = subprocess.run([sys.executable, "-c", "import colorot; print(colorot.__file__)"], cwd=unpacked,
                           env=dict(os.environ, PYTHONPATH=str(unpacked)), capture_output=True, text=True, timeout=60)
    assert where.stdout.strip().startswith(str(unpacked))  # the smoke test runs the sdist's own code
    assert not any(f"{top}/docs/_build" in name or f"{top}/docs/auto_examples" in name for name in names)
    # Every test module of the sdist imports (a module reading a file the sdist lacks fails here) ...
    collected = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--collect-only",
                                "tests"], cwd=unpacked, env=dict(os.environ, PYTHONPATH=str(unpacked)),
                               capture_output=True, text=True, timeout=300)
    assert collected.returncode == 0 and not re.search(r"^ERROR ", collected.stdout, re.M), collected.stdout[-2000:]
    # ... and a smoke test of them passes.
    smoke = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_io.py"],
                           cwd=unpacked, env=dict(os.environ, PYTHONPATH=str(unpacked)), capture_output=True,
                           text=True, timeout=300)
    assert smoke.returncode == 0, smoke.stdout[-2000:]
    assert "passed" in smoke.stdout
