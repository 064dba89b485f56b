"""Signing up and logging in a volunteer. Plain functions over models; the views only parse
forms and call these."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value
from werkzeug.security import check_password_hash, generate_password_hash

from scheduler.extensions import db, insert_loaded, keep_loaded_on_commit
from scheduler.i18n import lazy_gettext as _l
from scheduler.models import VOLUNTEER, User, Volunteer, VolunteerSkill
from scheduler.models.accounts import hash_password, name_sort_key
from scheduler.models.base import utcnow
from scheduler.models.tree_sync import volunteer_node_id
from scheduler.services.accounts import (
    MIN_PASSWORD_LENGTH,
    AccountError,
    phone_taken,
)
from scheduler.services.phones import InvalidPhone, normalize_mobile
from scheduler.services.profile import (
    MAX_PASSWORD_LENGTH,
    CleanProfile,
    ProfileData,
    clash_explained,
    clean_profile,
    normalise_text,
    profile_columns,
    work_unit_named,
)

# Compared against when the phone is unknown, so a failed login takes as long either way and
# the response time does not tell whether a number is registered.
_DUMMY_HASH = generate_password_hash("not-a-real-password")


def _taken(phone: str) -> bool:
    try:
        return phone_taken(normalize_mobile(phone))
    except InvalidPhone:
        return False


def _already_registered() -> AccountError:
    # The same words for a number someone registered and one a work unit imported: which of
    # the two it is stays unsaid; the second sentence helps the imported ones.
    return AccountError(
        _l(
            "This mobile number is already registered. Added by your work unit? Claim your "
            "account with the code from your slip (see the login page)."
        ),
        "phone",
    )


def check_registration(data: ProfileData, *, password: str, consented: bool) -> None:
    """The checks of register_volunteer, writing nothing (with VERIFY_PHONE=sms the account
    is created only once the code texted to the number is entered). Raises AccountError."""
    if not consented:
        raise AccountError(_l("Please agree to the privacy notice to register."), "consent")
    _check_password(password)
    _clean(data)


def _clean(data: ProfileData) -> CleanProfile:
    """The sign-up's profile, validated; a number that is taken is the first thing a
    registration is told."""
    if not normalise_text(data.work_unit):
        if _taken(data.phone):
            raise _already_registered()
        raise AccountError(_l("This field is required."), "work_unit")
    try:
        return clean_profile(data)
    except AccountError as error:
        if error.field == "phone" and _taken(data.phone):
            raise _already_registered() from None
        raise


def _check_password(password: str) -> None:
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise AccountError(
            _l("Password must have at least %(n)d characters.", n=MIN_PASSWORD_LENGTH), "password"
        )
    if len(password or "") > MAX_PASSWORD_LENGTH:
        raise AccountError(
            _l("Password must have at most %(n)d characters.", n=MAX_PASSWORD_LENGTH), "password"
        )


def pending_registration(data: ProfileData, *, password: str, consented: bool) -> dict[str, Any]:
    """A registration that waits for the code texted to its number: what
    complete_registration needs, with the password already hashed. Writes nothing; raises
    AccountError as register_volunteer does."""
    check_registration(data, password=password, consented=consented)
    profile = {key: value for key, value in asdict(data).items() if value is not None}
    profile.pop("skill_ids", None)  # sign-up does not ask for skills
    return {"profile": profile, "password_hash": hash_password(password)}


def complete_registration(payload: dict[str, Any], now: datetime | None = None) -> User:
    """Create the account of a pending_registration once its number is confirmed. Commits;
    raises AccountError (e.g. the number was registered meanwhile)."""
    data = ProfileData(**payload["profile"])
    return register_volunteer(
        data, password_hash=str(payload["password_hash"]), consented=True, now=now
    )


def register_volunteer(
    data: ProfileData,
    *,
    password: str = "",
    consented: bool,
    now: datetime | None = None,
    password_hash: str | None = None,
) -> User:
    """Create a volunteer account with its profile in one commit, with `password` (or, for a
    registration confirmed later, its `password_hash`). A number that already has
    an account is refused, including one a work unit imported: those are claimed with their
    one-time code (scheduler.services.claims), never by the phone number alone. Raises
    AccountError (with the form field it belongs to) for bad input and for a phone number
    that is registered (including by a concurrent registration); nothing is written then."""
    if not consented:
        raise AccountError(_l("Please agree to the privacy notice to register."), "consent")
    if password_hash is None:
        _check_password(password)
    for attempt in range(2):
        clean = _clean(data)
        if password_hash is None:
            password_hash = hash_password(password)
        try:
            # The new rows stay loaded: the caller logs the account in, which would otherwise
            # read back the row just written (on PostgreSQL a second transaction).
            with keep_loaded_on_commit(), clash_explained(clean.phone):
                user = _insert_account(clean, password_hash, consented_at=now or utcnow())
                db.session.commit()
            return user
        except AccountError as error:
            if error.field == "phone":
                raise _already_registered() from None
            raise
        except IntegrityError:
            # The only other unique key written here is a new work unit's name: someone
            # registered the same new work unit at the same moment. It exists now; retry once.
            if attempt:
                raise
    raise AssertionError("unreachable")


def _insert_account(clean: CleanProfile, password_hash: str, *, consented_at: datetime) -> User:
    """Write the account and its volunteer profile as two plain INSERTs (a new work unit is
    flushed first) and return the user, loaded, with its volunteer: the same rows the unit of
    work wrote from create_account and apply_profile, for a tenth of its Python calls. What
    the ORM's hooks would do is done here: the name's sort key and the volunteer's node in the
    union tree."""
    unit = work_unit_named(clean.work_unit_name)
    if unit.id is None:
        db.session.flush()
    user_columns, volunteer_columns = profile_columns(clean, None)
    node_id = volunteer_node_id(db.session(), unit, clean.district)
    user = insert_loaded(
        User,
        {
            **user_columns,
            "name_pinyin": name_sort_key(clean.name),
            "password_hash": password_hash,
            "role": VOLUNTEER,
        },
    )
    volunteer = insert_loaded(
        Volunteer,
        {
            **volunteer_columns,
            "user_id": user.id,
            "work_unit_id": unit.id,
            "district_id": clean.district.id if clean.district is not None else None,
            "organisation_id": node_id,
            "consented_at": consented_at,
        },
    )
    set_committed_value(user, "volunteer", volunteer)
    set_committed_value(volunteer, "user", user)
    set_committed_value(volunteer, "skills", [])
    for skill in clean.skills or ():  # the registration form asks none; the unit of work adds
        volunteer.skills.append(VolunteerSkill(skill=skill))
    return user


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
