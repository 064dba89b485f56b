"""Admin pages: accounts and their roles, deactivation, passwords. Admins only."""

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

from scheduler.admin import routes  # noqa: E402, F401  (their views register on bp)
