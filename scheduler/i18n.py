"""Locale choice. Browsers send zh, zh-CN, zh-Hans, zh-SG...; Babel's best_match would not map
those onto our single Chinese catalog zh_Hans, so the mapping is done here by language prefix."""

from __future__ import annotations

from flask import current_app, has_request_context, request, session
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


def colon() -> str:
    """What ends a label before its value in the current locale: the full-width '：' in
    Chinese (no space after it), ': ' in English. Templates write `{{ _("Role") }}{{ colon() }}`
    instead of a literal ':' (tests/test_zh_colons.py checks they do)."""
    from flask_babel import get_locale

    locale = get_locale()
    return ": " if locale is not None and str(locale).startswith("en") else "："
