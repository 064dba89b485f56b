"""The urgent-request form, shared by coordinators and site leads: site, date, time span,
a head count per role and a note. The service checks everything again. Below the blueprints,
since both the coordinator's and the site lead's pages post it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask_babel import to_user_timezone
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import DateField, Field, IntegerField, SelectField, TextAreaField, TimeField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from scheduler.forms import add_error, id_or_none, select_choices
from scheduler.i18n import lazy_gettext as _l
from scheduler.models import PlanningPeriod, Role, Site, UrgentRequest
from scheduler.models.base import utcnow
from scheduler.models.urgent import MAX_NOTE_LENGTH, MAX_URGENT_HEADCOUNT
from scheduler.services import urgent
from scheduler.services.catalogue_admin import list_roles
from scheduler.services.urgent import UrgentError


class UrgentRequestForm(FlaskForm):
    site_id = SelectField(_l("Site"), coerce=id_or_none)
    day = DateField(_l("Date"), validators=[InputRequired(message=_l("Enter a date."))])
    start_time = TimeField(_l("From"), validators=[InputRequired(message=_l("Enter a time."))])
    end_time = TimeField(_l("Until"), validators=[InputRequired(message=_l("Enter a time."))])
    note = TextAreaField(
        _l("Note (what the help is for, whom to ask for)"),
        validators=[Length(max=MAX_NOTE_LENGTH, message=_l("At most %(max)d characters."))],
    )

    roles: list[Role]

    def need_field(self, role: Role) -> Field:
        return self[need_field_name(role.id)]

    def needs(self) -> dict[int, int]:
        return {role.id: self.need_field(role).data or 0 for role in self.roles}

    def need_errors(self) -> list[str]:
        return [str(e) for role in self.roles for e in self.need_field(role).errors]


def need_field_name(role_id: int) -> str:
    return f"need_{role_id}"


def urgent_request_form(
    roles: Sequence[Role], sites: Sequence[Site], **kwargs: Any
) -> UrgentRequestForm:
    """The form with one head-count field per role and the sites the user may choose."""
    validators = [
        Optional(),
        NumberRange(
            0,
            MAX_URGENT_HEADCOUNT,
            message=_l("Head counts are whole numbers from 0 to %(max)d."),
        ),
    ]
    fields = {
        need_field_name(role.id): IntegerField(role.code, validators=validators, default=0)
        for role in roles
    }
    form = type("UrgentNeedsForm", (UrgentRequestForm,), fields)(**kwargs)
    form.roles = list(roles)
    form.site_id.choices = select_choices((s.id, s.name) for s in sites)
    return form


def new_request_form(period: PlanningPeriod, **kwargs: Any) -> UrgentRequestForm:
    """The form for `current_user`: the sites they may ask help for in `period`; the date is
    today's (local) when it falls in the period."""
    form = urgent_request_form(list_roles(), urgent.postable_sites(period, current_user), **kwargs)
    today = to_user_timezone(utcnow()).date()
    if not form.is_submitted() and period.covers(today):
        form.day.data = today
    return form


def post_request(period: PlanningPeriod, form: UrgentRequestForm) -> UrgentRequest | None:
    """Validate and post the request; on error the message goes on the form's field."""
    if not form.validate_on_submit():
        return None
    try:
        return urgent.create_request(
            period,
            form.site_id.data,
            form.day.data,
            form.start_time.data,
            form.end_time.data,
            form.needs(),
            form.note.data or "",
            current_user,
        )
    except UrgentError as error:
        add_error(form, error)
        return None
