"""Templates' `_`, gettext and ngettext (scheduler.i18n.template_gettext / template_ngettext)
answer exactly what Jinja's newstyle gettext would -- escaping, %-formatting, autoescape off --
and the strings they remember per catalog never carry one request's language into another's,
including in a macro of a template imported without context (Jinja keeps that module, and
the objects of its first rendering, for the life of the process)."""

from __future__ import annotations

import contextvars

import pytest
from flask import Flask, render_template_string
from flask_babel import force_locale
from jinja2 import DictLoader, FileSystemLoader

# Jinja's own newstyle callables: the reference behaviour
from jinja2.ext import _gettext_alias, _make_new_gettext, _make_new_ngettext
from jinja2.loaders import ChoiceLoader

from scheduler.i18n import translations

CASES = [
    "{{ _('Confirm') }}",
    "{{ gettext('Confirm') }}",
    "{{ _('100%% sure') }}",
    "{{ _('At most %(num)d characters.', num=5) }}",
    "{{ _('Hello %(name)s', name='<b>x</b>') }}",
    "{{ ngettext('%(num)d shift', '%(num)d shifts', 1) }}",
    "{{ ngettext('%(num)d shift', '%(num)d shifts', 3) }}",
    "{{ ngettext('%(num)d of %(what)s', '%(num)d of %(what)s', 2, what='<a>') }}",
    "{% for i in [1, 2] %}{{ _('Confirm') }}{% endfor %}",
    "{% trans %}Confirm{% endtrans %}",
    "{% trans n=2 %}{{ n }} shift{% pluralize %}{{ n }} shifts{% endtrans %}",
    "{% autoescape false %}{{ _('a<b') }}|{{ _('%(x)s', x='<i>') }}{% endautoescape %}",
]


def reference(app: Flask, source: str) -> str:
    """What Jinja's own newstyle callables render for `source`."""
    env = app.jinja_env
    saved = {k: env.globals[k] for k in ("_", "gettext", "ngettext")}
    gettext = _make_new_gettext(lambda s: translations().ugettext(s))
    ngettext = _make_new_ngettext(lambda s, p, n: translations().ungettext(s, p, n))
    env.globals.update(_=_gettext_alias, gettext=gettext, ngettext=ngettext)
    try:
        return env.from_string(source).render()
    finally:
        env.globals.update(saved)


@pytest.mark.parametrize("source", CASES)
@pytest.mark.parametrize("language", ["zh-CN", "en"])
def test_the_same_as_jinjas_newstyle_gettext(app: Flask, source: str, language: str) -> None:
    with app.test_request_context("/", headers={"Accept-Language": language}):
        ours = app.jinja_env.from_string(source).render()
        theirs = reference(app, source)
        assert ours == theirs
        assert render_template_string(source) == theirs


def test_a_macro_imported_without_context_follows_each_request(app: Flask) -> None:
    app.jinja_env.loader = ChoiceLoader(
        [
            DictLoader(
                {
                    "_m.html": "{% macro confirm() %}{{ _('Confirm') }}{% endmacro %}",
                    "page.html": '{% from "_m.html" import confirm %}{{ confirm() }}',
                }
            ),
            FileSystemLoader(app.template_folder or "templates"),
        ]
    )

    def request(language: str) -> str:
        with app.test_request_context("/", headers={"Accept-Language": language}):
            return render_template_string('{% include "page.html" %}')

    # Each in a fresh context, as a server runs requests (its own app context and `g`).
    seen = [contextvars.Context().run(request, language) for language in ("zh-CN", "en", "zh-CN")]
    assert seen[1] == "Confirm"
    assert seen[0] == seen[2] != "Confirm"
    with app.test_request_context("/", headers={"Accept-Language": "zh-CN"}), force_locale("en"):
        assert render_template_string('{% include "page.html" %}') == "Confirm"
