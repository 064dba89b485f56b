"""scheduler.jobs: a run that raises fails with its reason and leaves the previous draft
intact; the three runners (inline, thread, RQ) call the same execute_run; progress is written
throttled through its own connection; the `solve` command prints coverage."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select, update

import solver
from scheduler import jobs
from scheduler.extensions import db
from scheduler.models import Assignment, Roster, SolveRun
from scheduler.services import rosters
from tests.test_planning import SmallWorld, build_small_world


@pytest.fixture
def small(app: Flask, make_site: Any, make_volunteer: Any) -> SmallWorld:
    app.config.update(JOBS_SYNCHRONOUS=True, JOBS_SOLVER_WORKERS=1)
    return build_small_world(make_site, make_volunteer)


def start(world: SmallWorld) -> SolveRun:
    return rosters.start_run(world.period, [world.checkpoint.id, world.testing.id], 5, None)


def draft_rows() -> list[tuple[Any, ...]]:
    db.session.expire_all()
    return sorted(
        (a.roster_id, a.site_id, a.day, a.shift, a.role_id, a.volunteer_id)
        for a in db.session.scalars(select(Assignment))
    )


def test_a_run_that_raises_fails_and_leaves_the_draft(
    small: SmallWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = start(small)
    jobs.execute_run(first.id)
    before = draft_rows()
    assert before

    def explode(*args: Any, **kwargs: Any) -> solver.Solution:
        raise RuntimeError("solver exploded")

    monkeypatch.setattr(jobs.solver, "solve", explode)
    second = start(small)
    jobs.execute_run(second.id)
    db.session.expire_all()
    assert second.status == "failed"
    assert second.error == "solver exploded"
    assert second.finished_at is not None
    assert draft_rows() == before
    draft = db.session.scalars(select(Roster)).one()
    assert draft.created_from_run_id == first.id


def test_a_rejected_roster_fails_the_run_and_writes_nothing(
    small: SmallWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = solver.solve

    def forged(problem: solver.Problem, **kwargs: Any) -> solver.Solution:
        solution = real(problem, **kwargs)
        person = problem.people[0]
        shift = next(s for s in problem.shifts if s.kind == "night")
        extra = solver.Assignment(person=person.id, shift=shift.id, role="sampler")
        from dataclasses import replace

        return replace(solution, assignments=(*solution.assignments, extra))

    monkeypatch.setattr(jobs.solver, "solve", forged)
    run = start(small)
    jobs.execute_run(run.id)
    db.session.expire_all()
    assert run.status == "failed"
    assert "hard rule" in (run.error or "")
    assert db.session.scalars(select(Roster)).all() == []


def test_cancelled_before_it_starts_writes_nothing(small: SmallWorld) -> None:
    run = start(small)
    rosters.cancel_run(run)
    jobs.execute_run(run.id)
    db.session.expire_all()
    assert run.status == "cancelled"
    assert run.started_at is None
    assert db.session.scalars(select(Roster)).all() == []


def test_submit_uses_a_background_thread_by_default(small: SmallWorld) -> None:
    from flask import current_app

    current_app.config["JOBS_SYNCHRONOUS"] = False
    run = start(small)
    jobs.submit(run.id)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        db.session.expire_all()
        if db.session.get(SolveRun, run.id).status in ("succeeded", "failed"):  # type: ignore[union-attr]
            break
        time.sleep(0.1)
    db.session.expire_all()
    assert run.status == "succeeded", run.error
    assert db.session.scalars(select(Roster)).one().created_from_run_id == run.id


def test_with_redis_the_run_goes_to_rq_and_runs_the_same_function(
    small: SmallWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flask import current_app

    enqueued: list[tuple[Callable[..., None], tuple[Any, ...], dict[str, Any]]] = []

    class FakeQueue:
        def enqueue(self, func: Callable[..., None], *args: Any, **kwargs: Any) -> None:
            enqueued.append((func, args, kwargs))

    current_app.config.update(JOBS_SYNCHRONOUS=False, REDIS_URL="redis://example.invalid:1/0")
    monkeypatch.setattr(jobs, "queue_for", lambda app: FakeQueue())
    run = start(small)
    jobs.submit(run.id)
    assert len(enqueued) == 1
    func, args, kwargs = enqueued[0]
    assert (func, args) == (jobs.run_queued_job, (run.id,))
    assert kwargs["job_timeout"] == 5 + jobs.JOB_GRACE
    db.session.expire_all()
    assert run.status == "queued"
    func(*args)  # what the RQ worker does
    db.session.expire_all()
    assert run.status == "succeeded"


def test_unreachable_redis_fails_the_run(small: SmallWorld) -> None:
    from flask import current_app

    current_app.config.update(JOBS_SYNCHRONOUS=False, REDIS_URL="redis://127.0.0.1:1/0")
    run = start(small)
    jobs.submit(run.id)
    db.session.expire_all()
    assert run.status == "failed"
    assert "job queue" in (run.error or "")


def test_progress_is_throttled_and_written_with_its_own_connection(small: SmallWorld) -> None:
    run = start(small)
    progress = jobs._Progress(db.engine, run.id)
    progress(1.0, 5000.0, float("-inf"), 7)
    progress(1.1, 4000.0, 100.0, 9)  # within 0.5 s: skipped
    db.session.expire_all()
    assert (run.posts_filled, run.objective, run.bound, run.elapsed) == (7, 5000, None, 1.0)


def test_a_cancel_during_the_search_stops_it_and_keeps_the_roster(
    small: SmallWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_solve = solver.solve
    stop_seen: list[bool] = []

    def solve_then_cancelled(problem: solver.Problem, **kwargs: Any) -> solver.Solution:
        # The coordinator presses Cancel while the search runs; the next progress report
        # reads the flag, and the solver's should_stop hook then says stop.
        with db.engine.begin() as connection:
            connection.execute(
                update(SolveRun).where(SolveRun.id == run.id).values(cancel_requested=True)
            )
        kwargs["on_progress"](0.1, 100.0, 0.0, 0)
        stop_seen.append(kwargs["should_stop"]())
        return real_solve(problem, **kwargs)

    monkeypatch.setattr(jobs.solver, "solve", solve_then_cancelled)
    run = start(small)
    jobs.execute_run(run.id)
    db.session.expire_all()
    assert stop_seen == [True]
    assert run.status == "succeeded"
    assert run.solver_status == jobs.STOPPED
    assert draft_rows(), "the roster found before the stop is kept"


@pytest.fixture
def cli_app(app_factory: Callable[..., Flask]) -> Flask:
    return app_factory(JOBS_SOLVER_WORKERS=1)


def test_cli_solve_prints_coverage_reasons_and_fairness(
    cli_app: Flask, make_site: Any, make_volunteer: Any
) -> None:
    with cli_app.app_context():
        world = build_small_world(make_site, make_volunteer)
        period_id = world.period.id
    result = cli_app.test_cli_runner().invoke(
        args=["solve", "--period", str(period_id), "--time-limit", "5"]
    )
    assert result.exit_code == 0, result.output
    assert "coverage:" in result.output
    assert "of 15 posts filled" in result.output
    assert "unfilled posts:" in result.output
    assert "东卡口 Dec 7 Night" in result.output
    assert "fairness:" in result.output
    assert "most loaded:" in result.output
    missing = cli_app.test_cli_runner().invoke(args=["solve", "--period", "999"])
    assert missing.exit_code != 0
    assert "no planning period" in missing.output
