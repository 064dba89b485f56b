"""Registration and login forms."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, Optional

from scheduler.services.accounts import MIN_PASSWORD_LENGTH
from scheduler.services.profile import MAX_PASSWORD_LENGTH, MAX_WORK_UNIT_LENGTH
from scheduler.volunteer.forms import PHONE_ATTRS, PHONE_FIELD_LENGTH, REQUIRED, ProfileForm


class RegistrationForm(ProfileForm):
    """The profile plus a password and consent to the privacy notice. The work unit may be
    left empty here: someone whose union already imported them keeps the unit it entered
    (the service requires one from everybody else)."""

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
        description=_l(
            "Pick from the list or type the name of your unit. If your union already put you "
            "on its list, you may leave this empty to keep the unit it entered."
        ),
    )

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
        render_kw={"autocomplete": "new-password"},
        description=_l("At least %(n)d characters.", n=MIN_PASSWORD_LENGTH),
    )
    confirm = PasswordField(
        _l("Password again"),
        [DataRequired(REQUIRED), EqualTo("password", message=_l("The passwords do not match."))],
        render_kw={"autocomplete": "new-password"},
    )
    consent = BooleanField(
        _l("I have read the privacy notice and agree that Muster keeps these details."),
        [DataRequired(_l("Please agree to the privacy notice to register."))],
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
