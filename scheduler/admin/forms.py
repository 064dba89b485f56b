"""Forms for the admin pages."""

from __future__ import annotations

from flask_babel import lazy_pgettext as _lp
from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, Length, Optional

from scheduler.i18n import lazy_gettext as _l
from scheduler.models import ACCOUNT_ROLES
from scheduler.services.accounts import MIN_PASSWORD_LENGTH
from scheduler.services.admin import MAX_PASSWORD_LENGTH, MAX_QUERY_LENGTH, STATUS_FILTERS

ROLE_LABELS = {
    "volunteer": _l("Volunteer"),
    "site_lead": _l("Site lead"),
    "coordinator": _l("Coordinator"),
    "admin": _l("Admin"),
    "liaison": _l("Liaison"),
}
STATUS_LABELS = {
    "active": _l("Active"),
    "inactive": _l("Deactivated"),
    "no_password": _l("No password yet"),
}


class AccountSearchForm(FlaskForm):
    """The filters above the account list (a GET form: no CSRF needed, nothing changes)."""

    class Meta:
        csrf = False

    q = StringField(
        _l("Name or mobile number"), validators=[Optional(), Length(max=MAX_QUERY_LENGTH)]
    )
    role = SelectField(
        _lp("account", "Role"),
        choices=[
            SelectChoice("", _l("All roles")),
            *(SelectChoice(r, ROLE_LABELS[r]) for r in ACCOUNT_ROLES),
        ],
        validators=[Optional()],
    )
    status = SelectField(
        _l("Status"),
        choices=[
            SelectChoice("", _l("Any status")),
            *(SelectChoice(s, STATUS_LABELS[s]) for s in STATUS_FILTERS),
        ],
        validators=[Optional()],
    )


class RoleForm(FlaskForm):
    """Change one account's role."""

    role = SelectField(
        _lp("account", "Role"),
        choices=[SelectChoice(r, ROLE_LABELS[r]) for r in ACCOUNT_ROLES],
        validators=[DataRequired()],
    )
    next = HiddenField()


class ReturnForm(FlaskForm):
    """A button-only POST that returns to the filtered list it came from."""

    next = HiddenField()


class PasswordForm(FlaskForm):
    """Set a new password for an account."""

    password = PasswordField(
        _l("New password"),
        validators=[
            DataRequired(),
            Length(min=MIN_PASSWORD_LENGTH, max=MAX_PASSWORD_LENGTH),
        ],
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[DataRequired(), EqualTo("password", _l("The two passwords differ."))],
        render_kw={"autocomplete": "new-password"},
    )


# The union tree ---------------------------------------------------------------------------

ORG_KIND_LABELS = {
    "city": _l("City union"),
    "district": _l("District or county union"),
    "grassroots": _l("Grassroots union"),
}


class OrganisationForm(FlaskForm):
    """Add a district or grassroots union under a parent."""

    kind = SelectField(
        _l("Kind"),
        choices=[SelectChoice(k, ORG_KIND_LABELS[k]) for k in ("district", "grassroots")],
        validators=[DataRequired()],
    )
    name = StringField(_l("Union name"), validators=[DataRequired(), Length(max=60)])
    parent_id = SelectField(_l("Under"), coerce=int, validate_choice=False)


class OrganisationNameForm(FlaskForm):
    name = StringField(_l("Union name"), validators=[DataRequired(), Length(max=60)])


class OrganisationParentForm(FlaskForm):
    parent_id = SelectField(_l("Move under"), coerce=int, validate_choice=False)


class OrganisationMergeForm(FlaskForm):
    target_id = SelectField(_l("Merge into"), coerce=int, validate_choice=False)


class OrganisationArchiveForm(FlaskForm):
    archived = HiddenField()


class OrganisationReinforceForm(FlaskForm):
    """Whether a district's coordinators may open their periods to other districts ("1"/"0")."""

    allowed = HiddenField()


class AppointForm(FlaskForm):
    """Appoint an account (by mobile number) coordinator or liaison of a union."""

    phone = StringField(_l("Mobile number"), validators=[DataRequired(), Length(max=32)])
    role = SelectField(
        _lp("account", "Role"),
        choices=[SelectChoice(r, ROLE_LABELS[r]) for r in ("coordinator", "liaison")],
        validators=[DataRequired()],
    )
