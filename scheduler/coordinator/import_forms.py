"""Forms for importing a work unit's list of volunteers."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import BooleanField, HiddenField, StringField
from wtforms.validators import Length, Optional

from scheduler.i18n import lazy_gettext as _l
from scheduler.services.importer import MAX_WORK_UNIT_LENGTH


class ImportUploadForm(FlaskForm):
    """Step 1: the file, and the work unit for rows that do not name one."""

    file = FileField(
        _l("CSV or XLSX file"),
        validators=[
            FileRequired(_l("Choose a file to import.")),
            FileAllowed(["csv", "xlsx"], _l("Only CSV and XLSX files can be imported.")),
        ],
    )
    work_unit = StringField(
        _l("Work unit for the whole file"),
        validators=[Optional(), Length(max=MAX_WORK_UNIT_LENGTH)],
        description=_l(
            "Pick or type the work unit. A work-unit column in the file overrides it per row."
        ),
    )


class ImportConfirmForm(FlaskForm):
    """Step 2: write the previewed rows."""

    fingerprint = HiddenField()
    only_if_all_valid = BooleanField(_l("Import only if every row is valid"))
