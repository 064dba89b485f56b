"""The choices on the sheet pages and downloads: all submitted by GET (bookmarkable, printable
URLs that change nothing), so none carries a CSRF token.

A version number parses strictly (`VersionField`): anything but a number from 1 to MAX_ID is
an error on the field, the same on the wall chart and the roster downloads, never read as
"the latest". A day on the "Print sheets" page that does not parse is reported and tomorrow
is shown; the headcount refuses dates that do not parse."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from flask_babel import gettext
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional

from scheduler.i18n import lazy_gettext as _l
from scheduler.models import Roster
from scheduler.parsing import database_id

PAPER_SIZES = {"a4": "A4 landscape", "a3": "A3 landscape"}  # CSS @page sizes
SHOWN_LENGTH = 20  # how much of a bad value an error message repeats


class GetForm(FlaskForm):
    class Meta:
        csrf = False

    def first_error(self) -> str | None:
        """The first message of the first field with an error (after `validate`)."""
        return next((str(errors[0]) for errors in self.errors.values() if errors), None)


class VersionField(SelectField):
    """A published version's number: None when absent or blank (the latest), else a number
    from 1 to MAX_ID (`parsing.database_id`); anything else is an error on the field. Not
    checked against the choices: the service says when a version does not exist."""

    def __init__(self, label: Any = None, validators: Any = None, **kwargs: Any) -> None:
        super().__init__(label, validators, coerce=int, validate_choice=False, **kwargs)

    def process_formdata(self, valuelist: Sequence[str]) -> None:
        raw = valuelist[0].strip() if valuelist else ""
        self.data = database_id(raw) if raw else None
        if raw and self.data is None:
            raise ValueError(
                gettext("“%(value)s” is not a version number.", value=raw[:SHOWN_LENGTH])
            )


class DayForm(GetForm):
    """The day of the "Print sheets" page."""

    day = DateField(_l("Date"), validators=[Optional()])


class VersionForm(GetForm):
    """?version=N of a roster download (the latest when absent)."""

    version = VersionField(_l("Version"))


class WallChartForm(VersionForm):
    """Which published version of the period, on which paper."""

    paper = SelectField(
        _l("Paper"),
        default="a4",
        choices=[
            SelectChoice(value="a4", label=_l("A4 landscape")),
            SelectChoice(value="a3", label=_l("A3 landscape")),
        ],
    )

    def set_versions(self, versions: list[Roster], describe: Callable[[Roster], str]) -> None:
        """Options for the period's published versions (newest first); `describe` labels one."""
        self.version.choices = [SelectChoice(value=r.version, label=describe(r)) for r in versions]

    @property
    def page_size(self) -> str:
        return PAPER_SIZES.get(self.paper.data or "a4", PAPER_SIZES["a4"])


class HeadcountForm(GetForm):
    """The date range of the headcount (blank: tomorrow and the six days after)."""

    first_day = DateField(_l("From"), validators=[Optional()])
    last_day = DateField(_l("To"), validators=[Optional()])
