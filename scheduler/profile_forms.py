"""The profile form and its pieces, shared by sign-up (scheduler.auth) and the volunteer's own
profile page (scheduler.volunteer): below both blueprints, so neither imports the other."""

from __future__ import annotations

from typing import Any

from flask_babel import LazyString
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import (
    BooleanField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
)

from scheduler.extensions import db
from scheduler.forms import select_choices
from scheduler.i18n import lazy_gettext as _l
from scheduler.i18n import localized_name
from scheduler.models import District, Skill, WorkUnit
from scheduler.services.accounts import MAX_NAME_LENGTH
from scheduler.services.profile import (
    DEFAULT_WEEKLY_CAP,
    MAX_WEEKLY_CAP,
    MAX_WORK_UNIT_LENGTH,
    MIN_WEEKLY_CAP,
    ProfileData,
)

PHONE_FIELD_LENGTH = 32
REQUIRED = _l("This field is required.")
PHONE_ATTRS = {"inputmode": "tel", "autocomplete": "tel", "maxlength": PHONE_FIELD_LENGTH}


def _too_long(n: int) -> LazyString:
    return _l("At most %(n)d characters.", n=n)


# Built once: the registration page asks on every GET and POST.
_DISTRICTS = select(District.id, District.name).order_by(District.name)
_WORK_UNIT_NAMES = select(WorkUnit.name).order_by(WorkUnit.name)


def district_choices() -> list[SelectChoice]:
    """The district select's choices: a prompt (0), then every district by name. Read as
    plain rows on the connection, once per request (an admin may add or rename a district at
    any time): loading them as ORM objects cost some 200 Python calls more. Given as WTForms'
    SelectChoice, which it would otherwise make from tuples on every pass over them."""
    districts = db.session.connection().execute(_DISTRICTS)
    return select_choices([(0, _l("Choose your district")), *districts])


def work_unit_names() -> list[str]:
    """Known work units, for the datalist under the work unit field."""
    return list(db.session.scalars(_WORK_UNIT_NAMES))


class ProfileForm(FlaskForm):
    """The profile fields a volunteer fills in on registration and edits later."""

    name = StringField(
        _l("Name"),
        [DataRequired(REQUIRED), Length(max=MAX_NAME_LENGTH, message=_too_long(MAX_NAME_LENGTH))],
        render_kw={"autocomplete": "name", "maxlength": MAX_NAME_LENGTH},
    )
    phone = StringField(
        _l("Mobile number"),
        [DataRequired(REQUIRED), Length(max=PHONE_FIELD_LENGTH, message=_l("Too long."))],
        render_kw=PHONE_ATTRS,
    )
    work_unit = StringField(
        _l("Work unit / organisation"),
        [
            DataRequired(REQUIRED),
            Length(max=MAX_WORK_UNIT_LENGTH, message=_too_long(MAX_WORK_UNIT_LENGTH)),
        ],
        render_kw={"list": "work-units", "autocomplete": "organization", "maxlength": 100},
        description=_l("Pick from the list or type the name of your unit."),
    )
    district = SelectField(_l("District"), coerce=int, default=0)
    skills = SelectMultipleField(_l("Skills and qualifications"), coerce=int, default=[])
    accepts_nights = BooleanField(_l("I can serve night shifts (00:00–08:00)"))
    weekly_cap = IntegerField(
        _l("At most this many shifts a week"),
        [
            InputRequired(REQUIRED),
            NumberRange(
                MIN_WEEKLY_CAP,
                MAX_WEEKLY_CAP,
                message=_l(
                    "Weekly cap must be between %(lo)d and %(hi)d shifts.",
                    lo=MIN_WEEKLY_CAP,
                    hi=MAX_WEEKLY_CAP,
                ),
            ),
        ],
        default=DEFAULT_WEEKLY_CAP,
        render_kw={"min": MIN_WEEKLY_CAP, "max": MAX_WEEKLY_CAP, "inputmode": "numeric"},
    )
    partner_phone = StringField(
        _l("Partner to serve with (their mobile number, optional)"),
        [Optional(), Length(max=PHONE_FIELD_LENGTH, message=_l("Too long."))],
        render_kw=PHONE_ATTRS,
        description=_l(
            "A family member or colleague who registers too; we try to roster you together."
        ),
    )
    emergency_name = StringField(
        _l("Name"),
        [Optional(), Length(max=MAX_NAME_LENGTH, message=_too_long(MAX_NAME_LENGTH))],
        render_kw={"maxlength": MAX_NAME_LENGTH},
    )
    emergency_phone = StringField(
        _l("Mobile number"),
        [Optional(), Length(max=PHONE_FIELD_LENGTH, message=_l("Too long."))],
        render_kw={**PHONE_ATTRS, "autocomplete": "off"},
    )

    def load_choices(self) -> dict[str, Any]:
        """Fill the district and skill choices from the database. Returns what the template
        needs besides the form: skills by id (to mark qualifications) and the known work
        units (for the datalist)."""
        skills = list(db.session.scalars(select(Skill).order_by(Skill.is_qualification, Skill.id)))
        self.district.choices = district_choices()
        self.skills.choices = [(s.id, localized_name(s)) for s in skills]
        return {"skills": {s.id: s for s in skills}, "work_units": work_unit_names()}

    def profile_data(self) -> ProfileData:
        """The submitted profile for the services."""
        return ProfileData(
            name=self.name.data or "",
            phone=self.phone.data or "",
            work_unit=self.work_unit.data or "",
            district_id=self.district.data or None,
            skill_ids=frozenset(self.skills.data or ()),
            accepts_nights=bool(self.accepts_nights.data),
            weekly_cap=self.weekly_cap.data if self.weekly_cap.data is not None else -1,
            partner_phone=self.partner_phone.data or "",
            emergency_name=self.emergency_name.data or "",
            emergency_phone=self.emergency_phone.data or "",
        )
