"""Signing up and logging in a volunteer. Plain functions over models; the views only parse
forms and call these."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from urllib.parse import urlsplit

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value
from werkzeug.security import check_password_hash, generate_password_hash

from scheduler.extensions import db
from scheduler.models import VOLUNTEER, User, Volunteer
from scheduler.models.accounts import UNUSABLE_PREFIX, hash_password
from scheduler.models.base import utcnow
from scheduler.services.accounts import AccountError, create_account, phone_taken
from scheduler.services.phones import InvalidPhone, normalize_mobile
from scheduler.services.profile import (
    MAX_PASSWORD_LENGTH,
    ProfileData,
    apply_profile,
    clean_profile,
    commit_or_explain,
    normalise_text,
)

# Compared against when the phone is unknown, so a failed login takes as long either way and
# the response time does not tell whether a number is registered.
_DUMMY_HASH = generate_password_hash("not-a-real-password")


@dataclass(frozen=True)
class Registration:
    """The account a registration ended in; `claimed` when it completed an account that a
    work unit's import had created, rather than creating a new one."""

    user: User
    claimed: bool


def _claimable_account(phone: str) -> User | None:
    """The imported volunteer account with this phone that nobody has set a password for
    yet, if any. Deactivated accounts and staff accounts are never claimable: claiming only
    needs the phone number, so it must not hand out more than a volunteer's own record."""
    try:
        e164 = normalize_mobile(phone)
    except InvalidPhone:
        return None
    user = db.session.scalar(select(User).where(User.phone == e164))
    if (
        user is None
        or not user.active
        or user.role != VOLUNTEER
        or user.volunteer is None
        or user.has_usable_password
    ):
        return None
    return user


def _taken(phone: str) -> bool:
    try:
        return phone_taken(normalize_mobile(phone))
    except InvalidPhone:
        return False


def _already_registered() -> AccountError:
    return AccountError(_l("This mobile number is already registered."), "phone")


def _claim_data(data: ProfileData, volunteer: Volunteer) -> ProfileData:
    """What the volunteer submitted, completed with what their work unit already recorded
    where the form was left empty (work unit, district), plus the qualifications a
    coordinator has verified meanwhile: the volunteer cannot vouch for those, only keep them."""
    verified = {vs.skill_id for vs in volunteer.skills if vs.verified_at is not None}
    return replace(
        data,
        work_unit=data.work_unit
        if normalise_text(data.work_unit) or volunteer.work_unit is None
        else volunteer.work_unit.name,
        district_id=data.district_id or volunteer.district_id,
        # None: the form did not ask for skills, so the imported ones all stay.
        skill_ids=None if data.skill_ids is None else frozenset(data.skill_ids) | verified,
    )


def _claim(user: User, data: ProfileData, password: str, consented_at: datetime) -> str:
    """Complete an imported account with the submitted registration, in the session (not
    committed). Returns the E.164 phone. Raises AccountError, with the session rolled back,
    when the account was claimed (or given a password) by someone else meanwhile."""
    volunteer = user.volunteer
    assert volunteer is not None
    imported_unit = volunteer.work_unit
    keep_unit = not normalise_text(data.work_unit) and imported_unit is not None
    clean = clean_profile(_claim_data(data, volunteer), user=user)
    new_hash = hash_password(password)  # before the UPDATE: hashing is slow, locks are not
    # The conditional UPDATE is the claim's first write: exactly one of two concurrent claims
    # matches the '!' hash (PostgreSQL re-checks the row after waiting for the other's
    # commit; SQLite serialises writers), so the loser is told, not silently overwritten.
    claimed = db.session.execute(
        update(User)
        .where(
            User.id == user.id,
            User.active.is_(True),
            User.password_hash.startswith(UNUSABLE_PREFIX),
        )
        .values(password_hash=new_hash)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:
        db.session.rollback()
        raise _already_registered()
    set_committed_value(user, "password_hash", new_hash)
    with db.session.no_autoflush:
        apply_profile(user, volunteer, clean)
        if keep_unit and volunteer.work_unit is not imported_unit:
            # The imported name differs from its normalised form (full-width brackets,
            # double spaces) and apply_profile made a new unit for it: keep the original.
            if volunteer.work_unit in db.session.new:
                db.session.expunge(volunteer.work_unit)
            volunteer.work_unit = imported_unit
        volunteer.consented_at = consented_at
    return clean.phone


def register_volunteer(
    data: ProfileData, *, password: str, consented: bool, now: datetime | None = None
) -> Registration:
    """Create a volunteer account with its profile in one commit, or, when a work unit's
    import already created an active volunteer account for this phone that has no password
    yet, complete ("claim") that account instead: password, name and submitted profile
    replace the imported ones, an imported work unit and district stay where the form left
    them empty, and coordinator verifications and training stay. Raises AccountError (with
    the form field it belongs to) for bad input, for a phone number that is registered
    (including by a concurrent registration or claim); nothing is written then."""
    if not consented:
        raise AccountError(_l("Please agree to the privacy notice to register."), "consent")
    if len(password or "") > MAX_PASSWORD_LENGTH:
        raise AccountError(
            _l("Password must have at most %(n)d characters.", n=MAX_PASSWORD_LENGTH), "password"
        )
    for attempt in range(2):
        account = _claimable_account(data.phone)
        if account is not None:
            imported_unit = account.volunteer.work_unit if account.volunteer else None
            if not normalise_text(data.work_unit) and imported_unit is None:
                raise AccountError(_l("This field is required."), "work_unit")
            user = account
            phone = _claim(account, data, password, now or utcnow())
        else:
            # The form lets the work unit be empty for claims only (the import has one);
            # a number that is taken is still the first thing a registration is told.
            if not normalise_text(data.work_unit):
                if _taken(data.phone):
                    raise _already_registered()
                raise AccountError(_l("This field is required."), "work_unit")
            clean = clean_profile(data)
            volunteer = Volunteer(consented_at=now or utcnow())
            # No autoflush: every INSERT waits for the commit, so a clash surfaces there.
            with db.session.no_autoflush:
                user = create_account(
                    name=clean.name,
                    phone=clean.phone,
                    password=password,
                    role=VOLUNTEER,
                    volunteer=volunteer,
                    commit=False,
                )
                apply_profile(user, volunteer, clean)
            phone = clean.phone
        try:
            commit_or_explain(phone)
            return Registration(user=user, claimed=account is not None)
        except IntegrityError:
            # The only other unique key written here is a new work unit's name: someone
            # registered the same new work unit at the same moment. It exists now; retry once.
            if attempt:
                raise
    raise AssertionError("unreachable")


def authenticate(phone: str, password: str) -> User | None:
    """The active user with this phone (any common spelling) and password, else None. The
    caller shows one generic message either way."""
    try:
        e164 = normalize_mobile(phone)
    except InvalidPhone:
        e164 = None
    user = db.session.scalar(select(User).where(User.phone == e164)) if e164 else None
    if user is None:
        check_password_hash(_DUMMY_HASH, password or "")
        return None
    if not user.has_usable_password:
        # Same cost as a real check: a fast "no" would tell that the number was imported.
        check_password_hash(_DUMMY_HASH, password or "")
        return None
    if not user.check_password(password or "") or not user.active:
        return None
    return user


def safe_next(target: str | None) -> str | None:
    """`target` if it is a same-site relative path ('/me?x=1'), else None: a login link must
    not be usable to send people to another site."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target or any(ord(ch) < 32 for ch in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target
