"""Forms of the check-in pages and the service-hours table."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import Field, HiddenField, IntegerField, SelectField, StringField
from wtforms.validators import AnyOf, InputRequired, Length, NumberRange, Optional

from scheduler.i18n import lazy_gettext as _l
from scheduler.models.base import MAX_ID
from scheduler.parsing import database_id
from scheduler.services.attendance import MARKS, MAX_QUERY_LENGTH


class StatusForm(FlaskForm):
    """One tap: present, late or absent (or remove, for a walk-in)."""

    status = HiddenField(validators=[AnyOf(MARKS, message=_l("Choose present, late or absent."))])


class TimesForm(FlaskForm):
    """Time in and time out as the site's local HH:MM; `out_now` records the time out as now.
    The times are parsed and checked by the service (they depend on the shift)."""

    time_in = StringField(_l("Time in"), validators=[Optional(), Length(max=8)])
    time_out = StringField(_l("Time out"), validators=[Optional(), Length(max=8)])
    out_now = HiddenField()


def _id_field(message: str, label: str | None = None) -> IntegerField:
    """A database id: required, and a whole number from 1 to MAX_ID."""
    return IntegerField(
        label,
        validators=[InputRequired(message), NumberRange(min=1, max=MAX_ID, message=message)],
    )


def _sent_but_invalid(field: Field) -> bool:
    return bool(field.errors and field.raw_data and str(field.raw_data[0]).strip())


class WalkInForm(FlaskForm):
    """Add a walk-in: a volunteer from the search results and the role they take."""

    volunteer_id = _id_field(_l("Choose a volunteer."))
    role_id = _id_field(_l("Choose a role."), _l("Role"))

    def tampered(self) -> bool:
        """After validate(): an id no page sends (not a whole number, or out of range), as
        opposed to one left out."""
        return _sent_but_invalid(self.volunteer_id) or _sent_but_invalid(self.role_id)


class WalkInSearchForm(FlaskForm):
    """Search the pool for a walk-in (GET: no CSRF)."""

    class Meta:
        csrf = False

    q = StringField(_l("Name, pinyin or mobile"), validators=[Length(max=MAX_QUERY_LENGTH)])
    walkin = HiddenField()


class HoursFilterForm(FlaskForm):
    """Filters of the service-hours table (GET: a bookmarkable URL, no CSRF)."""

    class Meta:
        csrf = False

    period = SelectField(_l("Period"), coerce=database_id, validate_choice=False)
    work_unit = SelectField(_l("Work unit"), coerce=database_id, validate_choice=False)
    page = IntegerField(validators=[Optional()])
