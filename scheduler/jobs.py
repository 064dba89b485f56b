"""Background solve runs. One function, `execute_run(run_id)`, does the work wherever it runs:

* by default in a background thread of the app process (one at a time; nothing to install);
* with ``REDIS_URL`` set, on RQ workers (``flask --app wsgi worker``);
* with ``JOBS_SYNCHRONOUS`` (tests), inline in the request that submits the run.

Status and progress live in the `SolveRun` row, which the status fragment polls. A run that
raises is marked failed with the reason and writes nothing else: the draft and every published
version stay as they were.

Cancelling: a queued run, or one still building its problem, stops and writes nothing. A
cancel during the search stops it (the solver's `should_stop` hook, fed by the progress hook,
which reads the flag on its own connection at least every couple of seconds) and the best
roster found so far is saved, marked STOPPED.
"""

from __future__ import annotations

import logging
import math
import threading
import time
import weakref
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import timedelta
from typing import Any

from flask import Flask, current_app, has_app_context
from flask_babel import force_locale
from sqlalchemy import select, update
from sqlalchemy.engine import Engine

import solver
from scheduler.extensions import db, rowcount
from scheduler.models import PlanningPeriod, SolveRun
from scheduler.models.base import utcnow
from scheduler.models.rosters import CANCELLED, FAILED, QUEUED, RUNNING, SUCCEEDED
from scheduler.planning import build_problem, repair_holes, save_solution
from scheduler.services.coverage import held_in, roster_coverage
from scheduler.services.holes import fillable_of
from scheduler.services.hours import no_show_counts
from scheduler.services.lookups import current_draft

__all__ = [
    "execute_run",
    "job_lost",
    "run_queued_job",
    "submit",
]

log = logging.getLogger(__name__)

PROGRESS_INTERVAL = 0.5  # seconds between two progress writes
# Extra seconds an RQ job may take beyond its time limit (building the problem, saving).
JOB_GRACE = 600
DEFAULT_QUEUE = "muster-solve"

_executor: ThreadPoolExecutor | None = None
_executor_lock = threading.Lock()
# The thread runner's futures of this process, by app and run id: a queued run whose future is
# done never ran (its thread died, or the pool was shut down) -- see job_lost. By app, because
# run ids are only unique within one database and a process may serve several apps (tests).
_futures: weakref.WeakKeyDictionary[Flask, dict[int, Future[None]]] = weakref.WeakKeyDictionary()

# solver_status of a run whose search a coordinator stopped (the roster found so far is kept).
STOPPED = "STOPPED"


class RunCancelled(Exception):
    """The run was cancelled before its search started."""


def submit(run_id: int) -> None:
    """Hand a queued run to the configured runner and return at once (inline in tests)."""
    config = current_app.config
    if config.get("JOBS_SYNCHRONOUS"):
        execute_run(run_id)
        return
    if config.get("REDIS_URL"):
        try:
            _enqueue(run_id)
        except Exception as error:  # Redis down: say so on the run instead of leaving it queued
            log.exception("could not enqueue solve run %s", run_id)
            _mark_failed(run_id, f"could not reach the job queue: {error}")
        return
    # Flask types current_app as the app; the proxy's _get_current_object is unknown to mypy.
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    with _executor_lock:
        futures = _futures.setdefault(app, {})
        for done in [rid for rid, future in futures.items() if future.done()]:
            del futures[done]
    future = _thread_pool().submit(_run_in_app, app, run_id)
    with _executor_lock:
        futures[run_id] = future


def future_of(run_id: int) -> Future[None] | None:
    """This process's thread-runner future of the current app's run `run_id`, if any."""
    # Flask types current_app as the app; the proxy's _get_current_object is unknown to mypy.
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    with _executor_lock:
        return _futures.get(app, {}).get(run_id)


def _thread_pool() -> ThreadPoolExecutor:
    global _executor
    with _executor_lock:
        if _executor is None:
            # One run at a time per process: a solve already uses the cores it is given.
            _executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="muster-solve")
        return _executor


def _run_in_app(app: Flask, run_id: int) -> None:
    with app.app_context():
        try:
            execute_run(run_id)
        finally:
            db.session.remove()


def queue_for(app: Flask, connection: Any = None) -> Any:
    """The RQ queue solve runs go to (REDIS_URL, JOBS_QUEUE), on `connection` when given."""
    from redis import Redis
    from rq import Queue

    connection = connection or Redis.from_url(app.config["REDIS_URL"])
    return Queue(app.config.get("JOBS_QUEUE", DEFAULT_QUEUE), connection=connection)


def rq_job_id(run_id: int) -> str:
    """The RQ job id of a run (fixed, so the job can be looked up from the run alone)."""
    return f"muster-solve-run-{run_id}"


def _enqueue(run_id: int) -> None:
    run = db.session.get(SolveRun, run_id)
    limit = run.time_limit if run is not None else 0
    # Flask types current_app as the app; the proxy's _get_current_object is unknown to mypy.
    queue = queue_for(current_app._get_current_object())  # type: ignore[attr-defined]
    queue.enqueue(run_queued_job, run_id, job_timeout=limit + JOB_GRACE, job_id=rq_job_id(run_id))


# RQ job states in which a job whose run is still queued will never run it.
_RQ_GONE = ("finished", "failed", "stopped", "canceled")


def job_lost(run: SolveRun) -> bool:
    """Whether a queued run's job is known to be gone, so the run will never start: its
    thread in this process finished or died without claiming it, or (with REDIS_URL) its RQ
    job is missing from Redis, failed, stopped or cancelled. False when nothing is known
    (another process's thread, Redis unreachable): the age bound in
    `scheduler.services.rosters.fail_stale_runs` covers those."""
    config = current_app.config
    if config.get("JOBS_SYNCHRONOUS"):
        return False
    if config.get("REDIS_URL"):
        return _rq_job_lost(run)
    future = future_of(run.id)
    return future is not None and future.done()


def _rq_job_lost(run: SolveRun) -> bool:
    from rq.exceptions import NoSuchJobError
    from rq.job import Job

    run_id = run.id
    try:
        # Flask types current_app as the app; the proxy's _get_current_object is unknown to mypy.
        queue = queue_for(current_app._get_current_object())  # type: ignore[attr-defined]
        job = Job.fetch(rq_job_id(run_id), connection=queue.connection)
        status = job.get_status(refresh=False)
    except NoSuchJobError:
        # start_run commits the queued run before submit enqueues its job: a missing job
        # is lost only once the run is older than that window (JOBS_ENQUEUE_GRACE).
        grace = timedelta(seconds=current_app.config.get("JOBS_ENQUEUE_GRACE", 30))
        return utcnow() - run.created_at > grace
    except Exception:  # Redis down: unknown, not lost
        log.warning("could not look up the RQ job of solve run %s", run_id, exc_info=True)
        return False
    return status is None or str(getattr(status, "value", status)) in _RQ_GONE


def run_queued_job(run_id: int) -> None:
    """The RQ job: `execute_run` in the worker's app (created here when the worker has none)."""
    if has_app_context():
        # RQ forks a child per job: the connections pooled by the parent must not be shared.
        db.engine.dispose(close=False)
        execute_run(run_id)
        return
    from scheduler import create_app

    app = create_app()
    _run_in_app(app, run_id)


def _mark_failed(run_id: int, reason: object) -> None:
    # Stored in English whatever the deployment's default locale: it is a log line as much as
    # a message, and services may raise lazy (translatable) messages.
    with force_locale("en"):
        text = str(reason)
    db.session.rollback()
    run = db.session.get(SolveRun, run_id)
    if run is None:
        return
    run.status = FAILED
    run.error = text[:2000]
    run.finished_at = utcnow()
    db.session.commit()


class _Progress:
    """The solver's progress hook: writes elapsed time, posts filled, objective and bound into
    the run row at most every PROGRESS_INTERVAL seconds. Called from the solver's threads, so
    it uses its own connection (the engine), never the job's session."""

    def __init__(self, engine: Engine, run_id: int) -> None:
        self.engine = engine
        self.run_id = run_id
        self.lock = threading.Lock()
        self.last_write = -math.inf
        self.cancel_seen = False

    def stop_requested(self) -> bool:
        """The solver's should_stop hook (called from its threads: reads no session)."""
        return self.cancel_seen

    def __call__(self, elapsed: float, objective: float, bound: float, filled: int) -> None:
        now = time.monotonic()
        with self.lock:
            if now - self.last_write < PROGRESS_INTERVAL:
                return
            self.last_write = now
        values = {
            "elapsed": round(max(elapsed, 0.0), 2),
            "posts_filled": max(int(filled), 0),
            "objective": round(objective) if math.isfinite(objective) else None,
            "bound": math.ceil(bound - 1e-6) if math.isfinite(bound) else None,
        }
        try:
            with self.engine.begin() as connection:
                connection.execute(
                    update(SolveRun).where(SolveRun.id == self.run_id).values(**values)
                )
                cancel = connection.scalar(
                    select(SolveRun.cancel_requested).where(SolveRun.id == self.run_id)
                )
        except Exception:  # progress is informative: never let it break the search
            log.exception("could not record progress of solve run %s", self.run_id)
            return
        if cancel and not self.cancel_seen:
            self.cancel_seen = True
            log.info("solve run %s: cancel requested during the search", self.run_id)


def _no_shows(period: PlanningPeriod) -> dict[int, int] | None:
    """What the solver weighs repeat no-shows by: each volunteer's no-shows before the period,
    read only when the period asks to roster them last (scheduler.planning.build_problem)."""
    return no_show_counts(before=period.start_date) if period.deprioritise_no_shows else None


def _cancelled(run_id: int) -> bool:
    return bool(db.session.scalar(select(SolveRun.cancel_requested).where(SolveRun.id == run_id)))


def execute_run(run_id: int) -> None:
    """Run one queued solve: build the problem, solve it, save the roster (only if
    `solver.check` accepts it), record the outcome. Never raises: a failure is recorded on the
    run and nothing else is written."""
    # Claim the run atomically: only a queued run that nobody asked to cancel starts.
    claimed = rowcount(
        update(SolveRun)
        .where(
            SolveRun.id == run_id,
            SolveRun.status == QUEUED,
            SolveRun.cancel_requested.is_(False),
        )
        .values(status=RUNNING, started_at=utcnow())
    )
    db.session.commit()
    if not claimed:
        return  # gone, taken by another worker, or cancelled while queued (see services)
    run = db.session.get(SolveRun, run_id)
    assert run is not None
    db.session.refresh(run)
    started = time.monotonic()
    try:
        site_ids = None if run.all_sites else [site.id for site in run.sites]
        problem, mapping = build_problem(
            run.period,
            site_ids,
            baseline_roster=current_draft(run.period_id),
            minimal_change=run.minimal_change,
            no_shows=_no_shows(run.period),
        )
        run.posts_total = mapping.posts_total
        run.posts_fillable = fillable_of(problem, mapping)
        db.session.commit()
        if _cancelled(run_id):
            raise RunCancelled
        progress = _Progress(db.engine, run_id)
        options: dict[str, Any] = {
            "time_limit": run.time_limit,
            "workers": current_app.config.get("JOBS_SOLVER_WORKERS", 2),
            "seed": 0,
            "on_progress": progress,
            "should_stop": progress.stop_requested,
        }
        if run.minimal_change:
            # A repair fills the holes and changes nothing else they do not force.
            holes = repair_holes(run.period, problem, mapping)
            solution = solver.solve_repair(problem, holes, **options)
        else:
            # solver.solve itself sends city-scale problems to its decomposing solver.
            solution = solver.solve(problem, **options)
        saved = save_solution(run, solution, problem, mapping)
        db.session.refresh(run)
        run.status = SUCCEEDED
        # Counted the one way every page counts posts (services.coverage), on the solved sites.
        counts = roster_coverage(run.period, held_in(saved.roster_id), mapping.site_ids).total
        run.posts_total, run.posts_filled = counts.needed, counts.filled
        run.objective, run.bound = solution.objective, solution.bound
        # A cancel during the search stops it early; the best roster so far is kept.
        run.solver_status = STOPPED if progress.cancel_seen else solution.status
        run.elapsed = round(time.monotonic() - started, 2)
        run.finished_at = utcnow()
        db.session.commit()
    except RunCancelled:
        db.session.rollback()
        run = db.session.get(SolveRun, run_id)
        if run is not None:
            run.status, run.finished_at = CANCELLED, utcnow()
            run.elapsed = round(time.monotonic() - started, 2)
            db.session.commit()
    except Exception as error:
        log.exception("solve run %s failed", run_id)
        _mark_failed(run_id, error if str(error) else type(error).__name__)
