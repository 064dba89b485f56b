"""A queued solve run whose job was lost (its thread ended without running it, its RQ job is
missing or failed, or it has waited longer than JOBS_QUEUED_TIMEOUT) is failed, as a stale
running run is, so it no longer blocks later runs and self-sign-up."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask import Flask, current_app
from sqlalchemy import select

from scheduler import jobs
from scheduler.extensions import db
from scheduler.models import SolveRun
from scheduler.models.base import set_clock, utcnow
from scheduler.services import rosters
from tests.test_planning import SmallWorld, build_small_world


@pytest.fixture
def small(
    any_db_app: Flask, make_site: Any, make_volunteer: Any, monkeypatch: pytest.MonkeyPatch
) -> SmallWorld:
    any_db_app.config.update(JOBS_SYNCHRONOUS=False, JOBS_SOLVER_WORKERS=1)
    return build_small_world(make_site, make_volunteer)


def start(world: SmallWorld) -> SolveRun:
    return rosters.start_run(world.period, [world.checkpoint.id, world.testing.id], 5, None)


def status_of(run_id: int) -> SolveRun:
    db.session.expire_all()
    run = db.session.get(SolveRun, run_id)
    assert run is not None
    return run


def test_a_queued_run_older_than_the_bound_is_failed_and_no_longer_blocks(
    small: SmallWorld,
) -> None:
    current_app.config["JOBS_QUEUED_TIMEOUT"] = 600
    run = start(small)  # never handed to a runner: its job is lost
    assert rosters.solving(small.period.id)
    set_clock(utcnow() + timedelta(seconds=599))
    assert rosters.solving(small.period.id)
    assert status_of(run.id).status == "queued"
    set_clock(utcnow() + timedelta(seconds=2))
    assert not rosters.solving(small.period.id)
    failed = status_of(run.id)
    assert failed.status == "failed"
    assert "queue" in (failed.error or "")
    assert failed.finished_at is not None
    # The next run starts.
    assert start(small).status == "queued"


def test_a_queued_run_whose_thread_ended_without_running_it_is_failed(
    small: SmallWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The thread runs nothing (as when it dies before claiming the run).
    monkeypatch.setattr(jobs, "_run_in_app", lambda app, run_id: None)
    run = start(small)
    jobs.submit(run.id)
    future = jobs.future_of(run.id)
    assert future is not None
    future.result(timeout=30)
    assert status_of(run.id).status == "queued"
    assert not rosters.solving(small.period.id)
    lost = status_of(run.id)
    assert lost.status == "failed"
    assert "lost" in (lost.error or "")


def test_a_queued_run_whose_thread_is_still_pending_stays_queued(
    small: SmallWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    release = threading.Event()
    monkeypatch.setattr(jobs, "_run_in_app", lambda app, run_id: release.wait(30))
    run = start(small)
    jobs.submit(run.id)
    try:
        assert rosters.solving(small.period.id)
        assert status_of(run.id).status == "queued"
    finally:
        release.set()
        future = jobs.future_of(run.id)
        assert future is not None
        future.result(timeout=30)


class FakeJob:
    def __init__(self, status: str) -> None:
        self.status = status

    def get_status(self, refresh: bool = True) -> str:
        return self.status


@pytest.mark.parametrize(
    ("job_state", "lost"),
    [
        ("missing", True),
        ("failed", True),
        ("stopped", True),
        ("canceled", True),
        ("queued", False),
        ("started", False),
        ("redis down", False),
    ],
)
def test_with_redis_a_run_whose_rq_job_is_gone_is_failed(
    small: SmallWorld, monkeypatch: pytest.MonkeyPatch, job_state: str, lost: bool
) -> None:
    from rq.exceptions import NoSuchJobError
    from rq.job import Job

    enqueued: list[dict[str, Any]] = []

    class FakeQueue:
        connection = object()

        def enqueue(self, func: Any, *args: Any, **kwargs: Any) -> None:
            enqueued.append(kwargs)

    fetched: list[str] = []

    def fetch(job_id: str, connection: Any = None) -> FakeJob:
        fetched.append(job_id)
        if job_state == "missing":
            raise NoSuchJobError(job_id)
        if job_state == "redis down":
            raise ConnectionError("redis is down")
        return FakeJob(job_state)

    current_app.config.update(REDIS_URL="redis://example.invalid:1/0")
    monkeypatch.setattr(jobs, "queue_for", lambda app: FakeQueue())
    monkeypatch.setattr(Job, "fetch", staticmethod(fetch))
    run = start(small)
    jobs.submit(run.id)
    assert enqueued[0]["job_id"] == jobs.rq_job_id(run.id)
    # Past the enqueue grace: a missing job is no longer one about to be enqueued.
    set_clock(utcnow() + timedelta(seconds=current_app.config["JOBS_ENQUEUE_GRACE"] + 1))
    assert rosters.solving(small.period.id) is not lost
    assert fetched == [jobs.rq_job_id(run.id)]
    assert status_of(run.id).status == ("failed" if lost else "queued")


def test_with_redis_a_run_not_enqueued_yet_is_not_lost_within_the_grace(
    small: SmallWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    """start_run commits the queued run before submit enqueues it: a solving() check in
    that window finds no RQ job, and must not fail the run."""
    from rq.exceptions import NoSuchJobError
    from rq.job import Job

    def fetch(job_id: str, connection: Any = None) -> FakeJob:
        raise NoSuchJobError(job_id)

    class FakeQueue:
        connection = object()

    current_app.config.update(REDIS_URL="redis://example.invalid:1/0", JOBS_ENQUEUE_GRACE=30)
    monkeypatch.setattr(jobs, "queue_for", lambda app: FakeQueue())
    monkeypatch.setattr(Job, "fetch", staticmethod(fetch))
    run = start(small)  # committed, not enqueued yet
    set_clock(utcnow() + timedelta(seconds=29))
    assert rosters.solving(small.period.id)
    assert status_of(run.id).status == "queued"
    set_clock(utcnow() + timedelta(seconds=2))
    assert not rosters.solving(small.period.id)
    assert status_of(run.id).status == "failed"


def test_a_lost_queued_run_no_longer_blocks_self_signup(small: SmallWorld) -> None:
    from scheduler.models import Role
    from scheduler.services import signup

    current_app.config["JOBS_QUEUED_TIMEOUT"] = 60
    start(small)
    small.period.self_signup_open = True
    db.session.commit()
    volunteer = small.people["checker"].volunteer
    assert volunteer is not None
    checker = db.session.scalars(select(Role).where(Role.code == "code_checker")).one()
    post = f"{small.period.id}:{small.checkpoint.id}:2026-12-07:day:{checker.id}"
    with pytest.raises(signup.SignupError, match="regenerated"):
        signup.claim(volunteer, post)
    set_clock(utcnow() + timedelta(seconds=61))
    claimed = signup.claim(volunteer, post)
    assert (claimed.volunteer_id, claimed.source) == (volunteer.id, "self_signup")
