"""One-time codes that prove someone holds a phone, for three purposes: a password reset, and
(with VERIFY_PHONE=sms) a registration or a claim of an imported account that waits for the
code texted to the number. One table (models.codes.OneTimeCode), one set of rules:

- a texted code is 6 digits and works for CODE_MINUTES (10) minutes; a reset code that a
  coordinator prints on a slip uses the claim codes' alphabet (scheduler.services.claims) and
  works for RESET_SLIP_HOURS hours, so the volunteer can get home with it;
- only an HMAC of the code (keyed with SECRET_KEY, bound to the row, phone and purpose) is
  stored; the code itself is sent or shown once;
- a new code for the same phone and purpose uses the old one up; a code works once; after
  MAX_ATTEMPTS wrong tries it is burnt;
- a registration or claim code is sent synchronously (a code that arrives later is useless):
  when the channel fails the person is told at once and the new code is burnt, never left
  usable. A reset code is handed to the channel aside from the request (`_send_aside`), at
  once but without waiting: the answer must not tell, by its time or a "could not be sent",
  which numbers have accounts. A failed one is burnt and logged; the person asks again. (Not
  through the notification outbox: that keeps the text, code and all, in the database, shows
  failures to coordinators and retries later, when a 10-minute code is useless.)
- asking for a reset answers the same for every mobile number, so the page never tells
  whether the number has an account; a text message goes only to an account that can log in
  (the code) or an imported one not yet claimed (how to claim it). A number without
  one gets nothing: a text costs money, and texting any number typed in would let anyone
  send the city's messages to strangers. Every ask, with or without an account, counts
  against the number's and the address's limits (scheduler.auth.codes).

How often a phone may ask is limited by the views (scheduler.limits)."""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from flask_babel import get_locale, gettext, to_user_timezone
from sqlalchemy import delete, select, update

from scheduler.extensions import db, rowcount
from scheduler.i18n import lazy_gettext as _l
from scheduler.models import User
from scheduler.models.base import utcnow
from scheduler.models.codes import CLAIM, REGISTER, RESET, OneTimeCode
from scheduler.services import audit, claims
from scheduler.services.accounts import MIN_PASSWORD_LENGTH
from scheduler.services.errors import ServiceError
from scheduler.services.phones import InvalidPhone, normalize_mobile
from scheduler.services.profile import MAX_PASSWORD_LENGTH
from scheduler.services.senders import Message, channel_configured, sender_from_config

__all__ = [
    "CLAIM",
    "MAX_ATTEMPTS",
    "REGISTER",
    "RESET",
    "CodeError",
    "SendFailed",
    "confirm_phone",
    "issue_reset_slip",
    "redeem",
    "reset_password",
    "resettable",
    "send_phone_check",
    "send_reset_code",
    "sms_ready",
    "verify_by_sms",
]

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
SMS_DIGITS = 6
# Rows are kept a day past their expiry (enough to tell "expired" from "no code"), then go.
KEEP_AFTER_EXPIRY = timedelta(days=1)


class CodeError(ServiceError):
    """A code refused, or not sent; `field` names the form field it belongs to."""


class SendFailed(CodeError):
    """The channel did not take the message; the new code does not work."""


NOT_A_MOBILE = _l("Not a valid Chinese mobile number.")
SEND_FAILED = _l(
    "The code could not be sent just now. Try again in a minute, or ask a coordinator for a "
    "code on a slip."
)
NO_CODE = _l(
    "There is no code waiting for this mobile number. Check the number, or ask for a new code."
)
USED = _l("This code no longer works: it was used, or a newer code was issued. Use the newest.")
EXPIRED = _l("This code has expired. Ask for a new one.")
NOT_RESETTABLE = _l(
    "This code does not belong to an account that can log in. Ask a coordinator for help."
)


def _burnt() -> str:
    return str(
        _l(
            "This code was entered wrongly %(n)d times and no longer works. Ask for a new one.",
            n=MAX_ATTEMPTS,
        )
    )


# --- the rules every code follows --------------------------------------------------------


def sms_ready() -> bool:
    """Whether codes can be texted here (a channel other than the development log)."""
    return channel_configured(current_app.config)


def verify_by_sms() -> bool:
    """Whether registrations and claims wait for a texted code (VERIFY_PHONE=sms and a
    channel to send it)."""
    return str(current_app.config.get("VERIFY_PHONE") or "").lower() == "sms" and sms_ready()


def _digest(row_id: int, purpose: str, phone: str, code: str) -> str:
    key = str(current_app.config["SECRET_KEY"]).encode()
    message = f"otc:{row_id}:{purpose}:{phone}:{code}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def _normalise(raw: str | None) -> str | None:
    """What someone typed ('123 456', 'k7qm-3wxd') as a code, or None if it cannot be one."""
    text = re.sub(r"[\s\-–—_.]", "", raw or "").upper()
    if not SMS_DIGITS <= len(text) <= claims.CODE_LENGTH or not text.isalnum():
        return None
    return text


def _mobile(raw: str) -> str:
    try:
        return normalize_mobile(raw)
    except InvalidPhone as error:
        raise CodeError(NOT_A_MOBILE, "phone") from error


def _issue(
    purpose: str,
    phone: str,
    code: str,
    lifetime: timedelta,
    now: datetime,
    payload: dict[str, Any] | None = None,
) -> OneTimeCode:
    """A new code for `phone` (E.164) in the session, not committed; the phone's older codes
    for the same purpose stop working, and long-expired rows of anyone are dropped."""
    db.session.execute(
        update(OneTimeCode)
        .where(
            OneTimeCode.phone == phone,
            OneTimeCode.purpose == purpose,
            OneTimeCode.used_at.is_(None),
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        delete(OneTimeCode)
        .where(OneTimeCode.expires_at < now - KEEP_AFTER_EXPIRY)
        .execution_options(synchronize_session=False)
    )
    row = OneTimeCode(
        purpose=purpose,
        phone=phone,
        code_hash="",
        created_at=now,
        expires_at=now + lifetime,
        attempts=0,
        payload=payload,
    )
    db.session.add(row)
    db.session.flush()  # the digest is bound to the id
    row.code_hash = _digest(row.id, purpose, phone, code)
    return row


def _texted_lifetime() -> timedelta:
    return timedelta(minutes=int(current_app.config.get("CODE_MINUTES") or 10))


def _message(row: OneTimeCode, text: str, kind: str) -> Message:
    return Message(
        to=row.phone,
        text=text,
        kind=kind,
        locale=str(get_locale() or "zh_Hans"),
        message_id=f"code-{row.id}-{secrets.token_hex(4)}",
        subject=gettext("Muster code"),
    )


def _hand_over(message: Message, row_id: int, config: Any) -> bool:
    """Hand `message` to the configured channel; if it fails, burn the code row and say so
    (False). The row is committed before: no lock is held while the channel answers."""
    try:
        sender_from_config(config).send(message)
    except Exception as error:  # any channel failure
        log.warning("a %s message could not be sent: %s", message.kind, type(error).__name__)
        db.session.rollback()
        db.session.execute(
            update(OneTimeCode)
            .where(OneTimeCode.id == row_id, OneTimeCode.used_at.is_(None))
            .values(used_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        db.session.commit()
        return False
    return True


def _send(row: OneTimeCode, text: str, kind: str) -> None:
    """Hand `text` to the configured channel now (the person must hear at once that it
    failed: SendFailed, the row burnt). Commits."""
    message = _message(row, text, kind)
    row_id = row.id
    db.session.commit()
    if not _hand_over(message, row_id, current_app.config):
        raise SendFailed(SEND_FAILED)


def _send_aside(row: OneTimeCode, text: str, kind: str) -> None:
    """Hand `text` to the channel outside the request (a short-lived thread; inline in tests
    and with JOBS_SYNCHRONOUS), so the answer neither waits on the gateway nor says whether it
    failed: a reset's answer must be the same for every number (module docstring). A failure
    burns the row and is logged. Commits."""
    message = _message(row, text, kind)
    row_id = row.id
    db.session.commit()
    app = current_app._get_current_object()  # type: ignore[attr-defined]  # the real app

    def work() -> None:
        with app.app_context():
            try:
                _hand_over(message, row_id, app.config)
            finally:
                db.session.remove()

    if app.config.get("JOBS_SYNCHRONOUS") or app.testing:
        _hand_over(message, row_id, app.config)
    else:
        threading.Thread(target=work, name="muster-reset-code", daemon=True).start()


def _current(purpose: str, phone: str | None) -> OneTimeCode | None:
    """The phone's newest code for `purpose` (only the newest can still work)."""
    if phone is None:
        return None
    return db.session.scalar(
        select(OneTimeCode)
        .where(OneTimeCode.phone == phone, OneTimeCode.purpose == purpose)
        .order_by(OneTimeCode.id.desc())
        .limit(1)
    )


def redeem(purpose: str, phone: str, code: str, now: datetime | None = None) -> OneTimeCode:
    """Use up the phone's code for `purpose` if `code` is it, in the session (the caller makes
    its change and commits, so both happen or neither). A wrong code counts a try (committed
    at once) and the MAX_ATTEMPTS-th wrong try burns it. Raises CodeError (field "code")."""
    now = now or utcnow()
    try:
        e164: str | None = normalize_mobile(phone)
    except InvalidPhone:
        e164 = None
    row = _current(purpose, e164)
    if row is None:
        raise CodeError(NO_CODE, "code")
    if row.attempts >= MAX_ATTEMPTS:
        raise CodeError(_burnt(), "code")
    if row.used_at is not None:
        raise CodeError(USED, "code")
    if row.expires_at <= now:
        raise CodeError(EXPIRED, "code")
    clean = _normalise(code)
    if clean is None or not hmac.compare_digest(
        row.code_hash, _digest(row.id, purpose, row.phone, clean)
    ):
        rowcount(
            update(OneTimeCode)
            .where(OneTimeCode.id == row.id, OneTimeCode.attempts < MAX_ATTEMPTS)
            .values(attempts=OneTimeCode.attempts + 1)
            .execution_options(synchronize_session=False)
        )
        db.session.commit()
        db.session.refresh(row)
        left = MAX_ATTEMPTS - row.attempts
        if left <= 0:
            raise CodeError(_burnt(), "code")
        raise CodeError(
            _l("The code is not correct. %(n)d tries left.", n=left)
            if left > 1
            else _l("The code is not correct. One try left, then it no longer works."),
            "code",
        )
    # One conditional UPDATE uses the code: of two requests at once exactly one matches.
    used = rowcount(
        update(OneTimeCode)
        .where(
            OneTimeCode.id == row.id,
            OneTimeCode.used_at.is_(None),
            OneTimeCode.attempts < MAX_ATTEMPTS,
            OneTimeCode.expires_at > now,
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if used != 1:
        db.session.rollback()
        raise CodeError(USED, "code")
    return row


# --- password resets -----------------------------------------------------------------------


def resettable(user: User | None) -> bool:
    """An active account with a password of its own (an imported one is claimed instead)."""
    return (
        user is not None
        and user.active
        and user.has_usable_password
        and not user.phone.startswith("deleted-")
    )


def send_reset_code(phone: str, now: datetime | None = None) -> None:
    """Text a 6-digit reset code to `phone` when an account that can log in uses it; an
    imported account not yet claimed is told how to claim it; any other number (no account,
    or one that cannot log in) is sent nothing (see the module docstring: the caller answers
    the same either way; the text goes out aside, so neither the time taken nor a gateway
    failure tells the numbers apart). Commits. Raises CodeError (field "phone") for text that
    is not a mobile number."""
    now = now or utcnow()
    e164 = _mobile(phone)
    user = db.session.scalar(select(User).where(User.phone == e164))
    text_of: Callable[[str], str]
    if resettable(user):
        text_of = _reset_text
    elif user is not None and claims.is_claimable(user):
        text_of = _claim_hint_text
    else:
        # No account, or one that cannot log in (deactivated, deleted): nothing is sent.
        log.info("a reset code was asked for a number that cannot reset: nothing sent")
        return
    code = f"{secrets.randbelow(10**SMS_DIGITS):0{SMS_DIGITS}d}"
    row = _issue(RESET, e164, code, _texted_lifetime(), now)
    _send_aside(row, text_of(code), "reset_code")


def _reset_text(code: str) -> str:
    return gettext(
        "Muster: %(code)s is your code to set a new password. It works for %(n)d "
        "minutes. Do not give it to anyone.",
        code=code,
        n=int(_texted_lifetime().total_seconds() // 60),
    )


def _claim_hint_text(_code: str) -> str:
    # The row is issued all the same (it stops an older reset code of the number working).
    return gettext(
        "Muster: someone asked to reset the password of this number. Your work unit added "
        "you to Muster: claim your account with the code on your slip, or ask a "
        "coordinator for a new one."
    )


def issue_reset_slip(user: User, now: datetime | None = None) -> claims.ClaimSlip:
    """A coordinator's reset code for `user`, printed on a slip like the claim codes (the
    claim codes' alphabet; valid RESET_SLIP_HOURS hours, once). The user's older reset codes
    stop working. Commits. Raises CodeError for an account that cannot log in."""
    if not resettable(user):
        raise CodeError(
            _l(
                "Only an active account with a password gets a reset code; an imported "
                "volunteer who has not claimed the account gets a claim code instead."
            )
        )
    now = now or utcnow()
    code = claims.new_code()
    hours = int(current_app.config.get("RESET_SLIP_HOURS") or 24)
    row = _issue(RESET, user.phone, code, timedelta(hours=hours), now)
    expires = to_user_timezone(row.expires_at).strftime("%Y-%m-%d %H:%M")
    volunteer = user.volunteer
    audit.record(
        audit.RESET_CODE,
        object_type="user",
        object_id=user.id,
        summary=user.name,
        volunteer_id=volunteer.id if volunteer is not None else None,
        organisation_id=user.organisation_id if volunteer is None else None,
    )
    db.session.commit()
    return claims.slip_for(user, code, expires)


def reset_password(phone: str, code: str, password: str, now: datetime | None = None) -> User:
    """Set a new password with the phone's reset code (texted or from a slip); the code is
    used up and every session opened with the old password ends (scheduler.sessions).
    Commits. Raises CodeError naming the field (nothing changes but a wrong try's count)."""
    if not MIN_PASSWORD_LENGTH <= len(password or "") <= MAX_PASSWORD_LENGTH:
        raise CodeError(
            _l("Password must have at least %(n)d characters.", n=MIN_PASSWORD_LENGTH), "password"
        )
    row = redeem(RESET, phone, code, now)
    user = db.session.scalar(select(User).where(User.phone == row.phone))
    if user is None or not resettable(user):
        db.session.rollback()
        raise CodeError(NOT_RESETTABLE, "code")
    user.set_password(password)
    db.session.commit()
    return user


# --- confirming the phone of a registration or a claim (VERIFY_PHONE=sms) ----------------


def send_phone_check(
    purpose: str, phone: str, payload: dict[str, Any], now: datetime | None = None
) -> None:
    """Text a 6-digit code to `phone` (E.164) that confirms the registration or claim in
    `payload` (confirm_phone hands it back). Commits; raises SendFailed."""
    if purpose not in (REGISTER, CLAIM):
        raise ValueError(purpose)
    now = now or utcnow()
    code = f"{secrets.randbelow(10**SMS_DIGITS):0{SMS_DIGITS}d}"
    row = _issue(purpose, phone, code, _texted_lifetime(), now, payload)
    text = gettext(
        "Muster: %(code)s is your code to confirm this mobile number. It works for %(n)d "
        "minutes. Do not give it to anyone.",
        code=code,
        n=int(_texted_lifetime().total_seconds() // 60),
    )
    _send(row, text, "phone_code")


def confirm_phone(purpose: str, phone: str, code: str, now: datetime | None = None) -> Any:
    """The payload waiting for this phone's code, which is used up in the session (the
    caller completes the registration or claim and commits). Raises CodeError."""
    row = redeem(purpose, phone, code, now)
    return row.payload or {}
