"""Creating accounts. Phone numbers are unique in the schema; this turns a clash (including one
lost to a concurrent registration) into a clear error instead of a 500."""

from __future__ import annotations

from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError

from scheduler.extensions import db
from scheduler.i18n import lazy_gettext as _l
from scheduler.models import ACCOUNT_ROLES, VOLUNTEER, User, Volunteer
from scheduler.services.errors import ServiceError
from scheduler.services.phones import InvalidPhone, normalize_mobile

MIN_PASSWORD_LENGTH = 8
MAX_NAME_LENGTH = 50


class AccountError(ServiceError):
    """Why an account cannot be created; `field` names the form field it belongs to."""


# Built once: every registration and phone change asks (building it costs more than running it).
_PHONE_TAKEN = select(User.id).where(User.phone == bindparam("phone"))


def phone_taken(phone: str) -> bool:
    return db.session.scalar(_PHONE_TAKEN, {"phone": phone}) is not None


def create_account(
    *,
    name: str,
    phone: str,
    password: str,
    role: str = VOLUNTEER,
    volunteer: Volunteer | None = None,
    commit: bool = True,
    password_hash: str | None = None,
    phone_checked: bool = False,
) -> User:
    """Create a user (with a volunteer profile for volunteers) with `password`, or with
    `password_hash` when the password was hashed earlier (a registration that waited for
    its phone to be confirmed). `phone_checked`: the caller has just looked the number up
    (a number registered since is still refused, by the unique key). Raises AccountError."""
    name = (name or "").strip()
    if not name or len(name) > MAX_NAME_LENGTH:
        raise AccountError(_l("Name must be 1 to %(n)d characters.", n=MAX_NAME_LENGTH), "name")
    if role not in ACCOUNT_ROLES:
        raise AccountError(_l("Unknown account role."), "role")
    if password_hash is None and len(password or "") < MIN_PASSWORD_LENGTH:
        raise AccountError(
            _l("Password must have at least %(n)d characters.", n=MIN_PASSWORD_LENGTH), "password"
        )
    try:
        phone = normalize_mobile(phone)
    except InvalidPhone as error:
        raise AccountError(_l("Not a valid Chinese mobile number."), "phone") from error
    if not phone_checked and phone_taken(phone):
        raise AccountError(_l("This mobile number is already registered."), "phone")
    user = User(name=name, phone=phone, role=role)
    if password_hash is None:
        user.set_password(password)
    else:
        user.password_hash = password_hash
    if volunteer is None and role == VOLUNTEER:
        volunteer = Volunteer()
    if volunteer is not None:
        user.volunteer = volunteer
    db.session.add(user)
    if commit:
        try:
            db.session.commit()
        except IntegrityError as error:
            db.session.rollback()
            raise AccountError(_l("This mobile number is already registered."), "phone") from error
    return user
