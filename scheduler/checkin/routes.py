"""Check-in and service hours."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("checkin", __name__, url_prefix="/checkin")
