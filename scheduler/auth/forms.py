"""Registration and login forms."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import PasswordInput

from scheduler.i18n import lazy_gettext as _l
from scheduler.profile_forms import (
    PHONE_ATTRS,
    PHONE_FIELD_LENGTH,
    REQUIRED,
    ProfileForm,
    district_choices,
)
from scheduler.services.accounts import MIN_PASSWORD_LENGTH
from scheduler.services.profile import MAX_PASSWORD_LENGTH, MAX_WORK_UNIT_LENGTH, ProfileData


class RegistrationForm(FlaskForm):
    """Sign-up asks only what the roster needs to place someone: name, mobile number (the
    login), one password, work unit, district and whether nights are fine, plus consent to
    the privacy notice. Skills, weekly cap, partner and emergency contact follow on the
    profile (/me reminds). The work unit may be left empty here: someone whose union already
    imported them keeps the unit it entered (the service requires one from everybody else).

    The password is sent back in the page when another field is wrong (hide_value=False): a
    phone user who fixes their mobile number must not have to type it again, and the page goes
    only to the browser that just typed it, with Cache-Control: no-store."""

    name = ProfileForm.name
    phone = ProfileForm.phone
    password = PasswordField(
        _l("Password"),
        [
            DataRequired(REQUIRED),
            Length(
                min=MIN_PASSWORD_LENGTH,
                max=MAX_PASSWORD_LENGTH,
                message=_l("Password must have at least %(n)d characters.", n=MIN_PASSWORD_LENGTH),
            ),
        ],
        widget=PasswordInput(hide_value=False),
        render_kw={"autocomplete": "new-password", "minlength": MIN_PASSWORD_LENGTH},
        description=_l(
            "At least %(n)d characters. You log in with your mobile number and this password.",
            n=MIN_PASSWORD_LENGTH,
        ),
    )
    work_unit = StringField(
        _l("Work unit / organisation"),
        [
            Optional(),
            Length(
                max=MAX_WORK_UNIT_LENGTH,
                message=_l("At most %(n)d characters.", n=MAX_WORK_UNIT_LENGTH),
            ),
        ],
        render_kw={
            "list": "work-units",
            "autocomplete": "organization",
            "maxlength": MAX_WORK_UNIT_LENGTH,
        },
        # A number a union listed is claimed with its slip, never registered (an empty
        # unit here does not keep the listed one: registration refuses the number).
        description=_l("Pick from the list or type the name of your unit."),
    )
    district = ProfileForm.district
    accepts_nights = ProfileForm.accepts_nights
    consent = BooleanField(
        _l("I have read the privacy notice and agree that Muster keeps these details."),
        [DataRequired(_l("Please agree to the privacy notice to register."))],
    )

    def load_choices(self) -> None:
        """Fill the district choices (validating the form needs them). The datalist's work
        units are read only when the form is shown (profile_forms.work_unit_names): a
        registration that succeeds never shows it."""
        self.district.choices = district_choices()

    def profile_data(self) -> ProfileData:
        """The submitted sign-up for the services; what it does not ask stays None (a new
        account gets the defaults, a claimed imported one keeps what its union entered)."""
        return ProfileData(
            name=self.name.data or "",
            phone=self.phone.data or "",
            work_unit=self.work_unit.data or "",
            district_id=self.district.data or None,
            accepts_nights=bool(self.accepts_nights.data),
        )


class LoginForm(FlaskForm):
    phone = StringField(
        _l("Mobile number"),
        [DataRequired(REQUIRED), Length(max=PHONE_FIELD_LENGTH)],
        render_kw={**PHONE_ATTRS, "autocomplete": "username"},
    )
    password = PasswordField(
        _l("Password"),
        [DataRequired(REQUIRED), Length(max=MAX_PASSWORD_LENGTH)],
        render_kw={"autocomplete": "current-password"},
    )
    next = HiddenField()
