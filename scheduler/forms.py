"""Forms shared across blueprints."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import Field

from scheduler.parsing import database_id


class EmptyForm(FlaskForm):
    """For button-only POSTs: carries and checks nothing but the CSRF token."""


class DatabaseIdField(Field):
    """An id posted by a form: `data` is a number from 1 to MAX_ID (`parsing.database_id`)
    or None when blank; anything else ('²', '-1', 2**40) is an error on the field, never an
    exception in a query. `message` is that error (e.g. "Choose a volunteer.")."""

    def __init__(self, label: Any = None, validators: Any = None, **kwargs: Any) -> None:
        self.message = kwargs.pop("message", None) or _l("Not a valid choice.")
        super().__init__(label, validators, **kwargs)

    def process_formdata(self, valuelist: Sequence[Any]) -> None:
        raw = str(valuelist[0]).strip() if valuelist else ""
        self.data = database_id(raw) if raw else None
        if raw and self.data is None:
            raise ValueError(self.message)

    def _value(self) -> str:
        return "" if self.data is None else str(self.data)
