"""The message form, shared by coordinators (who pick the audience) and site leads (whose
audience is the shift they lead), and the preview both pages show. Below the blueprints, since
both the coordinator's and the check-in pages post it. The service checks everything again."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from flask import abort, current_app, flash, redirect
from flask_babel import ngettext
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from werkzeug.wrappers import Response
from wtforms import DateField, HiddenField, SelectField, TextAreaField
from wtforms.validators import Length, Optional

from scheduler.extensions import db
from scheduler.forms import NONE, add_error, id_or_none, select_choices
from scheduler.i18n import lazy_gettext as _l
from scheduler.labels import SHIFT_LABELS
from scheduler.models import PlanningPeriod, Site, User, Volunteer
from scheduler.services import delivery, messages, scope, senders
from scheduler.services.messages import MAX_MESSAGE_LENGTH, Audience, MessageError, NotAllowed

PREVIEW, SEND = "preview", "send"

AUDIENCE_LABELS = {
    messages.SHIFT: _l("One shift at a site"),
    messages.SITE: _l("Everyone at a site over some days"),
    messages.PERIOD: _l("Everyone on a period's published roster"),
    messages.PERIOD_LEADS: _l("The site leads of a period"),
}


class MessageForm(FlaskForm):
    """The text, and which button was pressed (Preview or Send)."""

    text = TextAreaField(
        _l("Message"),
        validators=[
            Length(max=MAX_MESSAGE_LENGTH, message=_l("At most %(max)d characters.")),
        ],
    )
    action = HiddenField(default=PREVIEW)

    @property
    def sending(self) -> bool:
        return self.action.data == SEND


class AudienceMessageForm(MessageForm):
    """A coordinator's message: the audience and its details, then the text."""

    audience = SelectField(
        _l("Send to"),
        choices=select_choices(AUDIENCE_LABELS.items()),
        default=messages.SHIFT,
    )
    site_id = SelectField(_l("Site"), coerce=id_or_none, default=NONE)
    day = DateField(_l("Date"), validators=[Optional()])
    shift = SelectField(_l("Shift"), choices=select_choices(SHIFT_LABELS.items()), default="day")
    first_day = DateField(_l("First day"), validators=[Optional()])
    last_day = DateField(_l("Last day"), validators=[Optional()])
    period_id = SelectField(_l("Period"), coerce=id_or_none, default=NONE)

    def set_choices(self, sites: Sequence[Site], periods: Sequence[PlanningPeriod]) -> None:
        self.site_id.choices = select_choices(
            [(NONE, _l("Choose a site")), *((s.id, s.name) for s in sites)]
        )
        self.period_id.choices = select_choices(
            [(NONE, _l("Choose a period")), *((p.id, p.name) for p in periods)]
        )

    def chosen(self) -> Audience:
        """The audience the form names (the service says what is missing)."""
        site = db.session.get(Site, self.site_id.data) if self.site_id.data else None
        period_id = self.period_id.data
        period = db.session.get(PlanningPeriod, period_id) if period_id else None
        return Audience(
            self.audience.data or "",
            site=site,
            day=self.day.data,
            shift=self.shift.data,
            first_day=self.first_day.data,
            last_day=self.last_day.data,
            period=period,
        )


@dataclass
class Preview:
    """Who would get the message (names and phones, see `preview`) and what it costs in SMS."""

    people: list[tuple[str, str]]
    segments: int

    @property
    def count(self) -> int:
        return len(self.people)

    @property
    def sms_total(self) -> int:
        return self.count * self.segments


def _nodes_of(people: Sequence[User]) -> dict[int, int | None]:
    """Each person's node: their volunteer record's union, else their appointment (one
    query, not one per person)."""
    nodes = {u.id: u.organisation_id for u in people}
    if people:
        nodes.update(
            db.session.execute(
                select(Volunteer.user_id, Volunteer.organisation_id).where(
                    Volunteer.user_id.in_(list(nodes))
                )
            ).all()
        )
    return nodes


def preview(people: Sequence[User], text: str, sender: User) -> Preview:
    """The preview of a message from `sender` to `people`, and the SMS parts of the text as it
    is sent (signed with the sender's name). Phones scope.phone_seen_by the sender: in full
    for staff (messages.recipients keeps their audience inside their scope), masked for a lead
    (whose full view of their shift's numbers is the check-in page, while it is open)."""
    text = (text or "").strip()
    nodes = _nodes_of(people)
    return Preview(
        [(u.name, scope.phone_seen_by(sender, u.phone, nodes[u.id])) for u in people],
        senders.sms_segments(messages.signed(text, sender.name)) if text else 0,
    )


def send_or_preview(
    form: MessageForm, audience: Audience, sent_to: str
) -> Response | Preview | None:
    """What both message pages do with a valid form: Send queues the message, starts a
    delivery pass at once ("tonight the east lane" cannot wait) and redirects to `sent_to`;
    Preview returns who would get it. A refusal goes onto the form (None); someone who may not
    message the audience gets 404."""
    try:
        if form.sending:
            sent = messages.send(current_user, audience, form.text.data or "")
            delivery.deliver_soon(current_app._get_current_object())  # type: ignore[attr-defined]  # the real app behind the proxy
            flash(
                ngettext(
                    "Message queued for %(num)d person.",
                    "Message queued for %(num)d people.",
                    len(sent),
                )
            )
            return redirect(sent_to)
        return preview(
            messages.recipients(current_user, audience), form.text.data or "", current_user
        )
    except MessageError as error:
        add_error(form, error)
    except NotAllowed:
        abort(404)
    return None
