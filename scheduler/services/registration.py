"""Signing up and logging in a volunteer. Plain functions over models; the views only parse
forms and call these."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash

from scheduler.extensions import db, keep_loaded_on_commit
from scheduler.i18n import lazy_gettext as _l
from scheduler.models import VOLUNTEER, User, Volunteer
from scheduler.models.accounts import hash_password
from scheduler.models.base import utcnow
from scheduler.services.accounts import (
    MIN_PASSWORD_LENGTH,
    AccountError,
    create_account,
    phone_taken,
)
from scheduler.services.phones import InvalidPhone, normalize_mobile
from scheduler.services.profile import (
    MAX_PASSWORD_LENGTH,
    CleanProfile,
    ProfileData,
    apply_profile,
    clean_profile,
    commit_or_explain,
    normalise_text,
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
    if password_hash is None and len(password or "") > MAX_PASSWORD_LENGTH:
        raise AccountError(
            _l("Password must have at most %(n)d characters.", n=MAX_PASSWORD_LENGTH), "password"
        )
    for attempt in range(2):
        clean = _clean(data)
        volunteer = Volunteer(consented_at=now or utcnow())
        # No autoflush: every INSERT waits for the commit, so a clash surfaces there.
        with db.session.no_autoflush:
            user = create_account(
                name=clean.name,
                phone=clean.phone,
                password=password,
                password_hash=password_hash,
                role=VOLUNTEER,
                volunteer=volunteer,
                commit=False,
                phone_checked=True,  # by _clean; a clash since surfaces at the commit
            )
            apply_profile(user, volunteer, clean)
        try:
            # The new rows stay loaded: the caller logs the account in, which would otherwise
            # read back the row just written (on PostgreSQL a second transaction).
            with keep_loaded_on_commit():
                commit_or_explain(clean.phone)
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
