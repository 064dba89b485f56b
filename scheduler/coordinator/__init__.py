from scheduler.coordinator import (  # noqa: F401
    claim_codes,
    dropouts,
    imports,
    roster_edit,
    roster_repair,
    rosters,
    routes,
    signup_toggle,
    urgent,
)
