"""A volunteer's own profile: the fields shared by registration and editing, password changes
and account deletion (anonymisation as the privacy notice promises).

Functions validate everything they are given and raise AccountError(message, field) before
touching the session, so a rejected edit changes nothing."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from flask import current_app
from flask_babel import force_locale, gettext
from sqlalchemy import bindparam, delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from scheduler.extensions import db
from scheduler.i18n import lazy_gettext as _l
from scheduler.models import (
    Assignment,
    Availability,
    DayOff,
    District,
    Notification,
    Roster,
    ShiftResponse,
    Skill,
    User,
    Volunteer,
    VolunteerSkill,
    WorkUnit,
)
from scheduler.models.accounts import DELETED_PASSWORD_HASH
from scheduler.models.base import utcnow
from scheduler.models.rosters import DRAFT
from scheduler.services import audit, my_shifts
from scheduler.services.accounts import (
    MAX_NAME_LENGTH,
    MIN_PASSWORD_LENGTH,
    AccountError,
    phone_taken,
)
from scheduler.services.editing import sync_unfilled
from scheduler.services.phones import InvalidPhone, normalize_mobile

MAX_WORK_UNIT_LENGTH = 100
# The phone of an anonymised account: unique, never a valid mobile number.
ANONYMISED_PHONE_PREFIX = "deleted-"
MAX_PASSWORD_LENGTH = 128
MIN_WEEKLY_CAP, MAX_WEEKLY_CAP, DEFAULT_WEEKLY_CAP = 0, 7, 5


@dataclass(frozen=True)
class ProfileData:
    """What a volunteer tells us about themselves, as typed (normalised on saving). The
    fields after the district are None when the form did not ask for them (sign-up asks only
    what the roster needs): a new account then gets the defaults, an existing one keeps what
    it has."""

    name: str
    phone: str
    work_unit: str
    district_id: int | None = None
    skill_ids: frozenset[int] | None = None
    accepts_nights: bool = False
    weekly_cap: int | None = None
    partner_phone: str | None = None
    emergency_name: str | None = None
    emergency_phone: str | None = None


@dataclass(frozen=True)
class CleanProfile:
    """ProfileData after validation: phones in E.164, names trimmed, ids checked. None keeps
    the stored value (see ProfileData)."""

    name: str
    phone: str
    work_unit_name: str
    district: District | None
    skills: list[Skill] | None
    accepts_nights: bool
    weekly_cap: int | None
    partner_phone: str | None
    emergency_name: str | None
    emergency_phone: str | None
    # False when the form did not ask for the partner / the emergency contact: keep them.
    partner_asked: bool = True
    emergency_asked: bool = True


def normalise_text(raw: str | None) -> str:
    """NFKC (full-width letters, digits and spaces become ordinary ones), trimmed, runs of
    whitespace collapsed to one space: what people mean when they type '  中建  三局 '."""
    return " ".join(unicodedata.normalize("NFKC", raw or "").split())


def find_work_unit(name: str) -> WorkUnit | None:
    """The existing work unit with this name, ignoring case and spacing differences."""
    wanted = normalise_text(name)
    if not wanted:
        return None
    return db.session.scalars(_WORK_UNIT_NAMED, {"name": wanted.lower()}).first()


# Built once: every registration asks.
_WORK_UNIT_NAMED = (
    select(WorkUnit).where(func.lower(WorkUnit.name) == bindparam("name")).order_by(WorkUnit.id)
)


def work_unit_named(name: str) -> WorkUnit:
    """The existing work unit for `name`, or a new one added to the session (not committed)."""
    unit = find_work_unit(name)
    if unit is None:
        unit = WorkUnit(name=normalise_text(name))
        db.session.add(unit)
    return unit


def _mobile(raw: str, field_name: str) -> str:
    try:
        return normalize_mobile(raw)
    except InvalidPhone as error:
        raise AccountError(_l("Not a valid Chinese mobile number."), field_name) from error


def clean_profile(data: ProfileData, *, user: User | None = None) -> CleanProfile:
    """Validate and normalise `data`; `user` is the account being edited (None when
    registering), so its own number does not count as taken. Raises AccountError."""
    name = normalise_text(data.name)
    if not name or len(name) > MAX_NAME_LENGTH:
        raise AccountError(_l("Name must be 1 to %(n)d characters.", n=MAX_NAME_LENGTH), "name")
    phone = _mobile(data.phone, "phone")
    if (user is None or user.phone != phone) and phone_taken(phone):
        raise AccountError(_l("This mobile number is already registered."), "phone")
    work_unit_name = normalise_text(data.work_unit)
    if not work_unit_name or len(work_unit_name) > MAX_WORK_UNIT_LENGTH:
        raise AccountError(
            _l("Work unit must be 1 to %(n)d characters.", n=MAX_WORK_UNIT_LENGTH), "work_unit"
        )
    district = None
    if data.district_id:
        district = db.session.get(District, data.district_id)
        if district is None:
            raise AccountError(_l("Choose a district from the list."), "district")
    skills = None
    if data.skill_ids is not None:
        skills = list(db.session.scalars(select(Skill).where(Skill.id.in_(data.skill_ids))))
        if len(skills) != len(set(data.skill_ids)):
            raise AccountError(_l("Choose skills from the list."), "skills")
    if data.weekly_cap is not None and not MIN_WEEKLY_CAP <= data.weekly_cap <= MAX_WEEKLY_CAP:
        raise AccountError(
            _l(
                "Weekly cap must be between %(lo)d and %(hi)d shifts.",
                lo=MIN_WEEKLY_CAP,
                hi=MAX_WEEKLY_CAP,
            ),
            "weekly_cap",
        )
    partner = None
    if data.partner_phone and data.partner_phone.strip():
        partner = _mobile(data.partner_phone, "partner_phone")
        if partner == phone:
            raise AccountError(_l("Your partner's number must not be your own."), "partner_phone")
    emergency_name, emergency_phone = _emergency_contact(data, phone)
    return CleanProfile(
        name=name,
        phone=phone,
        work_unit_name=work_unit_name,
        district=district,
        skills=skills,
        accepts_nights=bool(data.accepts_nights),
        weekly_cap=data.weekly_cap,
        partner_phone=partner,
        emergency_name=emergency_name,
        emergency_phone=emergency_phone,
        partner_asked=data.partner_phone is not None,
        emergency_asked=data.emergency_name is not None or data.emergency_phone is not None,
    )


def _emergency_contact(data: ProfileData, phone: str) -> tuple[str | None, str | None]:
    """The emergency contact's name and E.164 number, or (None, None) when none is given. It
    is optional (it can follow sign-up; /me reminds until it is there), but half of one is
    a mistake worth telling."""
    emergency_name = normalise_text(data.emergency_name)
    raw_phone = (data.emergency_phone or "").strip()
    if not emergency_name and not raw_phone:
        return None, None
    if not emergency_name or len(emergency_name) > MAX_NAME_LENGTH:
        raise AccountError(
            _l("Emergency contact name must be 1 to %(n)d characters.", n=MAX_NAME_LENGTH),
            "emergency_name",
        )
    if not raw_phone:
        raise AccountError(_l("Add the emergency contact's mobile number."), "emergency_phone")
    emergency_phone = _mobile(raw_phone, "emergency_phone")
    if emergency_phone == phone:
        raise AccountError(
            _l("The emergency contact must be someone else's number."), "emergency_phone"
        )
    return emergency_name, emergency_phone


def profile_columns(
    clean: CleanProfile, weekly_cap: int | None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The user's and the volunteer's columns a validated profile sets, besides the work
    unit, the district and the skills; `weekly_cap` is the volunteer's now (None for a new
    one, who gets the default when the form did not ask). What the form did not ask (the
    partner, the emergency contact) is left out: an existing profile keeps it."""
    user = {"name": clean.name, "phone": clean.phone}
    volunteer: dict[str, Any] = {"accepts_nights": clean.accepts_nights}
    if clean.weekly_cap is not None:
        volunteer["weekly_cap"] = clean.weekly_cap
    elif weekly_cap is None:
        volunteer["weekly_cap"] = DEFAULT_WEEKLY_CAP
    if clean.partner_asked:
        volunteer["partner_phone"] = clean.partner_phone
    if clean.emergency_asked:
        volunteer["emergency_name"] = clean.emergency_name
        volunteer["emergency_phone"] = clean.emergency_phone
    return user, volunteer


def apply_profile(user: User, volunteer: Volunteer, clean: CleanProfile) -> None:
    """Write a validated profile onto `user` and `volunteer` (in the session, not committed).
    Skills that stay keep their verification; newly declared ones start unverified."""
    user_columns, volunteer_columns = profile_columns(clean, volunteer.weekly_cap)
    for key, value in user_columns.items():
        setattr(user, key, value)
    volunteer.work_unit = work_unit_named(clean.work_unit_name)
    volunteer.district = clean.district
    for key, value in volunteer_columns.items():
        setattr(volunteer, key, value)
    if clean.skills is None:
        return
    wanted = {s.id: s for s in clean.skills}
    volunteer.skills = [vs for vs in volunteer.skills if vs.skill_id in wanted]
    held = {vs.skill_id for vs in volunteer.skills}
    for skill_id, skill in wanted.items():
        if skill_id not in held:
            volunteer.skills.append(VolunteerSkill(skill=skill))


class ShownSkill(NamedTuple):
    """A declared skill as /me lists it: its names (the `localized` filter picks one) and
    whether it counts yet (`VolunteerSkill.counts`)."""

    name_zh: str
    name_en: str
    counts: bool


class ShownProfile(NamedTuple):
    """What /me shows of a profile beyond the volunteer's own columns, and the count on its
    inbox badge."""

    work_unit: str | None
    district: str | None
    skills: list[ShownSkill]
    unread: int  # inbox.unread_count


def profile_gaps(volunteer: Volunteer, profile: ShownProfile) -> list[str]:
    """What sign-up did not ask and the profile still lacks ("emergency_contact", "skills"),
    for the reminder on /me."""
    gaps = []
    if not volunteer.emergency_phone:
        gaps.append("emergency_contact")
    if not profile.skills:
        gaps.append("skills")
    return gaps


def profile_data_of(user: User) -> ProfileData:
    """The stored profile as ProfileData, to prefill the edit form."""
    volunteer = user.volunteer
    assert volunteer is not None
    return ProfileData(
        name=user.name,
        phone=user.phone,
        work_unit=volunteer.work_unit.name if volunteer.work_unit else "",
        district_id=volunteer.district_id,
        skill_ids=frozenset(vs.skill_id for vs in volunteer.skills),
        accepts_nights=volunteer.accepts_nights,
        weekly_cap=volunteer.weekly_cap,
        partner_phone=volunteer.partner_phone or "",
        emergency_name=volunteer.emergency_name or "",
        emergency_phone=volunteer.emergency_phone or "",
    )


@contextmanager
def clash_explained(phone: str) -> Iterator[None]:
    """Writes inside that hit a unique key (lost to a concurrent request) are rolled back; the
    clash becomes an AccountError naming the phone when the number is now taken. Any other
    clash is re-raised for the caller."""
    try:
        yield
    except IntegrityError:
        db.session.rollback()
        if phone_taken(phone):
            raise AccountError(_l("This mobile number is already registered."), "phone") from None
        raise


def commit_or_explain(phone: str) -> None:
    """Commit; a clash is explained as by clash_explained."""
    with clash_explained(phone):
        db.session.commit()


# Said of any number the account cannot move to: it does not tell whether the number is
# registered, imported from a work unit's list or deleted.
PHONE_UNAVAILABLE = _l(
    "This mobile number cannot be used for your account. If it is yours, ask a coordinator."
)


def changes_phone(user: User, data: ProfileData) -> bool:
    """Whether saving `data` would move `user` to another (valid) mobile number."""
    try:
        return normalize_mobile(data.phone) != user.phone
    except InvalidPhone:
        return False


def update_profile(user: User, data: ProfileData, *, password: str = "") -> None:
    """Save an edited profile for `user` (who must have a volunteer profile). Moving to
    another mobile number (the login) needs the current `password`, checked before anything
    is looked up, and a number that cannot be used gets PHONE_UNAVAILABLE whatever the
    reason. Raises AccountError; nothing is written then."""
    assert user.volunteer is not None
    moving = changes_phone(user, data)
    if moving and not user.check_password(password or ""):
        raise AccountError(
            _l("Enter your current password to change your mobile number."), "current_password"
        )
    for attempt in range(2):
        try:
            clean = clean_profile(data, user=user)
            # No autoflush: the changes are written at the commit, where a clash is explained.
            with db.session.no_autoflush:
                apply_profile(user, user.volunteer, clean)
            commit_or_explain(clean.phone)
            return
        except AccountError as error:
            if moving and error.field == "phone":
                raise AccountError(PHONE_UNAVAILABLE, "phone") from None
            raise
        except IntegrityError:
            # A new work unit with the same name was created concurrently: it exists now.
            if attempt:
                raise


def change_password(user: User, current: str, new: str) -> None:
    """Set a new password after checking the current one. Raises AccountError."""
    if not user.check_password(current or ""):
        raise AccountError(_l("The current password is not correct."), "current")
    if not MIN_PASSWORD_LENGTH <= len(new or "") <= MAX_PASSWORD_LENGTH:
        raise AccountError(
            _l("Password must have at least %(n)d characters.", n=MIN_PASSWORD_LENGTH),
            "password",
        )
    user.set_password(new)
    db.session.commit()


def delete_account(user: User, password: str, now: datetime | None = None) -> None:
    """Delete the account as the privacy notice says, keeping the records others rely on.

    Every shift of theirs that has not started goes through the normal cancel path
    (`my_shifts.cancel_upcoming`: the hole shows, every coordinator and the shift's lead are
    told, a shift inside the cut-off is flagged urgent) and their upcoming posts leave every
    draft. Personal data goes: the name becomes "Deleted volunteer #<account id>" (stored in
    the deployment's language, as lists and sheets show it to everyone alike), the phone an
    unusable placeholder (`deleted-<id>`, unique, never a valid mobile number), the emergency
    contact, partner's number, calendar feed, skills, availability, days off and their own
    inbox are removed, and the reasons they typed when cancelling are replaced by a neutral
    one, also in the messages already sent about them. The password becomes unusable and the
    account inactive, so nobody can log in. The volunteer row stays (work unit and district
    only) so that published versions, attendance and service hours keep their rows.
    Commits once. Raises AccountError (nothing changed) for a wrong password."""
    if not user.check_password(password or ""):
        raise AccountError(_l("The password is not correct."), "password")
    # Stored in the deployment's language: lists and sheets show it to everyone alike.
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        name = gettext("Deleted volunteer #%(number)d", number=user.id)
        left = gettext("Deleted their account")
    anonymise(user, name, left, now)
    db.session.commit()


def anonymise(
    user: User, name: str, reason: str, now: datetime | None = None, *, in_log: bool = True
) -> None:
    """Remove `user`'s personal data as `delete_account` describes, naming them `name` and
    replacing the reasons they typed by `reason`; shared by account deletion and the
    retention job (scheduler.services.retention), which passes in_log=False and takes all
    its names out of the audit log in one pass. No commit."""
    now = now or utcnow()
    if in_log:
        audit.forget_names({user.name: name})
    user.name = name
    volunteer = user.volunteer
    if volunteer is not None:
        leave_rosters(volunteer, LEFT_MUSTER, reason, now)
        # Their own words go, here and in the messages already sent about them.
        for answer in db.session.scalars(
            select(ShiftResponse).where(
                ShiftResponse.volunteer_id == volunteer.id, ShiftResponse.reason.is_not(None)
            )
        ):
            answer.reason = reason
        for note in db.session.scalars(
            select(Notification).where(Notification.kind == my_shifts.VOLUNTEER_CANCELLED)
        ):
            payload = dict(note.payload or {})
            if payload.get("volunteer_id") == volunteer.id:
                payload.update(volunteer_name=user.name, reason=reason)
                note.payload = payload
        db.session.execute(delete(Availability).where(Availability.volunteer_id == volunteer.id))
        db.session.execute(delete(DayOff).where(DayOff.volunteer_id == volunteer.id))
        volunteer.skills = []
        volunteer.partner_phone = None
        volunteer.emergency_name = None
        volunteer.emergency_phone = None
        volunteer.calendar_token = None
    db.session.execute(delete(Notification).where(Notification.user_id == user.id))
    user.phone = f"{ANONYMISED_PHONE_PREFIX}{user.id}"
    user.password_hash = DELETED_PASSWORD_HASH
    user.active = False
    user.locale = None
    user.claim_code_hash = None
    user.claim_code_expires_at = None


# Why a draft post reopened when its volunteer's account closed (UnfilledPost.reasons codes,
# worded in templates/coordinator/_roster_reasons.html as the solver's are).
LEFT_MUSTER = "left_muster"  # they deleted their account (or retention anonymised it)
DEACTIVATED = "account_deactivated"  # an admin deactivated it


def leave_rosters(
    volunteer: Volunteer, code: str, reason: str, now: datetime, by: User | None = None
) -> int:
    """A volunteer whose account closes (deleted, anonymised or deactivated by `by`) leaves
    every post that has not started: each draft post reopens with a reason naming them
    (`code`), and each published one goes through the cancel path with `reason`
    (`my_shifts.cancel_upcoming`: the hole shows, coordinators and the shift's lead are told).
    Returns how many published shifts were cancelled. No commit."""
    _leave_drafts(volunteer, code, now)
    return my_shifts.cancel_upcoming(volunteer, reason, now, by=by)


def _leave_drafts(volunteer: Volunteer, code: str, now: datetime) -> None:
    """Take the volunteer off every draft post that has not started, leaving each post
    unfilled with the reason `code` naming them, as a post a volunteer gave up while a
    roster was being made shows (planning.save_solution). No commit."""
    rows = db.session.scalars(
        select(Assignment)
        .join(Roster, Roster.id == Assignment.roster_id)
        .where(Assignment.volunteer_id == volunteer.id, Roster.status == DRAFT)
        .options(selectinload(Assignment.site), selectinload(Assignment.roster))
    ).all()
    for a in rows:
        start, _end = a.site.shift_window(a.day, a.shift)
        if start <= now:
            continue
        draft, site, day, kind, role_id = a.roster, a.site, a.day, a.shift, a.role_id
        db.session.delete(a)
        db.session.flush()
        post = sync_unfilled(draft, site, day, kind, role_id)
        if post is not None:
            post.reasons = _with_person(post.reasons or [], code, volunteer.id)
        draft.touch()


def _with_person(
    reasons: list[dict[str, Any]], code: str, volunteer_id: int
) -> list[dict[str, Any]]:
    """A new list of `reasons` naming `volunteer_id` under `code` (one reason per code, as
    planning._changed_reasons gives them; a new one goes first). New objects throughout: a
    JSON column only sees an assigned value that differs from the stored one."""
    people = [volunteer_id]
    others = []
    for reason in reasons:
        if reason.get("code") == code:
            people += reason.get("people", [])
        else:
            others.append(reason)
    return [{"code": code, "people": sorted(set(people))}, *others]
