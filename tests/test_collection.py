"""No test file silently goes uncollected (a test in a file not named test_*.py never runs)."""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).parent


def test_every_file_with_tests_is_named_for_collection() -> None:
    strays = []
    for path in TESTS.rglob("*.py"):
        if path.name.startswith("test_") or path.name in ("conftest.py", "__init__.py"):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        if any(
            isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef) and n.name.startswith("test")
            for n in tree.body
        ):
            strays.append(str(path.relative_to(TESTS)))
    assert not strays, f"test functions in files pytest will not collect: {strays}"


def test_every_test_folder_is_a_package() -> None:
    """Same-named test modules in different folders need __init__.py to be collected at all."""
    missing = [
        str(d.relative_to(TESTS))
        for d in TESTS.rglob("*")
        if d.is_dir() and any(d.glob("test_*.py")) and not (d / "__init__.py").exists()
    ]
    assert not missing, missing
