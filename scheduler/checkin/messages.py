"""A site lead messages the people of a shift they lead (staff may use the page for any
shift): write, preview who gets it (and the SMS parts), send through the outbox. Anyone who
does not lead the shift gets 404, like a shift that does not exist."""

from __future__ import annotations

from flask import abort, render_template, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from scheduler.checkin import bp
from scheduler.extensions import db
from scheduler.forms import INVALID
from scheduler.message_forms import MessageForm, Preview, send_or_preview
from scheduler.models import SHIFT_KINDS, Site
from scheduler.parsing import iso_day
from scheduler.services import messages
from scheduler.services.messages import SHIFT, Audience


@bp.route("/sites/<int:site_id>/<day>/<shift>/message", methods=["GET", "POST"])
@login_required
def shift_message(site_id: int, day: str, shift: str) -> Response | tuple[str, int]:
    """Message the shift's people: Preview shows who gets it, Send queues it."""
    site = db.session.get(Site, site_id)
    the_day = iso_day(day)
    if site is None or the_day is None or shift not in SHIFT_KINDS:
        abort(404)
    audience = Audience(SHIFT, site=site, day=the_day, shift=shift)
    if not messages.may_message(current_user, audience):
        abort(404)
    form = MessageForm()
    shown: Preview | None = None
    back = url_for("checkin.site_day", site_id=site.id, day=the_day.isoformat())
    if form.validate_on_submit():
        outcome = send_or_preview(form, audience, back)
        if isinstance(outcome, Response):
            return outcome
        shown = outcome
    status = INVALID if form.is_submitted() and (form.errors or form.form_errors) else 200
    return render_template(
        "checkin/message.html",
        form=form,
        preview=shown,
        site=site,
        day=the_day,
        shift=shift,
        span=site.shift_span(the_day, shift),
        back=back,
        max_length=messages.MAX_MESSAGE_LENGTH,
    ), status
