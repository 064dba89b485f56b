"""Forms for a volunteer's own pages: profile, password, deletion, availability taps."""

from __future__ import annotations

from datetime import date

from flask_wtf import FlaskForm
from wtforms import (
    HiddenField,
    PasswordField,
    StringField,
)
from wtforms.validators import (
    DataRequired,
    EqualTo,
    Length,
    Optional,
    ValidationError,
)

from scheduler.i18n import lazy_gettext as _l
from scheduler.parsing import database_id, iso_day
from scheduler.profile_forms import (
    REQUIRED,
    ProfileForm,
)
from scheduler.services.accounts import MIN_PASSWORD_LENGTH
from scheduler.services.profile import (
    MAX_PASSWORD_LENGTH,
)


class ProfileEditForm(ProfileForm):
    """The profile as its owner edits it: a new mobile number (the login) needs the current
    password, so a session left open on someone else's phone cannot take the account."""

    current_password = PasswordField(
        _l("Current password"),
        [Optional(), Length(max=MAX_PASSWORD_LENGTH)],
        render_kw={"autocomplete": "current-password"},
        description=_l("Needed only when you change your mobile number."),
    )


class PasswordForm(FlaskForm):
    current = PasswordField(
        _l("Current password"),
        [DataRequired(REQUIRED)],
        render_kw={"autocomplete": "current-password"},
    )
    password = PasswordField(
        _l("New password"),
        [
            DataRequired(REQUIRED),
            Length(
                min=MIN_PASSWORD_LENGTH,
                max=MAX_PASSWORD_LENGTH,
                message=_l("Password must have at least %(n)d characters.", n=MIN_PASSWORD_LENGTH),
            ),
        ],
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        _l("New password again"),
        [DataRequired(REQUIRED), EqualTo("password", message=_l("The passwords do not match."))],
        render_kw={"autocomplete": "new-password"},
    )


class DeleteAccountForm(FlaskForm):
    password = PasswordField(
        _l("Your password"),
        [DataRequired(REQUIRED)],
        render_kw={"autocomplete": "current-password"},
    )


def parse_week(raw: str | None) -> date | None:
    """A 'YYYY-MM-DD' query or form value, or None when missing or malformed."""
    return iso_day(raw)


def parse_cell(raw: str | None) -> tuple[date, int] | None:
    """A tapped cell's value, 'YYYY-MM-DD HH' (the date and the span's start hour), or None."""
    day_text, _, hour = (raw or "").partition(" ")
    day = parse_week(day_text)
    if day is None or len(hour) != 2 or not hour.isascii() or not hour.isdigit():
        return None
    start_hour = int(hour)
    return (day, start_hour) if start_hour <= 23 else None


class GridForm(FlaskForm):
    """What every grid button posts besides its own value: which week and period to show
    afterwards. Never a volunteer id: the volunteer is always the logged-in user."""

    week = HiddenField()
    period = HiddenField()

    @property
    def week_date(self) -> date | None:
        return parse_week(self.week.data)

    @property
    def period_id(self) -> int | None:
        return database_id(self.period.data)


class DayForm(GridForm):
    """A button acting on one whole date ('whole day', 'cannot serve this day')."""

    day = StringField(validators=[DataRequired()])

    def validate_day(self, field: StringField) -> None:
        if parse_week(field.data) is None:
            raise ValidationError(_l("Unknown date."))

    @property
    def day_date(self) -> date:
        day = parse_week(self.day.data)
        assert day is not None
        return day
