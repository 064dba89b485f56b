"""The solver's modules import one way: no cycle, counting imports inside functions too."""

from __future__ import annotations

import ast
from pathlib import Path

SOLVER = Path(__file__).resolve().parents[2] / "solver"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SOLVER.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def solver_imports(path: Path, known: set[str]) -> set[str]:
    """Solver modules imported anywhere in ``path`` (module level or inside functions)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        found |= {name for name in names if name in known}
    return found


def graph() -> dict[str, set[str]]:
    paths = {module_name(p): p for p in SOLVER.rglob("*.py")}
    known = set(paths)
    # the package's own __init__ re-exports; it sits above every module, so leave it out
    return {
        name: solver_imports(path, known) - {"solver", name}
        for name, path in paths.items()
        if name != "solver"
    }


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    found: list[list[str]] = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                found.append([*stack[stack.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node)
    return found


def test_the_solver_has_no_import_cycle() -> None:
    edges = graph()
    assert "solver.cpsat" in edges
    assert cycles(edges) == []


def test_the_cycle_finder_sees_function_level_imports(tmp_path: Path) -> None:
    assert cycles({"a": {"b"}, "b": {"a"}}) == [["a", "b", "a"]]
    source = tmp_path / "m.py"
    source.write_text("def f():\n    from solver.cpsat import solve_flat\n", encoding="utf-8")
    assert solver_imports(source, {"solver.cpsat"}) == {"solver.cpsat"}


def test_the_dispatcher_sits_above_the_searches() -> None:
    edges = graph()
    assert {"solver.cpsat", "solver.decompose", "solver.windowed"} <= edges["solver.dispatch"]
    for below in ("solver.cpsat", "solver.decompose", "solver.windowed", "solver.construct"):
        assert "solver.dispatch" not in edges[below]
