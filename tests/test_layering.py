"""Imports run one way. Among the modules of scheduler/ and solver/ there is no import cycle,
and nothing imports upward: models import no service, no solver bridge (scheduler.planning),
no job and no blueprint; services import no blueprint; the solver bridge imports no blueprint;
a blueprint imports no other blueprint (what two of them share lives below them).

Imports are read from the source with `ast`, every one of them: the ones inside functions and
under TYPE_CHECKING too, and relative ones."""

from __future__ import annotations

import ast
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("scheduler", "solver")
# Subpackages of scheduler/ that are layers, not blueprints.
LAYERS = {"models", "services"}


@dataclass(frozen=True)
class Import:
    importer: str
    imported: str
    line: int

    def __str__(self) -> str:
        return f"{self.importer} imports {self.imported} (line {self.line})"


def modules(root: Path, packages: Iterable[str] = PACKAGES) -> dict[str, Path]:
    """Dotted module name -> source file, for every module of `packages` under `root`."""
    found = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            parts = path.relative_to(root).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join(parts)] = path
    return found


def imports(found: dict[str, Path]) -> list[Import]:
    """Every import of one of `found` by another (a submodule importing its own package's
    __init__ is not counted: the package runs first anyway)."""

    def resolve(name: str) -> str | None:
        while name and name not in found:
            name = name.rpartition(".")[0]
        return name or None

    edges = []
    for module, path in found.items():
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*parts, base] if base else parts)
                targets = [f"{base}.{alias.name}" for alias in node.names]
            else:
                continue
            for target in targets:
                imported = resolve(target)
                if imported is None or imported == module or module.startswith(imported + "."):
                    continue
                edge = Import(module, imported, node.lineno)
                if edge not in edges:  # `from x import a, b` is one import of x
                    edges.append(edge)
    return edges


def cycles(edges: Iterable[Import]) -> list[list[str]]:
    """The groups of modules that import each other, directly or not (strongly connected
    components of more than one module), each sorted."""
    graph: dict[str, set[str]] = {}
    for edge in edges:
        graph.setdefault(edge.importer, set()).add(edge.imported)
        graph.setdefault(edge.imported, set())
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in sorted(graph[node]):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(groups)


def blueprint_packages(root: Path = ROOT) -> set[str]:
    """Subpackages of scheduler/ other than the layers: one per blueprint."""
    return {
        path.parent.name
        for path in (root / "scheduler").glob("*/__init__.py")
        if path.parent.name not in LAYERS
    }


def blueprint_of(module: str, blueprints: set[str]) -> str | None:
    parts = module.split(".")
    return (
        parts[1] if len(parts) > 1 and parts[0] == "scheduler" and parts[1] in blueprints else None
    )


def in_layer(module: str, layer: str) -> bool:
    return module == layer or module.startswith(layer + ".")


EDGES = imports(modules(ROOT))
BLUEPRINTS = blueprint_packages()


def upward(edges: Iterable[Import], blueprints: set[str]) -> list[Import]:
    """Imports against the direction models -> services -> blueprints."""
    bad = []
    for edge in edges:
        target_blueprint = blueprint_of(edge.imported, blueprints)
        source_blueprint = blueprint_of(edge.importer, blueprints)
        if in_layer(edge.importer, "scheduler.models"):
            above = ("scheduler.services", "scheduler.planning", "scheduler.jobs")
            wrong = target_blueprint is not None or any(in_layer(edge.imported, a) for a in above)
        elif in_layer(edge.importer, "scheduler.services") or edge.importer == "scheduler.planning":
            wrong = target_blueprint is not None
        else:
            wrong = source_blueprint is not None and target_blueprint not in (
                None,
                source_blueprint,
            )
        if wrong:
            bad.append(edge)
    return bad


def test_no_import_cycles_among_scheduler_and_solver_modules() -> None:
    assert cycles(EDGES) == []


def test_no_upward_imports() -> None:
    assert [str(edge) for edge in upward(EDGES, BLUEPRINTS)] == []


def test_the_blueprint_packages_are_the_ones_the_app_registers(app: Flask) -> None:
    registered = {bp.import_name.split(".")[1] for bp in app.blueprints.values()}
    assert registered == BLUEPRINTS


# The checker itself, on a small made-up tree ------------------------------------------------


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    write(
        tmp_path,
        {
            "scheduler/__init__.py": "",
            "scheduler/planning.py": "from scheduler.services import hours\n",
            "scheduler/models/__init__.py": "",
            "scheduler/models/sites.py": "from . import rosters\n",
            "scheduler/models/rosters.py": "",
            "scheduler/services/__init__.py": "",
            "scheduler/services/hours.py": "from ..models import sites\n",
            "scheduler/auth/__init__.py": "",
            "scheduler/auth/routes.py": "from scheduler.services.hours import f\n",
            "scheduler/volunteer/__init__.py": "",
            "scheduler/volunteer/routes.py": "from scheduler.volunteer import forms\n",
            "scheduler/volunteer/forms.py": "",
            "solver/__init__.py": "",
            "solver/a.py": "from solver.b import x\n",
            "solver/b.py": "",
        },
    )
    return tmp_path


def test_the_checker_passes_a_tree_that_imports_one_way(tree: Path) -> None:
    edges = imports(modules(tree))
    assert Import("scheduler.models.sites", "scheduler.models.rosters", 1) in edges
    assert Import("scheduler.services.hours", "scheduler.models.sites", 1) in edges
    assert cycles(edges) == []
    assert blueprint_packages(tree) == {"auth", "volunteer"}
    assert upward(edges, blueprint_packages(tree)) == []


def test_the_checker_finds_a_cycle_through_a_function_level_import(tree: Path) -> None:
    write(
        tree,
        {"scheduler/services/hours.py": "def f():\n    from scheduler import planning\n"},
    )
    assert cycles(imports(modules(tree))) == [["scheduler.planning", "scheduler.services.hours"]]


def test_the_checker_finds_a_cycle_through_relative_imports(tree: Path) -> None:
    write(tree, {"solver/b.py": "from . import a\n"})
    assert cycles(imports(modules(tree))) == [["solver.a", "solver.b"]]


@pytest.mark.parametrize(
    ("path", "text", "found"),
    [
        (
            "scheduler/models/rosters.py",
            "from scheduler.services import hours\n",
            "scheduler.models.rosters imports scheduler.services.hours (line 1)",
        ),
        (
            "scheduler/models/rosters.py",
            "if TYPE_CHECKING:\n    from scheduler.planning import X\n",
            "scheduler.models.rosters imports scheduler.planning (line 2)",
        ),
        (
            "scheduler/services/hours.py",
            "def f():\n    from scheduler.auth import routes\n",
            "scheduler.services.hours imports scheduler.auth.routes (line 2)",
        ),
        (
            "scheduler/planning.py",
            "import scheduler.volunteer.forms\n",
            "scheduler.planning imports scheduler.volunteer.forms (line 1)",
        ),
        (
            "scheduler/auth/routes.py",
            "from scheduler.volunteer.forms import ProfileForm\n",
            "scheduler.auth.routes imports scheduler.volunteer.forms (line 1)",
        ),
    ],
)
def test_the_checker_finds_an_upward_import(tree: Path, path: str, text: str, found: str) -> None:
    write(tree, {path: text})
    edges = imports(modules(tree))
    assert [str(edge) for edge in upward(edges, blueprint_packages(tree))] == [found]
