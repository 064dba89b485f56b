"""Reinforcement across districts (issue 13): open a period to volunteers of other districts,
send an urgent request up one level to ask the parent union's pool. The rule of who may be
drawn on lives in scheduler.services.scope (draws_on)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import abort, flash, g, redirect, url_for
from flask_babel import gettext
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from scheduler.access import get_or_404, staff_required
from scheduler.coordinator import bp
from scheduler.coordinator.forms import MultiCheckboxField
from scheduler.forms import EmptyForm
from scheduler.i18n import lazy_gettext as _l
from scheduler.models import PlanningPeriod, UrgentRequest, Volunteer
from scheduler.services import periods, scope, urgent
from scheduler.services.periods import PeriodError
from scheduler.services.urgent import UrgentError


@bp.app_template_global("from_elsewhere")
def from_elsewhere(volunteer: Volunteer) -> bool:
    """Whether a volunteer on one of the user's rosters comes from outside their scope (a
    reinforcement): shown with name, home union and a masked phone, without a link to their
    page (scheduler.services.scope, "Seeing a reinforcing volunteer"). One scope lookup per
    request, however many rows ask."""
    return outside_scope(volunteer.organisation_id)


@bp.app_template_global("outside_scope")
def outside_scope(node_id: int | None) -> bool:
    """Whether a node lies outside the user's scope (see from_elsewhere)."""
    sees: Callable[[int | None], bool] | None = g.get("muster_sees_node")
    if sees is None:
        sees = g.muster_sees_node = scope.node_filter(current_user)
    return not sees(node_id)


@bp.app_template_global("roster_phone")
def roster_phone(volunteer: Volunteer) -> str:
    """A rostered volunteer's number for a coordinator: in full for their own scope's people,
    masked (138****5678) for a reinforcement from elsewhere."""
    return scope.phone_as_seen(
        volunteer.user.phone, volunteer.organisation_id, lambda node: not outside_scope(node)
    )


class ReinforcementForm(FlaskForm):
    """The unions a period is open to (none ticked: its own district only)."""

    node_ids = MultiCheckboxField(_l("Also draw on"), coerce=int)


def reinforcement_form(period: PlanningPeriod, **kwargs: Any) -> ReinforcementForm:
    form = ReinforcementForm(**kwargs)
    form.node_ids.choices = [(n.id, n.name) for n in scope.reinforcement_choices(period)]
    if "formdata" in kwargs:
        form.node_ids.data = [n.id for n in period.reinforcements]
    return form


def reinforcement_context(period: PlanningPeriod) -> dict[str, Any]:
    """What the roster page says about whom the period draws on, and the form to change it
    for those allowed to."""
    node = period.organisation
    return {
        "reinforcements": period.reinforcements,
        "escalated_to": node.parent if node is not None and scope.escalated(period.id) else None,
        "reinforce_form": (
            reinforcement_form(period, formdata=None)
            if scope.may_open_to_others(current_user, period)
            else None
        ),
    }


@bp.post("/periods/<int:period_id>/reinforcements")
@staff_required
def period_reinforcements(period_id: int) -> Response:
    """Open the period to the ticked unions' volunteers (or close it to all of them)."""
    period = get_or_404(PlanningPeriod, period_id)
    if not scope.may_open_to_others(current_user, period):
        abort(403)
    form = reinforcement_form(period)
    if not form.validate_on_submit():
        flash(gettext("Choose among the unions listed."), "error")
    else:
        try:
            periods.set_reinforcements(period, list(form.node_ids.data or []), current_user)
        except PeriodError as error:
            flash(str(error.message), "error")
        else:
            flash(gettext("Saved."))
    return redirect(url_for("coordinator.roster", period_id=period.id))


@bp.post("/urgent/<int:request_id>/escalate")
@staff_required
def urgent_escalate(request_id: int) -> Response:
    """Send the request up one level: the parent union's pool may fill it."""
    request = get_or_404(UrgentRequest, request_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        urgent.escalate(request, current_user)
    except UrgentError as error:
        flash(str(error.message), "error")
    else:
        flash(gettext("Sent up: the union above may now fill it from its volunteers."))
    return redirect(url_for("coordinator.urgent_request", request_id=request.id))
