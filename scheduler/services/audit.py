"""The audit log: `record` writes one AuditEntry into the current transaction, so the row is
committed with the change it describes and rolled back with it. Services call it, never views.

Who acted is not passed through every service: the app factory registers an actor source
(`init_app`) that reads the logged-in account and the client address of the request; outside
a request (the command line, the retention job) the actor is "system". A service that knows
better passes `actor=`.

Who may read a row is decided once, in `_in_scope`: each row carries the node of the union
tree its object belonged to when it was written (`organisation_id`, derived in `record` from
the period, site, volunteer or district it concerns unless the caller names the node); a
scoped coordinator sees the rows of the nodes in their scope (services.scope), and of the
unions merged into them; rows with no node (the catalogue, accounts) only the city's staff.

There is deliberately no function here (or anywhere in the app) that updates or deletes a
row: the log is append-only (tests/test_audit_log.py checks it)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import Enum
from typing import Any, NamedTuple, TypeVar

from babel.dates import format_skeleton
from flask import current_app, has_app_context
from flask_babel import force_locale, get_locale, gettext, ngettext
from sqlalchemy import Select, func, select

from scheduler.extensions import db
from scheduler.labels import SHIFT_LABELS
from scheduler.models import AuditEntry, District, PlanningPeriod, Site, User, Volunteer
from scheduler.models.base import utcnow
from scheduler.services import scope
from scheduler.services.phones import mask
from scheduler.services.spreadsheets import csv_bytes

S = TypeVar("S", bound=Select)  # any Select, whatever its columns

SYSTEM = "system"
EXTENSION_KEY = "muster_audit_actor"
MAX_SUMMARY = 200
# A Chinese mobile number anywhere in a value (E.164, with 86, or national): masked the way
# printed sheets show it, whatever field it sits in.
_PHONE = re.compile(r"(?<!\d)(?:\+?86)?(1\d{2})\d{4}(\d{4})(?!\d)")

# Action codes. Views show them through labels.audit_action; CSV has the code as well.
SITE_CREATE, SITE_UPDATE, SITE_ARCHIVE, SITE_RESTORE = (
    "site.create",
    "site.update",
    "site.archive",
    "site.restore",
)
PERIOD_CREATE, PERIOD_UPDATE, PERIOD_OPEN, PERIOD_LOCK, PERIOD_CLOSE, PERIOD_SIGNUP = (
    "period.create",
    "period.update",
    "period.open",
    "period.lock",
    "period.close",
    "period.signup",
)
CATALOGUE_SAVE, CATALOGUE_DELETE, WORK_UNIT_MERGE = (
    "catalogue.save",
    "catalogue.delete",
    "work_unit.merge",
)
IMPORT = "import.write"
CLAIM_CODE_RESET = "claim_code.reset"
ROSTER_SOLVE, ROSTER_CANCEL_RUN = "roster.solve", "roster.cancel_run"
EDIT_ASSIGN, EDIT_UNASSIGN, EDIT_PIN, EDIT_SWAP = (
    "edit.assign",
    "edit.unassign",
    "edit.pin",
    "edit.swap",
)
EDIT_OVERRIDE = "edit.override"
PUBLISH, REPAIR_START, REPAIR_PUBLISH = "roster.publish", "repair.start", "repair.publish"
URGENT_CREATE, URGENT_WITHDRAW, URGENT_FILL = "urgent.create", "urgent.withdraw", "urgent.fill"
ROLE_CHANGE, ACCOUNT_ACTIVATE, ACCOUNT_DEACTIVATE, PASSWORD_RESET = (
    "account.role",
    "account.activate",
    "account.deactivate",
    "account.password",
)
VOLUNTEER_TRAINED, SKILL_VERIFIED = "volunteer.trained", "volunteer.skill_verified"
VOLUNTEER_UNAVAILABLE = "volunteer.unavailable"
EXPORT = "export"
RETENTION_ANONYMISE = "retention.anonymise"
# Reinforcement across districts (issue 13).
PERIOD_REINFORCE, URGENT_ESCALATE, ORG_REINFORCE = (
    "period.reinforce",
    "urgent.escalate",
    "organisation.reinforce",
)
RESET_CODE = "account.reset_code"
CALLUP_SEND, MESSAGE_SEND, MESSAGE_RETRY = "callup.send", "message.send", "message.retry"
ORG_CREATE, ORG_RENAME, ORG_MOVE, ORG_MERGE = (
    "organisation.create",
    "organisation.rename",
    "organisation.move",
    "organisation.merge",
)
ORG_ARCHIVE, ORG_RESTORE, ORG_APPOINT = (
    "organisation.archive",
    "organisation.restore",
    "organisation.appoint",
)

ACTIONS = (
    SITE_CREATE,
    SITE_UPDATE,
    SITE_ARCHIVE,
    SITE_RESTORE,
    PERIOD_CREATE,
    PERIOD_UPDATE,
    PERIOD_OPEN,
    PERIOD_LOCK,
    PERIOD_CLOSE,
    PERIOD_SIGNUP,
    CATALOGUE_SAVE,
    CATALOGUE_DELETE,
    WORK_UNIT_MERGE,
    IMPORT,
    CLAIM_CODE_RESET,
    ROSTER_SOLVE,
    ROSTER_CANCEL_RUN,
    EDIT_ASSIGN,
    EDIT_OVERRIDE,
    EDIT_UNASSIGN,
    EDIT_PIN,
    EDIT_SWAP,
    PUBLISH,
    REPAIR_START,
    REPAIR_PUBLISH,
    URGENT_CREATE,
    URGENT_WITHDRAW,
    URGENT_FILL,
    ROLE_CHANGE,
    ACCOUNT_ACTIVATE,
    ACCOUNT_DEACTIVATE,
    PASSWORD_RESET,
    VOLUNTEER_TRAINED,
    SKILL_VERIFIED,
    VOLUNTEER_UNAVAILABLE,
    EXPORT,
    RETENTION_ANONYMISE,
    PERIOD_REINFORCE,
    URGENT_ESCALATE,
    ORG_REINFORCE,
    RESET_CODE,
    CALLUP_SEND,
    MESSAGE_SEND,
    MESSAGE_RETRY,
    ORG_CREATE,
    ORG_RENAME,
    ORG_MOVE,
    ORG_MERGE,
    ORG_ARCHIVE,
    ORG_RESTORE,
    ORG_APPOINT,
)

ActorSource = Callable[[], tuple[User | None, str | None]]


class Summary(NamedTuple):
    """A summary in words, shown in the reader's language (not frozen in the writer's): the
    key of its message in SUMMARIES and the message's arguments (plain JSON values)."""

    key: str
    args: Mapping[str, Any]


def _post(args: Mapping[str, Any]) -> str:
    chinese = str(get_locale()).startswith("zh")
    return gettext(
        "%(site)s, %(day)s %(shift)s, %(role)s",
        site=args["site"],
        day=format_skeleton("MMMd", date.fromisoformat(args["day"]), locale=str(get_locale())),
        shift=str(SHIFT_LABELS.get(args["shift"], args["shift"])),
        role=args["role_zh" if chinese else "role_en"],
    )


# Every summary in words, by key: each renders its arguments in the current locale. Keys are
# stored in the rows, so a key is never renamed or given other arguments.
SUMMARIES: dict[str, Callable[[Mapping[str, Any]], str]] = {
    "volunteers": lambda a: ngettext("%(num)d volunteer", "%(num)d volunteers", a["num"]),
    "messages": lambda a: ngettext("%(num)d message", "%(num)d messages", a["num"]),
    "claim_codes": lambda a: ngettext("%(num)d claim code", "%(num)d claim codes", a["num"]),
    "audit_csv": lambda a: gettext("Audit log CSV"),
    "version": lambda a: gettext(
        "%(name)s, version %(number)d", name=a["name"], number=a["number"]
    ),
    "post": _post,
}


def summary_text(entry: AuditEntry) -> str:
    """The row's summary in the current locale: its message when it names one this version
    knows, else the text stored (rows written before summaries had keys, and names)."""
    render = SUMMARIES.get(entry.summary_key or "")
    if render is None or entry.summary_args is None:
        return entry.summary
    try:
        return render(entry.summary_args)
    except (KeyError, TypeError, ValueError):
        return entry.summary


def init_app(app: Any, source: ActorSource) -> None:
    """Tell `record` how to find who is acting (the app factory passes a function reading the
    logged-in account and the request's client address)."""
    app.extensions[EXTENSION_KEY] = source


def _current_actor() -> tuple[User | None, str | None]:
    if not has_app_context():
        return None, None
    source: ActorSource | None = current_app.extensions.get(EXTENSION_KEY)
    return source() if source is not None else (None, None)


def clean(value: Any) -> Any:
    """A value as the log stores it: JSON-safe, every mobile number masked."""
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, Enum):
        return clean(value.value)
    if isinstance(value, datetime | time):
        return value.isoformat(timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [clean(v) for v in value]
        return sorted(items, key=str) if isinstance(value, set | frozenset) else items
    text = str(value)
    if text.startswith("+86") and len(text) == 14:
        return mask(text)
    return _PHONE.sub(r"\1****\2", text)


def snapshot(obj: object, fields: Iterable[str]) -> dict[str, Any]:
    """The named attributes of `obj` (cleaned), to compare before and after a change."""
    return {name: clean(getattr(obj, name)) for name in fields}


def diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, list[Any]]:
    """{field: [before, after]} for the fields whose (cleaned) value changed."""
    out: dict[str, list[Any]] = {}
    for name in dict.fromkeys([*before, *after]):
        old, new = clean(before.get(name)), clean(after.get(name))
        if old != new:
            out[name] = [old, new]
    return out


def record(
    action: str,
    *,
    object_type: str,
    object_id: int | None,
    summary: str | Summary,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    details: Mapping[str, Any] | None = None,
    actor: User | None = None,
    period_id: int | None = None,
    site_id: int | None = None,
    volunteer_id: int | None = None,
    district_id: int | None = None,
    organisation_id: int | None = None,
) -> AuditEntry:
    """Add one audit row to the session (committed or rolled back with the change).

    `summary` is a name (stored as it is) or a Summary, whose message each reader sees in
    their language (its English text is stored as well, for the CSV and older code).
    `before`/`after` are snapshots (see `snapshot`): only changed fields are kept. `details`
    are further facts of the action (counts, the export's name). Phones are masked.
    `organisation_id`, the node the row belongs to, defaults to that of the period, else the
    site, else the volunteer, else the district (see the module docstring)."""
    assert action in ACTIONS, action
    found, ip = _current_actor()
    who = actor or found
    changes = diff(before or {}, after or {})
    key, args = None, None
    if isinstance(summary, Summary):
        key, args = summary.key, clean(dict(summary.args))
        with force_locale("en"):
            summary = SUMMARIES[key](args)
    entry = AuditEntry(
        at=utcnow(),
        actor_id=who.id if who is not None else None,
        actor_name=(who.name if who is not None else SYSTEM)[:50],
        actor_role=who.role if who is not None else None,
        ip=ip,
        action=action,
        object_type=object_type,
        object_id=object_id,
        summary=clean(summary)[:MAX_SUMMARY],
        summary_key=key,
        summary_args=args,
        changes=changes,
        details=clean(dict(details or {})),
        period_id=period_id,
        site_id=site_id,
        volunteer_id=volunteer_id,
        district_id=district_id,
        organisation_id=organisation_id
        if organisation_id is not None
        else _node(period_id, site_id, volunteer_id, district_id),
    )
    db.session.add(entry)
    return entry


def _node(
    period_id: int | None, site_id: int | None, volunteer_id: int | None, district_id: int | None
) -> int | None:
    """The node of the first of the period, site, volunteer and district that has one."""
    sources: tuple[tuple[Any, int | None], ...] = (
        (PlanningPeriod, period_id),
        (Site, site_id),
        (Volunteer, volunteer_id),
        (District, district_id),
    )
    for model, ident in sources:
        row = db.session.get(model, ident) if ident is not None else None
        if row is not None and row.organisation_id is not None:
            return int(row.organisation_id)
    return None


def forget_names(renamed: Mapping[str, str]) -> int:
    """Anonymising people (account deletion, retention) takes their names out of the log as
    well: every row that names them (as the actor, in the summary, in the changes or details)
    gets the anonymous name instead. Rows are never removed, and nothing else in them changes:
    this is the one change the log allows, because the privacy notice promises it. Returns the
    number of rows changed; no commit."""
    names = {old: new for old, new in renamed.items() if old and old != new}
    if not names:
        return 0

    def scrub(value: Any) -> Any:
        if isinstance(value, str):
            for old, new in names.items():
                value = value.replace(old, new)
            return value
        if isinstance(value, list):
            return [scrub(v) for v in value]
        if isinstance(value, dict):
            return {k: scrub(v) for k, v in value.items()}
        return value

    changed = 0
    for entry in db.session.scalars(select(AuditEntry).execution_options(yield_per=500)):
        fields = {
            "actor_name": entry.actor_name,
            "summary": entry.summary,
            "summary_args": entry.summary_args,
            "changes": entry.changes,
            "details": entry.details,
        }
        scrubbed = {name: scrub(value) for name, value in fields.items()}
        if scrubbed != fields:
            for name, value in scrubbed.items():
                setattr(entry, name, value)
            changed += 1
    return changed


def record_export(
    what: str, summary: str | Summary, details: Mapping[str, Any], *, period_id: int | None = None
) -> None:
    """Record that the acting account downloaded personal data (`what`: roster_csv,
    hours_xlsx, ...) and commit that row at once: an export changes nothing else, and the
    record must not depend on the download finishing. Without a period the row belongs to
    the actor's node (the data came from their scope)."""
    who, _ip = _current_actor()
    record(
        EXPORT,
        object_type=what,
        object_id=period_id,
        summary=summary,
        details=details,
        period_id=period_id,
        organisation_id=who.organisation_id if who is not None and period_id is None else None,
    )
    db.session.commit()


@dataclass(frozen=True)
class LogQuery:
    """The log page's filters (all optional) and page."""

    actor_id: int | None = None
    action: str | None = None
    object_type: str | None = None
    since: date | None = None
    until: date | None = None
    page: int = 1


@dataclass(frozen=True)
class LogPage:
    entries: list[AuditEntry]
    total: int
    page: int
    pages: int


def _readable_nodes(ids: frozenset[int]) -> frozenset[int]:
    """`ids` and the unions merged into them (a merge deletes its source node; its rows stay
    with the union it went into). The merges are read from the log itself."""
    merges = list(
        db.session.execute(
            select(AuditEntry.object_id, AuditEntry.organisation_id).where(
                AuditEntry.action == ORG_MERGE
            )
        )
    )
    found = set(ids)
    grew = True
    while grew:
        grew = False
        for source, target in merges:
            if target in found and source is not None and source not in found:
                found.add(source)
                grew = True
    return frozenset(found)


def _in_scope(stmt: S, user: Any) -> S:
    """`stmt` over audit rows limited to those `user` may read (see the module docstring);
    `user` None: an internal caller, no limit."""
    ids = None if user is None else scope.visible_org_ids(user)
    if ids is None:
        return stmt
    return stmt.where(AuditEntry.organisation_id.in_(_readable_nodes(ids)))


def _filtered(query: LogQuery, tz_offset: timedelta, user: Any) -> Select[AuditEntry]:
    stmt = _in_scope(select(AuditEntry), user)
    if query.actor_id is not None:
        stmt = stmt.where(AuditEntry.actor_id == query.actor_id)
    if query.action:
        stmt = stmt.where(AuditEntry.action == query.action)
    if query.object_type:
        stmt = stmt.where(AuditEntry.object_type == query.object_type)
    if query.since is not None:
        start = datetime.combine(query.since, time(), tzinfo=UTC) - tz_offset
        stmt = stmt.where(AuditEntry.at >= start)
    if query.until is not None:
        end = datetime.combine(query.until + timedelta(days=1), time(), tzinfo=UTC) - tz_offset
        stmt = stmt.where(AuditEntry.at < end)
    return stmt


def search(
    query: LogQuery, per_page: int, tz_offset: timedelta = timedelta(0), user: Any = None
) -> LogPage:
    """One page of the rows `user` may read, newest first. Dates are local days (`tz_offset`
    east of UTC)."""
    stmt = _filtered(query, tz_offset, user)
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    pages = max(1, -(-total // per_page))
    page = min(max(1, query.page), pages)
    entries = list(
        db.session.scalars(
            stmt.order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
            .offset((page - 1) * per_page)
            .limit(per_page)
        )
    )
    return LogPage(entries=entries, total=total, page=page, pages=pages)


def actors(user: Any = None) -> list[tuple[int, str]]:
    """Accounts that appear in the rows `user` may read (id, latest name snapshot), for the
    actor filter."""
    stmt = select(AuditEntry.actor_id, func.max(AuditEntry.actor_name))
    rows = db.session.execute(
        _in_scope(stmt, user)
        .where(AuditEntry.actor_id.is_not(None))
        .group_by(AuditEntry.actor_id)
        .order_by(func.max(AuditEntry.actor_name))
    )
    return [(int(actor_id), str(name)) for actor_id, name in rows if actor_id is not None]


def object_types(user: Any = None) -> list[str]:
    stmt = _in_scope(select(AuditEntry.object_type), user)
    return list(db.session.scalars(stmt.distinct().order_by(AuditEntry.object_type)))


CSV_HEADER = (
    "id",
    "at_utc",
    "actor_id",
    "actor_name",
    "actor_role",
    "ip",
    "action",
    "object_type",
    "object_id",
    "summary",
    "changes",
    "details",
    "period_id",
    "site_id",
    "volunteer_id",
    "district_id",
    "organisation_id",
)


def export_csv(query: LogQuery, tz_offset: timedelta = timedelta(0), user: Any = None) -> bytes:
    """Every row `user` may read that the filters select (not only one page) as CSV, oldest
    first. The export is itself recorded (and committed) before the rows are read, so the
    file includes its own row when the filters select it."""
    filters = {
        "actor_id": query.actor_id,
        "action": query.action,
        "object_type": query.object_type,
        "since": query.since,
        "until": query.until,
    }
    record_export(
        "audit_log",
        Summary("audit_csv", {}),
        {k: v for k, v in filters.items() if v not in (None, "")},
    )
    rows = (
        (
            e.id,
            e.at.strftime("%Y-%m-%d %H:%M:%S"),
            e.actor_id,
            e.actor_name,
            e.actor_role,
            e.ip,
            e.action,
            e.object_type,
            e.object_id,
            e.summary,
            json.dumps(e.changes, ensure_ascii=False, sort_keys=True),
            json.dumps(e.details, ensure_ascii=False, sort_keys=True),
            e.period_id,
            e.site_id,
            e.volunteer_id,
            e.district_id,
            e.organisation_id,
        )
        for e in db.session.scalars(
            _filtered(query, tz_offset, user).order_by(AuditEntry.at, AuditEntry.id)
        )
    )
    return csv_bytes(CSV_HEADER, rows)
