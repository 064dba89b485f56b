"""scheduler.form_html: WTForms' attributes rendered faster, and exactly as WTForms would."""

from __future__ import annotations

from typing import Any

import pytest
import wtforms.widgets
import wtforms.widgets.core
from flask_babel import lazy_gettext
from markupsafe import Markup

from scheduler import form_html

CASES: list[dict[str, Any]] = [
    {},
    {"name": "phone", "id": "phone", "type": "text", "value": ""},
    {"checked": True, "readonly": False, "name": "text1", "abc": "hello"},
    {"class_": "a b", "for_": "x", "data_some_thing": "1", "aria_describedby": "h"},
    {"value": 'he said "hi" & <b>left</b>'},
    {"value": Markup('<em class="x">safe</em>')},  # a quote inside Markup is still escaped
    {"value": lazy_gettext("Name")},
    {"maxlength": 50, "minlength": 8, "value": 3.5, "required": True},
    {"value": None, "placeholder": "中文 ：全角"},
    {"hx-post": "/me/availability/cell", "hx_swap": "outerHTML", "list": "work-units"},
    {"title": "a'b", "value": "'"},
    {"value": "<>&'\"&amp;", "data-x": 0, "tabindex": -1, "size": 10**20},
    {"value": 12, "max": False, "min": True},
]


@pytest.mark.parametrize("attrs", CASES)
def test_same_html_as_wtforms(app: Any, attrs: dict[str, Any]) -> None:
    with app.test_request_context():
        ours = form_html.html_params(**attrs)
        theirs = form_html.wtforms_html_params(**attrs)
    assert ours == theirs
    assert isinstance(ours, Markup)


def test_installed_where_wtforms_looks(app: Any) -> None:
    # create_app installs it: the module function, the package's re-export and the copies
    # Input and Button keep as static methods.
    assert wtforms.widgets.core.html_params is form_html.html_params
    assert wtforms.widgets.html_params is form_html.html_params
    assert wtforms.widgets.core.Input.html_params is form_html.html_params
    assert wtforms.widgets.core.Button.html_params is form_html.html_params


def test_registration_page_renders_the_same_either_way(client: Any) -> None:
    ours = client.get("/register").text
    form_html.install(form_html.wtforms_html_params)
    try:
        theirs = client.get("/register").text
    finally:
        form_html.install()
    assert ours == theirs
    assert 'name="phone"' in ours


def _select_forms() -> list[Any]:
    from wtforms import Form, SelectField, SelectMultipleField
    from wtforms.fields.choices import SelectChoice
    from wtforms.validators import InputRequired

    from scheduler.forms import select_choices as sc

    class F(Form):
        plain = SelectField(
            choices=sc([(0, "选择"), (3, "崇川区"), (5, 'a "b" & <c>')]), coerce=int
        )
        lazy = SelectField(
            choices=[SelectChoice("x", lazy_gettext("Name")), SelectChoice("y", render_kw={"a": 1})]
        )
        flags = SelectField(choices=sc([("a", "A")]), validators=[InputRequired()])
        booleans = SelectField(choices=sc([(True, "yes"), (False, "no")]), coerce=bool)
        grouped = SelectField(
            choices=[
                SelectChoice("1", "one", optgroup="G1"),
                SelectChoice("2", "two", optgroup="G2"),
            ]
        )
        many = SelectMultipleField(choices=sc([(1, "one"), (2, "two"), (3, "")]), coerce=int)
        empty = SelectField(choices=[])

    form = F(data={"plain": 3, "lazy": "y", "booleans": True, "many": [1, 3]})
    return [form.plain, form.lazy, form.flags, form.booleans, form.grouped, form.many, form.empty]


def test_selects_render_as_wtforms_does(app: Any) -> None:
    with app.test_request_context():
        for field in _select_forms():
            for attrs in ({}, {"aria_describedby": "h", "class_": "x"}, {"id": "other"}):
                ours = form_html.select_html(field.widget, field, **attrs)
                form_html.install(form_html.wtforms_html_params)
                try:
                    theirs = form_html.wtforms_select(field.widget, field, **attrs)
                finally:
                    form_html.install()
                assert ours == theirs, field.name
                if not attrs:
                    assert str(field()) == str(ours), field.name


def test_a_select_with_its_own_option_renderer_is_left_to_wtforms(app: Any) -> None:
    from wtforms import Form, SelectField
    from wtforms.fields.choices import SelectChoice
    from wtforms.widgets import Select

    class Starred(Select):
        @classmethod
        def render_option(cls, choice: Any, **kwargs: Any) -> Markup:
            return Markup(f"<option>*{choice.label}</option>")

    class F(Form):
        pick = SelectField(choices=[SelectChoice("a", "A")], widget=Starred())

    with app.test_request_context():
        assert "<option>*A</option>" in F().pick()


def test_inputs_render_as_wtforms_does(app: Any) -> None:
    """input_html against WTForms' Input.__call__: flags from validators (required,
    maxlength, minlength, min, max), a callable flag, render_kw, a datalist, fields without
    flags, and every kind of input the app uses."""
    from flask_wtf import FlaskForm
    from wtforms import (
        BooleanField,
        HiddenField,
        IntegerField,
        PasswordField,
        StringField,
    )
    from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

    class Form(FlaskForm):
        name = StringField("Name", [DataRequired(), Length(min=2, max=50)])
        phone = StringField("Phone", render_kw={"inputmode": "tel", "maxlength": 32})
        unit = StringField("Unit", [Optional()], render_kw={"list": "work-units"})
        password = PasswordField("Password", [InputRequired(), Length(min=8)])
        cap = IntegerField("Cap", [InputRequired(), NumberRange(1, 7)], default=5)
        nights = BooleanField("Nights")
        token = HiddenField()

    with app.test_request_context():
        form = Form(meta={"csrf": False})
        form.unit.flags.disabled = lambda: True  # a callable flag is called for its value
        for field in form:
            for extra in ({}, {"required": False}, {"class_": "x", "value": "v"}):
                form_html.install(form_html.wtforms_html_params)
                try:
                    theirs = field(**extra)
                finally:
                    form_html.install()
                ours = field(**extra)
                assert ours == theirs, field.name
    assert wtforms.widgets.core.Input.__call__ is form_html.input_html
