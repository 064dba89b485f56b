from scheduler.volunteer import calendar, hours, routes, shifts, urgent  # noqa: F401  (add routes to bp)
