"""Account administration: search, role changes, deactivation and setting passwords.

The one invariant guarded here is that the deployment always keeps at least one active admin:
otherwise nobody could ever change a role again without shell access."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import current_app
from flask_babel import force_locale, gettext
from sqlalchemy import Select, func, or_, select

from scheduler.extensions import db
from scheduler.i18n import lazy_gettext as _l
from scheduler.models import ACCOUNT_ROLES, ADMIN, COORDINATOR, VOLUNTEER, User, Volunteer
from scheduler.models.accounts import UNUSABLE_PREFIX
from scheduler.models.base import utcnow
from scheduler.services import audit, organisations
from scheduler.services.accounts import MIN_PASSWORD_LENGTH
from scheduler.services.errors import ServiceError
from scheduler.services.phones import mask
from scheduler.services.profile import DEACTIVATED, leave_rosters
from scheduler.services.reminders import sync_reminders, withdraw_user

ACCOUNTS_PER_PAGE = 50
MAX_PASSWORD_LENGTH = 128
MAX_QUERY_LENGTH = 50
STATUS_FILTERS = ("active", "inactive", "no_password")


class AdminError(ServiceError):
    """Why an account change was refused; nothing was changed."""


@dataclass(frozen=True)
class AccountPage:
    """One page of the account list."""

    users: list[User]
    total: int
    page: int
    pages: int


def _filtered(query: str, role: str | None, status: str | None) -> Select[User]:
    statement = select(User)
    text = (query or "").strip()[:MAX_QUERY_LENGTH]
    if text:
        digits = "".join(ch for ch in text if ch.isdigit())
        conditions = [func.lower(User.name).contains(text.lower(), autoescape=True)]
        if digits:
            conditions.append(User.phone.contains(digits, autoescape=True))
        statement = statement.where(or_(*conditions))
    if role in ACCOUNT_ROLES:
        statement = statement.where(User.role == role)
    if status == "active":
        statement = statement.where(User.active.is_(True))
    elif status == "inactive":
        statement = statement.where(User.active.is_(False))
    elif status == "no_password":
        statement = statement.where(User.password_hash.startswith(UNUSABLE_PREFIX))
    return statement


def search_accounts(
    query: str = "",
    role: str | None = None,
    status: str | None = None,
    page: int = 1,
    per_page: int = ACCOUNTS_PER_PAGE,
) -> AccountPage:
    """Accounts matching a name or phone fragment, a role and a status, sorted by name
    (pinyin order), one page at a time."""
    statement = _filtered(query, role, status)
    total = db.session.scalar(select(func.count()).select_from(statement.subquery())) or 0
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    users = list(
        db.session.scalars(
            statement.order_by(User.name_pinyin, User.id)
            .limit(per_page)
            .offset((page - 1) * per_page)
        )
    )
    return AccountPage(users=users, total=total, page=page, pages=pages)


def _other_active_admins(user: User) -> int:
    # FOR UPDATE makes two admins demoting each other at the same moment queue up on
    # PostgreSQL, so the second one sees the first one's change and is refused.
    ids = db.session.scalars(
        select(User.id)
        .where(User.role == ADMIN, User.active.is_(True), User.id != user.id)
        .with_for_update()
    ).all()
    return len(ids)


def change_role(user: User, role: str) -> None:
    """Give `user` another account role. Refuses to take away the last active admin."""
    if role not in ACCOUNT_ROLES:
        raise AdminError(_l("Unknown account role."))
    if role == user.role:
        return
    if user.role == ADMIN and user.active and _other_active_admins(user) == 0:
        db.session.rollback()
        raise AdminError(
            _l("This is the last active admin account; make someone else admin first.")
        )
    fields = ("role", "organisation_id")
    before = audit.snapshot(user, fields)
    if role == COORDINATOR and user.organisation_id is None:
        # Not an appointment: the city union when it is the only node, else the admin is sent
        # to Admin -> Unions (a coordinator of no node sees nothing: services.scope).
        try:
            node = organisations.appointment_node(role)
        except organisations.OrganisationError as error:
            db.session.rollback()
            raise AdminError(error.message) from error
        user.organisation_id = node.id if node is not None else None
    user.role = role
    if role == VOLUNTEER and user.volunteer is None:
        user.volunteer = Volunteer()  # every volunteer account has a profile
    _record(audit.ROLE_CHANGE, user, before=before, after=audit.snapshot(user, fields))
    db.session.commit()


def set_active(actor: User, user: User, active: bool, now: datetime | None = None) -> None:
    """Deactivate (the account can no longer log in, its pending reminders are withdrawn, it
    leaves every post that has not started: draft posts reopen naming it, published ones go
    through the cancel path and coordinators are told; its history stays) or reactivate (its
    published shifts get their reminders again; the posts it left are not given back)."""
    if user.active == active:
        return
    if not active:
        if user.id == actor.id:
            raise AdminError(_l("You cannot deactivate your own account."))
        if user.role == ADMIN and _other_active_admins(user) == 0:
            db.session.rollback()
            raise AdminError(
                _l("This is the last active admin account; make someone else admin first.")
            )
    user.active = active
    if not active:
        if user.volunteer is not None:
            # Stored in the deployment's language: everyone reads the same hole's reason.
            with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
                reason = gettext("Account deactivated by an admin")
            leave_rosters(user.volunteer, DEACTIVATED, reason, now or utcnow(), by=actor)
        withdraw_user(user)
    elif user.volunteer is not None:
        sync_reminders(volunteer_id=user.volunteer.id)
    _record(
        audit.ACCOUNT_ACTIVATE if active else audit.ACCOUNT_DEACTIVATE,
        user,
        before={"active": not active},
        after={"active": active},
        actor=actor,
    )
    db.session.commit()


def set_password(user: User, password: str) -> None:
    """Give an account a new password (also how imported volunteers get their first one)."""
    if not MIN_PASSWORD_LENGTH <= len(password or "") <= MAX_PASSWORD_LENGTH:
        raise AdminError(
            _l(
                "Password must have %(low)d to %(high)d characters.",
                low=MIN_PASSWORD_LENGTH,
                high=MAX_PASSWORD_LENGTH,
            )
        )
    user.set_password(password)
    _record(audit.PASSWORD_RESET, user)  # never the password or its hash
    db.session.commit()


def _record(action: str, user: User, **kwargs: Any) -> None:
    volunteer = user.volunteer
    audit.record(
        action,
        object_type="user",
        object_id=user.id,
        summary=f"{user.name} ({mask(user.phone)})",
        volunteer_id=volunteer.id if volunteer is not None else None,
        district_id=volunteer.district_id if volunteer is not None else None,
        organisation_id=user.organisation_id if volunteer is None else None,
        **kwargs,
    )
