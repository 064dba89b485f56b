"""`python -m benchmarks.curtois -v` logs the search's steps: each instance runs in a spawned
process (so that its peak memory is its own), which starts without the parent's logging set-up,
and the log used to stay empty."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks import curtois

INSTANCE = Path(__file__).resolve().parents[2] / "benchmarks" / "instances" / "Gen_12x28x3_s1.txt"


def test_verbose_logs_the_search_steps_of_the_spawned_run(
    capfd: pytest.CaptureFixture[str],
) -> None:
    curtois.main(["-v", "--time-limit", "2", "--workers", "1", str(INSTANCE)])

    log = capfd.readouterr().err
    # the neighbourhood search's per-step lines (kind, size, free variables, status)
    assert " free " in log
    assert " best " in log
