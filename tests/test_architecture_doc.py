"""docs/architecture.md stays true to the tree: the README points to it, and every file and
folder its layout names exists."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "architecture.md"


def _layout_paths() -> list[str]:
    block = DOC.read_text(encoding="utf-8").split("```")[1]
    paths, parent = [], ""
    for line in block.splitlines():
        match = re.match(r"^( {0,2})([\w./<>-]+)\s", line + " ")
        if match is None or "<" in match[2]:
            continue
        if match[1]:
            paths.append(parent + match[2])
        else:
            parent = match[2] if match[2].endswith("/") else ""
            paths.append(match[2])
    return paths


def test_the_readme_points_into_the_repository() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "(docs/architecture.md)" in readme
    assert "shared/docs/architecture.md" not in readme


def test_every_path_of_the_layout_exists() -> None:
    paths = _layout_paths()
    assert {"scheduler/planning.py", "solver/check.py", "scheduler/services/"} <= set(paths)
    assert [p for p in paths if not (ROOT / p).exists()] == []
