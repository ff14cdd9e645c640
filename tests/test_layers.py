"""The house stands: read from the source with `ast`, every import counted (also those inside
functions), the test fails on

- an import that runs against the layers: each package of PPB imports only the layers below it,

    domain, ranking      nothing of ours
    store                domain
    core                 domain, ranking, store
    config               domain
    adapters             the layers above, and only the adapters the table names
    compose, runtime...  anything (the composition root and the entry points)

- an import cycle among PPB's modules, however long;
- a module outside the composition root (`ppb/compose/`) that builds the store or the ranker;
- Ray imported outside the modules that wire processes (the actors, the root, metrics, the
  entry points).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "ppb"
BASE = {"domain", "ranking", "store", "core", "config", "logsafe", "metrics", "heap"}

ALLOWED: dict[str, set[str]] = {
    "domain": set(),
    "ranking": set(),
    "logsafe": set(),
    "heap": set(),  # the collector settled once a long-lived process is built, nothing of ours
    "metrics": set(),  # recording a metric (ray.util.metrics or prometheus_client), nothing of ours
    "store": {"domain"},
    "core": {"domain", "ranking", "store"},
    "config": {"domain"},
    # adapters: what they translate to and from, never each other's insides
    "scraper": BASE,
    "sandbox": BASE,
    "bot": BASE,
    "http": BASE | {"scraper", "bot"},  # the webhook route feeds the bot; content is loaded at start-up
    "actors": BASE | {"scraper"},  # an actor runs what the root hands it; the scraper actor names its session
    "miniapp": BASE,
    "console": BASE,
}
ROOT = "compose"
"""The composition root: it builds the store, the ranker, the parts and the Serve application."""
ENTRY_POINTS = {"runtime", "cli", "status", "__main__", "ingress", "reaper", "__init__"}
"""The entry points: they start what the root builds, so they may import anything."""
ENTRY_MODULES = {"ppb.http.serve"}
"""`serve deploy` configs' import path of the Serve application, kept where they name it."""
WIRING = {"actors", ROOT, "metrics"} | ENTRY_POINTS
"""Where processes are wired, so where Ray may be imported."""
BUILT_BY_THE_ROOT = {"Store", "Scoring", "ScorerClient"}
"""The store and the ranker (in process, or the Scorer's client): `X(...)` or `X.from_settings(...)`."""


def layer_of(path: Path) -> str:
    return path.relative_to(PACKAGE).with_suffix("").parts[0]


def module_of(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def sources() -> Iterator[Path]:
    return iter(sorted(PACKAGE.rglob("*.py")))


def absolute(node: ast.ImportFrom, package: str) -> str:
    """The module a `from ... import` names, a relative one read from `package`."""
    if not node.level:
        return node.module or ""
    parts = package.split(".")
    base = parts[: len(parts) - node.level + 1]
    return ".".join([*base, node.module] if node.module else base)


def imports(path: Path) -> list[tuple[int, str, list[str]]]:
    """(line, module, names taken from it) for every import in the file."""
    package = module_of(path) if path.name == "__init__.py" else module_of(path).rpartition(".")[0]
    return imports_in(path.read_text(), package)


def imports_in(source: str, package: str) -> list[tuple[int, str, list[str]]]:
    """(line, module, names taken from it) for every import in the source of a module of
    `package`, at any depth (inside functions, under TYPE_CHECKING)."""
    found: list[tuple[int, str, list[str]]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name, []) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            found.append((node.lineno, absolute(node, package), [alias.name for alias in node.names]))
    return found


def imported(path: Path) -> list[tuple[int, str]]:
    """(line, ppb module) for every import of ours in the file."""
    return [(line, module) for line, module, _ in imports(path) if module.startswith("ppb.")]


def back_edges() -> list[str]:
    problems = []
    for path in sources():
        layer = layer_of(path)
        if layer in ENTRY_POINTS | {ROOT} or module_of(path) in ENTRY_MODULES:
            continue
        allowed = ALLOWED[layer] | {layer}
        for line, name in imported(path):
            target = name.split(".")[1]
            if target not in allowed:
                problems.append(f"ppb/{path.relative_to(PACKAGE)}:{line} ({layer}) imports {name}")
    return problems


def import_graph() -> dict[str, set[str]]:
    """Each PPB module and the PPB modules it imports (`from a import b`, b a module: a.b)."""
    modules = {module_of(path): path for path in sources()}
    graph: dict[str, set[str]] = {}
    for module, path in modules.items():
        targets: set[str] = set()
        for _, name, names in imports(path):
            if name not in modules:
                continue
            submodules = {f"{name}.{n}" for n in names if f"{name}.{n}" in modules}
            targets |= submodules
            if len(submodules) < len(names) or not names:
                targets.add(name)
        graph[module] = targets - {module}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def builds(source: str) -> list[tuple[int, str]]:
    """(line, class) for each `Store(...)`, `Scoring(...)`, `Scoring.from_settings(...)`,
    `ScorerClient(...)` in the source, at any depth."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        called = node.func
        if isinstance(called, ast.Attribute) and called.attr == "from_settings":
            called = called.value
        if isinstance(called, ast.Name) and called.id in BUILT_BY_THE_ROOT:
            found.append((node.lineno, called.id))
    return found


def test_every_package_has_a_layer() -> None:
    layers = {layer_of(path) for path in sources()}
    assert layers - set(ALLOWED) - ENTRY_POINTS - {ROOT} == set()


def test_no_import_runs_against_the_layers() -> None:
    assert back_edges() == []


def test_no_import_cycle() -> None:
    assert cycles(import_graph()) == []


def test_only_the_root_builds_the_store_and_the_ranker() -> None:
    assert [
        f"ppb/{path.relative_to(PACKAGE)}:{line} builds {name}"
        for path in sources() if layer_of(path) != ROOT
        for line, name in builds(path.read_text())
    ] == []


def test_ray_is_imported_only_where_processes_are_wired() -> None:
    assert [
        f"ppb/{path.relative_to(PACKAGE)}:{line} imports {name}"
        for path in sources() if layer_of(path) not in WIRING
        for line, name, _ in imports(path) if name.split(".")[0] == "ray"
    ] == []


DRIVERS = {"sqlite3", "aiosqlite", "asyncpg", "sqlalchemy.dialects", "databases.backends"}
"""What a database speaks; in the store, only the engine layer (and the migrations) may."""


def test_only_the_engine_layer_speaks_a_database_dialect() -> None:
    store = PACKAGE / "store"
    allowed = (store / "engine", store / "migrations")
    assert [
        f"ppb/{path.relative_to(PACKAGE)}:{line} imports {name}"
        for path in sources() if path.is_relative_to(store) and not any(path.is_relative_to(a) for a in allowed)
        for line, name, _ in imports(path) if any(name == d or name.startswith(d + ".") for d in DRIVERS)
    ] == []


@pytest.mark.parametrize("source, expected", [
    ("from ppb.http.app import build_app\n", ["ppb.http.app"]),
    ("def f():\n    import ppb.actors.remote\n", ["ppb.actors.remote"]),
    ("def f():\n    from . import sibling\nimport ray\n", ["ray", "ppb.core"]),
    ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ppb.bot import app\n", ["typing", "ppb.bot"]),
])
def test_the_walk_sees_imports_inside_functions_too(source: str, expected: list[str]) -> None:
    assert [module for _, module, _ in imports_in(source, "ppb.core")] == expected


@pytest.mark.parametrize("source, expected", [
    ("from .training import x\n", "ppb.bot.handlers.training"),
    ("from .. import views\n", "ppb.bot"),
    ("from ...store import queries\n", "ppb.store"),
    ("from ppb.core import app\n", "ppb.core"),
])
def test_relative_imports_are_read_as_the_modules_they_name(source: str, expected: str) -> None:
    node = ast.parse(source).body[0]
    assert isinstance(node, ast.ImportFrom)
    assert absolute(node, "ppb.bot.handlers") == expected


@pytest.mark.parametrize("graph, expected", [
    ({"a": {"b"}, "b": {"c"}, "c": set()}, []),
    ({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}, [["a", "b", "c"]]),
    ({"a": {"b"}, "b": {"a"}, "c": {"d"}, "d": {"c"}}, [["a", "b"], ["c", "d"]]),
])
def test_the_cycle_finder_finds_every_cycle(graph: dict[str, set[str]], expected: list[list[str]]) -> None:
    assert sorted(cycles(graph)) == expected


def test_the_builds_are_seen_inside_functions_too() -> None:
    source = "def f(s):\n    return Store(s.url), Scoring.from_settings(s, s), len(s)\n"
    assert builds(source) == [(2, "Store"), (2, "Scoring")]
