"""Repairing drop-outs from the roster page: start a minimal-change re-solve that fills the
holes volunteers left, then review the proposed moves and confirm (publishing a new version
through coordinator.roster_publish). Staff only."""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user
from sqlalchemy.exc import IntegrityError

from scheduler import jobs
from scheduler.access import get_or_404, staff_required
from scheduler.coordinator.rosters import _status_context
from scheduler.coordinator.routes import bp
from scheduler.extensions import db
from scheduler.forms import EmptyForm
from scheduler.models import PlanningPeriod
from scheduler.services import delivery, my_shifts, repair, rosters, urgent
from scheduler.services.publishing import PublishError
from scheduler.services.repair import RepairError, start_repair
from scheduler.services.rosters import RosterError

UNPROCESSABLE = 422


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


def _confirm_page(
    period: PlanningPeriod, ticked: set[str] | None = None, error: str | None = None
) -> str:
    rosters.fail_stale_runs(period.id)
    run = rosters.latest_run(period.id)
    return render_template(
        "coordinator/roster_repair.html",
        holes=my_shifts.cancelled_posts(period),
        requests=[
            r for r in urgent.requests_of(period) if r.status in (urgent.OPEN, urgent.PARTLY_FILLED)
        ],
        proposal=None if run is not None and run.active else repair.proposal(period),
        ticked=ticked or set(),
        error=error,
        form=EmptyForm(),
        **_status_context(period, run),
    )


@bp.get("/periods/<int:period_id>/roster/repair")
@staff_required
def roster_repair_confirm(period_id: int) -> str:
    """The repair run's status, the holes, and each change publishing the draft would make
    with its reason, the ones that take someone off a shift they were told to tick, and the
    button that publishes them as a new version."""
    return _confirm_page(get_or_404(PlanningPeriod, period_id))


@bp.post("/periods/<int:period_id>/roster/repair/publish")
@staff_required
def roster_repair_publish(period_id: int) -> Any:
    """Publish the repair once every change of a volunteer who was already told is ticked;
    otherwise nothing is published and the page says what is missing."""
    period = get_or_404(PlanningPeriod, period_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    ticked = set(request.form.getlist("approve"))
    try:
        version, _changes = repair.publish_repair(
            period, current_user, ticked, request.form.get("shown")
        )
        db.session.commit()
    except (RepairError, PublishError) as error:
        db.session.rollback()
        return _confirm_page(period, ticked, str(error.message)), UNPROCESSABLE
    except IntegrityError:
        db.session.rollback()
        flash(gettext("Someone published at the same time; check the versions."), "error")
        return redirect(url_for("coordinator.roster_versions", period_id=period.id))
    delivery.deliver_soon(current_app._get_current_object())  # type: ignore[attr-defined]
    flash(gettext("Published as version %(number)d.", number=version.version))
    return redirect(
        url_for("coordinator.roster_version", period_id=period.id, version=version.version)
    )
