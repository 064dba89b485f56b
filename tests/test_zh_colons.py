"""Chinese text is followed by the full-width colon '：', never the ASCII ':' (walkthrough,
session 5, item 3): in the zh catalog's translations, and in the templates, which write a
label's colon through `colon()` (scheduler/i18n.py) rather than a literal ':' after an
expression, so a Chinese label or name gets '：' and an English one ': '. Times (08:00) and
addresses (https://) keep their ASCII colons."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from babel.messages.pofile import read_po
from flask import Flask
from flask.testing import FlaskClient

from scheduler.models import PlanningPeriod, Site, User
from tests.fixtures.auth import login
from tests.fixtures.translations import TRANSLATIONS

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
# A CJK character or full-width punctuation, or a placeholder (which stands for Chinese words
# in a Chinese sentence), then an ASCII colon that does not start a time (08:00) or an
# address (https://).
CJK = r"[\u2e80-\u2fff\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]"
PLACEHOLDER = r"%\([a-z_]+\)[sd]|\{[a-z_]*\}"
ASCII_COLON_AFTER_CHINESE = re.compile(rf"(?:{CJK}|{PLACEHOLDER})\s*:(?!\d\d|//)")
# In a template: a literal colon right after an expression or the end of an element.
LITERAL_COLON = re.compile(r"(?:\}\}\)?|</(?:a|strong|span|em|b)>)[ \t]*:")


def offenders(text: str) -> list[str]:
    return ASCII_COLON_AFTER_CHINESE.findall(text)


def test_the_pattern_allows_times_and_addresses_only() -> None:
    for wrong in ("日期:", "点位 %(site)s: 缺人", "网址:https://x"):
        assert offenders(wrong), wrong
    for right in (
        "白班 08:00–16:00",
        "请打开 https://example.org",
        "日期：12月7日",
        "%(day)s 08:00",
    ):
        assert not offenders(right), right


def test_no_zh_translation_has_an_ascii_colon_after_chinese() -> None:
    with (TRANSLATIONS / "zh_Hans" / "LC_MESSAGES" / "messages.po").open("rb") as f:
        catalog = read_po(f)
    bad = []
    for message in catalog:
        strings = message.string if isinstance(message.string, list | tuple) else [message.string]
        bad += [(message.id, s) for s in strings if s and offenders(s)]
    assert bad == []


def test_no_template_writes_a_literal_colon_after_a_label() -> None:
    bad = []
    for path in sorted(TEMPLATES.rglob("*.html")):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if line.lstrip().startswith("{#") or "<code>{{ name }}</code>" in line:
                continue  # comments; the audit log's field names are ASCII identifiers
            if LITERAL_COLON.search(line):
                bad.append(f"{path.relative_to(TEMPLATES)}:{number}: {line.strip()}")
    assert bad == []


def test_a_heading_gets_the_colon_of_its_language(
    client: FlaskClient,
    make_volunteer: Callable[..., User],
    make_site: Callable[..., Site],
    make_period: Callable[..., PlanningPeriod],
    app: Flask,
) -> None:
    make_period(sites=[make_site()], name="第一期")
    login(client, make_volunteer())
    zh = client.get("/me/availability", headers={"Accept-Language": "zh-CN"})
    en = client.get("/me/availability", headers={"Accept-Language": "en"})
    assert "第一期：2026年12月7日" in zh.get_data(as_text=True)
    assert offenders(re.sub(r"<[^>]*>", " ", zh.get_data(as_text=True))) == []
    assert "第一期: " in en.get_data(as_text=True)


# A literal comma right after an expression or a tag joins translated words: in Chinese it
# must be '，' (clauses) or '、' (lists), so templates write comma() / list_comma().
LITERAL_COMMA = re.compile(r"(?:\}\}|%\})[ \t]*,")


def test_no_template_writes_a_literal_comma_after_an_expression() -> None:
    bad = []
    for path in sorted(TEMPLATES.rglob("*.html")):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if not line.lstrip().startswith("{#") and LITERAL_COMMA.search(line):
                bad.append(f"{path.relative_to(TEMPLATES)}:{number}: {line.strip()}")
    assert bad == []


def test_the_availability_summary_joins_its_phrases_in_the_readers_language(
    client: FlaskClient,
    make_volunteer: Callable[..., User],
    make_site: Callable[..., Site],
    make_period: Callable[..., PlanningPeriod],
) -> None:
    from datetime import date

    from scheduler.extensions import db
    from scheduler.models import Availability

    period = make_period(sites=[make_site()], name="第一期")
    user = make_volunteer()
    for day, hour in ((date(2026, 12, 7), 8), (date(2026, 12, 8), 0)):
        db.session.add(Availability(volunteer_id=user.volunteer.id, day=day, start_hour=hour))
    db.session.commit()
    login(client, user)
    zh = " ".join(client.get("/me", headers={"Accept-Language": "zh-CN"}).get_data(True).split())
    en = " ".join(client.get("/me", headers={"Accept-Language": "en"}).get_data(True).split())
    assert period.name in zh
    assert "</strong> (12月7日 – 12月20日)：2 个班次，分布在 2 天，1 个夜班" in zh, zh
    assert "): 2 shifts, on 2 days, 1 night" in en
