"""The architecture, enforced: the kernel and domains import no web framework, arrows point downstream.

Layers, lowest first: core ← db ← inventory ← alarms ← incidents ← tickets ← notify
(cutovers, assurance, reports beside them); access sits on inventory; api/web/cli/app on top.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).parents[1] / "src" / "linewatch"
ORDER = [
    "core",
    "db",
    "inventory",
    "access",
    "alarms",
    "incidents",
    "tickets",
    "notify",
    "assurance",  # before cutovers: a cutover asks whether an assurance period refuses it
    "cutovers",
    "reports",
]
EDGES = {"api", "web", "cli", "app", "context", "settings", "schema", "demo"}
WEB_FRAMEWORKS = ("fastapi", "starlette", "uvicorn", "jinja2", "typer")
DB_DRIVERS = ("sqlalchemy", "alembic", "psycopg")


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def modules(package: str) -> list[Path]:
    # Alembic's env.py must see every table, so it alone imports linewatch.schema.
    return sorted(p for p in (SRC / package).rglob("*.py") if "migrations" not in p.parts)


@pytest.mark.parametrize("package", ORDER)
def test_domain_packages_import_no_web_framework(package: str) -> None:
    for path in modules(package):
        bad = [m for m in imports_of(path) if m.split(".")[0] in WEB_FRAMEWORKS]
        assert not bad, f"{path.relative_to(SRC)} imports {bad}"


def test_core_imports_no_database_driver_and_no_domain() -> None:
    for path in modules("core"):
        for module in imports_of(path):
            assert module.split(".")[0] not in DB_DRIVERS, f"{path.name} imports {module}"
            if module.startswith("linewatch."):
                assert module.startswith("linewatch.core"), f"{path.name} imports {module}"


@pytest.mark.parametrize("package", ORDER)
def test_no_module_reaches_upstream_or_into_the_edges(package: str) -> None:
    rank = ORDER.index(package)
    for path in modules(package):
        for module in imports_of(path):
            parts = module.split(".")
            if parts[0] != "linewatch" or len(parts) < 2:
                continue
            target = parts[1]
            assert target not in EDGES, f"{path.relative_to(SRC)} imports the edge {module}"
            if target in ORDER:
                assert ORDER.index(target) <= rank, f"{path.relative_to(SRC)} reaches upstream to {module}"
