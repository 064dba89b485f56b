"""Locale choice. Browsers send zh, zh-CN, zh-Hans, zh-SG...; Babel's best_match would not map
those onto our single Chinese catalog zh_Hans, so the mapping is done here by language prefix."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from babel import Locale
from babel.support import NullTranslations
from flask import Flask, current_app, g, has_request_context, request, session
from flask_babel import LazyString, get_locale, get_translations
from flask_login import current_user
from jinja2 import pass_eval_context
from jinja2.nodes import EvalContext
from markupsafe import Markup
from werkzeug.datastructures import LanguageAccept
from werkzeug.http import parse_accept_header

CHINESE = "zh_Hans"
ENGLISH = "en"


def locale_for_tag(tag: str) -> str | None:
    """Map one Accept-Language tag onto a catalog we ship, or None."""
    primary = tag.replace("_", "-").split("-")[0].lower()
    return {"zh": CHINESE, "en": ENGLISH}.get(primary)


def select_locale() -> str:
    """The user's explicit choice first, then the browser's preferences in quality order,
    then Chinese (the people Muster is for). Outside a request (CLI, jobs) the default."""
    config = current_app.config
    if not has_request_context():
        return config["BABEL_DEFAULT_LOCALE"]
    languages = config["LANGUAGES"]
    chosen = session.get("lang", "")
    if chosen in languages:
        return chosen
    user = current_user._get_current_object()  # the proxy finds the user on every use
    if user.is_authenticated and user.locale in languages:
        return user.locale
    return (
        browser_locale(request.headers.get("Accept-Language", "")) or config["BABEL_DEFAULT_LOCALE"]
    )


def selected_locale() -> Locale:
    """`select_locale()`'s choice as the Locale Flask-Babel wants, made once per identifier
    (Flask-Babel would parse the identifier again on every request: some twenty calls)."""
    return _locale(select_locale())


@lru_cache(maxsize=16)
def _locale(identifier: str) -> Locale:
    return Locale.parse(identifier)


@lru_cache(maxsize=256)
def browser_locale(accept_language: str) -> str | None:
    """The first catalog an Accept-Language header asks for, in quality order, or None. A
    handful of distinct headers come from a city's phones: each is parsed once (werkzeug's
    parse is some sixty Python calls, on every request that translates anything)."""
    for tag, _quality in parse_accept_header(accept_language, LanguageAccept):
        locale = locale_for_tag(tag)
        if locale:
            return locale
    return None


def current_locale() -> Locale | None:
    """Flask-Babel's `get_locale()`, read straight from where it keeps the locale once chosen
    (a page asks it for every label, date and colon; get_locale walks the request context
    three times to answer)."""
    try:
        locale: Locale | None = g._flask_babel.babel_locale
    except (AttributeError, RuntimeError):  # no app context, or not chosen yet
        return get_locale()
    return locale if locale is not None else get_locale()


def localized_name(obj: Any) -> str:
    """`name_zh` or `name_en` of a catalogue row, whichever fits the current locale."""
    return localized(obj.name_zh, obj.name_en)


def localized(name_zh: str, name_en: str) -> str:
    """The Chinese or the English name, whichever fits the current locale."""
    locale = current_locale()
    return name_zh if locale is not None and locale.language.startswith("zh") else name_en


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
    # `_`, gettext and ngettext -- nearly every string of a page -- skip the extension's
    # three hops through Context.call: the same result (newstyle: escaped when the template
    # autoescapes, always %-formatted) straight from the catalog.
    app.jinja_env.globals.update(
        _=template_gettext, gettext=template_gettext, ngettext=template_ngettext
    )


@pass_eval_context
def template_gettext(eval_ctx: EvalContext, string: str, /, **variables: Any) -> str:
    """`_()` in a template, as Jinja's newstyle gettext answers it. A string without variables
    is translated and escaped once per process and catalog (a catalog never changes). The
    catalog is looked up on every call, never kept on the rendering: a macro of a template
    imported without context keeps its first rendering's objects for the life of the
    process."""
    catalog = translations()
    if variables or not eval_ctx.autoescape:
        text = catalog.ugettext(string)
        return (Markup(text) if eval_ctx.autoescape else text) % variables
    known: dict[str, str] | None = getattr(catalog, "_muster_markup", None)
    if known is None:
        # a private memo on the catalog object: its translations never change
        known = catalog._muster_markup = {}  # type: ignore[attr-defined]
    found = known.get(string)
    if found is None:
        found = known[string] = Markup(catalog.ugettext(string)) % variables
    return found


@pass_eval_context
def template_ngettext(
    eval_ctx: EvalContext, singular: str, plural: str, num: int, /, **variables: Any
) -> str:
    """`ngettext()` in a template, as Jinja's newstyle ngettext answers it."""
    variables.setdefault("num", num)
    text = translations().ungettext(singular, plural, num)
    return (Markup(text) if eval_ctx.autoescape else text) % variables


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
    locale = current_locale()
    return locale is not None and locale.language.startswith("en")


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
