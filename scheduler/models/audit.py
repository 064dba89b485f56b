"""The audit log: one row per change a coordinator, liaison or admin made (and per export of
personal data), written in the same transaction as the change by scheduler.services.audit.

Rows are only ever inserted: the app has no path that updates or deletes them. They keep
plain ids (no foreign keys) and a snapshot of the actor's name, so deleting or anonymising
an account leaves the record of what that account did intact."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from scheduler.extensions import Model
from scheduler.models.base import UTCDateTime, utcnow


class AuditEntry(Model):
    """Who did what to which object, when, and the fields it changed (phones masked)."""

    __tablename__ = "audit_entries"
    __table_args__ = (
        Index("ix_audit_entries_at", "at"),
        Index("ix_audit_entries_action", "action"),
        Index("ix_audit_entries_actor_id", "actor_id"),
        Index("ix_audit_entries_organisation_id", "organisation_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # None: the command line or the retention job (no account acted).
    actor_id: Mapped[int | None] = mapped_column(Integer)
    actor_name: Mapped[str] = mapped_column(String(50))
    actor_role: Mapped[str | None] = mapped_column(String(20))
    ip: Mapped[str | None] = mapped_column(String(45))
    action: Mapped[str] = mapped_column(String(40))
    object_type: Mapped[str] = mapped_column(String(30))
    object_id: Mapped[int | None] = mapped_column(Integer)
    summary: Mapped[str] = mapped_column(String(200))
    # A summary in words is shown in the reader's language: the key of its message
    # (services.audit.SUMMARIES) and the message's arguments. `summary` keeps the English
    # text (the CSV, and rows written before the key existed, which show it as it is).
    summary_key: Mapped[str | None] = mapped_column(String(40))
    summary_args: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # {"field": [before, after], ...}: the fields the action changed.
    changes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Further facts of the action: counts, an override's rules and note, an export's filters.
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Where the object sits, so a coordinator's view can be limited to their part of the
    # organisation: the period, site, volunteer and district the change concerns, if any.
    period_id: Mapped[int | None] = mapped_column(Integer)
    site_id: Mapped[int | None] = mapped_column(Integer)
    volunteer_id: Mapped[int | None] = mapped_column(Integer)
    district_id: Mapped[int | None] = mapped_column(Integer)
    # The node of the union tree the object belonged to when the row was written (its
    # period's, site's, volunteer's or district's; a tree action's node): who may read the
    # row (services.audit.search). None: city-wide (the catalogue, accounts): city staff only.
    organisation_id: Mapped[int | None] = mapped_column(Integer)
