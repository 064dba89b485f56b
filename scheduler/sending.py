"""Sending runs by itself: a delivery pass (services.delivery.deliver_pending) every
NOTIFY_LOOP_SECONDS, so a reminder or a message queued while a sender was down goes out
without anyone running a command.

* In development, `flask run` (what `make run` starts) runs the passes in a background thread
  of the server process: started once per process, never in the reloader's watching parent,
  never in tests, gunicorn or other flask commands.
* In production, the RQ worker (`flask --app wsgi worker`, which runs RQ's scheduler) keeps a
  chain of delivery jobs on the "notify" queue: each job runs one pass and enqueues the next
  with `enqueue_in`. A Redis key the chain refreshes tells a starting worker whether the
  chain is alive, so a restarted worker resumes it and several workers share one chain.

`flask --app wsgi send-notifications` still runs one pass by hand (or from cron).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from datetime import timedelta
from typing import Any

import click
from flask import Flask, current_app, has_app_context

from scheduler.extensions import db
from scheduler.services.delivery import DeliveryReport, deliver_pending
from scheduler.services.senders import sender_from_config

__all__ = [
    "NOTIFY_QUEUE",
    "deliver_once",
    "delivery_job",
    "ensure_delivery_chain",
    "notify_queue_for",
    "start_delivery_thread",
]

log = logging.getLogger(__name__)

NOTIFY_QUEUE = "muster-notify"
# The Redis key the job chain refreshes: present while a chain is alive.
CHAIN_KEY = "muster:delivery-chain"
DEFAULT_SECONDS = 30
BATCH = 100  # messages of each sort per pass

_started = False
_started_lock = threading.Lock()
# Whether this process is a fork (RQ's work horse): its pooled connections are the parent's.
_forked = False


def _after_fork() -> None:
    global _forked
    _forked = True


os.register_at_fork(after_in_child=_after_fork)


def _seconds(app: Flask) -> int:
    return int(app.config.get("NOTIFY_LOOP_SECONDS", DEFAULT_SECONDS) or 0)


def _more_waiting(report: DeliveryReport | None) -> bool:
    """Whether the pass took a full batch (a publish to a thousand people): then the next
    pass starts at once instead of after NOTIFY_LOOP_SECONDS."""
    return report is not None and report.sent + report.retried + report.failed >= BATCH


def deliver_once(app: Flask) -> DeliveryReport | None:
    """One delivery pass with the configured sender in its own app context; a failure is
    logged (the next pass tries again), never raised."""
    with app.app_context():
        try:
            return deliver_pending(sender_from_config(app.config), batch=BATCH)
        except Exception:
            log.exception("delivery pass failed; the next one retries")
            db.session.rollback()
            return None
        finally:
            db.session.remove()


def _under_flask_run(app: Flask) -> bool:
    """Whether this process is the one `flask run` serves requests from: the command is
    "run", and it is not the reloader's parent (which only watches files and restarts the
    server: the server runs in a child with WERKZEUG_RUN_MAIN=true)."""
    ctx = click.get_current_context(silent=True)
    if ctx is None or ctx.info_name != "run":
        return False
    reload = ctx.params.get("reload")
    uses_reloader = app.debug if reload is None else bool(reload)
    return not uses_reloader or os.environ.get("WERKZEUG_RUN_MAIN") == "true"


def start_delivery_thread(app: Flask, *, force: bool = False) -> threading.Thread | None:
    """Under `flask run` (or `force`), start the background thread that runs a delivery pass
    every NOTIFY_LOOP_SECONDS (0: never), once per process. Not in tests (TESTING) unless
    forced, and not when REDIS_URL hands delivery to the RQ worker."""
    seconds = _seconds(app)
    if seconds <= 0:
        return None
    if not force and (app.testing or app.config.get("REDIS_URL") or not _under_flask_run(app)):
        return None
    global _started
    with _started_lock:
        if _started and not force:
            return None
        _started = True
    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            report = deliver_once(app)
            stop.wait(0 if _more_waiting(report) else seconds)

    thread = threading.Thread(target=loop, name="muster-delivery", daemon=True)
    thread.stop = stop  # type: ignore[attr-defined]  # tests stop the loop they forced
    thread.start()
    log.info("delivering messages every %s s in a background thread", seconds)
    return thread


def notify_queue_for(app: Flask, connection: Any = None) -> Any:
    """The RQ queue delivery jobs run on (REDIS_URL), on `connection` when given."""
    from redis import Redis
    from rq import Queue

    return Queue(NOTIFY_QUEUE, connection=connection or Redis.from_url(app.config["REDIS_URL"]))


def _schedule_next(app: Flask, queue: Any, delay: float) -> None:
    seconds = _seconds(app)
    if seconds <= 0:
        return
    queue.connection.set(CHAIN_KEY, str(time.time()), ex=max(4 * seconds, 120))
    queue.enqueue_in(timedelta(seconds=delay), delivery_job, job_timeout=600)


def ensure_delivery_chain(app: Flask, queue: Any) -> bool:
    """Start the chain of delivery jobs unless one is alive (its key was refreshed lately);
    True when this call started it. A worker calls this as it starts."""
    seconds = _seconds(app)
    if seconds <= 0:
        return False
    if not queue.connection.set(CHAIN_KEY, "starting", nx=True, ex=max(4 * seconds, 120)):
        return False
    queue.enqueue(delivery_job, job_timeout=600)
    return True


def delivery_job() -> None:
    """The RQ job: one delivery pass, then the next one enqueued NOTIFY_LOOP_SECONDS later
    (whatever happened in this one)."""
    if has_app_context():
        if _forked:
            # RQ forks a child per job: the connections pooled by the parent are not ours.
            db.engine.dispose(close=False)
        # Flask types current_app as the app; the proxy's _get_current_object is unknown to mypy.
        app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    else:
        from scheduler import create_app

        app = create_app()
    report = None
    try:
        report = deliver_once(app)
    finally:
        _schedule_next(app, notify_queue_for(app), 1 if _more_waiting(report) else _seconds(app))
