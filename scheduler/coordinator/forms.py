"""Coordinator forms. Field checks give per-field messages; the services check again (and check
what needs the database, such as unique names), so no path writes unchecked data."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask_babel import lazy_pgettext as _lp
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    Field,
    HiddenField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, DataRequired, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from scheduler.forms import NONE, id_or_none, select_choices
from scheduler.i18n import lazy_gettext as _l
from scheduler.labels import SHIFT_LABELS, SITE_KIND_LABELS
from scheduler.models import SHIFT_KINDS, District, Role, Site, Skill, User
from scheduler.models.planning import MAX_REMINDER_HOURS
from scheduler.models.responses import MAX_REASON_LENGTH
from scheduler.services.pool import SORTS, PoolQuery
from scheduler.services.sites import (
    DEFAULT_TIMEZONE,
    MAX_ADDRESS_LENGTH,
    MAX_HEADCOUNT,
    MAX_NAME_LENGTH,
    SiteData,
)

COMMON_TIMEZONES = ("Asia/Shanghai", "Asia/Urumqi", "Asia/Hong_Kong", "Asia/Macau", "UTC")


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


class MultiCheckboxField(SelectMultipleField):
    """A list of checkboxes (sites of a period, shifts of a site)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _name_validators(limit: int) -> list[Any]:
    return [
        DataRequired(message=_l("Enter a name.")),
        Length(max=limit, message=_l("At most %(max)d characters.")),
    ]


def _district_choices(districts: Sequence[District]) -> list[SelectChoice]:
    return select_choices([(NONE, _l("— none —")), *((d.id, d.name) for d in districts)])


# Sites ------------------------------------------------------------------------------------


class SiteForm(FlaskForm):
    """Site details and shift pattern. The demand grid fields (demand_<shift>_<role id>) are
    added per catalogue by `site_form`."""

    kind = SelectField(_l("Kind"), choices=select_choices(SITE_KIND_LABELS.items()))
    name = StringField(
        _lp("thing", "Name"), filters=[_strip], validators=_name_validators(MAX_NAME_LENGTH)
    )
    address = StringField(
        _l("Address"),
        filters=[_strip],
        validators=[Length(max=MAX_ADDRESS_LENGTH, message=_l("At most %(max)d characters."))],
    )
    district_id = SelectField(_l("District"), coerce=id_or_none)
    timezone = StringField(
        _l("Time zone"),
        default=DEFAULT_TIMEZONE,
        filters=[_strip],
        validators=[InputRequired(message=_l("Enter a time zone.")), Length(max=50)],
    )
    first_shift_hour = IntegerField(
        _l("Night shift starts at (hour)"),
        default=0,
        validators=[
            InputRequired(message=_l("Enter an hour from 0 to 23.")),
            NumberRange(0, 23, message=_l("Enter an hour from 0 to 23.")),
        ],
    )
    shifts = MultiCheckboxField(
        _l("Shifts the site runs"),
        choices=select_choices(SHIFT_LABELS.items()),
        default=list(SHIFT_KINDS),
        validators=[InputRequired(message=_l("Choose at least one shift the site runs."))],
    )
    # The site's group chat robot (services.robots validates the address).
    robot_kind = SelectField(
        _l("Kind of robot"),
        choices=select_choices(
            [("wecom", _l("WeCom (企业微信)")), ("dingtalk", _l("DingTalk (钉钉)"))]
        ),
        default="wecom",
    )
    robot_url = StringField(
        _l("Robot webhook address"), filters=[_strip], validators=[Length(max=500)]
    )
    robot_secret = StringField(
        _l("DingTalk signing secret (加签, optional)"),
        filters=[_strip],
        validators=[Length(max=200)],
    )

    roles: list[Role]

    def demand_field(self, shift: str, role: Role) -> Field:
        """The grid cell for one shift and role."""
        return self[demand_field_name(shift, role.id)]

    def demand_errors(self) -> list[str]:
        """All grid cell messages (shown once above the grid as well as per cell)."""
        return [
            str(error)
            for role in self.roles
            for shift in SHIFT_KINDS
            for error in self.demand_field(shift, role).errors
        ]

    def to_data(self) -> SiteData:
        """The parsed values for services.sites.save_site."""
        return SiteData(
            kind=self.kind.data,
            name=self.name.data or "",
            address=self.address.data or "",
            district_id=self.district_id.data or None,
            timezone=self.timezone.data or "",
            first_shift_hour=self.first_shift_hour.data or 0,
            shifts=tuple(self.shifts.data or ()),
            demand={
                (shift, role.id): self.demand_field(shift, role).data or 0
                for role in self.roles
                for shift in SHIFT_KINDS
            },
            robot_kind=self.robot_kind.data,
            robot_url=self.robot_url.data or None,
            robot_secret=self.robot_secret.data or None,
        )


def demand_field_name(shift: str, role_id: int) -> str:
    return f"demand_{shift}_{role_id}"


def site_form(
    roles: Sequence[Role],
    districts: Sequence[District],
    initial: SiteData | None = None,
    **kwargs: Any,
) -> SiteForm:
    """A SiteForm with one number field per (shift, role) of the catalogue, pre-filled from
    `initial` when the request carries no form data."""
    cell_validators = [
        Optional(),
        NumberRange(
            0, MAX_HEADCOUNT, message=_l("Head counts are whole numbers from 0 to %(max)d.")
        ),
    ]
    fields = {
        demand_field_name(shift, role.id): IntegerField(
            f"{role.code} {shift}", validators=cell_validators, default=0
        )
        for role in roles
        for shift in SHIFT_KINDS
    }
    form_class = type("SiteDemandForm", (SiteForm,), fields)
    data: dict[str, Any] = {}
    if initial is not None:
        data = {
            "kind": initial.kind,
            "name": initial.name,
            "address": initial.address,
            "district_id": initial.district_id or NONE,
            "timezone": initial.timezone,
            "first_shift_hour": initial.first_shift_hour,
            "shifts": list(initial.shifts),
            "robot_kind": initial.robot_kind or "wecom",
            "robot_url": initial.robot_url or "",
            "robot_secret": initial.robot_secret or "",
        }
        for (shift, role_id), count in initial.demand.items():
            data[demand_field_name(shift, role_id)] = count
    form = form_class(data=data, **kwargs)
    form.roles = list(roles)
    form.district_id.choices = _district_choices(districts)
    return form


# Catalogue --------------------------------------------------------------------------------


CODE_VALIDATORS = [
    Optional(),
    Length(max=40, message=_l("At most %(max)d characters.")),
]


class RoleForm(FlaskForm):
    """A post in the catalogue. `code` is only asked for when adding a role."""

    code = StringField(
        _l("Code (letters, digits, _)"), filters=[_strip], validators=CODE_VALIDATORS
    )
    name_zh = StringField(_l("Chinese name"), filters=[_strip], validators=_name_validators(60))
    name_en = StringField(_l("English name"), filters=[_strip], validators=_name_validators(60))
    required_skill_id = SelectField(_l("Required skill"), coerce=id_or_none)
    requires_training = BooleanField(_l("Requires training"))
    is_lead = BooleanField(_l("Leads the shift (site lead)"))
    sort_order = IntegerField(
        _l("Order"),
        default=0,
        validators=[
            InputRequired(message=_l("Enter a number.")),
            NumberRange(0, 999, message=_l("Order is a number from 0 to %(max)d.")),
        ],
    )

    def set_skills(self, skills: Sequence[Skill], label: Any) -> None:
        """Fill the skill select; `label` renders a skill in the current locale."""
        self.required_skill_id.choices = select_choices(
            [(NONE, _l("— none —")), *((s.id, label(s)) for s in skills)]
        )


class SkillForm(FlaskForm):
    """A skill. `code` is only asked for when adding one."""

    code = StringField(
        _l("Code (letters, digits, _)"), filters=[_strip], validators=CODE_VALIDATORS
    )
    name_zh = StringField(_l("Chinese name"), filters=[_strip], validators=_name_validators(60))
    name_en = StringField(_l("English name"), filters=[_strip], validators=_name_validators(60))
    is_qualification = BooleanField(_l("Qualification (a coordinator verifies it)"))


# Periods ----------------------------------------------------------------------------------


class PeriodForm(FlaskForm):
    """A planning period and the sites it covers."""

    name = StringField(_lp("thing", "Name"), filters=[_strip], validators=_name_validators(100))
    start_date = DateField(_l("First day"), validators=[InputRequired(message=_l("Enter a date."))])
    end_date = DateField(_l("Last day"), validators=[InputRequired(message=_l("Enter a date."))])
    site_ids = MultiCheckboxField(_l("Sites"), coerce=int)
    deprioritise_no_shows = BooleanField(_l("Roster volunteers with repeated no-shows last"))
    contact_id = SelectField(
        _l("Coordinator on duty"),
        coerce=id_or_none,
        default=NONE,
        description=_l(
            "Volunteers see this name and number on a shift that has no site lead, and when "
            "it is too late to cancel online."
        ),
    )

    reminder_evening_at = StringField(
        _l("Reminder the evening before, at"),
        filters=[_strip],
        default="18:00",
        validators=[Length(max=5, message=_l("Enter a time like 18:00."))],
        description=_l("Local time at the site, e.g. 18:00; empty: no evening reminder."),
    )
    reminder_hours_before = IntegerField(
        _l("Reminder this many hours before the start"),
        default=2,
        validators=[
            Optional(),
            NumberRange(
                1,
                MAX_REMINDER_HOURS,
                message=_l("Enter 1 to %(n)d hours.", n=MAX_REMINDER_HOURS),
            ),
        ],
        description=_l("Empty: no reminder before the start."),
    )

    def set_sites(self, sites: Sequence[Site]) -> None:
        self.site_ids.choices = select_choices((s.id, s.name) for s in sites)

    def set_contacts(self, people: Sequence[User]) -> None:
        self.contact_id.choices = select_choices(
            [
                (NONE, _l("Not set: volunteers see every coordinator")),
                *((u.id, u.name) for u in people),
            ]
        )


# Districts and work units -----------------------------------------------------------------


class NameForm(FlaskForm):
    """Add or rename a district or work unit."""

    name = StringField(_lp("thing", "Name"), filters=[_strip], validators=_name_validators(100))


class MergeForm(FlaskForm):
    """Merge one work unit into another."""

    target_id = SelectField(_l("Merge into"), coerce=id_or_none)


class ToggleForm(FlaskForm):
    """A button that sets a yes/no state explicitly (so a double click cannot undo itself)."""

    value = HiddenField(validators=[AnyOf(["1", "0"])])

    @property
    def on(self) -> bool:
        return self.value.data == "1"


# Pool -------------------------------------------------------------------------------------


class PoolSearchForm(FlaskForm):
    """The pool's search and filters; submitted by GET (a bookmarkable URL), so no CSRF."""

    class Meta:
        csrf = False

    q = StringField(_l("Name, phone or work unit"), filters=[_strip], validators=[Length(max=100)])
    skill = SelectField(_l("Skill"), coerce=id_or_none, default=NONE)
    district = SelectField(_l("District"), coerce=id_or_none, default=NONE)
    trained = SelectField(
        _l("Training"),
        default="",
        choices=select_choices(
            [("", _l("any")), ("yes", _l("trained")), ("no", _l("not trained"))]
        ),
    )
    avail = SelectField(
        _l("Availability"),
        default="",
        choices=select_choices(
            [
                ("", _l("any")),
                ("open", _l("available in an open period")),
                ("slot", _l("available on date and shift")),
            ]
        ),
    )
    day = DateField(_l("Date"), validators=[Optional()])
    shift = SelectField(
        _l("Shift"), choices=select_choices([("", "—"), *SHIFT_LABELS.items()]), default=""
    )
    sort = SelectField(
        _l("Sort by"),
        default="name",
        choices=select_choices(
            [("name", _l("name")), ("work_unit", _l("work unit")), ("district", _l("district"))]
        ),
    )
    page = IntegerField(validators=[Optional(), NumberRange(min=1)])

    def set_choices(
        self, skills: Sequence[Skill], districts: Sequence[District], label: Any
    ) -> None:
        self.skill.choices = select_choices(
            [(NONE, _l("any")), *((s.id, label(s)) for s in skills)]
        )
        self.district.choices = select_choices(
            [(NONE, _l("any")), *((d.id, d.name) for d in districts)]
        )

    def to_query(self) -> PoolQuery:
        """The search to run: values that did not validate are left out, never a 500."""

        def ok(field: Field) -> bool:
            return not field.errors

        availability = self.avail.data if ok(self.avail) else ""
        if availability == "slot" and not (self.day.data and self.shift.data):
            self.day.errors = [*self.day.errors, _l("Choose a date and a shift.")]
            availability = ""
        trained = {"yes": True, "no": False}.get(self.trained.data) if ok(self.trained) else None
        return PoolQuery(
            text=(self.q.data or "") if ok(self.q) else "",
            skill_id=(self.skill.data or None) if ok(self.skill) else None,
            district_id=(self.district.data or None) if ok(self.district) else None,
            trained=trained,
            availability=availability or "",
            day=self.day.data if ok(self.day) else None,
            shift=(self.shift.data or None) if ok(self.shift) else None,
            sort=self.sort.data if ok(self.sort) and self.sort.data in SORTS else "name",
            page=(self.page.data or 1) if ok(self.page) else 1,
        )


class UnavailableForm(FlaskForm):
    """A drop-out reported by phone: the days the volunteer cannot come, and why."""

    first_day = DateField(
        _l("Unavailable from"), validators=[InputRequired(message=_l("Enter a date."))]
    )
    last_day = DateField(_l("to"), validators=[InputRequired(message=_l("Enter a date."))])
    reason = StringField(
        _l("Reason"),
        filters=[_strip],
        validators=[
            InputRequired(message=_l("Please say why.")),
            Length(max=MAX_REASON_LENGTH, message=_l("At most %(max)d characters.")),
        ],
    )
