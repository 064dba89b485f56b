from scheduler.volunteer import routes, shifts  # noqa: F401  (both add routes to bp)
