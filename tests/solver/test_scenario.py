"""benchmarks.scenario: a deterministic generator and a CLI that writes the agreed JSON."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.scenario_gen import generate

ROOT = Path(__file__).resolve().parents[2]
KEYS = {
    "size",
    "seed",
    "volunteers",
    "posts",
    "filled",
    "coverage_bound",
    "fairness_spread",
    "hard_violations",
    "time_to_first_s",
    "wall_s",
    "peak_rss_mb",
    "baselines",
}


def test_generator_is_deterministic_for_a_seed() -> None:
    one, two, other = generate("S", 7), generate("S", 7), generate("S", 8)
    assert one.problem == two.problem
    assert one.problem != other.problem


def test_generator_shape() -> None:
    scenario = generate("S", 1)
    problem = scenario.problem
    assert len(problem.people) == 200
    assert len({s.site for s in problem.shifts}) == 6
    assert len(problem.days) == 7
    checkpoints = [s for s in problem.shifts if "-cp" in s.site]
    testing = [s for s in problem.shifts if "-ts" in s.site]
    assert {s.kind for s in checkpoints} == {"night", "day", "evening"}
    assert {s.kind for s in testing} == {"day", "evening"}
    assert all(4 <= sum(d.min for d in s.demands) <= 6 for s in checkpoints)
    assert all(s.demand("lead") is not None for s in problem.shifts)
    assert all(s.demand("sampler") is not None for s in testing)
    samplers = [p for p in problem.people if "sampler" in p.roles]
    assert 0 < len(samplers) < len(problem.people) / 4
    assert any(not p.accepts_nights for p in problem.people)
    assert any(p.partner for p in problem.people)
    assert {p.weekly_cap for p in problem.people} == {3, 4, 5}


def test_cli_smoke_writes_the_agreed_keys(tmp_path: Path) -> None:
    out = tmp_path / "s.json"
    command = [sys.executable, "-m", "benchmarks.scenario", "--size", "S", "--time-limit", "5"]
    done = subprocess.run(
        [*command, "--json", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(out.read_text())
    assert result.keys() >= KEYS
    assert result["hard_violations"] == 0
    assert result["filled"] <= result["coverage_bound"] <= result["posts"]
    assert 0 <= result["fairness_bound"] <= result["fairness_spread"] + 1e-9
    assert set(result["baselines"]) == {"greedy", "naive"}
    for row in result["baselines"].values():
        assert row.keys() >= KEYS - {"size", "seed", "volunteers", "baselines"}


def test_days_sets_the_horizon_and_keeps_the_default_unchanged() -> None:
    default = generate("XS", 3)
    assert generate("XS", 3, None).problem == default.problem
    long = generate("XS", 3, days=30).problem
    assert len(long.days) == 30
    assert len(long.days) != len(default.problem.days)
    with pytest.raises(ValueError, match="positive"):
        generate("XS", 3, days=0)
