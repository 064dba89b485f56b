"""Printed and exported rosters: sign-in sheets, wall chart, personal schedule, headcount
(HTML with print CSS, and PDF), XLSX/CSV exports. Read published versions only."""

from scheduler.sheets import exports, routes  # noqa: F401  (add routes to bp)
