"""On-site check-in by the shift's site lead, and service hours."""

from scheduler.checkin import routes  # noqa: F401  (adds routes to bp)
