"""A volunteer's own pages under /me: availability, profile, shifts, calendar, hours and
urgent calls."""

from flask import Blueprint

bp = Blueprint("volunteer", __name__, url_prefix="/me")

from scheduler.volunteer import calendar, hours, routes, shifts, urgent  # noqa: E402, F401  (their views register on bp)
