"""Urgent requests (紧急求助) for coordinators: post one for a site of a period, see how far
each is filled, the proposed volunteers, fill it through the repair path, withdraw it."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext
from flask_babel import lazy_pgettext as _lp
from flask_login import current_user
from werkzeug.wrappers import Response

from scheduler import jobs
from scheduler.access import get_or_404, staff_required
from scheduler.coordinator import bp
from scheduler.forms import INVALID, EmptyForm
from scheduler.models import PlanningPeriod, UrgentRequest
from scheduler.services import urgent
from scheduler.services.urgent import UrgentError
from scheduler.urgent_forms import new_request_form, post_request

STATUS_LABELS = {
    urgent.OPEN: _lp("urgent request", "open"),
    urgent.PARTLY_FILLED: _lp("urgent request", "partly filled"),
    urgent.FILLED: _lp("urgent request", "filled"),
    urgent.WITHDRAWN: _lp("urgent request", "withdrawn"),
}


@bp.app_template_filter("urgent_status")
def urgent_status(status: str) -> str:
    """An urgent request's status in the reader's language."""
    return str(STATUS_LABELS.get(status, status))


@bp.route("/periods/<int:period_id>/urgent", methods=["GET", "POST"])
@staff_required
def urgent_requests(period_id: int) -> Response | tuple[str, int]:
    """The period's urgent requests with their status, and the form to post one."""
    period = get_or_404(PlanningPeriod, period_id)
    form = new_request_form(period)
    posted = post_request(period, form)
    if posted is not None:
        flash(gettext("Urgent request posted. Fill it from its page."))
        return redirect(url_for("coordinator.urgent_request", request_id=posted.id))
    return (
        render_template(
            "coordinator/urgent_requests.html",
            period=period,
            form=form,
            requests=urgent.requests_of(period),
        ),
        INVALID if form.is_submitted() else 200,
    )


@bp.get("/urgent/<int:request_id>")
@staff_required
def urgent_request(request_id: int) -> str:
    """One request: its posts, how far they are filled, the proposed volunteers."""
    request = get_or_404(UrgentRequest, request_id)
    status = urgent.status_of(request)
    proposals, problem = [], None
    if status.status in (urgent.OPEN, urgent.PARTLY_FILLED):
        try:
            proposals = urgent.proposals(request)
        except UrgentError as error:
            problem = str(error.message)
    return render_template(
        "coordinator/urgent_request.html",
        period=request.period,
        status=status,
        proposals=proposals,
        problem=problem,
        form=EmptyForm(),
        may_escalate=urgent.may_escalate(request, current_user),
    )


@bp.post("/urgent/<int:request_id>/fill")
@staff_required
def urgent_fill(request_id: int) -> Response:
    """Start the repair run that fills the request; the coordinator confirms its moves on the
    repair page, which publishes them as a new version."""
    request = get_or_404(UrgentRequest, request_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        run = urgent.start_fill(request, current_user)
    except UrgentError as error:
        flash(str(error.message), "error")
        return redirect(url_for("coordinator.urgent_request", request_id=request.id))
    jobs.submit(run.id)
    flash(gettext("Filling started."))
    return redirect(url_for("coordinator.roster_repair_confirm", period_id=request.period_id))


@bp.post("/urgent/<int:request_id>/withdraw")
@staff_required
def urgent_withdraw(request_id: int) -> Response:
    """Withdraw a request that is no longer needed."""
    request = get_or_404(UrgentRequest, request_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        urgent.withdraw(request)
    except UrgentError as error:
        flash(str(error.message), "error")
    else:
        flash(gettext("Request withdrawn."))
    return redirect(url_for("coordinator.urgent_request", request_id=request.id))
