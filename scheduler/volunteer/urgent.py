"""Urgent requests (紧急求助) from site leads: the lead of a site asks for extra hands there and
follows how far the request is filled. Coordinators fill them (scheduler.coordinator.urgent)."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user

from scheduler.access import volunteer_required
from scheduler.forms import INVALID
from scheduler.models import SITE_LEAD
from scheduler.services import urgent
from scheduler.urgent_forms import new_request_form, post_request
from scheduler.volunteer import bp


@bp.route("/urgent", methods=["GET", "POST"])
@volunteer_required
def urgent_requests() -> Any:
    """Post an urgent request for a site the volunteer leads (?period= picks among the
    periods where they lead a shift) and see the ones they posted."""
    periods = urgent.lead_periods(current_user)
    if current_user.role != SITE_LEAD and not periods:
        abort(403)
    chosen = request.args.get("period", type=int)
    period = next((p for p in periods if p.id == chosen), periods[0] if periods else None)
    form = new_request_form(period) if period is not None else None
    if period is not None and form is not None:
        posted = post_request(period, form)
        if posted is not None:
            flash(gettext("Urgent request posted: the coordinators have been told."))
            return redirect(url_for("volunteer.urgent_requests", period=period.id))
    return (
        render_template(
            "volunteer/urgent.html",
            periods=periods,
            period=period,
            form=form,
            requests=urgent.requests_of(period, current_user) if period is not None else [],
        ),
        INVALID if form is not None and form.is_submitted() else 200,
    )
