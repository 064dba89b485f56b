"""Ad-hoc messages from a coordinator to a shift, a site over some days, or a segment of a
period's published roster: write, preview who gets it (and the SMS parts), send through the
outbox (services.messages)."""

from __future__ import annotations

from flask import render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from scheduler.access import staff_required
from scheduler.coordinator import bp
from scheduler.forms import INVALID
from scheduler.message_forms import AudienceMessageForm, Preview, send_or_preview
from scheduler.services import messages, periods, sites


@bp.route("/messages", methods=["GET", "POST"])
@staff_required
def messages_page() -> Response | tuple[str, int]:
    """The message form (GET may prefill the audience: ?audience=shift&site_id=..&day=..
    &shift=..); Preview shows who gets it, Send queues it for them."""
    form = AudienceMessageForm(request.args) if request.method == "GET" else AudienceMessageForm()
    form.set_choices(sites.list_sites(user=current_user), periods.list_periods(user=current_user))
    shown: Preview | None = None
    if form.validate_on_submit():
        audience = form.chosen()
        outcome = send_or_preview(form, audience, url_for("coordinator.messages_page"))
        if isinstance(outcome, Response):
            return outcome
        shown = outcome
    status = INVALID if form.is_submitted() and (form.errors or form.form_errors) else 200
    return render_template(
        "coordinator/messages.html",
        form=form,
        preview=shown,
        max_length=messages.MAX_MESSAGE_LENGTH,
    ), status
