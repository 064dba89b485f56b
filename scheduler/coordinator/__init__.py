"""The coordinator's pages: dashboard, sites, catalogue, periods, the volunteer pool, rosters
(generate, review, edit, repair, publish), urgent requests, messages, imports and claim
codes."""

from flask import Blueprint, abort

from scheduler.models import Volunteer
from scheduler.services import pool

bp = Blueprint("coordinator", __name__, url_prefix="/coordinator")


def volunteer_or_404(volunteer_id: int) -> Volunteer:
    """The volunteer the URL names, or 404."""
    volunteer = pool.get_volunteer(volunteer_id)
    if volunteer is None:
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
    roster_edit,
    roster_repair,
    rosters,
    routes,
    signup_toggle,
    urgent,
)
