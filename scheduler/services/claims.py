"""Claim codes: how a volunteer whom a work unit imported takes over their account.

An import creates accounts without a password. Knowing someone's phone number must not be
enough to take such an account (its verified qualifications, rostered shifts, the lead's
phone), so each imported person gets a one-time claim code, printed on a slip their union
hands out. Claiming needs the phone number *and* the code:

- codes are 8 characters from an alphabet without look-alikes (no 0/O, 1/I/L), easy to type
  on a phone; typed in any case, with or without spaces and dashes;
- only an HMAC of the code (keyed with SECRET_KEY, bound to the account) is stored, so a copy
  of the database does not give the codes away; the code itself is shown once;
- a code expires after CLAIM_CODE_DAYS days (14 by default) and works once: the claim sets
  the password and clears the code in one conditional UPDATE;
- a coordinator can issue a new code for an unclaimed imported volunteer (the old one stops
  working), e.g. when a slip was lost or expired;
- failed attempts are rate limited per phone number by the view (scheduler.limits).

Between the import and the coordinator's downloads (CSV, XLSX, a printable slip sheet per work
unit) the plain codes are kept in a file next to the uploads, readable by the app only, bound
to the coordinator, and deleted when the coordinator is done (or after a day)."""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import os
import re
import secrets
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from flask import current_app
from flask_babel import to_user_timezone
from openpyxl import Workbook
from sqlalchemy import select, update

from scheduler.extensions import db, rowcount
from scheduler.i18n import lazy_gettext as _l
from scheduler.models import VOLUNTEER, User, Volunteer, WorkUnit
from scheduler.models.accounts import UNUSABLE_PREFIX, hash_password, name_sort_key
from scheduler.models.base import utcnow
from scheduler.services import audit
from scheduler.services.accounts import MIN_PASSWORD_LENGTH
from scheduler.services.errors import ServiceError
from scheduler.services.phones import InvalidPhone, national, normalize_mobile
from scheduler.services.profile import MAX_PASSWORD_LENGTH
from scheduler.services.spreadsheets import csv_bytes, write_table

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # no 0/O, 1/I/L
CODE_LENGTH = 8
TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_-]{32}$")
KEEP_SECONDS = 24 * 3600
NO_UNIT = ""


class ClaimError(ServiceError):
    """A claim or a new code refused; nothing was written."""


# One answer for every failed claim: it tells nobody whether the number was imported,
# registered, claimed already, or whether only the code was wrong.
CLAIM_REFUSED = _l(
    "This mobile number and claim code do not match an account waiting to be claimed, or the "
    "code has expired. Check the code on your slip, or ask your work unit for a new one."
)


@dataclass(frozen=True)
class ClaimSlip:
    """One imported person's code, as the coordinator hands it out."""

    name: str
    phone: str  # national form, 13812345678
    work_unit: str  # NO_UNIT when the import named none
    code: str  # formatted, ABCD-EFGH
    expires: str  # YYYY-MM-DD, the last day in the deployment's time zone


# --- codes ----------------------------------------------------------------------------------


def new_code() -> str:
    """A fresh random code (about 40 bits)."""
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def format_code(code: str) -> str:
    """'ABCDEFGH' -> 'ABCD-EFGH', as printed."""
    return f"{code[:4]}-{code[4:]}"


def normalise_code(raw: str | None) -> str | None:
    """What a volunteer typed ('abcd efgh', 'ABCD-EFGH') as a code, or None if it cannot be
    one."""
    text = re.sub(r"[\s\-–—_.]", "", raw or "").upper()
    if len(text) != CODE_LENGTH or any(ch not in ALPHABET for ch in text):
        return None
    return text


def _digest(user_id: int, code: str) -> str:
    key = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(key, f"claim:{user_id}:{code}".encode(), hashlib.sha256).hexdigest()


def is_claimable(user: User) -> bool:
    """An active volunteer account that an import created and nobody has set a password for."""
    return (
        user.active
        and user.role == VOLUNTEER
        and user.volunteer is not None
        and (user.password_hash or "").startswith(UNUSABLE_PREFIX)
        and not user.phone.startswith("deleted-")
    )


def expires_on(user: User, now: datetime | None = None) -> date | None:
    """The last day the account's code works (local time); None when it has none, or when
    it has expired by `now` (if given)."""
    when = user.claim_code_expires_at
    if when is None or user.claim_code_hash is None or (now is not None and when <= now):
        return None
    return to_user_timezone(when).date()


def assign_code(user: User, now: datetime | None = None) -> ClaimSlip:
    """Give `user` a new code (in the session, not committed); the old one stops working.
    Returns the slip with the plain code, which is not kept anywhere else."""
    code = new_code()
    if user.id is None:
        db.session.flush()  # the digest is bound to the id
    days = int(current_app.config.get("CLAIM_CODE_DAYS") or 14)
    user.claim_code_hash = _digest(user.id, code)
    user.claim_code_expires_at = (now or utcnow()) + timedelta(days=days)
    expiry = expires_on(user)
    assert expiry is not None
    return slip_for(user, code, expiry.isoformat())


def slip_for(user: User, code: str, expires: str) -> ClaimSlip:
    """The slip that hands `user` the plain `code` (a claim code, or a coordinator's password
    reset code: scheduler.services.codes), valid until `expires` as printed."""
    unit = user.volunteer.work_unit if user.volunteer is not None else None
    return ClaimSlip(
        name=user.name,
        phone=national(user.phone),
        work_unit=unit.name if unit is not None else NO_UNIT,
        code=format_code(code),
        expires=expires,
    )


def reissue_code(user: User, now: datetime | None = None) -> ClaimSlip:
    """A coordinator's new code for one imported volunteer who has not claimed the account.
    Commits. Raises ClaimError for anybody else (registered, claimed, deactivated)."""
    if not is_claimable(user):
        raise ClaimError(
            _l("Only an imported volunteer who has not claimed the account gets a claim code.")
        )
    slip = assign_code(user, now)
    volunteer = user.volunteer
    audit.record(
        audit.CLAIM_CODE_RESET,
        object_type="user",
        object_id=user.id,
        summary=user.name,
        volunteer_id=volunteer.id if volunteer is not None else None,
        district_id=volunteer.district_id if volunteer is not None else None,
    )
    db.session.commit()
    return slip


def reissue_work_unit_codes(unit_id: int, now: datetime | None = None) -> list[ClaimSlip]:
    """New codes for every volunteer of the work unit who has not claimed their account yet
    (accounts imported before claim codes existed have none; old codes stop working), by
    name. Commits. Raises ClaimError (nothing changed) when nobody there is waiting."""
    users = [
        user
        for user in db.session.scalars(
            select(User)
            .join(Volunteer, Volunteer.user_id == User.id)
            .where(Volunteer.work_unit_id == unit_id, User.active.is_(True))
        )
        if is_claimable(user)
    ]
    if not users:
        raise ClaimError(_l("Nobody in this work unit is waiting to claim an account."))
    users.sort(key=lambda u: (name_sort_key(u.name), u.id))
    slips = [assign_code(user, now) for user in users]
    unit = db.session.get(WorkUnit, unit_id)
    audit.record(
        audit.CLAIM_CODE_RESET,
        object_type="work_unit",
        object_id=unit_id,
        summary=unit.name if unit is not None else str(unit_id),
        details={"codes": len(users), "user_ids": [user.id for user in users]},
        organisation_id=unit.organisation_id if unit is not None else None,
    )
    db.session.commit()
    return slips


def claim_account(
    phone: str, code: str, password: str, *, consented: bool, now: datetime | None = None
) -> User:
    """Complete an imported account: the phone and its unexpired code give it `password`;
    the code is used up. Raises ClaimError (one message for every failure, see CLAIM_REFUSED)
    or, for a bad password or missing consent, a ClaimError naming that field."""
    user, digest = check_claim(phone, code, password, consented=consented, now=now)
    return complete_claim(user, digest, hash_password(password), now=now)


def check_claim(
    phone: str, code: str, password: str, *, consented: bool, now: datetime | None = None
) -> tuple[User, str]:
    """The account this phone and code would claim, and the code's digest, writing nothing
    (with VERIFY_PHONE=sms the claim then waits for the code texted to the phone). Raises
    ClaimError as claim_account does."""
    if not consented:
        raise ClaimError(_l("Please agree to the privacy notice to register."), "consent")
    if not MIN_PASSWORD_LENGTH <= len(password or "") <= MAX_PASSWORD_LENGTH:
        raise ClaimError(
            _l("Password must have at least %(n)d characters.", n=MIN_PASSWORD_LENGTH), "password"
        )
    now = now or utcnow()
    clean_code = normalise_code(code)
    try:
        e164 = normalize_mobile(phone)
    except InvalidPhone:
        e164 = None
    user = db.session.scalar(select(User).where(User.phone == e164)) if e164 else None
    if user is None or clean_code is None or not is_claimable(user):
        raise ClaimError(CLAIM_REFUSED)
    digest = _digest(user.id, clean_code)
    expiry = user.claim_code_expires_at
    if (
        user.claim_code_hash is None
        or not hmac.compare_digest(user.claim_code_hash, digest)
        or expiry is None
        or expiry <= now
    ):
        raise ClaimError(CLAIM_REFUSED)
    return user, digest


def complete_claim(
    user: User, digest: str, password_hash: str, *, now: datetime | None = None
) -> User:
    """Give the account `password_hash` if its claim code (`digest`) still works, using the
    code up; commits. Raises ClaimError(CLAIM_REFUSED) when it no longer works."""
    now = now or utcnow()
    # One conditional UPDATE uses the code up: of two claims at once exactly one matches
    # (PostgreSQL re-checks the row after the other's commit; SQLite serialises writers).
    claimed = rowcount(
        update(User)
        .where(
            User.id == user.id,
            User.active.is_(True),
            User.password_hash.startswith(UNUSABLE_PREFIX),
            User.claim_code_hash == digest,
            User.claim_code_expires_at > now,
        )
        .values(password_hash=password_hash, claim_code_hash=None, claim_code_expires_at=None)
        .execution_options(synchronize_session=False)
    )
    if claimed != 1:
        db.session.rollback()
        raise ClaimError(CLAIM_REFUSED)
    assert user.volunteer is not None
    user.volunteer.consented_at = now
    db.session.commit()
    db.session.refresh(user)
    return user


def pending_claim(
    phone: str, code: str, password: str, *, consented: bool, now: datetime | None = None
) -> tuple[str, dict[str, Any]]:
    """A claim that waits for the code texted to the phone (VERIFY_PHONE=sms): the account's
    phone and what complete_pending_claim needs (the password already hashed). Writes
    nothing; raises ClaimError as claim_account does."""
    user, digest = check_claim(phone, code, password, consented=consented, now=now)
    return user.phone, {
        "user_id": user.id,
        "digest": digest,
        "password_hash": hash_password(password),
    }


def complete_pending_claim(payload: dict[str, Any], now: datetime | None = None) -> User:
    """Claim the account of a pending_claim once its phone is confirmed. Commits; raises
    ClaimError(CLAIM_REFUSED) when the claim code stopped working meanwhile."""
    user = db.session.get(User, int(payload.get("user_id") or 0))
    if user is None or not is_claimable(user):
        db.session.rollback()
        raise ClaimError(CLAIM_REFUSED)
    return complete_claim(user, str(payload["digest"]), str(payload["password_hash"]), now=now)


# --- the coordinator's copy of the codes ----------------------------------------------------


def _path(directory: Path, token: str) -> Path:
    return directory / f"{token}.codes.json"


def store_slips(directory: Path, slips: Sequence[ClaimSlip], *, user_id: int) -> str:
    """Keep the plain codes of one import for its coordinator's downloads (owner-only file);
    returns the random token that names them."""
    directory.mkdir(parents=True, exist_ok=True)
    purge_stale_slips(directory)
    token = secrets.token_urlsafe(24)
    payload = json.dumps({"user_id": user_id, "slips": [asdict(s) for s in slips]})
    fd = os.open(_path(directory, token), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as file:
        file.write(payload)
    return token


def load_slips(directory: Path, token: str, user_id: int) -> list[ClaimSlip] | None:
    """The codes kept under `token` if they exist, are fresh and belong to `user_id`."""
    if not TOKEN_PATTERN.match(token or ""):
        return None
    path = _path(directory, token)
    try:
        if time.time() - path.stat().st_mtime > KEEP_SECONDS:
            return None
        info = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if info.get("user_id") != user_id:
        return None
    return [ClaimSlip(**item) for item in info.get("slips", [])]


def discard_slips(directory: Path, token: str) -> None:
    """Forget the plain codes (the coordinator has printed or saved them)."""
    if TOKEN_PATTERN.match(token or ""):
        _path(directory, token).unlink(missing_ok=True)


def purge_stale_slips(directory: Path) -> None:
    cutoff = time.time() - KEEP_SECONDS
    for path in directory.glob("*.codes.json"):
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink(missing_ok=True)
        except OSError:
            continue


def by_work_unit(slips: Iterable[ClaimSlip]) -> list[tuple[str, list[ClaimSlip]]]:
    """The slips grouped by work unit (named units first, in pinyin order; then those
    without), each group's people in pinyin order."""
    groups: dict[str, list[ClaimSlip]] = {}
    for slip in slips:
        groups.setdefault(slip.work_unit, []).append(slip)
    for people in groups.values():
        people.sort(key=lambda slip: (name_sort_key(slip.name), slip.phone))
    return sorted(
        groups.items(), key=lambda item: (item[0] == NO_UNIT, name_sort_key(item[0]), item[0])
    )


def _header() -> list[str]:
    return [
        str(_l("Name")),
        str(_l("Mobile number")),
        str(_l("Work unit")),
        str(_l("Claim code")),
        str(_l("Valid until")),
    ]


def slips_table(slips: Iterable[ClaimSlip]) -> list[tuple[str, str, str, str, str]]:
    return [(s.name, s.phone, s.work_unit, s.code, s.expires) for s in slips]


def _record_slips(slips: Sequence[ClaimSlip], what: str) -> None:
    audit.record_export(
        what, audit.Summary("claim_codes", {"num": len(slips)}), {"rows": len(slips)}
    )


def slips_csv(slips: Sequence[ClaimSlip]) -> bytes:
    """The slips as CSV (recorded in the audit log: names, phones and codes)."""
    _record_slips(slips, "claim_codes_csv")
    return csv_bytes(_header(), slips_table(slips))


def slips_xlsx(slips: Sequence[ClaimSlip]) -> bytes:
    """The slips as XLSX (recorded in the audit log)."""
    _record_slips(slips, "claim_codes_xlsx")
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "claim codes"
    write_table(sheet, _header(), slips_table(slips))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
