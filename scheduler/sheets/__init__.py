"""Printed and exported rosters: sign-in sheets, wall chart, personal schedule, headcount
(HTML with print CSS, and PDF), XLSX/CSV exports. Read published versions only."""

from flask import Blueprint

bp = Blueprint("sheets", __name__, url_prefix="/sheets")

from scheduler.sheets import exports, routes  # noqa: E402, F401  (their views register on bp)
