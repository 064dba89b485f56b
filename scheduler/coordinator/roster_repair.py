"""Repairing drop-outs from the roster page: start a minimal-change re-solve that fills the
holes volunteers left, then review the proposed moves and confirm (publishing a new version
through coordinator.roster_publish). Staff only."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext
from flask_login import current_user

from scheduler import jobs
from scheduler.access import get_or_404, staff_required
from scheduler.coordinator import bp
from scheduler.coordinator.roster_edit import PublishForm
from scheduler.coordinator.rosters import status_context
from scheduler.forms import EmptyForm
from scheduler.models import PlanningPeriod
from scheduler.services import my_shifts, publishing, rosters, urgent
from scheduler.services.repair import start_repair
from scheduler.services.rosters import RosterError


@bp.post("/periods/<int:period_id>/roster/repair")
@staff_required
def roster_repair(period_id: int) -> Any:
    """Start the repair run and go to its confirm page (back to the roster when refused)."""
    period = get_or_404(PlanningPeriod, period_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        run = start_repair(period, current_user)
    except RosterError as error:
        flash(str(error.message), "error")
        return redirect(url_for("coordinator.roster", period_id=period.id))
    jobs.submit(run.id)
    flash(gettext("Repair started."))
    return redirect(url_for("coordinator.roster_repair_confirm", period_id=period.id))


@bp.get("/periods/<int:period_id>/roster/repair")
@staff_required
def roster_repair_confirm(period_id: int) -> str:
    """The repair run's status, the holes, and the moves publishing the draft would make,
    with the button that publishes them as a new version."""
    period = get_or_404(PlanningPeriod, period_id)
    rosters.fail_stale_runs(period.id)
    run = rosters.latest_run(period.id)
    return render_template(
        "coordinator/roster_repair.html",
        holes=my_shifts.cancelled_posts(period),
        requests=[
            r for r in urgent.requests_of(period) if r.status in (urgent.OPEN, urgent.PARTLY_FILLED)
        ],
        form=PublishForm.for_period(period),
        diff=publishing.draft_diff(period),
        **status_context(period, run),
    )
