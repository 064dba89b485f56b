from scheduler.coordinator import imports, routes  # noqa: F401
