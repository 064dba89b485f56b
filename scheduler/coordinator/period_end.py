"""Ending a planning period when the emergency is over: from then on the retention clock runs
(RETENTION_DAYS later its volunteers who have no later period are anonymised; see
scheduler.services.retention). Not the same as closing a period for availability."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from werkzeug.wrappers import Response

from scheduler.access import get_or_404, staff_required
from scheduler.coordinator import bp
from scheduler.forms import EmptyForm
from scheduler.models import PlanningPeriod
from scheduler.services import periods
from scheduler.services.periods import PeriodError


@bp.route("/periods/<int:period_id>/end", methods=["GET", "POST"])
@staff_required
def period_end(period_id: int) -> Response | str | tuple[str, int]:
    """Staff: GET explains what ending does; POST (with the confirmation ticked) ends it."""
    period = get_or_404(PlanningPeriod, period_id)
    form = EmptyForm()
    days = int(current_app.config["RETENTION_DAYS"])
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        if request.form.get("confirm") != "1":
            flash(gettext("Tick the box to confirm that the emergency is over."), "error")
        else:
            try:
                periods.close_period(period)
            except PeriodError as error:
                flash(str(error.message), "error")
            else:
                flash(gettext("“%(name)s” has ended.", name=period.name))
                return redirect(url_for("coordinator.periods_list"))
        return render_template("coordinator/period_end.html", period=period, days=days), 422
    return render_template("coordinator/period_end.html", period=period, days=days)
