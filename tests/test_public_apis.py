"""PPB reads the database libraries (SQLAlchemy, `databases`, aiosqlite) through their public
APIs only: read from the source with `ast`, the test fails on an attribute with a leading
underscore read off an object that is not PPB's own (`x._conn`, `compiled._bind_processors`),
and on an import of such a name or module. A library's private parts change without notice
between its releases; what PPB needs of them it builds itself (ppb/store/engine/)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.test_layers import PACKAGE, imports, sources

LIBRARIES = ("sqlalchemy", "databases", "aiosqlite")
PUBLIC_UNDERSCORED = {"_mapping", "_asdict", "_fields", "_replace", "_tuple"}
"""Public despite the underscore (namedtuple's API, SQLAlchemy's and `databases`' row mapping)."""
FORBIDDEN = {
    "_conn", "_execute", "_connection", "_compile_w_cache", "_generate_cache_key", "_bind_processors",
    "_result_columns", "_ordered_columns", "_textual_ordered_columns", "_ad_hoc_textual",
    "_loose_column_name_matching", "_process_parameters_for_postcompile", "_processors", "_keymap",
    "_row", "_collected_params", "_cached_result_processor",
}
"""The private parts once read here: off any object but `self`, whoever defines the name."""


def _defined_names() -> set[str]:
    """Underscored names PPB defines: its functions, classes, attributes and slots."""
    names: set[str] = set()
    for path in sources():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.add(node.name)
            elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
                names.add(node.attr)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                names.add(node.id)
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                names.add(node.target.id)
    return {name for name in names if name.startswith("_")}


def private_reads(source: str, ours: set[str]) -> list[tuple[int, str]]:
    """(line, name) of each underscored attribute read off an object other than `self`/`cls`
    that PPB does not define (or that is one of FORBIDDEN's)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Attribute) or not node.attr.startswith("_") or node.attr.startswith("__"):
            continue
        if isinstance(node.value, ast.Name) and node.value.id in {"self", "cls"}:
            continue
        if node.attr in FORBIDDEN or (node.attr not in ours and node.attr not in PUBLIC_UNDERSCORED):
            found.append((node.lineno, node.attr))
    return found


def _uses_a_library(path: Path) -> bool:
    return path.is_relative_to(PACKAGE / "store") or any(
        module.split(".")[0] in LIBRARIES for _, module, _ in imports(path))


def test_no_private_part_of_the_database_libraries_is_read() -> None:
    ours = _defined_names() - FORBIDDEN
    assert [
        f"ppb/{path.relative_to(PACKAGE)}:{line} reads .{name}"
        for path in sources() if _uses_a_library(path)
        for line, name in private_reads(path.read_text(), ours)
    ] == []


def test_no_private_module_or_name_of_the_database_libraries_is_imported() -> None:
    assert [
        f"ppb/{path.relative_to(PACKAGE)}:{line} imports {module} {names}"
        for path in sources()
        for line, module, names in imports(path)
        if module.split(".")[0] in LIBRARIES
        and (any(part.startswith("_") for part in module.split(".")) or any(n.startswith("_") for n in names))
    ] == []


@pytest.mark.parametrize("source, expected", [
    ("raw = connection._conn\n", [(1, "_conn")]),
    ("x = compiled._bind_processors\n", [(1, "_bind_processors")]),
    ("def f(self):\n    return self._conn\n", []),
    ("rows = dict(record._mapping)\n", []),
    ("y = thing._ours\n", []),
])
def test_the_scan_finds_private_reads(source: str, expected: list[tuple[int, str]]) -> None:
    assert private_reads(source, {"_ours"}) == expected
