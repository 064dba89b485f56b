"""Templates translate through scheduler.i18n.translations (cheaper than Flask-Babel's own
lookup): always the catalog Flask-Babel would use, including inside force_locale and after
the locale is refreshed within one request."""

from __future__ import annotations

from flask import Flask, render_template_string
from flask_babel import force_locale, gettext, refresh

TEMPLATE = "{{ _('Confirm') }}|{{ ngettext('%(num)d shift', '%(num)d shifts', 2) }}"


def test_templates_follow_the_request_locale_force_locale_and_refresh(app: Flask) -> None:
    with app.test_request_context("/", headers={"Accept-Language": "zh-CN"}):
        chinese = render_template_string(TEMPLATE)
        assert chinese.split("|")[0] == gettext("Confirm") != "Confirm"
        with force_locale("en"):
            english = render_template_string(TEMPLATE)
            assert english == "Confirm|2 shifts"
        assert render_template_string(TEMPLATE) == chinese
        refresh()
        assert render_template_string(TEMPLATE) == chinese


def test_templates_translate_outside_a_request(app: Flask) -> None:
    with app.app_context():
        assert render_template_string("{{ _('Confirm') }}") == gettext("Confirm")


def test_each_request_translates_in_its_own_locale(app: Flask) -> None:
    client = app.test_client()
    chinese = client.get("/login", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    english = client.get("/login", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert '<html lang="zh-Hans">' in chinese
    assert "Password" in english
    assert "Password" not in chinese
