"""Repairing drop-outs: when volunteers cancel published shifts, a minimal-change re-solve of
the draft fills the holes, and the coordinator publishes the proposed moves as a new version.

A repair is an ordinary solve run (`scheduler.services.rosters.start_run`, same job path):
the solver always takes the current draft as its baseline, and the draft already lacks the
cancelled rows, so mostly only the holes change. `scheduler.planning.build_problem` never
offers a volunteer the (day, shift) slot they cancelled, so nobody is put back on it.
"""

from __future__ import annotations

from flask import current_app
from flask_babel import lazy_gettext as _l

from scheduler.models import PlanningPeriod, SolveRun, User
from scheduler.services import my_shifts, rosters
from scheduler.services.rosters import RosterError

# Short by default: filling a few holes against a fixed baseline is a small search.
DEFAULT_REPAIR_TIME_LIMIT = 20

__all__ = ["DEFAULT_REPAIR_TIME_LIMIT", "repair_time_limit", "start_repair"]


def repair_time_limit() -> int:
    """Seconds a repair run may search (config REPAIR_TIME_LIMIT, default 20)."""
    return int(current_app.config.get("REPAIR_TIME_LIMIT", DEFAULT_REPAIR_TIME_LIMIT))


def start_repair(period: PlanningPeriod, user: User | None) -> SolveRun:
    """Record a queued minimal-change run of all the period's active sites to fill the holes
    volunteers left in the latest published version, and commit; the caller hands it to
    scheduler.jobs.submit. Raises RosterError when there is no hole or a run is active."""
    if not my_shifts.cancelled_posts(period):
        raise RosterError(_l("No volunteer has cancelled a published shift: nothing to repair."))
    site_ids = [s.id for s in rosters.active_sites(period)]
    return rosters.start_run(period, site_ids, repair_time_limit(), user, minimal_change=True)
