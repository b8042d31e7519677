"""The packages' layers point one way: a package imports only the layers below it.

    places, matching, sheets    (the bottom: they import nothing of the project)
    agency, scenarios           (records and rounds; what-if scenarios)
    api                         (the service, above the agency and the scenarios)
    benchmarks, housing         (the top: the benchmark and the command line)

Every import counts, at the top of a module or inside a function: an import inside a
function that dodges a cycle is still a cycle.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

BOTTOM = {"places", "matching", "sheets"}

BELOW: dict[str, set[str]] = {
    "places": set(),
    "matching": set(),
    "sheets": set(),
    "agency": BOTTOM,
    "scenarios": BOTTOM,
    "api": BOTTOM | {"agency", "scenarios"},
    "benchmarks": BOTTOM | {"agency", "scenarios", "api"},
    "housing": BOTTOM | {"agency", "scenarios", "api", "benchmarks"},
}
"""What each package may import of the others."""

MODULE_TOP = ("places", "matching", "sheets", "agency", "scenarios", "api")
"""Layers that import the project's modules at the top of theirs, never in a function (the
command line loads an extra's commands when called, and each benchmark worker imports
only its own solver, on purpose)."""


def _imports(path: Path, *, in_functions: bool = False) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    scopes = (
        [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]
        if in_functions
        else [tree]
    )
    found = []
    for scope in scopes:
        for node in ast.walk(scope):
            if isinstance(node, ast.Import):
                found += [(node.lineno, a.name) for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.append((node.lineno, node.module))
    return found


def _modules(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("package", list(BELOW))
def test_a_package_imports_only_the_layers_below_it(package: str) -> None:
    wrong = [
        f"{path.relative_to(ROOT)}:{line} imports {name}"
        for path in _modules(package)
        for line, name in _imports(path)
        if (top := name.partition(".")[0]) in BELOW and top != package and top not in BELOW[package]
    ]
    assert wrong == []


@pytest.mark.parametrize("package", MODULE_TOP)
def test_no_project_module_is_imported_inside_a_function(package: str) -> None:
    local = [
        f"{path.relative_to(ROOT)}:{line} imports {name}"
        for path in _modules(package)
        for line, name in _imports(path, in_functions=True)
        if name.partition(".")[0] in BELOW
    ]
    assert local == []
