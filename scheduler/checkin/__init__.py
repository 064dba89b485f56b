"""On-site check-in by the shift's site lead, and service hours."""

from flask import Blueprint

bp = Blueprint("checkin", __name__, url_prefix="/checkin")

from scheduler.checkin import messages, routes  # noqa: E402, F401  (their views register on bp)
