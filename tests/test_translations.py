"""The translation catalogs: the Chinese one is complete, keeps every placeholder, is up to
date with the sources, and is what pages in Chinese actually show.

When a test here fails after a source change, run `make translations`, translate the new
entries in scheduler/translations/zh_Hans/LC_MESSAGES/messages.po and run the tests again."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from flask.testing import FlaskClient

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "scheduler" / "translations"
ZH_PO = TRANSLATIONS / "zh_Hans" / "LC_MESSAGES" / "messages.po"
# as in the Makefile's `translations` target
EXTRA_KEYWORDS = {
    "_l": None,
    "lazy_gettext": None,
    "_lp": ((1, "c"), 2),
    "lazy_pgettext": ((1, "c"), 2),
}

# %(name)s, %(n)d, %(value).1f, ... (printf-style conversions with a mapping key)
PLACEHOLDER = re.compile(r"%\((\w+)\)[#0 +-]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa]")


def load(path: Path) -> Catalog:
    with path.open("rb") as f:
        return read_po(f, locale=path.parent.parent.name)


@pytest.fixture(scope="module")
def zh() -> Catalog:
    return load(ZH_PO)


def entries(catalog: Catalog) -> list[Message]:
    return [m for m in catalog if m.id]


def label(message: Message) -> str:
    where = ", ".join(f"{f}:{n}" for f, n in message.locations[:2])
    return f"{message.id!r} ({where})"


def strings(value: str | tuple[str, ...] | list[str] | None) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def placeholders(text: str) -> set[str]:
    return {m.group(0) for m in PLACEHOLDER.finditer(text)}


def sample_values(text: str) -> dict[str, object]:
    """A value of the right type for every placeholder, to try formatting a string."""
    return {m.group(1): "x" if m.group(0)[-1] in "sra" else 1 for m in PLACEHOLDER.finditer(text)}


# --- (a) complete -----------------------------------------------------------------------------


def test_chinese_catalog_is_complete(zh: Catalog) -> None:
    assert len(entries(zh)) > 100
    untranslated = [
        label(m)
        for m in entries(zh)
        if not strings(m.string) or not all(s.strip() for s in strings(m.string))
    ]
    assert not untranslated, f"untranslated in {ZH_PO.name}: {untranslated}"
    fuzzy = [label(m) for m in entries(zh) if m.fuzzy]
    assert not fuzzy, f"fuzzy entries (check the translation, then remove the flag): {fuzzy}"


def test_chinese_catalog_has_one_plural_form(zh: Catalog) -> None:
    assert zh.num_plurals == 1
    for message in entries(zh):
        if message.pluralizable:
            assert len(strings(message.string)) == 1, label(message)


# --- (b) placeholders --------------------------------------------------------------------------


def test_placeholders_match(zh: Catalog) -> None:
    wrong = []
    for message in entries(zh):
        expected = set().union(*(placeholders(s) for s in strings(message.id)))
        for translation in strings(message.string):
            if placeholders(translation) != expected:
                wrong.append(f"{label(message)} -> {translation!r}")
    assert not wrong, "placeholders differ between msgid and msgstr:\n" + "\n".join(wrong)


def test_translations_format_like_their_msgids(zh: Catalog) -> None:
    """Templates %-format every translation (newstyle gettext), so a stray `%` in a msgstr
    would turn a page into a 500."""
    broken = []
    for message in entries(zh):
        source = strings(message.id)[-1]
        values = sample_values(source)
        try:
            source % values
        except (TypeError, ValueError, KeyError):
            continue  # not a format string in the source either
        for translation in strings(message.string):
            try:
                translation % values
            except (TypeError, ValueError, KeyError) as exc:
                broken.append(f"{label(message)} -> {translation!r}: {exc}")
    assert not broken, "\n".join(broken)


# --- (c) up to date with the sources -----------------------------------------------------------


def extracted_messages() -> dict[tuple[str, str | None], str]:
    """What `pybabel extract -F babel.cfg -k _l -k lazy_gettext` would find, in memory:
    {(msgid, context): "file:line"}."""
    with (ROOT / "babel.cfg").open() as f:
        method_map, options_map = parse_mapping_cfg(f, filename="babel.cfg")
    keywords = {**DEFAULT_KEYWORDS, **EXTRA_KEYWORDS}
    found: dict[tuple[str, str | None], str] = {}
    for filename, lineno, message, _comments, context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=keywords
    ):
        msgid = message if isinstance(message, str) else message[0]
        found.setdefault((msgid, context), f"{filename}:{lineno}")
    return found


def test_catalog_is_up_to_date_with_the_sources(zh: Catalog) -> None:
    found = extracted_messages()
    assert len(found) > 100, "extraction found almost nothing: is babel.cfg still right?"
    missing = [
        f"{msgid!r} ({where})"
        for (msgid, context), where in sorted(found.items(), key=lambda kv: kv[1])
        if zh.get(msgid, context=context) is None
    ]
    assert not missing, (
        "messages in the sources are missing from the Chinese catalog. Run `make translations`, "
        f"then translate them in {ZH_PO.relative_to(ROOT)}:\n" + "\n".join(missing)
    )


# --- (d) pages in Chinese show Chinese ----------------------------------------------------------


def page(client: FlaskClient, path: str, accept: str) -> str:
    response = client.get(path, headers={"Accept-Language": accept})
    assert response.status_code == 200, path
    return response.get_data(as_text=True)


CHINESE = {
    "/login": ["登录", "手机号", "密码", "注册成为志愿者", "隐私声明"],
    "/register": ["注册成为志愿者", "姓名", "工作单位", "密码", "我可以上夜班", "紧急联系人"],
    "/": ["志愿者招募", "高速卡口", "社区核酸检测点", "登录"],
}
ENGLISH = {
    "/login": ["Log in", "Mobile number", "Password", "Register as a volunteer"],
    "/register": ["Register as a volunteer", "Work unit", "I can serve night shifts"],
    "/": ["Volunteer call-up", "highway checkpoints", "Log in"],
}


@pytest.mark.parametrize("path", list(CHINESE))
def test_pages_in_chinese(client: FlaskClient, path: str) -> None:
    html = page(client, path, "zh-CN")
    assert '<html lang="zh-Hans">' in html
    missing = [text for text in CHINESE[path] if text not in html]
    assert not missing, f"{path} in Chinese lacks {missing}"
    leaked = [text for text in ENGLISH[path] if text in html]
    assert not leaked, f"{path} in Chinese still shows English {leaked}"


@pytest.mark.parametrize("path", list(ENGLISH))
def test_pages_in_english(client: FlaskClient, path: str) -> None:
    html = page(client, path, "en")
    assert '<html lang="en">' in html
    missing = [text for text in ENGLISH[path] if text not in html]
    assert not missing, f"{path} in English lacks {missing}"
    assert "登录" not in html
