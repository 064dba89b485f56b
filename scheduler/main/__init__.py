"""Landing page, health check, language switch and privacy notice."""

from flask import Blueprint

bp = Blueprint("main", __name__)

from scheduler.main import callup, routes  # noqa: E402, F401  (their views register on bp)
