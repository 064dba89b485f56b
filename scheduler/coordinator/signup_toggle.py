"""Opening a planning period for volunteers' self-sign-up (and closing it again)."""

from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext
from werkzeug.wrappers import Response

from scheduler.access import get_or_404, staff_required
from scheduler.coordinator import bp
from scheduler.forms import EmptyForm
from scheduler.models import PlanningPeriod
from scheduler.services import periods
from scheduler.services.periods import PeriodError


@bp.post("/periods/<int:period_id>/self-signup")
@staff_required
def period_self_signup(period_id: int) -> Response:
    """Coordinators: let volunteers claim open posts of the period's draft (`open=1`), or
    stop it (`open=0`). Claims already made stay."""
    period = get_or_404(PlanningPeriod, period_id)
    wanted = request.form.get("open")
    if not EmptyForm().validate_on_submit() or wanted not in ("0", "1"):
        abort(400)
    try:
        periods.set_self_signup(period, wanted == "1")
    except PeriodError as error:
        flash(str(error.message), "error")
        return redirect(url_for("coordinator.periods_list"))
    if period.self_signup_open:
        flash(gettext("Volunteers can now sign up for open posts of “%(name)s”.", name=period.name))
    else:
        flash(gettext("Self-sign-up for “%(name)s” is closed.", name=period.name))
    return redirect(url_for("coordinator.periods_list"))
