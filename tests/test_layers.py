"""The layers hold: each package of PPB imports only the layers below it (read from the
source with `ast`, every import counted, also those inside functions).

    domain, ranking      nothing of ours
    store                domain
    core                 domain, ranking, store
    config               domain
    adapters             the layers above, and only the adapters the table names
    compose, runtime...  anything (the composition root and the entry points)
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "ppb"
BASE = {"domain", "ranking", "store", "core", "config", "logsafe", "metrics"}

ALLOWED: dict[str, set[str]] = {
    "domain": set(),
    "ranking": set(),
    "logsafe": set(),
    "metrics": set(),  # recording a metric (ray.util.metrics or prometheus_client), nothing of ours
    "store": {"domain"},
    "core": {"domain", "ranking", "store"},
    "config": {"domain"},
    # adapters: what they translate to and from, never each other's insides
    "scraper": BASE,
    "sandbox": BASE,
    "bot": BASE,
    "http": BASE | {"scraper", "bot", "sandbox"},  # the app mounts the webhook's bot and the sandbox
    "actors": BASE | {"bot", "scraper", "compose"},  # an actor hosts a part, built by the root
    "miniapp": BASE,
    "console": BASE,
}
ROOTS = {"compose", "runtime", "cli", "status", "__main__", "ingress", "reaper", "__init__"}
"""The composition root and the entry points: they wire everything, so they may import anything."""
SERVE = "http.serve"
"""The Serve deployments: part of the composition root, kept beside the HTTP app."""


def layer_of(path: Path) -> str:
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    return parts[0]


def imported(path: Path) -> list[tuple[int, str]]:
    """(line, ppb module) for every import of ours in the file."""
    tree = ast.parse(path.read_text(), filename=str(path))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names if alias.name.startswith("ppb.")]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0 and node.module.startswith("ppb."):
            found.append((node.lineno, node.module))
    return found


def back_edges() -> list[str]:
    problems = []
    for path in sorted(PACKAGE.rglob("*.py")):
        module = ".".join(path.relative_to(PACKAGE).with_suffix("").parts)
        layer = layer_of(path)
        if layer in ROOTS or module == SERVE:
            continue
        allowed = ALLOWED[layer] | {layer}
        for line, name in imported(path):
            target = name.split(".")[1]
            if target not in allowed:
                problems.append(f"ppb/{path.relative_to(PACKAGE)}:{line} ({layer}) imports {name}")
    return problems


def test_every_package_has_a_layer() -> None:
    layers = {layer_of(path) for path in PACKAGE.rglob("*.py")}
    assert layers - set(ALLOWED) - ROOTS == set()


def test_no_import_runs_against_the_layers() -> None:
    assert back_edges() == []


@pytest.mark.parametrize("source, expected", [
    ("from ppb.http.app import build_app\n", ["ppb.http.app"]),
    ("def f():\n    import ppb.actors.remote\n", ["ppb.actors.remote"]),
    ("from . import sibling\nimport ray\n", []),
])
def test_the_walk_sees_imports_inside_functions_too(tmp_path: Path, source: str, expected: list[str]) -> None:
    path = tmp_path / "module.py"
    path.write_text(source)
    assert [name for _, name in imported(path)] == expected
