"""Locale choice. Browsers send zh, zh-CN, zh-Hans, zh-SG...; Babel's best_match would not map
those onto our single Chinese catalog zh_Hans, so the mapping is done here by language prefix."""

from __future__ import annotations

from typing import Any

from babel.support import NullTranslations
from flask import Flask, current_app, g, has_request_context, request, session
from flask_babel import LazyString, get_translations
from flask_login import current_user

CHINESE = "zh_Hans"
ENGLISH = "en"


def locale_for_tag(tag: str) -> str | None:
    """Map one Accept-Language tag onto a catalog we ship, or None."""
    primary = tag.replace("_", "-").split("-")[0].lower()
    return {"zh": CHINESE, "en": ENGLISH}.get(primary)


def select_locale() -> str:
    """The user's explicit choice first, then the browser's preferences in quality order,
    then Chinese (the people Muster is for). Outside a request (CLI, jobs) the default."""
    if not has_request_context():
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    chosen = session.get("lang", "")
    if chosen in current_app.config["LANGUAGES"]:
        return chosen
    if current_user.is_authenticated and current_user.locale in current_app.config["LANGUAGES"]:
        return current_user.locale
    for tag, _quality in request.accept_languages:
        locale = locale_for_tag(tag)
        if locale:
            return locale
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def localized_name(obj: object) -> str:
    """`name_zh` or `name_en` of a catalogue row, whichever fits the current locale."""
    from flask_babel import get_locale

    chinese = str(get_locale()).startswith("zh")
    return getattr(obj, "name_zh" if chinese else "name_en")


def install_template_gettext(app: Flask) -> None:
    """Templates translate through `translations()`: the same catalog Flask-Babel would pick,
    found in a few steps instead of a hundred function calls (its lookup walks the request
    context three times and spells the locale out on every string, and a page like /me or the
    availability grid translates a hundred strings). Call after Flask-Babel's init_app."""
    # Jinja's i18n extension adds this method at runtime; its stubs do not declare it.
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=lambda s: translations().ugettext(s),
        ngettext=lambda s, p, n: translations().ungettext(s, p, n),
        newstyle=True,
        pgettext=lambda c, s: translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: translations().unpgettext(c, s, p, n),
    )


def translations() -> NullTranslations:
    """Flask-Babel's translations of this request, remembered next to the locale and domain
    they were found for: a new locale (force_locale, refresh) or domain finds them again."""
    try:
        state: Any = g._flask_babel
    except (AttributeError, RuntimeError):  # no app context, or nothing translated yet
        return get_translations()
    locale = getattr(state, "babel_locale", None)
    domain = getattr(state, "babel_domain", None)
    known = getattr(state, "muster_translations", None)
    if known is not None and locale is not None and known[0] is locale and known[1] is domain:
        return known[2]
    found = get_translations()
    state.muster_translations = (state.babel_locale, state.babel_domain, found)
    return found


def gettext(string: str, **variables: Any) -> str:
    """flask_babel.gettext through `translations()`: the same text, found in a few steps."""
    text = translations().ugettext(string)
    return text % variables if variables else text


def lazy_gettext(string: str, **variables: Any) -> LazyString:
    """flask_babel.lazy_gettext translated through `translations()`: a form's labels,
    descriptions and messages are translated again on every use (a registration page shows
    some twenty), each through Flask-Babel's walk of the request context."""
    return LazyString(gettext, string, **variables)


def _english() -> bool:
    from flask_babel import get_locale

    locale = get_locale()
    return locale is not None and str(locale).startswith("en")


def colon() -> str:
    """What ends a label before its value in the current locale: the full-width '：' in
    Chinese (no space after it), ': ' in English. Templates write `{{ _("Role") }}{{ colon() }}`
    instead of a literal ':' (tests/test_zh_colons.py checks they do)."""
    return ": " if _english() else "："


def comma() -> str:
    """What joins two clauses or phrases ("12 shifts, on 5 days"): '，' in Chinese, ', ' in
    English. Templates write `{{ comma() }}` rather than a literal ','."""
    return ", " if _english() else "，"


def list_comma() -> str:
    """What separates the items of a list of names or terms: the enumeration comma '、' in
    Chinese, ', ' in English."""
    return ", " if _english() else "、"
