"""The form kit every blueprint uses: the status of a refused form (`INVALID`), how a
service's refusal lands on the form (`add_error`), the CSRF-only `EmptyForm` and the id
fields and coercions (built on `parsing.database_id`, the one integer parser)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from flask import flash
from flask_wtf import FlaskForm
from wtforms import Field, Form
from wtforms.fields.choices import SelectChoice

from scheduler.i18n import lazy_gettext as _l
from scheduler.parsing import database_id
from scheduler.services.errors import ServiceError

INVALID = 422  # the status of a form re-rendered with its errors
NONE = 0  # the "none" / "any" option of a select of ids (`id_or_none`)


def select_choices(pairs: Iterable[tuple[Any, Any]]) -> list[SelectChoice]:
    """Select options from (value, label) pairs (WTForms 3.3 deprecates bare tuples)."""
    return [SelectChoice(value=value, label=label) for value, label in pairs]


def id_or_none(value: object) -> int:
    """`coerce` for a select of ids with a NONE option: a database id (`parsing.database_id`)
    is itself; anything else (blank, '0', 'abc', '-1', a number no row can have) is NONE, which
    the select's choices then accept or refuse."""
    return database_id(value) or NONE


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


def add_error(form: Form, error: ServiceError, *, flash_if_no_field: bool = False) -> None:
    """Show a service's refusal on the form: on the field `error.field` names, else on the
    form as a whole (`form.form_errors`), or as a flashed message for pages whose template
    shows no form-level errors (`flash_if_no_field`)."""
    message = str(error)
    if error.field and error.field in form:
        field = form[error.field]
        field.errors = [*field.errors, message]
    elif flash_if_no_field:
        flash(message, "error")
    else:
        form.form_errors.append(message)
