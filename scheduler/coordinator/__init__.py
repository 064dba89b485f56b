from scheduler.coordinator import imports, roster_edit, rosters, routes, signup_toggle  # noqa: F401
