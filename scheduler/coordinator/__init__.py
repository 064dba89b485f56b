from scheduler.coordinator import imports, rosters, routes  # noqa: F401
