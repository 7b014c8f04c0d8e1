"""The layout's rules, checked from the source: data flows one way between the packages, and no two sibling
packages or modules import each other (directly or round a longer loop).

Read with `ast`, so nothing is imported: a cycle that Python happens to tolerate at import time still fails here.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("features", "training", "serving", "payrisk")
ALLOWED = {
    "features": set(),
    "training": {"features"},
    "serving": {"features", "training"},
    "payrisk": {"features", "training", "serving"},
}
"""Which top-level packages each package may import: features -> training -> serving -> the CLI."""


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _imports(path: Path) -> set[str]:
    """Absolute names of the first-party modules `path` imports (at any depth: lazy imports count too)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[str] = set()
    package = _module_name(path) if path.name == "__init__.py" else _module_name(path).rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return {name for name in found if name.split(".")[0] in PACKAGES}


def _graph() -> dict[str, set[str]]:
    modules = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            modules[_module_name(path)] = path
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        # `from a.b import c` names either module a.b.c or an attribute of a.b: keep whichever is a module
        graph[name] = {target for target in _imports(path) if target in modules and target != name}
    return graph


def _sibling_edges(graph: dict[str, set[str]]) -> dict[str, dict[str, set[str]]]:
    """For each package P: edges between P's direct children (sub-packages or modules) implied by the imports."""
    edges: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for source, targets in graph.items():
        for target in targets:
            a, b = source.split("."), target.split(".")
            common = 0
            while common < min(len(a), len(b)) and a[common] == b[common]:
                common += 1
            if common == len(a) or common == len(b):
                continue  # a module and its own package: the package's __init__ is the parent, not a sibling
            parent = ".".join(a[:common])
            edges[parent][a[common]].add(b[common])
    return edges


def _find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(edges):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_top_level_packages_import_only_downstream():
    edges = _sibling_edges(_graph())[""]
    wrong = {(a, b) for a, targets in edges.items() for b in targets if b not in ALLOWED[a]}
    assert not wrong, f"imports against the flow features -> training -> serving -> payrisk: {sorted(wrong)}"


def test_no_import_cycle_at_any_level():
    for parent, edges in sorted(_sibling_edges(_graph()).items()):
        cycle = _find_cycle(edges)
        assert cycle is None, f"import cycle inside {parent or 'the top level'}: {' -> '.join(cycle)}"


def test_the_cycle_check_catches_a_cycle():
    assert _find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _find_cycle({"a": {"b"}, "b": set()}) is None


@pytest.mark.parametrize("module", ["serving/settings.py"])
def test_settings_are_a_leaf(module):
    assert not _imports(ROOT / module), "the settings object must import nothing of ours"
