"""A call-up's public page, /c/<token>: what the call is about, for anyone with the link (it is
shared in group chats and printed on posters), with register / log-in / claim buttons.

Counting its funnel without a write per view (a link in a chat of 500 people is opened by
link-preview robots and by the same people again and again): the page itself writes nothing.
It remembers the call-up in the browser's (signed) session; a small POST the page sends once
it has loaded (htmx, so robots that run no script never count) records "opened", once per
browser. A log-in or registration in a browser that came through the page is recorded by the
log-in signal: "registered" when the account is younger than the visit, else "logged in"."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from babel.dates import format_skeleton
from flask import Flask, abort, render_template, session
from flask_babel import get_locale
from flask_login import user_logged_in
from sqlalchemy.exc import SQLAlchemyError

from scheduler.extensions import db
from scheduler.labels import SHIFT_LABELS, SITE_KIND_LABELS
from scheduler.main import bp
from scheduler.models import CallUp, User
from scheduler.models.base import utcnow
from scheduler.services import callups

log = logging.getLogger(__name__)

CAME_FROM = "callup"  # session: {"t": token, "at": when the page was first seen (epoch s)}
OPENED_KEY = "callups_opened"  # session: ids of the call-ups this browser has opened
MAX_REMEMBERED = 20


def _callup_or_404(token: str) -> CallUp:
    callup = callups.by_token(token)
    if callup is None:
        abort(404)
    return callup


@bp.get("/c/<token>")
def callup_page(token: str) -> str:
    """Anyone: the call-up explained (period, sites and addresses, shifts, what each role
    does) with the buttons to register, log in or claim an imported account."""
    callup = _callup_or_404(token)
    came = session.get(CAME_FROM)
    if not isinstance(came, dict) or came.get("t") != token:
        session[CAME_FROM] = {"t": token, "at": utcnow().timestamp()}
    return render_template(
        "main/callup.html",
        page=callups.public_page(callup),
        opened=callup.id in (session.get(OPENED_KEY) or []),
        shift_labels=SHIFT_LABELS,
        site_kind_labels=SITE_KIND_LABELS,
        day_label=lambda day: format_skeleton("MMMEd", day, locale=str(get_locale())),
    )


@bp.post("/c/<token>/opened")
def callup_opened(token: str) -> tuple[str, int]:
    """Anyone (with the page's CSRF token): the page was opened in this browser; counted
    once per browser."""
    callup = _callup_or_404(token)
    seen = [i for i in session.get(OPENED_KEY) or [] if isinstance(i, int)]
    if callup.id not in seen:
        callups.record_open(callup)
        session[OPENED_KEY] = [*seen, callup.id][-MAX_REMEMBERED:]
    return "", 204


def _record_join(sender: Flask, user: User, **_: Any) -> None:
    """After any log-in (a registration logs in too): if this browser came through a
    call-up's page, record it on the call-up. Never stops the log-in."""
    came = session.pop(CAME_FROM, None)
    if not isinstance(came, dict) or not isinstance(came.get("t"), str):
        return
    callup = callups.by_token(came["t"])
    if callup is None:
        return
    seen_at = came.get("at")
    visit = datetime.fromtimestamp(seen_at, UTC) if isinstance(seen_at, int | float) else utcnow()
    try:
        callups.record_join(callup, user, registered=user.created_at >= visit)
    except SQLAlchemyError:
        db.session.rollback()
        log.exception("call-up %s: the log-in of user %s was not recorded", callup.id, user.id)


user_logged_in.connect(_record_join)
