"""The delivery page: what the outbox sent, what waits and what failed (with the reason), and
"send again" for failed messages once their cause is fixed."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import ngettext
from flask_login import current_user
from werkzeug.wrappers import Response

from scheduler.access import staff_required
from scheduler.coordinator import bp
from scheduler.extensions import db
from scheduler.forms import EmptyForm
from scheduler.parsing import database_id
from scheduler.services import outbox


@bp.get("/delivery")
@staff_required
def delivery() -> str:
    """Counts by state, the channel in use, and the failed messages with their reasons."""
    channel, real = outbox.channel_name(current_app.config)
    return render_template(
        "coordinator/delivery.html",
        counts=outbox.counts(current_user),
        failed=outbox.failed(current_user),
        channel=channel,
        channel_real=real,
        form=EmptyForm(),
    )


@bp.post("/delivery/retry")
@staff_required
def delivery_retry() -> Response:
    """Send failed messages again: one (`notification` or `robot` = its id) or all (`all`)."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    everything = request.form.get("all") == "1"
    notification = database_id(request.form.get("notification"))
    robot = database_id(request.form.get("robot"))
    if not everything and notification is None and robot is None:
        abort(400)
    count = outbox.retry(
        [notification] if notification is not None else [],
        [robot] if robot is not None else [],
        everything=everything,
        user=current_user,
    )
    db.session.commit()
    flash(
        ngettext(
            "%(num)d message will be sent again in the next delivery pass.",
            "%(num)d messages will be sent again in the next delivery pass.",
            count,
        )
    )
    return redirect(url_for("coordinator.delivery"))
