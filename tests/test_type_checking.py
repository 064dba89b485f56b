"""Types are checked: `make lint` runs the pinned mypy, strict on solver/ and at the default
level elsewhere, and every `# type: ignore` names its error code and says why."""

from __future__ import annotations

import io
import re
import subprocess
import tokenize
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The packages whose ignores are held to the rule.
CHECKED = ("scheduler", "solver", "benchmarks")
IGNORE = re.compile(r"#\s*type:\s*ignore(?P<codes>\[[^\]]*\])?")
STRICT_FLAGS = {
    "disallow_any_generics",
    "disallow_subclassing_any",
    "disallow_untyped_calls",
    "disallow_untyped_defs",
    "disallow_incomplete_defs",
    "check_untyped_defs",
    "disallow_untyped_decorators",
    "warn_return_any",
    "no_implicit_reexport",
    "strict_equality",
    "extra_checks",
}


def bad_ignores(source: str) -> list[tuple[int, str]]:
    """(line, why) for each `# type: ignore` in `source` that names no error code or gives no
    reason: a comment after it on the same line, or a comment line just above."""
    lines = source.splitlines()
    found = []
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type != tokenize.COMMENT:
            continue
        match = IGNORE.search(token.string)
        if match is None:
            continue
        row = token.start[0]
        if not match.group("codes"):
            found.append((row, "names no error code"))
            continue
        after = token.string[match.end() :].strip()
        above = lines[row - 2].strip() if row >= 2 else ""
        if not after.startswith("#") and not above.startswith("#"):
            found.append((row, "says not why"))
    return found


def test_the_rule_catches_a_bare_ignore_and_one_without_a_reason():
    source = (
        "a = f()  # type: ignore\n"
        "b = g()  # type: ignore[arg-type]\n"
        "# h's stub is wrong about None\n"
        "c = h()  # type: ignore[arg-type]\n"
        "d = k()  # type: ignore[misc]  # k is generated at import\n"
    )
    assert bad_ignores(source) == [(1, "names no error code"), (2, "says not why")]


def test_every_ignore_names_its_code_and_why():
    offenders = [
        f"{path.relative_to(ROOT)}:{row}: {why}"
        for package in CHECKED
        for path in sorted((ROOT / package).rglob("*.py"))
        for row, why in bad_ignores(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []


def test_lint_runs_the_pinned_mypy():
    lines = subprocess.run(
        ["make", "-n", "-C", str(ROOT), "lint"], check=True, capture_output=True, text=True
    ).stdout.splitlines()
    assert ".venv/bin/mypy" in lines
    pins = (ROOT / "requirements-dev.txt").read_text(encoding="utf-8")
    assert re.search(r"^mypy==\d+\.\d+\.\d+", pins, re.MULTILINE)


def test_solver_is_strict_and_the_app_is_not():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["mypy"]
    assert set(config["files"]) == {"scheduler", "solver", "benchmarks"}
    # `strict` in an override turns strictness on for every module, so it must not appear.
    assert "strict" not in config
    overrides = config["overrides"]
    assert all("strict" not in o for o in overrides)
    solver = next(o for o in overrides if "solver.*" in o["module"])
    assert {flag for flag in STRICT_FLAGS if solver.get(flag) is True} == STRICT_FLAGS
    for override in overrides:
        if override is solver:
            continue
        assert not STRICT_FLAGS & override.keys()
        # only named third-party modules may skip their missing types
        modules = override["module"]
        assert not any(m.split(".")[0] in {"scheduler", "solver", "benchmarks"} for m in modules)
