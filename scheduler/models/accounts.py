"""Accounts (the login) and volunteer profiles."""

from __future__ import annotations

from datetime import datetime

from flask import current_app
from flask_login import UserMixin
from pypinyin import lazy_pinyin
from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, String, event
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from scheduler.extensions import Model
from scheduler.models.base import UTCDateTime, utcnow
from scheduler.models.catalogue import Skill
from scheduler.models.organisations import District, Organisation, WorkUnit

VOLUNTEER = "volunteer"
SITE_LEAD = "site_lead"
COORDINATOR = "coordinator"
ADMIN = "admin"
# A grassroots union's liaison (联络员): sees, imports and helps register its own members.
LIAISON = "liaison"
ACCOUNT_ROLES = (VOLUNTEER, SITE_LEAD, COORDINATOR, ADMIN, LIAISON)
STAFF_ROLES = (COORDINATOR, ADMIN)
# Hashes starting with "!" match no password (werkzeug rejects them as malformed): accounts
# created by an import before anyone set a password, and deleted accounts.
UNUSABLE_PREFIX = "!"
IMPORTED_PASSWORD_HASH = UNUSABLE_PREFIX + "imported"
DELETED_PASSWORD_HASH = UNUSABLE_PREFIX + "deleted"


class User(UserMixin, Model):
    """Anyone who logs in. The mobile number in E.164 form is the login."""

    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint(f"role IN {ACCOUNT_ROLES!r}", name="role_known"),
        CheckConstraint("length(name) > 0", name="name_not_empty"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(50))
    # Sort key for names (pinyin, lower case, syllables separated by spaces) so lists of
    # thousands sort and paginate in SQL, in both locales. Kept in step with `name` by the
    # attribute listener below; a bulk UPDATE of names must recompute it (name_sort_key).
    name_pinyin: Mapped[str] = mapped_column(String(255), default="", index=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    # Indexed: the few staff accounts are found among thousands of volunteers on every rostered
    # volunteer's /me (scope.staff_contacts_covering_node) without reading the whole table.
    role: Mapped[str] = mapped_column(String(20), default=VOLUNTEER, index=True)
    locale: Mapped[str | None] = mapped_column(String(10))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The one-time code an imported volunteer claims the account with (scheduler.services.
    # claims): only its keyed digest is kept, cleared when the account is claimed.
    claim_code_hash: Mapped[str | None] = mapped_column(String(64))
    claim_code_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The node a coordinator or liaison is appointed to (scheduler.services.scope); for a
    # coordinator or admin None means the whole city.
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL"), index=True
    )

    organisation: Mapped[Organisation | None] = relationship()
    volunteer: Mapped[Volunteer | None] = relationship(
        back_populates="user", cascade="all, delete-orphan", uselist=False
    )

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive (deleted) accounts
        return self.active

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES

    def set_password(self, password: str) -> None:
        self.password_hash = hash_password(password)

    @property
    def has_usable_password(self) -> bool:
        """False for imported accounts nobody has set a password for, and deleted ones."""
        return not (self.password_hash or "").startswith(UNUSABLE_PREFIX)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)


def hash_password(password: str) -> str:
    """werkzeug's hash with the configured method (scrypt; tests configure a cheap one)."""
    return generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])


class Volunteer(Model):
    """What a volunteer told us about themselves; one per user who serves."""

    __tablename__ = "volunteers"
    __table_args__ = (CheckConstraint("weekly_cap BETWEEN 0 AND 7", name="weekly_cap_range"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    work_unit_id: Mapped[int | None] = mapped_column(
        ForeignKey("work_units.id", ondelete="SET NULL")
    )
    district_id: Mapped[int | None] = mapped_column(ForeignKey("districts.id", ondelete="SET NULL"))
    # The node the volunteer belongs to: kept in step with work unit and district on flush
    # (scheduler.models.organisations).
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL"), index=True
    )
    accepts_nights: Mapped[bool] = mapped_column(Boolean, default=False)
    weekly_cap: Mapped[int] = mapped_column(Integer, default=5)
    partner_phone: Mapped[str | None] = mapped_column(String(32))
    emergency_name: Mapped[str | None] = mapped_column(String(50))
    emergency_phone: Mapped[str | None] = mapped_column(String(32))
    consented_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    trained_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Secret of the volunteer's calendar feed URL; None when no feed is on (revoking clears it).
    calendar_token: Mapped[str | None] = mapped_column(String(64), unique=True)

    user: Mapped[User] = relationship(back_populates="volunteer")
    work_unit: Mapped[WorkUnit | None] = relationship()
    district: Mapped[District | None] = relationship()
    organisation: Mapped[Organisation | None] = relationship()
    skills: Mapped[list[VolunteerSkill]] = relationship(
        back_populates="volunteer", cascade="all, delete-orphan"
    )


class VolunteerSkill(Model):
    """A declared skill; for qualifications, who verified it and when."""

    __tablename__ = "volunteer_skills"

    volunteer_id: Mapped[int] = mapped_column(
        ForeignKey("volunteers.id", ondelete="CASCADE"), primary_key=True
    )
    skill_id: Mapped[int] = mapped_column(
        ForeignKey("skills.id", ondelete="CASCADE"), primary_key=True
    )
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    verified_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    volunteer: Mapped[Volunteer] = relationship(back_populates="skills")
    skill: Mapped[Skill] = relationship()

    @property
    def counts(self) -> bool:
        """Whether the skill qualifies the volunteer for roles that require it."""
        return skill_counts(self.skill.is_qualification, self.verified_at)


def skill_counts(is_qualification: bool, verified_at: datetime | None) -> bool:
    """Whether a declared skill qualifies its volunteer (`VolunteerSkill.counts`, for rows read
    without the objects): a qualification only once a coordinator has verified it."""
    return not is_qualification or verified_at is not None


def name_sort_key(name: str) -> str:
    """'张 三' -> 'zhang san': how names sort in Chinese (and, as the names are Chinese, in
    English too). Non-Chinese text is kept, lower-cased."""
    syllables = " ".join(lazy_pinyin(name or "")).lower()
    return " ".join(syllables.split())[:255]


@event.listens_for(User.name, "set")
def _keep_name_pinyin(target: User, value: str | None, oldvalue: object, initiator: object) -> None:
    # The same name set again (registration sets it twice) keeps its key: pinyin is costly.
    if value == oldvalue and target.name_pinyin is not None:
        return
    target.name_pinyin = name_sort_key(value or "")
