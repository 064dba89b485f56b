"""The form kit (`scheduler/forms.py`): one way for a view to show a service's refusal on a
form, whichever blueprint the form belongs to."""

from __future__ import annotations

from flask import Flask, get_flashed_messages
from flask_wtf import FlaskForm
from wtforms import StringField

from scheduler.forms import add_error
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
