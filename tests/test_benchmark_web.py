"""`python -m benchmarks.web` on a tiny load: it starts gunicorn, drives every scenario over
real HTTP and counts the rows afterwards. Not timed: only that it runs and that nothing is
lost, duplicated or refused."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.fixtures.redis_server import free_port

ROOT = Path(__file__).resolve().parent.parent


def test_web_benchmark_runs_on_a_tiny_load(tmp_path: Path) -> None:
    out = tmp_path / "web.json"
    command = [sys.executable, "-m", "benchmarks.web", "--databases", "sqlite", "--workers", "2"]
    command += ["--threads", "1,2"]  # sync workers, then gthread workers of 2 threads
    command += ["--port", str(free_port()), "--clients", "2", "--volunteers", "3", "--taps", "3"]
    command += ["--me-requests", "4", "--claims", "3", "--seed-volunteers", "30"]
    command += ["--solve-seconds", "5", "--max-seconds", "60", "--json", str(out)]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]

    report = json.loads(out.read_text())
    assert report["machine"]["cores"] >= 1
    assert report["hash_bound_registrations_per_s"] > 0
    sync, gthread = report["runs"]
    assert (sync["database"], sync["workers"], sync["threads"]) == ("sqlite", 2, 1)
    assert (gthread["database"], gthread["workers"], gthread["threads"]) == ("sqlite", 2, 2)
    for run in (sync, gthread):
        check_run(run)


def check_run(run: dict[str, Any]) -> None:
    for scenario in ("register", "taps", "my_shifts", "claim"):
        assert run[scenario]["requests"] > 0, scenario
        assert run[scenario]["errors"] == {}, (scenario, run[scenario]["errors"])
        assert run[scenario]["p50_ms"] <= run[scenario]["p99_ms"]
    # the taps scenario's requests of each kind on their own: the grid pages and the taps
    kinds = run["taps"]["by_request"]
    assert set(kinds) == {"GET /me/availability", "POST /me/availability/cell"}
    assert sum(kind["requests"] for kind in kinds.values()) == run["taps"]["requests"]
    assert run["register"]["registrations"] == 3
    before, after = run["register"]["hash_ms_around"]  # the hash timed around the scenario
    assert before > 0
    assert after > 0
    assert run["register"]["hash_bound_registrations_per_s"] > 0
    assert run["register"]["share_of_hash_bound"] > 0
    # the workers timed each registration's hash, and only the hashes of the scenario's window
    # are counted (the gthread run's workers write beside the sync run's)
    assert run["register"]["hashes_in_workers"] == 3
    assert run["register"]["hash_ms_in_workers"] > 0
    assert run["register"]["share_of_worker_hash_bound"] > 0
    rows = run["rows"]
    assert rows["users_created"] == rows["registrations_ok"] == 3
    assert rows["users_match"]
    assert rows["availability_rows"] == rows["availability_expected"]
    assert rows["availability_mismatched_volunteers"] == 0
    assert rows["duplicate_phones"] == 0
    assert rows["claims_won"] == 1
    assert rows["claim_post_filled"] == rows["claim_post_headcount"]
    assert rows["claim_post_duplicate_volunteers"] == 0
