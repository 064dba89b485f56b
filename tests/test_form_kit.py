"""The form kit (`scheduler/forms.py`): one way for a view to show a service's refusal on a
form, whichever blueprint the form belongs to."""

from __future__ import annotations

import pytest
from flask import Flask, get_flashed_messages
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField

from scheduler.forms import NONE, add_error, id_or_none, select_choices
from scheduler.services.errors import ServiceError


class NameForm(FlaskForm):
    class Meta:
        csrf = False

    name = StringField()


def _form(app: Flask) -> NameForm:
    form = NameForm(data={"name": "x"})
    form.validate()
    return form


def test_a_refusal_naming_a_field_lands_on_that_field(app: Flask) -> None:
    with app.test_request_context():
        form = _form(app)
        add_error(form, ServiceError("Taken.", "name"))
        add_error(form, ServiceError("Still taken.", "name"), flash_if_no_field=True)
        assert form.name.errors == ["Taken.", "Still taken."]
        assert form.form_errors == []
        assert get_flashed_messages() == []


def test_a_refusal_naming_no_field_of_the_form_goes_on_the_form(app: Flask) -> None:
    with app.test_request_context():
        form = _form(app)
        add_error(form, ServiceError("Nothing to do."))
        # "validate" is an attribute of every form but not a field: it is never written to
        add_error(form, ServiceError("Not a field.", "validate"))
        assert form.form_errors == ["Nothing to do.", "Not a field."]
        assert form.name.errors == []


def test_pages_without_form_level_errors_flash_instead(app: Flask) -> None:
    with app.test_request_context():
        form = _form(app)
        add_error(
            form, ServiceError("Unknown role in the demand.", "demand"), flash_if_no_field=True
        )
        assert form.form_errors == []
        assert get_flashed_messages(with_categories=True) == [
            ("error", "Unknown role in the demand.")
        ]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("42", 42),
        (" 7 ", 7),
        (3, 3),
        ("", NONE),
        (None, NONE),
        ("0", NONE),
        ("abc", NONE),
        ("-1", NONE),
        ("1e3", NONE),
        ("²", NONE),  # a digit to str.isdigit, not a number to int()
        (str(2**40), NONE),  # more than an INTEGER column holds
    ],
)
def test_a_select_of_ids_reads_only_database_ids(raw: object, expected: int) -> None:
    assert id_or_none(raw) == expected


def test_a_select_with_a_none_option_refuses_a_value_not_among_its_choices(app: Flask) -> None:
    class PickForm(FlaskForm):
        class Meta:
            csrf = False

        pick = SelectField(coerce=id_or_none)

    with app.test_request_context(method="POST", data={"pick": "²"}):
        form = PickForm()
        form.pick.choices = select_choices([(NONE, "none"), (5, "five")])
        assert form.validate()
        assert form.pick.data == NONE
    with app.test_request_context(method="POST", data={"pick": "6"}):
        form = PickForm()
        form.pick.choices = select_choices([(NONE, "none"), (5, "five")])
        assert not form.validate()
        assert form.pick.errors
