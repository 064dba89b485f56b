"""Queueing notifications. `notify` only adds an outbox row to the caller's transaction: the
change and its notification commit (or roll back) together."""

from __future__ import annotations

from typing import Any

from scheduler.extensions import db
from scheduler.models.notifications import Notification


def notify(user_id: int, kind: str, **payload: Any) -> Notification:
    """Queue a `kind` message (e.g. "shift_new", "shift_cancelled") for one user; payload
    values must be JSON-serialisable (ids, ISO dates, short strings)."""
    notification = Notification(user_id=user_id, kind=kind, payload=payload)
    db.session.add(notification)
    return notification
