"""All models, importable from one place (and registered with the metadata on import)."""

from scheduler.models.accounts import (
    ACCOUNT_ROLES,
    ADMIN,
    COORDINATOR,
    LIAISON,
    SITE_LEAD,
    STAFF_ROLES,
    VOLUNTEER,
    User,
    Volunteer,
    VolunteerSkill,
)
from scheduler.models.attendance import Attendance
from scheduler.models.audit import AuditEntry
from scheduler.models.callups import CallUp, CallUpEvent, CallUpRecipient
from scheduler.models.catalogue import Role, Skill
from scheduler.models.codes import OneTimeCode
from scheduler.models.notifications import Notification, RobotMessage
from scheduler.models.organisations import (
    CITY,
    DISTRICT,
    GRASSROOTS,
    ORG_KINDS,
    District,
    Organisation,
    WorkUnit,
)
from scheduler.models.planning import Availability, DayOff, PlanningPeriod, period_sites
from scheduler.models.responses import ShiftResponse
from scheduler.models.rosters import (
    Assignment,
    Roster,
    SolveRun,
    UnfilledPost,
    solve_run_sites,
)
from scheduler.models.sites import SHIFT_KINDS, SITE_KINDS, Demand, Site
from scheduler.models.tree_sync import root_id
from scheduler.models.urgent import UrgentNeed, UrgentRequest

__all__ = [
    "ACCOUNT_ROLES",
    "ADMIN",
    "CITY",
    "COORDINATOR",
    "DISTRICT",
    "GRASSROOTS",
    "LIAISON",
    "ORG_KINDS",
    "SHIFT_KINDS",
    "SITE_KINDS",
    "SITE_LEAD",
    "STAFF_ROLES",
    "VOLUNTEER",
    "Assignment",
    "Attendance",
    "AuditEntry",
    "Availability",
    "CallUp",
    "CallUpEvent",
    "CallUpRecipient",
    "DayOff",
    "Demand",
    "District",
    "Notification",
    "OneTimeCode",
    "Organisation",
    "PlanningPeriod",
    "RobotMessage",
    "Role",
    "Roster",
    "ShiftResponse",
    "Site",
    "Skill",
    "SolveRun",
    "UnfilledPost",
    "UrgentNeed",
    "UrgentRequest",
    "User",
    "Volunteer",
    "VolunteerSkill",
    "WorkUnit",
    "period_sites",
    "root_id",
    "solve_run_sites",
]
