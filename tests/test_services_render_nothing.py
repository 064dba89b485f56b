"""Services return data, never presentation: no module of scheduler/services/ renders a
template or builds markup (the CLI's text report lives beside the CLI, scheduler/cli_report.py).
Imports are read with ast, function-level ones included."""

from __future__ import annotations

import ast
from pathlib import Path

SERVICES = Path(__file__).resolve().parent.parent / "scheduler" / "services"
PRESENTATION = {
    ("flask", "render_template"),
    ("flask", "render_template_string"),
    ("flask", "get_template_attribute"),
    ("markupsafe", None),
    ("jinja2", None),
}


def _presentation_imports(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module is not None:
            root = node.module.split(".")[0]
            for alias in node.names:
                if (root, None) in PRESENTATION or (node.module, alias.name) in PRESENTATION:
                    found.append(f"{path.name}:{node.lineno} {node.module}.{alias.name}")
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if (alias.name.split(".")[0], None) in PRESENTATION:
                    found.append(f"{path.name}:{node.lineno} {alias.name}")
    return found


def test_no_service_renders_templates_or_markup() -> None:
    modules = sorted(SERVICES.glob("*.py"))
    assert len(modules) > 10  # the services package is where this test thinks it is
    offending = [hit for path in modules for hit in _presentation_imports(path)]
    assert offending == []


def test_the_checker_sees_a_function_level_import(tmp_path: Path) -> None:
    module = tmp_path / "report.py"
    module.write_text("def f():\n    from flask import get_template_attribute\n    import jinja2\n")
    assert _presentation_imports(module) == [
        "report.py:2 flask.get_template_attribute",
        "report.py:3 jinja2",
    ]
