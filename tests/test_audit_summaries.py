"""Audit log summaries in words are shown in the reader's language (walkthrough, session 5,
item 5): a row names its summary's message (AuditEntry.summary_key, summary_args) and the page
renders it in the viewer's locale; the English text stays in `summary` for the CSV; rows
written before the key existed show their stored text as it is."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import date

from flask import Flask
from flask.testing import FlaskClient
from flask_babel import force_locale
from sqlalchemy import select

from scheduler.extensions import db
from scheduler.models import AuditEntry, District, User
from scheduler.services import audit
from tests.fixtures.auth import login
from tests.test_claim_imported import ROW, import_rows

ZH, EN = {"Accept-Language": "zh-CN"}, {"Accept-Language": "en"}


def audit_page(client: FlaskClient, headers: dict[str, str]) -> str:
    response = client.get("/coordinator/audit", headers=headers)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_an_import_s_summary_is_shown_in_the_viewer_s_language(
    app: Flask, client: FlaskClient, coordinator: User
) -> None:
    db.session.add(District(name="崇川区"))
    db.session.commit()
    import_rows([ROW])  # the importer records "1 volunteer"
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == audit.IMPORT))
    assert entry is not None
    assert entry.summary_key == "volunteers"
    assert entry.summary_args == {"num": 1}
    assert entry.summary == "1 volunteer"  # English, for the CSV
    login(client, coordinator)
    assert "<br>1 名志愿者</td>" in audit_page(client, ZH)
    assert "<br>1 volunteer</td>" in audit_page(client, EN)
    rows = list(csv.DictReader(io.StringIO(client.get("/coordinator/audit.csv").text)))
    assert {r["summary"] for r in rows if r["action"] == audit.IMPORT} == {"1 volunteer"}


def test_a_row_written_before_keys_shows_its_text(
    app: Flask, client: FlaskClient, coordinator: User
) -> None:
    audit.record(audit.MESSAGE_RETRY, object_type="message", object_id=None, summary="3 messages")
    db.session.commit()
    login(client, coordinator)
    assert "<br>3 messages</td>" in audit_page(client, ZH)


def test_an_unknown_key_or_broken_arguments_fall_back_to_the_text(app: Flask) -> None:
    entry = AuditEntry(summary="old words", summary_key="gone", summary_args={})
    assert audit.summary_text(entry) == "old words"
    entry = AuditEntry(summary="old words", summary_key="version", summary_args={"name": "x"})
    assert audit.summary_text(entry) == "old words"


def test_every_summary_reads_in_both_languages(app: Flask, make_user: Callable[..., User]) -> None:
    post = audit.Summary(
        "post",
        {
            "site": "小海高速卡口",
            "day": date(2026, 12, 7),
            "shift": "night",
            "role_zh": "测温",
            "role_en": "Temperature check",
        },
    )
    samples = {
        "volunteers": ({"num": 2}, "2 名志愿者", "2 volunteers"),
        "messages": ({"num": 1}, "1 条消息", "1 message"),
        "claim_codes": ({"num": 5}, "5 个认领码", "5 claim codes"),
        "audit_csv": ({}, "操作日志 CSV", "Audit log CSV"),
        "version": ({"name": "第一期", "number": 2}, "第一期 第 2 版", "第一期, version 2"),
        "post": (
            post.args,
            "小海高速卡口 12月7日 夜班 测温",
            "小海高速卡口, Dec 7 Night, Temperature check",
        ),
    }
    assert set(samples) == set(audit.SUMMARIES)
    for key, (args, zh, en) in samples.items():
        entry = audit.record(
            audit.EXPORT, object_type="x", object_id=None, summary=audit.Summary(key, args)
        )
        with force_locale("zh_Hans"):
            assert audit.summary_text(entry) == zh
        with force_locale("en"):
            assert audit.summary_text(entry) == en
        assert entry.summary == en
    db.session.rollback()
