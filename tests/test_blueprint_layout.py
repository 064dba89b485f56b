"""Each blueprint object lives in its package's `__init__.py`; the package's modules add views
to it and import shared helpers from the package or from `scheduler.access`/`scheduler.forms`,
never a private helper (or anything else) from a sibling `routes.py`."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest
from flask import Flask

BLUEPRINTS = ("admin", "auth", "checkin", "coordinator", "main", "sheets", "volunteer")
SCHEDULER = Path(__file__).resolve().parent.parent / "scheduler"


@pytest.mark.parametrize("package", BLUEPRINTS)
def test_the_blueprint_is_created_in_the_package(app: Flask, package: str) -> None:
    module = importlib.import_module(f"scheduler.{package}")
    assert module.bp is app.blueprints[package]
    tree = ast.parse((SCHEDULER / package / "__init__.py").read_text(encoding="utf-8"))
    assigned = {
        target.id
        for node in tree.body
        if isinstance(node, ast.Assign)
        for target in node.targets
        if isinstance(target, ast.Name)
    }
    assert "bp" in assigned


def _imports(path: Path) -> list[tuple[str, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [
        (node.module or "", alias.name)
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    ]


@pytest.mark.parametrize("package", BLUEPRINTS)
def test_no_module_imports_from_routes_or_a_private_name(package: str) -> None:
    for path in sorted((SCHEDULER / package).glob("*.py")):
        for module, name in _imports(path):
            where = f"{path.name}: from {module} import {name}"
            assert not module.endswith(".routes"), where
            if module.startswith("scheduler"):
                assert not name.startswith("_"), where
