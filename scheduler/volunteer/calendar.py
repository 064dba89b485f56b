"""A volunteer's shifts in their phone's calendar: a one-off .ics download, and a secret
subscription URL they can turn on, replace and turn off (/me/calendar).

The subscription feed itself (/calendar/<token>.ics) is public: calendar apps fetch it without
a login, so the 256-bit token in the URL is the only key. An unknown, replaced or revoked token
is a plain 404. The token is never logged (Muster's own logs; a web server's access log is
configured outside the app)."""

from __future__ import annotations

import logging
from contextlib import nullcontext

from flask import Response, abort, flash, make_response, redirect, render_template, url_for
from flask.blueprints import BlueprintSetupState
from flask_babel import force_locale, gettext
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response as BaseResponse

from scheduler.access import current_volunteer, volunteer_required
from scheduler.forms import EmptyForm
from scheduler.models import Assignment, Volunteer
from scheduler.services import calendar as cal
from scheduler.volunteer import bp

log = logging.getLogger(__name__)

DOWNLOAD_NAME = "muster-shifts.ics"
# The page shows the secret feed URL and the files name the volunteer's leads with their
# phones: no cache (a shared proxy, the browser's disk) may keep a copy.
NO_STORE = "private, no-store"


def _shift_url(a: Assignment) -> str:
    return url_for("volunteer.shift", assignment_id=a.id, _external=True)


def _ics_response(volunteer: Volunteer, attachment: bool) -> Response:
    response = Response(
        cal.calendar_ics(volunteer, shift_url=_shift_url), content_type=cal.CALENDAR_MEDIA_TYPE
    )
    response.headers["Cache-Control"] = NO_STORE
    if attachment:
        response.headers["Content-Disposition"] = f'attachment; filename="{DOWNLOAD_NAME}"'
    return response


def _feed_urls(volunteer: Volunteer) -> tuple[str, str] | tuple[None, None]:
    """(https URL, webcal:// URL) of the volunteer's feed, or (None, None) when it is off."""
    if volunteer.calendar_token is None:
        return None, None
    url = url_for("volunteer.calendar_feed", token=volunteer.calendar_token, _external=True)
    return url, "webcal://" + url.split("://", 1)[1]


@bp.get("/calendar")
@volunteer_required
def calendar() -> Response:
    """Volunteers: download their shifts, or manage their calendar subscription."""
    feed_url, webcal_url = _feed_urls(current_volunteer())
    response = make_response(
        render_template(
            "volunteer/calendar.html",
            feed_url=feed_url,
            webcal_url=webcal_url,
            days_back=cal.FEED_DAYS_BACK,
            form=EmptyForm(),
        )
    )
    response.headers["Cache-Control"] = NO_STORE
    return response


@bp.get("/calendar.ics")
@volunteer_required
def calendar_ics() -> Response:
    """Volunteers: their own published shifts as an .ics file (a snapshot: it does not
    follow later changes; the subscription does)."""
    return _ics_response(current_volunteer(), attachment=True)


def _checked_form() -> None:
    if not EmptyForm().validate_on_submit():
        abort(400)


@bp.post("/calendar/enable")
@volunteer_required
def calendar_enable() -> BaseResponse:
    """Volunteers: turn their calendar subscription on (the URL stays if already on)."""
    _checked_form()
    cal.enable_feed(current_volunteer())
    flash(gettext("Your calendar link is ready. Add it to your calendar app."), "success")
    return redirect(url_for("volunteer.calendar"), 303)


@bp.post("/calendar/rotate")
@volunteer_required
def calendar_rotate() -> BaseResponse:
    """Volunteers: replace their subscription URL; the old one stops working."""
    _checked_form()
    cal.rotate_feed(current_volunteer())
    flash(
        gettext("You have a new calendar link. The old one no longer works: subscribe again."),
        "success",
    )
    return redirect(url_for("volunteer.calendar"), 303)


@bp.post("/calendar/revoke")
@volunteer_required
def calendar_revoke() -> BaseResponse:
    """Volunteers: turn their subscription off; its URL stops working."""
    _checked_form()
    cal.revoke_feed(current_volunteer())
    flash(gettext("Your calendar link is turned off."), "success")
    return redirect(url_for("volunteer.calendar"), 303)


def calendar_feed(token: str) -> Response:
    """Anyone with the URL (a calendar app): the volunteer's shifts, in their chosen
    language. 404 for any token that is not current, with no hint why."""
    volunteer = cal.volunteer_for_feed(token)
    if volunteer is None:
        abort(404)
    # The volunteer's chosen language if they set one; else the calendar app's, else the default.
    locale = volunteer.user.locale
    try:
        with force_locale(locale) if locale else nullcontext():
            return _ics_response(volunteer, attachment=False)
    except HTTPException:
        raise
    except Exception:
        # Logged without the request path: it holds the token.
        log.exception("calendar feed failed for volunteer %s", volunteer.id)
        abort(500)


def _add_feed_route(state: BlueprintSetupState) -> None:
    """The feed lives at /calendar/<token>.ics, outside the blueprint's /me prefix (it is not
    a page of the logged-in volunteer), under the endpoint volunteer.calendar_feed."""
    state.app.add_url_rule(
        "/calendar/<token>.ics", f"{state.name}.calendar_feed", calendar_feed, methods=["GET"]
    )


bp.record_once(_add_feed_route)
