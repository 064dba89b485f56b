"""One-time codes that prove someone holds a phone: a password reset (sent by SMS or printed
by a coordinator), and, with VERIFY_PHONE=sms, a registration or a claim waiting for the code
texted to the number. Only a keyed digest of each code is stored (scheduler.services.codes)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from scheduler.extensions import Model
from scheduler.models.base import UTCDateTime, utcnow

RESET, REGISTER, CLAIM = "reset", "register", "claim"
CODE_PURPOSES = (RESET, REGISTER, CLAIM)


class OneTimeCode(Model):
    """One code for one phone and purpose. It works while `used_at` is NULL, `expires_at` is
    ahead and fewer than the allowed wrong tries were made; issuing a new code for the same
    phone and purpose uses the old one up. Rows exist for numbers without an account too (a
    reset asked for any number does the same work), so a row tells nothing about accounts."""

    __tablename__ = "one_time_codes"
    __table_args__ = (
        CheckConstraint(f"purpose IN {CODE_PURPOSES!r}", name="purpose_known"),
        CheckConstraint("attempts >= 0", name="attempts_non_negative"),
        Index("ix_one_time_codes_phone_purpose", "phone", "purpose"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    purpose: Mapped[str] = mapped_column(String(20))
    phone: Mapped[str] = mapped_column(String(32))  # E.164
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # What waits for the code: a registration's profile or a claim, with the password already
    # hashed (never the password itself). None for resets.
    payload: Mapped[dict[str, Any] | None] = mapped_column(JSON)
