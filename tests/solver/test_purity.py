"""solver/ is a pure library: no Flask, no SQLAlchemy, nothing from the app."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

SOLVER = Path(__file__).resolve().parents[2] / "solver"
FORBIDDEN = ("scheduler", "flask", "flask_sqlalchemy", "sqlalchemy", "werkzeug", "jinja2")


def imported_modules(path: Path) -> set[str]:
    """Top-level names of every module imported anywhere in a source file."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize(
    "path", sorted(SOLVER.rglob("*.py")), ids=lambda p: str(p.relative_to(SOLVER))
)
def test_no_app_or_web_imports_in_source(path: Path) -> None:
    assert not imported_modules(path) & set(FORBIDDEN)


def test_importing_solver_loads_no_app_or_web_module() -> None:
    code = (
        "import sys, solver, solver.check, solver.cpsat, solver.rules\n"
        f"bad = sorted(m for m in sys.modules if m.split('.')[0] in {FORBIDDEN!r})\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=SOLVER.parent,
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.strip() == ""
