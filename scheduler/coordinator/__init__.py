"""The coordinator's pages: dashboard, sites, catalogue, periods, the volunteer pool, rosters
(generate, review, edit, repair, publish), urgent requests, messages, imports and claim
codes."""

from flask import Blueprint, abort
from flask_login import current_user

from scheduler.models import Volunteer
from scheduler.services import pool, scope

bp = Blueprint("coordinator", __name__, url_prefix="/coordinator")


def volunteer_or_404(volunteer_id: int) -> Volunteer:
    """The volunteer the URL names, or 404 (also when outside the user's scope)."""
    volunteer = pool.get_volunteer(volunteer_id)
    if volunteer is None or not scope.in_scope(volunteer, current_user):
        abort(404)
    return volunteer


from scheduler.coordinator import (  # noqa: E402, F401  (their views register on bp)
    audit_log,
    callups,
    claim_codes,
    delivery,
    dropouts,
    imports,
    messages,
    period_end,
    reinforcement,
    roster_edit,
    roster_repair,
    rosters,
    routes,
    signup_toggle,
    urgent,
)
