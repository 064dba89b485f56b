"""WTForms' attribute rendering, the same HTML for a fraction of the CPU.

Every input, select option and label a form renders goes through `wtforms.widgets.
html_params`, which builds each `key="value"` with `Markup.format` (markupsafe's escaping
`string.Formatter`, a dozen Python calls per attribute): on the registration page this was
about a tenth of the request's CPU. `html_params` below writes the same text with one f-string
per attribute, escapes a plain string with one `str.translate` (markupsafe's five
replacements) and an integer not at all, and spells each attribute name once per process.
`install()` puts it where WTForms looks it up (the module function, and the
copies `Input` and `Button` keep as static methods); tests/test_form_html.py checks, against
WTForms' own function, that the output is the same for every kind of value."""

from __future__ import annotations

from typing import Any

import wtforms.widgets
import wtforms.widgets.core
from markupsafe import Markup, escape

__all__ = ["html_params", "install", "wtforms_html_params"]

# WTForms' own function, kept for the tests' comparison (and to undo `install`).
wtforms_html_params = wtforms.widgets.core.html_params
_clean_key = wtforms.widgets.core.clean_key
# markupsafe.escape's replacements, for a plain str in one call.
_ESCAPE = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "'": "&#39;", '"': "&#34;"})
# Attribute names as written (the keyword arguments of fields and templates: a few dozen).
_names: dict[str, str] = {}
_MAX_NAMES = 1000


def html_params(**kwargs: Any) -> Markup:
    """What `wtforms.widgets.html_params` returns: attributes sorted by name, `True` written
    bare, `False` left out, names and values escaped (and a `"` inside a Markup value too)."""
    params = []
    for key, value in sorted(kwargs.items()):
        name = _names.get(key)
        if name is None:
            name = str(escape(_clean_key(key)))
            if len(_names) < _MAX_NAMES:
                _names[key] = name
        if value is True:
            params.append(name)
        elif value is False:
            continue
        elif type(value) is str:
            params.append(f'{name}="{value.translate(_ESCAPE)}"')
        elif type(value) is int:
            params.append(f'{name}="{value}"')
        else:
            params.append(f'{name}="{str(escape(value)).replace(chr(34), "&quot;")}"')
    return Markup(" ".join(params))


_Select = wtforms.widgets.core.Select
wtforms_select = _Select.__call__  # WTForms' own, for the tests' comparison and `install`
_render_option = _Select.render_option.__func__
_Input = wtforms.widgets.core.Input
wtforms_input = _Input.__call__


def _flag_attrs(widget: Any, field: Any, kwargs: dict[str, Any], *, call: bool = True) -> None:
    """The field's flags the widget writes as attributes (required, maxlength...), as WTForms
    adds them, from the flags that are set (the Flags object's own attributes) instead of
    going through `dir()` of it, a sorted list of its every attribute, for each input. An
    input calls a callable flag for its value (`call`), a select does not."""
    flags = getattr(getattr(field, "flags", None), "__dict__", None)
    if not flags:
        return
    for k in widget.validation_attrs:
        if k in flags and k not in kwargs:
            value = flags[k]
            kwargs[k] = value() if call and callable(value) else value


def input_html(self: Any, field: Any, **kwargs: Any) -> Markup:
    """What WTForms' `Input` widget (text, password, number, hidden...) renders, with the
    flags found by `_flag_attrs`."""
    kwargs.setdefault("id", field.id)
    kwargs.setdefault("type", self.input_type)
    if "value" not in kwargs:
        kwargs["value"] = field._value()
    datalist = getattr(field, "_datalist", None)
    if datalist is not None and "list" not in kwargs:
        kwargs["list"] = datalist if isinstance(datalist, str) else datalist.id
    _flag_attrs(self, field, kwargs)
    return Markup(f"<input {self.html_params(name=field.name, **kwargs)}>")


def select_html(self: Any, field: Any, **kwargs: Any) -> Markup:
    """What WTForms' `Select` widget renders, with each option written here: WTForms looks up
    its option renderer's signature (inspect.signature) on every render and goes through a
    method and a generator per option, ~50 Python calls for each of a district list's
    options. Option groups and a widget with its own `render_option` go to WTForms."""
    if type(self).render_option.__func__ is not _render_option or field.has_groups():
        return wtforms_select(self, field, **kwargs)
    kwargs.setdefault("id", field.id)
    if self.multiple:
        kwargs["multiple"] = True
    _flag_attrs(self, field, kwargs, call=False)
    html = [f"<select {html_params(name=field.name, **kwargs)}>"]
    for choice in field.iter_choices():
        value = choice.value
        if isinstance(value, bool):
            value = str(value)
        options = {"value": value, **(choice.render_kw or {})}
        if choice.selected:
            options["selected"] = True
        html.append(
            f"<option {html_params(**options)}>{escape(choice.label or choice.value)}</option>"
        )
    html.append("</select>")
    return Markup("".join(html))


def install(function: Any = html_params) -> None:
    """Make WTForms render attributes with `function` (this module's by default), and
    selects and inputs with `select_html` and `input_html` (WTForms' own with WTForms'
    html_params)."""
    wtforms.widgets.core.html_params = function
    wtforms.widgets.html_params = function
    wtforms.widgets.core.Input.html_params = staticmethod(function)
    wtforms.widgets.core.Button.html_params = staticmethod(function)
    _Select.__call__ = select_html if function is html_params else wtforms_select
    _Input.__call__ = input_html if function is html_params else wtforms_input
