"""Sphinx configuration: furo, MyST Markdown, numpydoc, sphinx-click and a sphinx-gallery of examples/."""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("COLOROT_DOCS", "1")

import colorot  # noqa: E402

project = "colorot"
author = "the colorot developers"
copyright = "2026, the colorot developers"
release = version = colorot.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "myst_parser",
    "sphinx_click",
    "sphinx_gallery.gen_gallery",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build", "auto_examples/*.ipynb", "auto_examples/*.py", "auto_examples/*.zip",
                    "auto_examples/*.codeobj.json", "auto_examples/*.md5", "sg_execution_times.rst"]
myst_enable_extensions = ["dollarmath", "amsmath"]
myst_heading_anchors = 3

html_theme = "furo"
html_title = f"colorot {release}"

autodoc_typehints = "none"  # numpydoc renders the documented types
autodoc_member_order = "bysource"
numpydoc_show_class_members = False
numpydoc_validation_checks: set = set()
numpydoc_xref_param_type = False

sphinx_gallery_conf = {
    "examples_dirs": str(ROOT / "examples"),
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "ignore_pattern": r"__init__\.py|_photos\.py",
    "download_all_examples": False,
    "remove_config_comments": True,
    "within_subsection_order": "FileNameSortKey",
    "matplotlib_animations": False,
}

nitpicky = True  # a reference to a name the docs do not hold fails the build
suppress_warnings = ["myst.header", "config.cache"]


def _escape_stars(app, ctx, lines) -> None:
    """Command help texts hold globs (``shoot/*.jpg``): in reST a bare ``*`` starts emphasis."""
    for index, line in enumerate(lines):
        if not line.lstrip().startswith((".. ", ":")):
            lines[index] = line.replace("*", "\\*")


def setup(app) -> None:
    for event in ("sphinx-click-process-description", "sphinx-click-process-options",
                  "sphinx-click-process-epilog"):
        app.connect(event, _escape_stars)
