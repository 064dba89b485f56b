# ruff: noqa: E501 — the access table below is one route per line, so it reads as a table.
"""Who may reach what: every route × {anonymous, volunteer, site lead, coordinator, admin}
as one table, checked against the app's URL map so a new route without a row fails the suite.
Plus ownership: no id in a URL or form lets a volunteer read or change someone else's data.

Every request the table checks must leave the whole database (and the import folder) exactly
as it was: refused requests write nothing, and no GET ever writes."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from scheduler.extensions import db
from scheduler.models import (
    ADMIN,
    COORDINATOR,
    SITE_LEAD,
    VOLUNTEER,
    Assignment,
    AuditEntry,
    Availability,
    CallUp,
    DayOff,
    Demand,
    District,
    Notification,
    Organisation,
    PlanningPeriod,
    Role,
    Roster,
    ShiftResponse,
    Site,
    Skill,
    SolveRun,
    UrgentNeed,
    UrgentRequest,
    User,
    Volunteer,
    VolunteerSkill,
    WorkUnit,
)
from scheduler.models.base import utcnow
from scheduler.models.rosters import DRAFT, PUBLISHED, SOURCE_SELF_SIGNUP
from scheduler.services import claims, importer
from scheduler.services.accounts import create_account
from scheduler.services.availability import kind_of_start
from scheduler.services.catalogue import ensure_default_catalogue
from tests.fixtures.app import build_app
from tests.fixtures.auth import PASSWORD

ANON = "anonymous"
ROLES = (ANON, VOLUNTEER, SITE_LEAD, COORDINATOR, ADMIN)
GET, POST = "GET", "POST"

# Expected outcomes: an int is a status code; a path is a 302 to that path (query ignored);
# FEAT is an authorised POST, covered by the feature tests (the GET of its form is in the table).
LOGIN = "/login"
ME = "/me"
DASH = "/coordinator/"
FEAT = None
Expected = int | str | None

MON = date(2026, 12, 7)
IMPORT_CSV = "姓名,手机号\n赵导入,13812340001\n".encode()
NEW_PASSWORD = "brand-new-pass-77"
CALENDAR_TOKEN = "the-volunteers-calendar-feed-token-000000000"
CALLUP_TOKEN = "the-call-ups-public-page-token-000"


@dataclass(frozen=True)
class Row:
    """One route: its endpoint, method, URL template (ids filled from the World) and the
    expected outcome for each role in ROLES order."""

    endpoint: str
    method: str
    url: str
    anonymous: Expected
    volunteer: Expected
    site_lead: Expected
    coordinator: Expected
    admin: Expected

    def expected(self, role: str) -> Expected:
        return getattr(self, role)

    @property
    def id(self) -> str:
        return f"{self.method} {self.endpoint}"


R = Row
# fmt: off
ROWS: list[Row] = [
    #  endpoint                           method URL                                                       anon   volunteer  site_lead  coordinator  admin
    R("main.index",                       GET,  "/",                                                        200,   ME,        ME,        DASH,        DASH),
    R("main.healthz",                     GET,  "/healthz",                                                 200,   200,       200,       200,         200),
    R("main.privacy",                     GET,  "/privacy",                                                 200,   200,       200,       200,         200),
    R("main.favicon",                     GET,  "/favicon.ico",                                             200,   200,       200,       200,         200),
    R("main.manifest",                    GET,  "/manifest.webmanifest",                                    200,   200,       200,       200,         200),
    R("main.set_language",                POST, "/language",                                                "/privacy", "/privacy", "/privacy", "/privacy", "/privacy"),
    R("auth.register",                    GET,  "/register",                                                200,   ME,        ME,        DASH,        DASH),
    R("auth.register",                    POST, "/register",                                                422,   ME,        ME,        DASH,        DASH),
    R("auth.login",                       GET,  "/login",                                                   200,   ME,        ME,        DASH,        DASH),
    R("auth.login",                       POST, "/login",                                                   422,   422,       422,       422,         422),
    R("auth.logout",                      POST, "/logout",                                                  "/",   "/",       "/",       "/",         "/"),
    R("auth.claim",                       GET,  "/claim",                                                   200,   ME,        ME,        DASH,        DASH),
    R("auth.claim",                       POST, "/claim",                                                   422,   ME,        ME,        DASH,        DASH),
    R("volunteer.me",                     GET,  "/me",                                                      LOGIN, 200,       200,       DASH,        DASH),
    R("volunteer.availability",           GET,  "/me/availability",                                         LOGIN, 200,       200,       DASH,        DASH),
    R("volunteer.availability_cell",      POST, "/me/availability/cell",                                    LOGIN, FEAT,      FEAT,      DASH,        DASH),
    R("volunteer.availability_day",       POST, "/me/availability/day",                                     LOGIN, FEAT,      FEAT,      DASH,        DASH),
    R("volunteer.availability_day_off",   POST, "/me/availability/day-off",                                 LOGIN, FEAT,      FEAT,      DASH,        DASH),
    R("volunteer.availability_week",      POST, "/me/availability/week",                                    LOGIN, FEAT,      FEAT,      DASH,        DASH),
    R("volunteer.profile",                GET,  "/me/profile",                                              LOGIN, 200,       200,       DASH,        DASH),
    R("volunteer.profile",                POST, "/me/profile",                                              LOGIN, FEAT,      FEAT,      DASH,        DASH),
    R("volunteer.password",               GET,  "/me/password",                                             LOGIN, 200,       200,       200,         200),
    R("volunteer.password",               POST, "/me/password",                                             LOGIN, FEAT,      FEAT,      FEAT,        FEAT),
    R("volunteer.delete",                 GET,  "/me/delete",                                               LOGIN, 200,       200,       403,         403),
    R("volunteer.delete",                 POST, "/me/delete",                                               LOGIN, FEAT,      FEAT,      403,         403),
    R("volunteer.shift",                  GET,  "/me/shifts/{own}",                                         LOGIN, 200,       200,       DASH,        DASH),
    R("volunteer.shift_confirm",          POST, "/me/shifts/{own}/confirm",                                 LOGIN, FEAT,      FEAT,      DASH,        DASH),
    R("volunteer.shift_cancel",           GET,  "/me/shifts/{own}/cancel",                                  LOGIN, 200,       200,       DASH,        DASH),
    R("volunteer.shift_cancel",           POST, "/me/shifts/{own}/cancel",                                  LOGIN, FEAT,      FEAT,      DASH,        DASH),
    R("volunteer.signup_list",            GET,  "/me/signup",                                               LOGIN, 200,       200,       DASH,        DASH),
    # The world's volunteer leads a shift too (every post there is the site lead's): both may ask.
    R("volunteer.urgent_requests",        GET,  "/me/urgent",                                               LOGIN, 200,       200,       DASH,        DASH),
    R("volunteer.urgent_requests",        POST, "/me/urgent",                                               LOGIN, 422,       422,       DASH,        DASH),
    R("volunteer.signup_claim",           POST, "/me/signup/claim",                                         LOGIN, FEAT,      FEAT,      DASH,        DASH),
    R("volunteer.signup_withdraw",        POST, "/me/signup/{own_signup}/withdraw",                         LOGIN, FEAT,      FEAT,      DASH,        DASH),
    R("volunteer.inbox",                  GET,  "/me/inbox",                                                LOGIN, 200,       200,       DASH,        DASH),
    R("volunteer.inbox_read",             POST, "/me/inbox/read",                                           LOGIN, FEAT,      FEAT,      DASH,        DASH),
    R("volunteer.calendar",               GET,  "/me/calendar",                                             LOGIN, 200,       200,       DASH,        DASH),
    R("volunteer.calendar_ics",           GET,  "/me/calendar.ics",                                         LOGIN, 200,       200,       DASH,        DASH),
    R("volunteer.calendar_enable",        POST, "/me/calendar/enable",                                      LOGIN, FEAT,      FEAT,      DASH,        DASH),
    R("volunteer.calendar_rotate",        POST, "/me/calendar/rotate",                                      LOGIN, FEAT,      FEAT,      DASH,        DASH),
    R("volunteer.calendar_revoke",        POST, "/me/calendar/revoke",                                      LOGIN, FEAT,      FEAT,      DASH,        DASH),
    # The volunteer's calendar feed: the secret URL is the key, whoever (a calendar app) asks.
    R("volunteer.calendar_feed",          GET,  "/calendar/{calendar_token}.ics",                           200,   200,       200,       200,         200),
    R("coordinator.dashboard",            GET,  "/coordinator/",                                            LOGIN, 403,       403,       200,         200),
    R("coordinator.sites_list",           GET,  "/coordinator/sites",                                       LOGIN, 403,       403,       200,         200),
    R("coordinator.site_new",             GET,  "/coordinator/sites/new",                                   LOGIN, 403,       403,       200,         200),
    R("coordinator.site_new",             POST, "/coordinator/sites/new",                                   LOGIN, 403,       403,       FEAT,        FEAT),
    R("coordinator.site_edit",            GET,  "/coordinator/sites/{site}/edit",                           LOGIN, 403,       403,       200,         200),
    R("coordinator.site_edit",            POST, "/coordinator/sites/{site}/edit",                           LOGIN, 403,       403,       FEAT,        FEAT),
    R("coordinator.site_archive",         POST, "/coordinator/sites/{site}/archive",                        LOGIN, 403,       403,       FEAT,        FEAT),
    R("coordinator.site_unarchive",       POST, "/coordinator/sites/{archived_site}/unarchive",             LOGIN, 403,       403,       FEAT,        FEAT),
    R("coordinator.catalogue",            GET,  "/coordinator/catalogue",                                   LOGIN, 403,       403,       200,         200),
    R("coordinator.role_new",             GET,  "/coordinator/catalogue/roles/new",                         LOGIN, 403,       403,       200,         200),
    R("coordinator.role_new",             POST, "/coordinator/catalogue/roles/new",                         LOGIN, 403,       403,       FEAT,        FEAT),
    R("coordinator.role_edit",            GET,  "/coordinator/catalogue/roles/{role}/edit",                 LOGIN, 403,       403,       200,         200),
    R("coordinator.role_edit",            POST, "/coordinator/catalogue/roles/{role}/edit",                 LOGIN, 403,       403,       FEAT,        FEAT),
    R("coordinator.role_delete",          POST, "/coordinator/catalogue/roles/{role}/delete",               LOGIN, 403,       403,       FEAT,        FEAT),
    R("coordinator.skill_new",            GET,  "/coordinator/catalogue/skills/new",                        LOGIN, 403,       403,       200,         200),
    R("coordinator.skill_new",            POST, "/coordinator/catalogue/skills/new",                        LOGIN, 403,       403,       FEAT,        FEAT),
    R("coordinator.skill_edit",           GET,  "/coordinator/catalogue/skills/{skill}/edit",               LOGIN, 403,       403,       200,         200),
    R("coordinator.skill_edit",           POST, "/coordinator/catalogue/skills/{skill}/edit",               LOGIN, 403,       403,       FEAT,        FEAT),
    R("coordinator.periods_list",         GET,  "/coordinator/periods",                                     LOGIN, 403,       403,       200,         200),
    R("coordinator.period_new",           GET,  "/coordinator/periods/new",                                 LOGIN, 403,       403,       200,         200),
    R("coordinator.period_new",           POST, "/coordinator/periods/new",                                 LOGIN, 403,       403,       FEAT,        FEAT),
    R("coordinator.period_edit",          GET,  "/coordinator/periods/{period}/edit",                       LOGIN, 403,       403,       200,         200),
    R("coordinator.period_edit",          POST, "/coordinator/periods/{period}/edit",                       LOGIN, 403,       403,       FEAT,        FEAT),
    R("coordinator.period_open",          POST, "/coordinator/periods/{closed_period}/open",                LOGIN, 403,       403,       FEAT,        FEAT),
    R("coordinator.period_close",         POST, "/coordinator/periods/{period}/close",                      LOGIN, 403,       403,       FEAT,        FEAT),
    R("coordinator.roster",               GET,  "/coordinator/periods/{period}/roster",                     LOGIN, 403,       403,       200,         200),
    R("coordinator.roster_generate",      POST, "/coordinator/periods/{period}/roster/runs",                LOGIN, 403,       403,       FEAT,        FEAT),
    R("coordinator.roster_run_status",    GET,  "/coordinator/periods/{period}/roster/runs/{run}",          LOGIN, 403,       403,       200,         200),
    R("coordinator.roster_run_cancel",    POST, "/coordinator/periods/{period}/roster/runs/{run}/cancel",   LOGIN, 403,       403,       FEAT,        FEAT),
    R("coordinator.roster_shift",         GET,  "/coordinator/periods/{period}/roster/shifts/{site}/2026-12-07/day", LOGIN, 403, 403, 200,     200),
    R("coordinator.roster_post",          GET,  "/coordinator/periods/{period}/roster/posts/{site}/2026-12-07/day/{lead_role}", LOGIN, 403, 403, 200, 200),
    R("coordinator.roster_assign",        POST, "/coordinator/periods/{period}/roster/posts/{site}/2026-12-07/day/{lead_role}/assign", LOGIN, 403, 403, FEAT, FEAT),
    R("coordinator.roster_unassign",      POST, "/coordinator/periods/{period}/roster/assignments/{assignment}/unassign", LOGIN, 403, 403, FEAT, FEAT),
    R("coordinator.roster_pin",           POST, "/coordinator/periods/{period}/roster/assignments/{assignment}/pin", LOGIN, 403, 403, FEAT,   FEAT),
    R("coordinator.roster_swap",          GET,  "/coordinator/periods/{period}/roster/assignments/{assignment}/swap", LOGIN, 403, 403, 200,    200),
    R("coordinator.roster_swap_post",     POST, "/coordinator/periods/{period}/roster/assignments/{assignment}/swap", LOGIN, 403, 403, FEAT,   FEAT),
    R("coordinator.roster_publish_confirm", GET, "/coordinator/periods/{period}/roster/publish",            LOGIN, 403,       403,       200,         200),
    R("coordinator.roster_publish",       POST, "/coordinator/periods/{period}/roster/publish",             LOGIN, 403,       403,       FEAT,        FEAT),
    R("coordinator.roster_repair_confirm", GET, "/coordinator/periods/{period}/roster/repair",             LOGIN, 403,       403,       200,         200),
    R("coordinator.roster_repair",        POST, "/coordinator/periods/{period}/roster/repair",              LOGIN, 403,       403,       FEAT,        FEAT),
    R("coordinator.roster_repair_publish", POST, "/coordinator/periods/{period}/roster/repair/publish",     LOGIN, 403,       403,       FEAT,        FEAT),
    R("coordinator.roster_unfilled",      GET,  "/coordinator/periods/{period}/roster/unfilled",            LOGIN, 403,       403,       200,         200),
    R("coordinator.urgent_requests",      GET,  "/coordinator/periods/{period}/urgent",                     LOGIN, 403,       403,       200,         200),
    R("coordinator.urgent_requests",      POST, "/coordinator/periods/{period}/urgent",                     LOGIN, 403,       403,       422,         422),
    R("coordinator.urgent_request",       GET,  "/coordinator/urgent/{urgent}",                             LOGIN, 403,       403,       200,         200),
    R("coordinator.urgent_fill",          POST, "/coordinator/urgent/{urgent}/fill",                        LOGIN, 403,       403,       FEAT,        FEAT),
    R("coordinator.urgent_withdraw",      POST, "/coordinator/urgent/{urgent}/withdraw",                    LOGIN, 403,       403,       FEAT,        FEAT),
    R("coordinator.roster_versions",      GET,  "/coordinator/periods/{period}/roster/versions",            LOGIN, 403,       403,       200,         200),
    R("coordinator.roster_version",       GET,  "/coordinator/periods/{period}/roster/versions/1",          LOGIN, 403,       403,       200,         200),
    R("sheets.roster_csv",                GET,  "/sheets/periods/{period}/roster.csv",                      LOGIN, 403,       403,       200,         200),
    R("sheets.roster_xlsx",               GET,  "/sheets/periods/{period}/roster.xlsx",                     LOGIN, 403,       403,       200,         200),
    R("sheets.index",                     GET,  "/sheets/",                                                 LOGIN, 403,       403,       200,         200),
    R("sheets.signin",                    GET,  "/sheets/sites/{site}/2026-12-11/signin",                   LOGIN, 403,       200,       200,         200),
    R("sheets.signin_pdf",                GET,  "/sheets/sites/{site}/2026-12-11/signin.pdf",               LOGIN, 403,       200,       200,         200),
    R("sheets.signin_day",                GET,  "/sheets/days/2026-12-11/signin",                           LOGIN, 403,       403,       200,         200),
    R("sheets.signin_day_pdf",            GET,  "/sheets/days/2026-12-11/signin.pdf",                       LOGIN, 403,       403,       200,         200),
    R("sheets.wall",                      GET,  "/sheets/periods/{period}/wall",                            LOGIN, 403,       403,       200,         200),
    R("sheets.wall_pdf",                  GET,  "/sheets/periods/{period}/wall.pdf",                        LOGIN, 403,       403,       200,         200),
    R("sheets.schedule",                  GET,  "/sheets/my-schedule",                                      LOGIN, 200,       200,       DASH,        DASH),
    R("sheets.schedule_pdf",              GET,  "/sheets/my-schedule.pdf",                                  LOGIN, 200,       200,       DASH,        DASH),
    R("sheets.headcount",                 GET,  "/sheets/headcount",                                        LOGIN, 403,       403,       200,         200),
    R("sheets.headcount_pdf",             GET,  "/sheets/headcount.pdf",                                    LOGIN, 403,       403,       200,         200),
    R("sheets.headcount_csv",             GET,  "/sheets/headcount.csv",                                    LOGIN, 403,       403,       200,         200),
    R("coordinator.period_self_signup",   POST, "/coordinator/periods/{period}/self-signup",                LOGIN, 403,       403,       FEAT,        FEAT),
    R("coordinator.districts",            GET,  "/coordinator/districts",                                   LOGIN, 403,       403,       200,         200),
    R("coordinator.districts",            POST, "/coordinator/districts",                                   LOGIN, 403,       403,       FEAT,        FEAT),
    R("coordinator.district_edit",        GET,  "/coordinator/districts/{district}/edit",                   LOGIN, 403,       403,       200,         200),
    R("coordinator.district_edit",        POST, "/coordinator/districts/{district}/edit",                   LOGIN, 403,       403,       FEAT,        FEAT),
    R("coordinator.work_units",           GET,  "/coordinator/work-units",                                  LOGIN, 403,       403,       200,         200),
    R("coordinator.work_units",           POST, "/coordinator/work-units",                                  LOGIN, 403,       403,       FEAT,        FEAT),
    R("coordinator.work_unit_edit",       GET,  "/coordinator/work-units/{unit}/edit",                      LOGIN, 403,       403,       200,         200),
    R("coordinator.work_unit_edit",       POST, "/coordinator/work-units/{unit}/edit",                      LOGIN, 403,       403,       FEAT,        FEAT),
    R("coordinator.work_unit_merge",      POST, "/coordinator/work-units/{unit}/merge",                     LOGIN, 403,       403,       FEAT,        FEAT),
    R("coordinator.work_unit_claim_codes", POST, "/coordinator/work-units/{unit}/claim-codes",              LOGIN, 403,       403,       FEAT,        FEAT),
    R("coordinator.pool",                 GET,  "/coordinator/volunteers",                                  LOGIN, 403,       403,       200,         200),
    R("coordinator.volunteer_detail",     GET,  "/coordinator/volunteers/{volunteer}",                      LOGIN, 403,       403,       200,         200),
    R("coordinator.volunteer_training",   POST, "/coordinator/volunteers/{volunteer}/training",             LOGIN, 403,       403,       FEAT,        FEAT),
    R("coordinator.volunteer_unavailable", POST, "/coordinator/volunteers/{volunteer}/unavailable",         LOGIN, 403,       403,       FEAT,        FEAT),
    R("coordinator.volunteer_verify",     POST, "/coordinator/volunteers/{volunteer}/skills/{medical}/verification", LOGIN, 403, 403, FEAT,     FEAT),
    R("coordinator.import_upload",        GET,  "/coordinator/import",                                      LOGIN, 403,       403,       200,         200),
    R("coordinator.import_upload",        POST, "/coordinator/import",                                      LOGIN, 403,       403,       FEAT,        FEAT),
    R("coordinator.import_preview",       GET,  "/coordinator/import/{token}",                              LOGIN, 403,       403,       200,         200),
    R("coordinator.import_confirm",       POST, "/coordinator/import/{token}",                              LOGIN, 403,       403,       FEAT,        FEAT),
    R("coordinator.import_discard",       POST, "/coordinator/import/{token}/discard",                      LOGIN, 403,       403,       FEAT,        FEAT),
    # An import's claim codes: {codes} is each staff member's own (a colleague's is a redirect).
    R("coordinator.import_codes",         GET,  "/coordinator/import/codes/{codes}",                        LOGIN, 403,       403,       200,         200),
    R("coordinator.import_codes_csv",     GET,  "/coordinator/import/codes/{codes}/codes.csv",              LOGIN, 403,       403,       200,         200),
    R("coordinator.import_codes_xlsx",    GET,  "/coordinator/import/codes/{codes}/codes.xlsx",             LOGIN, 403,       403,       200,         200),
    R("coordinator.import_slips",         GET,  "/coordinator/import/codes/{codes}/slips/1",                LOGIN, 403,       403,       200,         200),
    R("coordinator.import_slips_pdf",     GET,  "/coordinator/import/codes/{codes}/slips/1.pdf",            LOGIN, 403,       403,       200,         200),
    R("coordinator.import_codes_discard", POST, "/coordinator/import/codes/{codes}/discard",                LOGIN, 403,       403,       FEAT,        FEAT),
    R("coordinator.volunteer_claim_code", POST, "/coordinator/volunteers/{claimable}/claim-code",           LOGIN, 403,       403,       FEAT,        FEAT),
    # Check-in: the site lead leads the site's day shift on 12-11 (the volunteer leads 12-10 only).
    R("checkin.index",                    GET,  "/checkin/",                                                LOGIN, 200,       200,       200,         200),
    R("checkin.site_day",                 GET,  "/checkin/sites/{site}/2026-12-11",                         LOGIN, 403,       200,       200,         200),
    R("checkin.mark",                     POST, "/checkin/sites/{site}/2026-12-11/day/{lead_volunteer}/status", LOGIN, 403,   FEAT,      FEAT,        FEAT),
    R("checkin.times",                    POST, "/checkin/sites/{site}/2026-12-11/day/{lead_volunteer}/times", LOGIN, 403,    FEAT,      FEAT,        FEAT),
    R("checkin.walk_in",                  POST, "/checkin/sites/{site}/2026-12-11/day/walk-ins",            LOGIN, 403,       FEAT,      FEAT,        FEAT),
    R("checkin.hours_page",               GET,  "/checkin/hours",                                           LOGIN, 403,       403,       200,         200),
    R("checkin.hours_xlsx",               GET,  "/checkin/hours.xlsx",                                      LOGIN, 403,       403,       200,         200),
    R("checkin.hours_csv",                GET,  "/checkin/hours.csv",                                       LOGIN, 403,       403,       200,         200),
    R("volunteer.hours",                  GET,  "/me/hours",                                                LOGIN, 200,       200,       DASH,        DASH),
    R("volunteer.hours_certificate",      GET,  "/me/hours/certificate",                                    LOGIN, 200,       200,       DASH,        DASH),
    R("volunteer.hours_certificate_pdf",  GET,  "/me/hours/certificate.pdf",                                LOGIN, 200,       200,       DASH,        DASH),
    R("admin.index",                      GET,  "/admin/",                                                  LOGIN, 403,       403,       403,         "/admin/accounts"),
    R("admin.accounts",                   GET,  "/admin/accounts",                                          LOGIN, 403,       403,       403,         200),
    R("admin.change_role",                POST, "/admin/accounts/{user}/role",                              LOGIN, 403,       403,       403,         FEAT),
    R("admin.deactivate",                 POST, "/admin/accounts/{user}/deactivate",                        LOGIN, 403,       403,       403,         FEAT),
    R("admin.reactivate",                 POST, "/admin/accounts/{inactive_user}/reactivate",               LOGIN, 403,       403,       403,         FEAT),
    R("admin.set_password",               GET,  "/admin/accounts/{user}/password",                          LOGIN, 403,       403,       403,         200),
    R("admin.set_password",               POST, "/admin/accounts/{user}/password",                          LOGIN, 403,       403,       403,         FEAT),
    # Back into the account (issue 12): forgot password (no channel here: "ask a coordinator"),
    # the reset page, the phone check of a registration or claim, a coordinator's reset slip.
    R("auth.forgot_password",             GET,  "/password/forgot",                                         200,   ME,        ME,        DASH,        DASH),
    R("auth.forgot_password",             POST, "/password/forgot",                                         200,   ME,        ME,        DASH,        DASH),
    R("auth.reset_password",              GET,  "/password/reset",                                          200,   ME,        ME,        DASH,        DASH),
    R("auth.reset_password",              POST, "/password/reset",                                          422,   ME,        ME,        DASH,        DASH),
    R("auth.confirm_phone",               GET,  "/confirm-phone",                                           "/register", ME,  ME,        DASH,        DASH),
    R("auth.confirm_phone",               POST, "/confirm-phone",                                           "/register", ME,  ME,        DASH,        DASH),
    R("coordinator.volunteer_reset_code", POST, "/coordinator/volunteers/{volunteer}/reset-code",           LOGIN, 403,       403,       FEAT,        FEAT),
    # Ad-hoc messages (issue 12): staff message any audience; a lead only the shift they lead
    # (the site lead leads 12-11's day shift, the volunteer does not: 404, like no such shift).
    R("coordinator.messages_page",        GET,  "/coordinator/messages",                                    LOGIN, 403,       403,       200,         200),
    R("coordinator.messages_page",        POST, "/coordinator/messages",                                    LOGIN, 403,       403,       FEAT,        FEAT),
    R("checkin.shift_message",            GET,  "/checkin/sites/{site}/2026-12-11/day/message",             LOGIN, 404,       200,       200,         200),
    R("checkin.shift_message",            POST, "/checkin/sites/{site}/2026-12-11/day/message",             LOGIN, 404,       FEAT,      FEAT,        FEAT),
    # Call-ups (集结号): staff compose, preview, send and follow them; the public page is anyone's.
    # "Opened" is recorded by a POST from the page (feature tests); an unknown token is a 404.
    R("coordinator.callups_list",         GET,  "/coordinator/periods/{period}/callups",                    LOGIN, 403,       403,       200,         200),
    R("coordinator.callup_new",           GET,  "/coordinator/periods/{period}/callups/new",                LOGIN, 403,       403,       200,         200),
    R("coordinator.callup_compose",       POST, "/coordinator/periods/{period}/callups/new",                LOGIN, 403,       403,       FEAT,        FEAT),
    R("coordinator.callup_detail",        GET,  "/coordinator/callups/{callup}",                            LOGIN, 403,       403,       200,         200),
    R("coordinator.callup_poster",        GET,  "/coordinator/callups/{callup}/poster.pdf",                 LOGIN, 403,       403,       200,         200),
    R("main.callup_page",                 GET,  "/c/{callup_token}",                                        200,   200,       200,       200,         200),
    R("main.callup_opened",               POST, "/c/no-such-call-up-token-000000/opened",                   404,   404,       404,       404,         404),
    # The audit log (staff only; no route writes to it) and ending a period (retention).
    R("coordinator.audit_log",            GET,  "/coordinator/audit",                                       LOGIN, 403,       403,       200,         200),
    R("coordinator.audit_log_csv",        GET,  "/coordinator/audit.csv",                                   LOGIN, 403,       403,       200,         200),
    R("coordinator.period_end",           GET,  "/coordinator/periods/{period}/end",                        LOGIN, 403,       403,       200,         200),
    # Without the confirmation tick nothing happens (the feature test ends one).
    R("coordinator.period_end",           POST, "/coordinator/periods/{period}/end",                        LOGIN, 403,       403,       422,         422),
    # Messages: what the outbox sent and failed, and sending failed ones again (staff only).
    R("coordinator.delivery",             GET,  "/coordinator/delivery",                                    LOGIN, 403,       403,       200,         200),
    R("coordinator.delivery_retry",       POST, "/coordinator/delivery/retry",                              LOGIN, 403,       403,       FEAT,        FEAT),
    # The union tree (issue 13): admins only. Scoped roles: tests/test_scope_access.py.
    R("admin.organisations",              GET,  "/admin/organisations",                                     LOGIN, 403,       403,       403,         200),
    R("admin.organisations",              POST, "/admin/organisations",                                     LOGIN, 403,       403,       403,         FEAT),
    R("admin.organisation",               GET,  "/admin/organisations/{org}",                               LOGIN, 403,       403,       403,         200),
    R("admin.organisation_rename",        POST, "/admin/organisations/{org}/rename",                        LOGIN, 403,       403,       403,         FEAT),
    R("admin.organisation_move",          POST, "/admin/organisations/{org}/move",                          LOGIN, 403,       403,       403,         FEAT),
    R("admin.organisation_merge",         POST, "/admin/organisations/{org}/merge",                         LOGIN, 403,       403,       403,         FEAT),
    R("admin.organisation_archive",       POST, "/admin/organisations/{org}/archive",                       LOGIN, 403,       403,       403,         FEAT),
    R("admin.organisation_appoint",       POST, "/admin/organisations/{org}/appoint",                       LOGIN, 403,       403,       403,         FEAT),
    # Reinforcement across districts (tests/test_reinforcement.py covers the authorised POSTs).
    R("coordinator.period_reinforcements", POST, "/coordinator/periods/{period}/reinforcements",            LOGIN, 403,       403,       FEAT,        FEAT),
    R("coordinator.urgent_escalate",      POST, "/coordinator/urgent/{urgent}/escalate",                    LOGIN, 403,       403,       FEAT,        FEAT),
    R("admin.organisation_reinforcement", POST, "/admin/organisations/{org}/reinforcement",                 LOGIN, 403,       403,       403,         FEAT),
    # The usual roles and skills on an empty catalogue (tests/test_catalogue_defaults.py).
    R("coordinator.catalogue_defaults",   POST, "/coordinator/catalogue/defaults",                          LOGIN, 403,       403,       FEAT,        FEAT),
]
# fmt: on

# Downloads of personal data: a staff GET of one of these writes its audit row (and only
# that, only when the file is served); every other request leaves the log as it was.
AUDITED_DOWNLOADS = {
    "sheets.roster_csv",
    "sheets.roster_xlsx",
    "checkin.hours_csv",
    "checkin.hours_xlsx",
    "coordinator.import_codes_csv",
    "coordinator.import_codes_xlsx",
    "coordinator.audit_log_csv",
}

# Known access bugs: (method, endpoint, role) -> what is wrong. Each such case runs as its own
# strict xfail, so the suite stays green while the bug is visible (and fixing it fails loudly).
KNOWN_BUGS: dict[tuple[str, str, str], str] = {}

# Bodies that would succeed for an authorised user, so "nothing changed" means the refusal held.
BODIES: dict[str, dict[str, Any]] = {
    "main.set_language": {"next": "/privacy"},
    "volunteer.availability_cell": {"cell": f"{MON} 08", "period": "{period}", "week": f"{MON}"},
    "volunteer.availability_day": {"day": f"{MON}", "period": "{period}", "week": f"{MON}"},
    "volunteer.availability_day_off": {"day": f"{MON}", "period": "{period}", "week": f"{MON}"},
    "volunteer.availability_week": {"period": "{period}", "week": f"{MON}"},
    "volunteer.profile": {
        "name": "改了名",
        "phone": "13912345678",
        "work_unit": "乙单位",
        "weekly_cap": "2",
        "emergency_name": "某人",
        "emergency_phone": "13912345679",
        "current_password": PASSWORD,
    },
    "volunteer.password": {"current": PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    "volunteer.delete": {"password": PASSWORD},
    "volunteer.shift_cancel": {"reason": "家里有事"},
    "volunteer.signup_claim": {"post": "{period}:{site}:2026-12-07:day:{lead_role}"},
    "volunteer.inbox_read": {"notification": "{notification}"},
    "coordinator.site_new": {
        "kind": "checkpoint",
        "name": "新点位",
        "address": "新路1号",
        "timezone": "Asia/Shanghai",
        "first_shift_hour": "0",
        "shifts": ["night", "day", "evening"],
    },
    "coordinator.site_edit": {
        "kind": "checkpoint",
        "name": "改名点位",
        "address": "新路2号",
        "timezone": "Asia/Shanghai",
        "first_shift_hour": "6",
        "shifts": ["day"],
    },
    "coordinator.role_new": {"code": "porter", "name_zh": "搬运", "name_en": "Porter"},
    "coordinator.role_edit": {"code": "greeter", "name_zh": "改名", "name_en": "Renamed"},
    "coordinator.skill_new": {"code": "forklift2", "name_zh": "叉车二", "name_en": "Forklift 2"},
    "coordinator.skill_edit": {"code": "forklift", "name_zh": "改名", "name_en": "Renamed"},
    "coordinator.period_new": {
        "name": "第二期",
        "start_date": "2027-01-04",
        "end_date": "2027-01-10",
        "site_ids": ["{site}"],
    },
    "coordinator.period_edit": {
        "name": "改名期",
        "start_date": "2026-12-07",
        "end_date": "2026-12-13",
        "site_ids": [],
    },
    "coordinator.roster_generate": {"site_ids": ["{site}"], "time_limit": "5"},
    "coordinator.roster_assign": {"volunteer_id": "{lead_volunteer}"},
    "coordinator.roster_pin": {"pinned": "y"},
    "coordinator.roster_swap_post": {"other_id": "{own_signup}"},
    "coordinator.period_self_signup": {"open": "1"},
    "coordinator.districts": {"name": "新区"},
    "coordinator.district_edit": {"name": "改名区"},
    "coordinator.work_units": {"name": "丙单位"},
    "coordinator.work_unit_edit": {"name": "改名单位"},
    "coordinator.work_unit_merge": {"target_id": "{other_unit}"},
    "coordinator.volunteer_training": {"value": "1"},
    "coordinator.volunteer_unavailable": {
        "first_day": "2026-12-07",
        "last_day": "2026-12-08",
        "reason": "电话请假",
    },
    "coordinator.volunteer_verify": {"value": "1"},
    "coordinator.import_confirm": {"fingerprint": "{fingerprint}"},
    "checkin.mark": {"status": "present"},
    "checkin.times": {"time_in": "08:00", "time_out": "16:00"},
    "checkin.walk_in": {"volunteer_id": "{volunteer}", "role_id": "{lead_role}"},
    "admin.change_role": {"role": ADMIN},
    "admin.organisations": {"kind": "district", "name": "新区", "parent_id": "{org}"},
    "admin.organisation_rename": {"name": "改名"},
    "admin.organisation_move": {"parent_id": "{org}"},
    "admin.organisation_merge": {"target_id": "{org}"},
    "admin.organisation_archive": {"archived": "1"},
    "admin.organisation_appoint": {"phone": "13900000005", "role": "coordinator"},
    "admin.set_password": {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
}


@dataclass
class World:
    """Everything a route may need, created once per test, and a logged-in client per role.
    `ids` fills the URL templates; `own` overrides some of them per role (the role's own
    published shift); `other` is a volunteer nobody in `users` is."""

    app: Flask
    users: dict[str, User]
    clients: dict[str, FlaskClient]
    other: User
    ids: dict[str, Any] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    import_dir: Path = Path()
    own: dict[str, dict[str, Any]] = field(default_factory=dict)

    def fill(self, template: str, role: str) -> str:
        """The template with real ids; {token} is the role's own upload (staff) or the
        coordinator's (everyone else); `own` replaces ids for the roles it names."""
        token = self.tokens.get(role, self.tokens[COORDINATOR])
        return template.format(token=token, **{**self.ids, **self.own.get(role, {})})

    def body(self, endpoint: str, role: str) -> dict[str, Any]:
        if endpoint == "coordinator.import_upload":
            return {"file": (io.BytesIO(IMPORT_CSV), "名单.csv"), "work_unit": "甲单位"}
        filled: dict[str, Any] = {}
        for key, value in BODIES.get(endpoint, {}).items():
            if isinstance(value, list):
                filled[key] = [self.fill(v, role) for v in value]
            else:
                filled[key] = self.fill(value, role)
        return filled

    def client(self, role: str, fresh: bool = False) -> FlaskClient:
        """The role's logged-in client, or a new one logged in the same way (for a request
        that ends the session, so the shared clients stay logged in)."""
        if not fresh:
            return self.clients[role]
        client = self.app.test_client()
        if role != ANON:
            sign_in(client, self.users[role])
        return client

    def request(self, row: Row, role: str, **kwargs: Any) -> TestResponse:
        client = self.client(role, fresh=row.endpoint == "auth.logout")
        url = self.fill(row.url, role)
        if row.method == GET:
            return client.get(url, **kwargs)
        return client.post(url, data=self.body(row.endpoint, role), **kwargs)


def csrf_token_in(html: str) -> str | None:
    """The token of the page's form, or of base.html's hx-headers when the page has no form."""
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or re.search(
        r'"X-CSRFToken": "([^"]+)"', html
    )
    return match.group(1) if match else None


def sign_in(client: FlaskClient, user: User, password: str = PASSWORD) -> None:
    """Log in through the login form, with its CSRF token when CSRF is on."""
    page = client.get("/login").get_data(as_text=True)
    data = {"phone": user.phone, "password": password}
    token = csrf_token_in(page)
    if token:
        data["csrf_token"] = token
    response = client.post("/login", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)[:500]


def _account(role: str, phone: str, name: str, volunteer: Volunteer | None = None) -> User:
    return create_account(name=name, phone=phone, password=PASSWORD, role=role, volunteer=volunteer)


def build_world(app: Flask, import_dir: Path, admin_volunteer: bool = False) -> World:
    """Sites, periods, catalogue entries, districts, work units, uploads and five accounts, four
    of them logged in. The volunteer and site lead have volunteer profiles, the coordinator none;
    the admin has one only when `admin_volunteer` (the CSRF tests post to /me pages as admin)."""
    app.config["IMPORT_DIR"] = str(import_dir)
    city = Organisation(kind="city", name="市总工会")  # the union tree's root (issue 13)
    db.session.add(city)
    db.session.flush()
    district = District(name="崇川区")
    unit, other_unit = WorkUnit(name="甲单位"), WorkUnit(name="乙单位")
    skill = Skill(code="forklift", name_zh="叉车", name_en="Forklift")
    role = Role(code="greeter", name_zh="引导员", name_en="Greeter")  # no demand uses it
    db.session.add_all([district, unit, other_unit, skill, role])
    roles = {r.code: r for r in db.session.scalars(select(Role))}
    site = Site(name="测试点位", kind="checkpoint", address="测试路1号", district=district)
    archived = Site(name="旧点位", kind="testing", address="测试路2号", archived_at=utcnow())
    for each in (site, archived):
        each.demands.append(Demand(shift="day", role=roles["site_lead"], headcount=1))
    period = PlanningPeriod(
        name="第一期", start_date=MON, end_date=date(2026, 12, 20), is_open=True, sites=[site]
    )
    closed = PlanningPeriod(
        name="旧一期", start_date=date(2026, 11, 2), end_date=date(2026, 11, 8), is_open=False
    )
    db.session.add_all([site, archived, period, closed])
    db.session.commit()
    # A finished solve run (the status and cancel routes need one).
    run = SolveRun(period_id=period.id, time_limit=30, status="succeeded", finished_at=utcnow())
    db.session.add(run)
    db.session.commit()

    medical = db.session.scalars(select(Skill).where(Skill.code == "medical")).one()
    users = {
        VOLUNTEER: _account(
            VOLUNTEER,
            "13900000001",
            "林志愿",
            Volunteer(work_unit=unit, calendar_token=CALENDAR_TOKEN),
        ),
        SITE_LEAD: _account(SITE_LEAD, "13900000002", "陈点长", Volunteer(work_unit=unit)),
        COORDINATOR: _account(COORDINATOR, "13900000003", "协调员"),
        ADMIN: _account(
            ADMIN, "13900000004", "管理员", Volunteer(work_unit=unit) if admin_volunteer else None
        ),
    }
    other = _account(
        VOLUNTEER,
        "13900000005",
        "王别人",
        Volunteer(work_unit=other_unit, skills=[VolunteerSkill(skill=medical)]),
    )
    inactive = _account(VOLUNTEER, "13900000006", "停用者", Volunteer())
    inactive.active = False
    # The city's coordinator: a coordinator appointed to no node sees nothing (services.scope).
    users[COORDINATOR].organisation_id = city.id
    assert other.volunteer is not None
    db.session.add_all(
        [
            Availability(volunteer_id=other.volunteer.id, day=MON, start_hour=8),
            DayOff(volunteer_id=other.volunteer.id, day=date(2026, 12, 8)),
        ]
    )
    db.session.commit()

    # Rosters of the period, each post on the site's day shift as its site lead (the one role
    # the site demands): the draft holds the other volunteer (for the hand-edit routes) and the
    # volunteer's own self-sign-up; published version 1 holds a shift each of the volunteer and
    # the site lead (their /me/shifts pages). Every post has its own day: one place each.
    lead_role = roles["site_lead"]
    draft = Roster(period_id=period.id, status=DRAFT)
    published = Roster(
        period_id=period.id,
        status=PUBLISHED,
        version=1,
        published_at=utcnow(),
        published_by_id=users[COORDINATOR].id,
    )
    db.session.add_all([draft, published])
    db.session.flush()

    def post(roster: Roster, user: User, day: date, **kwargs: Any) -> Assignment:
        assert user.volunteer is not None
        return Assignment(
            roster_id=roster.id,
            site_id=site.id,
            day=day,
            shift="day",
            role_id=lead_role.id,
            slot=1,
            volunteer_id=user.volunteer.id,
            **kwargs,
        )

    others_post = post(draft, other, date(2026, 12, 9))
    own_signup = post(
        draft, users[VOLUNTEER], date(2026, 12, 8), pinned=True, source=SOURCE_SELF_SIGNUP
    )
    own_shift = post(published, users[VOLUNTEER], date(2026, 12, 10))
    lead_shift = post(published, users[SITE_LEAD], date(2026, 12, 11))
    note = Notification(
        user_id=users[VOLUNTEER].id,
        kind="shift_new",
        payload={"site_id": site.id, "day": "2026-12-10", "shift": "day", "role_id": lead_role.id},
        delivery_status="sent",
        sent_at=utcnow(),
    )
    # An urgent request on the site, for its detail, fill and withdraw routes.
    request = UrgentRequest(
        period_id=period.id,
        site_id=site.id,
        day=date(2026, 12, 12),
        start_time=time(10),
        end_time=time(14),
        created_by_id=users[COORDINATOR].id,
        needs=[UrgentNeed(role_id=lead_role.id, headcount=1)],
    )
    db.session.add_all([others_post, own_signup, own_shift, lead_shift, note, request])
    # A call-up of the period (its page, funnel and poster; its public page by token).
    callup = CallUp(
        period_id=period.id,
        token=CALLUP_TOKEN,
        message="集结号",
        audience={},
        locale="zh_Hans",
        created_by_id=users[COORDINATOR].id,
    )
    db.session.add(callup)
    db.session.commit()

    # An imported volunteer waiting to claim the account, and each staff member's copy of
    # the claim codes of that import.
    claim_csv = "姓名,手机号\n待认领,13800000077\n".encode()
    (claim_slip,) = importer.write_import(importer.preview_import(claim_csv, "认领.csv", "甲单位"))
    claimable = db.session.scalars(select(User).where(User.phone == "+8613800000077")).one()
    assert claimable.volunteer is not None
    codes = {
        staff: claims.store_slips(import_dir, [claim_slip], user_id=users[staff].id)
        for staff in (COORDINATOR, ADMIN)
    }

    preview = importer.preview_import(IMPORT_CSV, "名单.csv", "甲单位")
    tokens = {
        staff: importer.store_upload(
            import_dir, IMPORT_CSV, user_id=users[staff].id, filename="名单.csv", work_unit="甲单位"
        )
        for staff in (COORDINATOR, ADMIN)
    }
    clients = {ANON: app.test_client()}
    for name, user in users.items():
        clients[name] = app.test_client()
        sign_in(clients[name], user)
    ids = {
        "site": site.id,
        "archived_site": archived.id,
        "role": role.id,
        "skill": skill.id,
        "medical": medical.id,
        "period": period.id,
        "run": run.id,
        "closed_period": closed.id,
        "district": district.id,
        "unit": unit.id,
        "other_unit": other_unit.id,
        "volunteer": other.volunteer.id,
        "user": other.id,
        "inactive_user": inactive.id,
        "fingerprint": preview.fingerprint,
        "lead_role": lead_role.id,
        "lead_volunteer": lead_shift.volunteer_id,
        "assignment": others_post.id,
        "own_signup": own_signup.id,
        "own": own_shift.id,
        "notification": note.id,
        "calendar_token": CALENDAR_TOKEN,
        "org": city.id,
        "urgent": request.id,
        "codes": codes[COORDINATOR],
        "claimable": claimable.volunteer.id,
        "claim_code": claim_slip.code,
        "callup": callup.id,
        "callup_token": CALLUP_TOKEN,
    }
    # {own} is each volunteer's own published shift (the volunteer's by default).
    own = {SITE_LEAD: {"own": lead_shift.id}, ADMIN: {"codes": codes[ADMIN]}}
    return World(app, users, clients, other, ids, tokens, import_dir, own)


def snapshot(world: World) -> tuple[dict[str, list[str]], list[str]]:
    """Every row of every table, and the files in the import folder. The test's own
    transaction is ended first so it sees what the requests committed."""
    db.session.rollback()
    tables = {
        table.name: sorted(repr(tuple(row)) for row in db.session.execute(select(table)))
        for table in db.metadata.sorted_tables
        if table.name != "audit_entries"  # checked on its own (test_access_matrix)
    }
    files = sorted(p.name for p in world.import_dir.iterdir()) if world.import_dir.exists() else []
    return tables, files


def audit_rows() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count(AuditEntry.id))) or 0


def check(response: TestResponse, expected: int | str, where: str) -> None:
    """Status (and for redirects the target path) as the table says."""
    body = response.get_data()[:300].decode(errors="replace")  # binary downloads too
    if isinstance(expected, int):
        assert response.status_code == expected, f"{where}: {response.status_code} {body}"
        return
    assert response.status_code == 302, f"{where}: {response.status_code} {body}"
    location = urlsplit(response.headers["Location"])
    assert location.path == expected, f"{where}: redirected to {response.headers['Location']}"


@pytest.fixture
def world(app: Flask, tmp_path: Path) -> World:
    """A fresh world for tests that change things (the ownership tests)."""
    return build_world(app, tmp_path / "imports")


@contextmanager
def world_on_new_app(folder: Path, admin_volunteer: bool = False, **config: Any) -> Iterator[World]:
    """A world on its own app and SQLite file, for module-scoped fixtures (app_factory is
    per test). Builds the app the way app_factory does."""
    app = build_app(f"sqlite:///{folder / 'muster.sqlite'}", **config)
    with app.app_context():
        db.create_all()
        ensure_default_catalogue()
        try:
            yield build_world(app, folder / "imports", admin_volunteer=admin_volunteer)
        finally:
            db.session.remove()
            db.engine.dispose()


@pytest.fixture(scope="module")
def shared_world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """One world for the whole matrix. Safe to share: every request the matrix sends is
    asserted to leave the database and the uploads exactly as they were (a failure there may
    make later rows fail too — fix the first). Building it per row would cost ~0.4 s each (a
    new app recompiles every template)."""
    with world_on_new_app(tmp_path_factory.mktemp("access")) as world:
        yield world


def _params() -> Iterator[Any]:
    """One test per row (all roles), except that each known bug runs as its own strict xfail."""
    for row in ROWS:
        bugs = {r for r in ROLES if (row.method, row.endpoint, r) in KNOWN_BUGS}
        yield pytest.param(row, tuple(r for r in ROLES if r not in bugs), id=row.id)
        for role in sorted(bugs):
            reason = KNOWN_BUGS[(row.method, row.endpoint, role)]
            mark = pytest.mark.xfail(strict=True, reason=reason)
            yield pytest.param(row, (role,), id=f"{row.id} as {role}", marks=mark)


@pytest.mark.parametrize(("row", "roles"), list(_params()))
def test_access_matrix(shared_world: World, row: Row, roles: tuple[str, ...]) -> None:
    world = shared_world
    endpoint, _ = world.app.url_map.bind("localhost").match(
        world.fill(row.url, ANON), method=row.method
    )
    assert endpoint == row.endpoint, f"{row.url} is {endpoint}, not {row.endpoint}"
    checked = 0
    for role in roles:
        expected = row.expected(role)
        if expected is FEAT:
            continue
        before = snapshot(world)
        logged = audit_rows()
        response = world.request(row, role)
        check(response, expected, f"{row.id} as {role}")
        assert snapshot(world) == before, f"{row.id} as {role} changed the database or uploads"
        added = audit_rows() - logged
        if row.endpoint in AUDITED_DOWNLOADS and response.status_code == 200:
            assert added == 1, f"{row.id} as {role} wrote {added} audit rows"
        else:
            assert added == 0, f"{row.id} as {role} wrote to the audit log"
        checked += 1
    assert checked, "the row checks no role"


def test_every_route_has_a_row(app: Flask) -> None:
    """A new route (or a new method on one) without an access row fails here."""
    in_table = {(row.method, row.endpoint) for row in ROWS}
    routes = {
        (method, rule.endpoint)
        for rule in app.url_map.iter_rules()
        if rule.endpoint != "static"
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}
    }
    assert routes - in_table == set(), "routes without a row in ROWS"
    assert in_table - routes == set(), "rows for routes that do not exist"
    assert len({row.id for row in ROWS}) == len(ROWS), "duplicate rows"


def test_anonymous_login_redirect_comes_back_to_the_page(shared_world: World) -> None:
    """The /login redirect carries the page asked for, so logging in lands there."""
    world = shared_world
    response = world.clients[ANON].get(f"/coordinator/sites/{world.ids['site']}/edit")
    assert response.status_code == 302
    assert "next=%2Fcoordinator%2Fsites%2F" in response.headers["Location"]


def test_site_lead_without_a_volunteer_profile_is_sent_to_me(world: World) -> None:
    """Not staff, so not sent to the dashboard: /me explains, the volunteer pages send there."""
    lead = _account(SITE_LEAD, "13900000009", "无档案点长")
    client = world.app.test_client()
    sign_in(client, lead)
    before = snapshot(world)
    assert client.get("/me").status_code == 200
    for path in ("/me/availability", "/me/profile"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert urlsplit(response.headers["Location"]).path == ME, path
    cell = {"cell": f"{MON} 08", "period": str(world.ids["period"]), "week": f"{MON}"}
    response = client.post("/me/availability/cell", data=cell)
    assert urlsplit(response.headers["Location"]).path == ME
    assert snapshot(world) == before


# --- Ownership: ids in URLs and forms never select someone else's data -------------------------


def other_state(world: World) -> tuple[Any, ...]:
    """What belongs to the other volunteer: account, profile, skills, availability, days off."""
    db.session.rollback()
    other = db.session.get(User, world.other.id)
    assert other is not None
    assert other.volunteer is not None
    volunteer = other.volunteer
    return (
        other.name,
        other.phone,
        other.role,
        other.active,
        other.password_hash,
        volunteer.weekly_cap,
        volunteer.work_unit_id,
        volunteer.trained_at,
        sorted((s.skill_id, s.verified_at) for s in volunteer.skills),
        sorted(
            (a.day, kind_of_start(a.start_hour))
            for a in db.session.scalars(
                select(Availability).where(Availability.volunteer_id == volunteer.id)
            )
        ),
        sorted(
            d.day
            for d in db.session.scalars(select(DayOff).where(DayOff.volunteer_id == volunteer.id))
        ),
    )


def injected(world: World) -> dict[str, str]:
    """Every id field an attacker might add to a volunteer's form."""
    return {
        "volunteer_id": str(world.ids["volunteer"]),
        "volunteer": str(world.ids["volunteer"]),
        "user_id": str(world.ids["user"]),
        "user": str(world.ids["user"]),
        "id": str(world.ids["volunteer"]),
    }


def own_cells(user_id: int) -> set[tuple[date, str]]:
    db.session.rollback()
    user = db.session.get(User, user_id)
    assert user is not None
    assert user.volunteer is not None
    rows = db.session.scalars(
        select(Availability).where(Availability.volunteer_id == user.volunteer.id)
    )
    return {(a.day, kind_of_start(a.start_hour)) for a in rows}


def own_days_off(user_id: int) -> set[date]:
    db.session.rollback()
    user = db.session.get(User, user_id)
    assert user is not None
    assert user.volunteer is not None
    return set(
        db.session.scalars(select(DayOff.day).where(DayOff.volunteer_id == user.volunteer.id))
    )


@pytest.fixture
def db_world(any_db_app: Flask, tmp_path: Path) -> World:
    return build_world(any_db_app, tmp_path / "imports")


@pytest.mark.parametrize("role", [VOLUNTEER, SITE_LEAD])
def test_availability_posts_with_someone_elses_id_change_only_your_own(
    db_world: World, role: str
) -> None:
    world = db_world
    me = world.users[role].id
    client = world.clients[role]
    before = other_state(world)
    grid = {"period": str(world.ids["period"]), "week": f"{MON}", **injected(world)}

    assert (
        client.post("/me/availability/cell", data={**grid, "cell": f"{MON} 08"}).status_code == 302
    )
    assert own_cells(me) == {(MON, "day")}
    assert (
        client.post("/me/availability/day", data={**grid, "day": "2026-12-09"}).status_code == 302
    )
    # 'Whole day' offers every span the period's sites run: here only the day shift.
    assert {(d, s) for d, s in own_cells(me) if d == date(2026, 12, 9)} == {
        (date(2026, 12, 9), "day")
    }
    # The other volunteer's day off on 12-08 is theirs: marking the same date lands on me.
    assert (
        client.post("/me/availability/day-off", data={**grid, "day": "2026-12-08"}).status_code
        == 302
    )
    assert own_days_off(me) == {date(2026, 12, 8)}
    assert client.post("/me/availability/week", data=grid).status_code == 302
    assert len(own_cells(me)) > 4

    assert other_state(world) == before


def test_volunteer_pages_show_only_your_own_data_whatever_the_query(world: World) -> None:
    client = world.clients[VOLUNTEER]
    query = "&".join(f"{key}={value}" for key, value in injected(world).items())
    for path in ("/me", "/me/availability", "/me/profile", "/me/password", "/me/delete"):
        response = client.get(f"{path}?{query}")
        page = response.get_data(as_text=True)
        assert response.status_code == 200, path
        assert "王别人" not in page, path
        assert "13900000005" not in page, path
        assert "****0005" not in page, path
    profile = client.get(f"/me/profile?{query}").get_data(as_text=True)
    assert "林志愿" in profile


def test_profile_post_with_someone_elses_id_changes_only_your_own(db_world: World) -> None:
    world = db_world
    before = other_state(world)
    response = world.clients[VOLUNTEER].post(
        "/me/profile",
        data={**world.body("volunteer.profile", VOLUNTEER), **injected(world)},
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:1000]
    db.session.rollback()
    me = db.session.get(User, world.users[VOLUNTEER].id)
    assert me is not None
    assert me.volunteer is not None
    assert (me.name, me.phone, me.volunteer.weekly_cap) == ("改了名", "+8613912345678", 2)
    assert other_state(world) == before


def test_password_post_with_someone_elses_id_changes_only_your_own(world: World) -> None:
    before = other_state(world)
    response = world.clients[VOLUNTEER].post(
        "/me/password", data={**world.body("volunteer.password", VOLUNTEER), **injected(world)}
    )
    assert response.status_code == 302
    db.session.rollback()
    me = db.session.get(User, world.users[VOLUNTEER].id)
    assert me is not None
    assert me.check_password(NEW_PASSWORD)
    assert other_state(world) == before


def test_delete_with_someone_elses_id_deletes_only_your_own(world: World) -> None:
    """The delete form checks the current user's password and acts on the current user only;
    an injected id changes nothing about whose account goes (the account row stays,
    anonymised and inactive, as the privacy notice says)."""
    client = world.clients[VOLUNTEER]
    me_id = world.users[VOLUNTEER].id
    before = other_state(world)
    wrong = client.post("/me/delete", data={"password": "not-my-password", **injected(world)})
    assert wrong.status_code == 422
    assert other_state(world) == before
    me = db.session.get(User, me_id)
    assert me is not None
    assert me.active
    assert me.volunteer is not None
    right = client.post("/me/delete", data={"password": PASSWORD, **injected(world)})
    assert right.status_code == 302
    assert other_state(world) == before
    me = db.session.get(User, me_id)
    assert me is not None
    assert not me.active
    # The profile row stays, anonymised, for the published rosters, attendance and hours.
    assert me.volunteer is not None
    assert me.volunteer.emergency_phone is None
    assert me.phone == f"deleted-{me_id}"


def test_someone_elses_shift_signup_and_notification_ids_select_nothing(db_world: World) -> None:
    """Shift, self-sign-up and notification ids select only among the volunteer's own rows:
    another volunteer's published shift (and the site lead's) cannot be opened, confirmed or
    cancelled, another's self-sign-up cannot be withdrawn (404), and marking another's
    notification read changes nothing. Then the same routes do work on the volunteer's own."""
    world = db_world
    other = world.other.volunteer
    assert other is not None
    rosters = {r.status: r for r in db.session.scalars(select(Roster))}
    post = {
        "site_id": world.ids["site"],
        "shift": "day",
        "role_id": world.ids["lead_role"],
        "slot": 1,
        "volunteer_id": other.id,
    }
    their_shift = Assignment(roster_id=rosters[PUBLISHED].id, day=date(2026, 12, 12), **post)
    their_signup = Assignment(
        roster_id=rosters[DRAFT].id,
        day=date(2026, 12, 13),
        pinned=True,
        source=SOURCE_SELF_SIGNUP,
        **post,
    )
    their_note = Notification(user_id=world.other.id, kind="shift_new", payload={})
    db.session.add_all([their_shift, their_signup, their_note])
    db.session.commit()
    client = world.clients[VOLUNTEER]
    before = snapshot(world)

    for shift_id in (their_shift.id, world.own[SITE_LEAD]["own"], their_signup.id):
        base = f"/me/shifts/{shift_id}"
        assert client.get(base).status_code == 404, base
        assert client.post(f"{base}/confirm").status_code == 404, base
        assert client.get(f"{base}/cancel").status_code == 404, base
        assert client.post(f"{base}/cancel", data={"reason": "家里有事"}).status_code == 404, base
    for signup_id in (their_signup.id, their_shift.id):
        assert client.post(f"/me/signup/{signup_id}/withdraw").status_code == 404, signup_id
    read = client.post("/me/inbox/read", data={"notification": str(their_note.id)})
    assert read.status_code == 303
    assert snapshot(world) == before

    # The same requests on the volunteer's own rows do write (so the 404s above are ownership).
    me = world.users[VOLUNTEER].volunteer
    assert me is not None
    assert client.post(f"/me/shifts/{world.ids['own']}/confirm").status_code == 302
    assert client.post(f"/me/signup/{world.ids['own_signup']}/withdraw").status_code == 303
    mine = {"notification": str(world.ids["notification"])}
    assert client.post("/me/inbox/read", data=mine).status_code == 303
    db.session.rollback()
    responses = db.session.scalars(select(ShiftResponse)).all()
    assert [(r.volunteer_id, r.day, r.status) for r in responses] == [
        (me.id, date(2026, 12, 10), "confirmed")
    ]
    assert db.session.get(Assignment, world.ids["own_signup"]) is None
    assert db.session.get(Assignment, their_signup.id) is not None
    notes = {n.id: n.read_at for n in db.session.scalars(select(Notification))}
    assert notes[world.ids["notification"]] is not None
    assert notes[their_note.id] is None


@pytest.mark.parametrize("role", [VOLUNTEER, SITE_LEAD])
def test_volunteers_cannot_open_or_change_volunteer_records(world: World, role: str) -> None:
    """Neither someone else's record nor their own: the coordinator pages are not theirs, and a
    volunteer must never verify their own qualification or mark their own training."""
    client = world.clients[role]
    mine = world.users[role].volunteer
    assert mine is not None
    db.session.add(VolunteerSkill(volunteer_id=mine.id, skill_id=world.ids["medical"]))
    db.session.commit()
    before = snapshot(world)
    medical = world.ids["medical"]
    for volunteer_id in (world.ids["volunteer"], mine.id):
        base = f"/coordinator/volunteers/{volunteer_id}"
        assert client.get(base).status_code == 403
        assert client.post(f"{base}/training", data={"value": "1"}).status_code == 403
        verify = client.post(f"{base}/skills/{medical}/verification", data={"value": "1"})
        assert verify.status_code == 403
    assert snapshot(world) == before


@pytest.mark.parametrize("role", [VOLUNTEER, SITE_LEAD, COORDINATOR])
def test_non_admins_cannot_change_any_account_including_their_own(world: World, role: str) -> None:
    client = world.clients[role]
    before = snapshot(world)
    for user_id in (world.ids["user"], world.users[role].id):
        base = f"/admin/accounts/{user_id}"
        assert client.post(f"{base}/role", data={"role": ADMIN}).status_code == 403
        assert client.post(f"{base}/deactivate").status_code == 403
        assert client.post(f"{base}/reactivate").status_code == 403
        assert client.get(f"{base}/password").status_code == 403
        new = {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
        assert client.post(f"{base}/password", data=new).status_code == 403
    assert snapshot(world) == before


def test_an_upload_belongs_to_the_coordinator_who_made_it(world: World) -> None:
    """Another staff member's import token reads as expired and cannot be confirmed or
    discarded: the upload holds personal data of a whole work unit."""
    client = world.clients[ADMIN]
    token = world.tokens[COORDINATOR]
    before = snapshot(world)
    preview = client.get(f"/coordinator/import/{token}")
    assert preview.status_code == 302
    assert urlsplit(preview.headers["Location"]).path == "/coordinator/import"
    confirm = client.post(
        f"/coordinator/import/{token}", data={"fingerprint": world.ids["fingerprint"]}
    )
    assert confirm.status_code == 302
    assert client.post(f"/coordinator/import/{token}/discard").status_code == 302
    assert snapshot(world) == before
    own = world.clients[COORDINATOR].get(f"/coordinator/import/{token}")
    assert own.status_code == 200
    assert "赵导入" in own.get_data(as_text=True)
