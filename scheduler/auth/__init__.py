from scheduler.auth import claim, routes  # noqa: F401
