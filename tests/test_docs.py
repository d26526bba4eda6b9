"""The reference is complete: every documented function and CLI command carries a runnable example."""

from __future__ import annotations

import importlib
import inspect
import re
from pathlib import Path

import pytest

from colorot.cli import main

DOCS = Path(__file__).resolve().parent.parent / "docs"
DOCUMENTED = re.findall(r"^\.\. auto(?:function|class|exception):: (\S+)", (DOCS / "api.rst").read_text(), re.M)


def _resolve(dotted: str):
    module_name, _, name = dotted.rpartition(".")
    return getattr(importlib.import_module(module_name), name)


def test_the_reference_lists_every_top_level_name():
    import colorot

    listed = {name.rpartition(".")[2] for name in DOCUMENTED}
    missing = [name for name in colorot.__all__ if name not in listed and name not in ("__version__", "SPACES")]
    assert not missing, f"exported but not in docs/api.rst: {missing}"


@pytest.mark.parametrize("dotted", DOCUMENTED)
def test_every_documented_name_has_an_example(dotted):
    doc = inspect.getdoc(_resolve(dotted)) or ""
    assert re.search(r"^Examples\n-{8}", doc, re.M), f"{dotted} has no Examples section"
    assert ">>> " in doc


@pytest.mark.parametrize("name", sorted(main.commands))
def test_every_command_has_an_example(name):
    help_text = main.commands[name].help or ""
    assert re.search(r"^\s*Examples?:\s*$", help_text, re.M), f"colorot {name} -h shows no example"
    assert f"colorot {name} " in help_text
