"""The test suite's own rules (tests/README.md): helpers come from tests/support only, never from another test module
or a conftest, and conftest.py files hold fixtures (and hooks) only."""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent


def _imported_modules(path: Path) -> list[str]:
    """Absolute names of the modules `path` imports (relative imports resolved against its package)."""
    package = ".".join(path.relative_to(TESTS.parent).with_suffix("").parts[:-1])
    names = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package.rsplit(".", node.level - 1)[0] if node.level else ""
            module = ".".join(part for part in (base, node.module or "") if part)
            names += [module] if node.module else [f"{module}.{alias.name}" for alias in node.names]
    return names


def test_test_modules_import_helpers_only_from_tests_support():
    wrong = [
        f"{path.relative_to(TESTS.parent)} imports {name}"
        for path in sorted(TESTS.rglob("*.py"))
        for name in _imported_modules(path)
        if name.startswith("tests.") and not name.startswith("tests.support")
    ]
    assert wrong == [], "move shared helpers to tests/support/ (see tests/README.md)"


def test_conftest_files_define_only_fixtures_and_hooks():
    wrong = []
    for path in sorted(TESTS.rglob("conftest.py")):
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.FunctionDef | ast.ClassDef):
                fixture = any("fixture" in ast.unparse(d) for d in getattr(node, "decorator_list", []))
                if not fixture and not node.name.startswith("pytest_"):
                    wrong.append(f"{path.relative_to(TESTS.parent)}: {node.name}")
    assert wrong == [], "conftest.py holds fixtures only; helpers go to tests/support/"
