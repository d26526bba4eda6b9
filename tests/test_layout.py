"""The package's layout keeps its promises: one home per concept, no import cycles, no import from a higher floor,
torch-free paths, small modules and functions."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path


import colorot

PACKAGE = Path(colorot.__file__).resolve().parent


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _top_level_imports(path: Path) -> set[str]:
    """The colorot modules ``path`` imports when it is imported (module-level imports, not those in functions)."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.ImportFrom) and node.level:
            base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
            target = f"{base}.{node.module}" if node.module else base
            for alias in node.names:  # ``from . import x`` imports the module x
                candidate = f"{target}.{alias.name}"
                found.add(candidate if (PACKAGE.parent / (candidate.replace(".", "/") + ".py")).exists()
                          or (PACKAGE.parent / candidate.replace(".", "/")).is_dir() else target)
    return found


def test_no_import_cycles():
    graph = {_module_name(p): _top_level_imports(p) for p in PACKAGE.rglob("*.py")}

    def visit(module, trail):
        if module in trail:
            return trail[trail.index(module):] + [module]
        for imported in sorted(graph.get(module, ())):
            if imported == module or module.startswith(imported + "."):  # a package's own __init__ is no cycle
                continue
            cycle = visit(imported, trail + [module])
            if cycle:
                return cycle
        return None

    for module in sorted(graph):
        assert visit(module, []) is None, f"import cycle: {' -> '.join(visit(module, []))}"


def test_modules_and_functions_stay_small():
    for path in PACKAGE.rglob("*.py"):
        lines = path.read_text().splitlines()
        assert len(lines) <= 450, f"{path.relative_to(PACKAGE)} has {len(lines)} lines"
        for node in ast.walk(ast.parse("\n".join(lines))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                first = node.body[0]
                start = first.end_lineno + 1 if isinstance(first, ast.Expr) and isinstance(
                    getattr(first, "value", None), ast.Constant) else first.lineno
                code = [line for line in lines[start - 1:node.end_lineno]
                        if line.strip() and not line.strip().startswith("#")]
                assert len(code) <= 60, f"{path.relative_to(PACKAGE)}:{node.name} has {len(code)} lines of code"


def test_the_cli_method_names_are_the_registry():
    from colorot.options import METHOD_NAMES, SPACES
    from colorot.measures import colorspaces
    from colorot.methods import METHODS

    assert tuple(METHODS) == METHOD_NAMES and tuple(colorspaces.SPACES) == SPACES


def test_help_and_bad_paths_import_no_torch(tmp_path):
    script = ("import sys\nfrom colorot.cli import main\ntry:\n    main(sys.argv[1:])\n"
              "except SystemExit:\n    pass\nprint('torch' in sys.modules)")
    for arguments in (["--help"], ["transfer", "--help"], ["transfer", str(tmp_path / "none.jpg"), "x.jpg"]):
        result = subprocess.run([sys.executable, "-c", script, *arguments], capture_output=True, text=True,
                                timeout=60)
        assert result.stdout.strip().splitlines()[-1] == "False", arguments


#: The package's floors, lowest first: a module imports only from its own floor or lower ones, at module level and
#: inside functions alike (the method registry names its fitters by import path, so it imports none of them). The
#: engine (``ot``) works on point clouds alone; ``measures`` turns images into clouds and measures them with it.
LAYERS = (
    ("errors", "options", "methods", "devices", "threads", "progress"),
    ("ot",),
    ("io",),
    ("pixels", "sample_structures"),
    ("measures",),
    ("maps",),
    ("learned",),
    ("fitting", "estimator", "api", "stylize"),
    ("apps",),
    ("ui",),
    ("cli", "__main__"),
)


def _floor(module: str) -> int:
    top = module.split(".")[1] if "." in module else ""
    return next(index for index, names in enumerate(LAYERS) if top in names)


def _all_imports(path: Path) -> set[str]:
    """Every colorot module ``path`` imports, at module level or in a function."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
            found.add(f"{base}.{node.module}" if node.module else base)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [node.module] if isinstance(node, ast.ImportFrom) else [alias.name for alias in node.names]
            found.update(module for module in names if module and module.startswith("colorot."))
    return {module for module in found if module != "colorot"}


def test_no_module_imports_from_a_higher_floor():
    for path in PACKAGE.rglob("*.py"):
        module = _module_name(path)
        if module == "colorot":
            continue
        for imported in _all_imports(path):
            assert _floor(imported) <= _floor(module), f"{module} imports {imported}, from a higher floor"
