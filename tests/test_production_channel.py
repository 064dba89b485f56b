"""Production never loses messages silently: with NOTIFY_SENDER unset, or naming a channel
whose settings are missing (which falls back to the log while every message is marked sent),
the app refuses to start, the way it refuses without SECRET_KEY or REDIS_URL; `log` chosen
knowingly is allowed, and writes each message where a production server shows it."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from scheduler.services.senders import LogSender, Message, require_channel


@pytest.fixture
def production(monkeypatch: pytest.MonkeyPatch) -> Any:
    from scheduler.config import ProductionConfig

    monkeypatch.setattr(ProductionConfig, "SECRET_KEY", "from-the-environment")
    monkeypatch.setattr(ProductionConfig, "RATELIMIT_STORAGE_URI", "redis://127.0.0.1:6379/2")
    return ProductionConfig


@pytest.mark.parametrize(
    ("settings", "says"),
    [
        ({"NOTIFY_SENDER": None}, "it is unset"),
        ({"NOTIFY_SENDER": "smtp"}, "it is smtp, without its settings"),
        ({"NOTIFY_SENDER": "aliyun"}, "it is aliyun, without its settings"),
        ({"NOTIFY_SENDER": "webhook"}, "it is webhook, without its settings"),
        ({"NOTIFY_SENDER": "sms"}, "it is sms, without its settings"),  # a typo
        (
            {"NOTIFY_SENDER": "webhook", "NOTIFY_WEBHOOK_URL": "https://gw.example/send"},
            "needs NOTIFY_WEBHOOK_SECRET",
        ),
    ],
)
def test_production_refuses_to_start_where_messages_would_reach_nobody(
    production: Any, monkeypatch: pytest.MonkeyPatch, settings: dict[str, Any], says: str
) -> None:
    from scheduler import create_app

    for key, value in settings.items():
        monkeypatch.setattr(production, key, value, raising=False)
    with pytest.raises(RuntimeError, match=says):
        create_app("production")


def test_production_starts_with_a_channel_or_the_log_chosen_knowingly(
    production: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from scheduler import create_app

    monkeypatch.setattr(production, "NOTIFY_SENDER", "smtp")
    monkeypatch.setattr(production, "SMTP_HOST", "127.0.0.1", raising=False)
    assert create_app("production").config["NOTIFY_SENDER"] == "smtp"
    monkeypatch.setattr(production, "NOTIFY_SENDER", "log")
    assert create_app("production").config["NOTIFY_SENDER"] == "log"


def test_development_and_tests_do_not_ask_for_a_channel() -> None:
    from scheduler.config import DevelopmentConfig, TestConfig

    assert not DevelopmentConfig.NOTIFY_REQUIRE_CHANNEL
    assert not TestConfig.NOTIFY_REQUIRE_CHANNEL
    require_channel({"NOTIFY_SENDER": "log"})  # chosen knowingly: allowed anywhere


def test_the_log_channel_writes_each_message_as_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # A production server shows warnings (Python's last-resort handler, gunicorn's error log)
    # and drops INFO records: the log channel's messages would vanish at INFO.
    message = Message(
        to="+8613800138000", text="验证码 123456", kind="reset_code", locale="zh", message_id="m1"
    )
    with caplog.at_level(logging.WARNING, logger="scheduler.services.senders"):
        LogSender().send(message)
    (record,) = caplog.records
    assert record.levelno == logging.WARNING
    assert "not sent" in record.getMessage()
    assert "验证码 123456" in record.getMessage()
