"""Delivering the outbox: messages in the recipient's language, retries with back-off after a
failing sender (nothing lost), giving up after MAX_ATTEMPTS, the senders, the CLI."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from scheduler.extensions import db
from scheduler.models import Role, User
from scheduler.models.base import utcnow
from scheduler.models.notifications import Notification
from scheduler.services import delivery, senders
from scheduler.services.delivery import MAX_ATTEMPTS, deliver_pending
from scheduler.services.notifications import notify
from scheduler.services.senders import (
    LogSender,
    Message,
    PermanentFailure,
    SmtpSender,
    channel_configured,
    sender_from_config,
)


class Recorder:
    def __init__(self) -> None:
        self.sent: list[Message] = []

    def send(self, message: Message) -> None:
        self.sent.append(message)


class Broken:
    def send(self, message: Message) -> None:
        raise ConnectionError("gateway down")


class Refusing:
    def send(self, message: Message) -> None:
        raise PermanentFailure("invalid number")


@pytest.fixture
def queued(app: Flask, make_site: Any, make_volunteer: Any) -> tuple[User, Notification]:
    site = make_site(name="南通北高速卡口", demand={"temperature": 1})
    user = make_volunteer(name="张三")
    user.locale = "zh_Hans"
    temperature = db.session.scalars(select(Role).where(Role.code == "temperature")).one()
    note = notify(
        user.id,
        "shift_new",
        site_id=site.id,
        day=date(2026, 12, 7).isoformat(),
        shift="night",
        role_id=temperature.id,
        version=1,
    )
    db.session.commit()
    return user, note


def test_a_message_is_rendered_in_the_recipients_language(
    queued: tuple[User, Notification],
) -> None:
    user, note = queued
    sender = Recorder()
    report = deliver_pending(sender)
    assert (report.sent, report.retried, report.failed) == (1, 0, 0)
    [message] = sender.sent
    assert (message.to, message.kind, message.locale) == (user.phone, "shift_new", "zh_Hans")
    assert message.message_id == f"n{note.id}"
    assert "12月7日 夜班 南通北高速卡口 测温" in message.subject
    assert "12月7日 夜班 南通北高速卡口 测温" in message.text
    db.session.expire_all()
    note = db.session.get(Notification, note.id)
    assert (note.delivery_status, note.attempts, note.last_error) == ("sent", 1, None)
    assert note.sent_at is not None
    assert deliver_pending(sender).sent == 0  # never sent twice


def test_english_recipient_and_unknown_kind(app: Flask, make_volunteer: Any) -> None:
    user = make_volunteer(name="Ann")
    user.locale = "en"
    notify(user.id, "shift_removed", site_id=999, day="2026-12-08", shift="day", role_id=999)
    notify(user.id, "something_else")
    notify(user.id, "shift_cancelled", site_id=999, day="2026-12-09", shift="evening")
    db.session.commit()
    sender = Recorder()
    assert deliver_pending(sender).sent == 3
    subjects = [message.subject for message in sender.sent]
    assert subjects[0].startswith("Shift removed: Dec 8 Day")
    assert subjects[1] == "A message from Muster"
    assert subjects[2] == "Shift update: Dec 9 Evening"


def test_a_failing_sender_leaves_the_message_pending_then_it_is_sent(
    queued: tuple[User, Notification],
) -> None:
    _user, note = queued
    now = utcnow()
    report = deliver_pending(Broken(), now=now)
    assert (report.sent, report.retried) == (0, 1)
    db.session.expire_all()
    note = db.session.get(Notification, note.id)
    assert (note.delivery_status, note.attempts) == ("pending", 1)
    assert note.last_error == "ConnectionError: gateway down"
    assert note.next_attempt_at == now + timedelta(minutes=1)

    sender = Recorder()
    assert deliver_pending(sender, now=now + timedelta(seconds=30)).sent == 0  # not due yet
    assert deliver_pending(sender, now=now + timedelta(minutes=2)).sent == 1
    db.session.expire_all()
    note = db.session.get(Notification, note.id)
    assert (note.delivery_status, note.attempts, note.last_error) == ("sent", 2, None)
    assert len(sender.sent) == 1


def test_delivery_gives_up_after_max_attempts_with_growing_delays(
    queued: tuple[User, Notification],
) -> None:
    _user, note = queued
    now = utcnow()
    waits = []
    for _ in range(MAX_ATTEMPTS):
        deliver_pending(Broken(), now=now)
        db.session.expire_all()
        row = db.session.get(Notification, note.id)
        if row.delivery_status == "pending":
            waits.append(row.next_attempt_at - now)
            now = row.next_attempt_at
    row = db.session.get(Notification, note.id)
    assert (row.delivery_status, row.attempts) == ("failed", MAX_ATTEMPTS)
    assert waits == [timedelta(minutes=m) for m in delivery.BACKOFF_MINUTES]
    assert deliver_pending(Recorder(), now=now + timedelta(days=1)).sent == 0


def test_batch_limits_one_pass(app: Flask, make_volunteer: Any) -> None:
    user = make_volunteer()
    for _ in range(3):
        notify(user.id, "something_else")
    db.session.commit()
    assert deliver_pending(Recorder(), batch=2).sent == 2
    assert deliver_pending(Recorder(), batch=2).sent == 1


def test_senders_from_config_and_smtp(
    queued: tuple[User, Notification], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert isinstance(sender_from_config({}), LogSender)
    assert isinstance(sender_from_config({"NOTIFY_SENDER": "smtp"}), LogSender)  # no host
    smtp = sender_from_config(
        {
            "NOTIFY_SENDER": "smtp",
            "SMTP_HOST": "mail.example",
            "SMTP_PORT": 2525,
            "SMTP_RECIPIENT_TEMPLATE": "{phone}@sms.example",
        }
    )
    assert isinstance(smtp, SmtpSender)
    assert channel_configured({"NOTIFY_SENDER": "smtp", "SMTP_HOST": "mail.example"})
    assert not channel_configured({"NOTIFY_SENDER": "log"})
    sent: list[Any] = []

    class FakeSMTP:
        def __init__(self, host: str, port: int, timeout: float) -> None:
            sent.append((host, port))

        def __enter__(self) -> FakeSMTP:
            return self

        def __exit__(self, *args: object) -> None:
            return None

        def starttls(self) -> None:
            sent.append("tls")

        def send_message(self, message: Any) -> None:
            sent.append(message["To"])

    monkeypatch.setattr(senders.smtplib, "SMTP", FakeSMTP)
    user, _note = queued
    assert deliver_pending(smtp).sent == 1
    assert sent == [("mail.example", 2525), "tls", f"{user.phone.lstrip('+')}@sms.example"]
    with pytest.raises(ValueError, match="SMTP_RECIPIENT_TEMPLATE"):
        SmtpSender(host="mail.example").send(Message(user.phone, "b", "k", "en", "m1"))


def test_a_permanent_failure_is_not_retried(queued: tuple[User, Notification]) -> None:
    _user, note = queued
    report = deliver_pending(Refusing())
    assert (report.sent, report.retried, report.failed) == (0, 0, 1)
    db.session.expire_all()
    note = db.session.get(Notification, note.id)
    assert (note.delivery_status, note.attempts) == ("failed", 1)
    assert "invalid number" in note.last_error


def test_send_notifications_command(queued: tuple[User, Notification], runner: Any) -> None:
    _user, note = queued
    result = runner.invoke(args=["send-notifications"])
    assert result.exit_code == 0, result.output
    assert "sent 1, to retry 0, failed 0" in result.output
    db.session.expire_all()
    assert db.session.get(Notification, note.id).delivery_status == "sent"


def test_a_cancellation_reads_as_one_to_the_coordinator(app: Flask, make_site) -> None:
    site = make_site(name="小海高速卡口")
    role = db.session.scalar(select(Role).where(Role.code == "code_checker"))
    note = Notification(
        user_id=1,
        kind="volunteer_cancelled",
        payload={
            "volunteer_name": "王小明",
            "site_id": site.id,
            "day": "2026-12-07",
            "shift": "night",
            "role_id": role.id,
            "reason": "家里有事",
        },
    )
    with app.test_request_context(headers={"Accept-Language": "en"}):
        subject, body = delivery.render_message(note, {site.id: site}, {role.id: role})
    assert subject.startswith("Cancelled: 王小明")
    assert "小海高速卡口" in body
    assert "家里有事" in body


def test_two_passes_at_once_send_each_message_once(app: Flask, make_volunteer: Any) -> None:
    """The development loop and a publish's delivery thread run passes in one process; on
    SQLite (no SKIP LOCKED) the second must not read the rows the first is still sending."""
    import threading

    users = [make_volunteer() for _ in range(3)]
    for user in users:
        notify(user.id, "something_else")
    db.session.commit()
    entered, release = threading.Event(), threading.Event()
    sent: list[str] = []

    class Slow:
        def send(self, message: Message) -> None:
            entered.set()
            release.wait(10)
            sent.append(message.message_id)

    def second_pass() -> None:
        with app.app_context():
            deliver_pending(Recorder())
            db.session.remove()

    def first_pass() -> None:
        with app.app_context():
            deliver_pending(Slow())
            db.session.remove()

    first = threading.Thread(target=first_pass)
    first.start()
    assert entered.wait(10)  # the first pass holds its batch and is sending its first message
    second = threading.Thread(target=second_pass)
    second.start()
    second.join(0.5)  # it waits for the first pass instead of reading the same rows
    assert second.is_alive()
    release.set()
    first.join(10)
    second.join(10)
    assert len(sent) == 3
    db.session.expire_all()
    assert {n.delivery_status for n in db.session.scalars(select(Notification))} == {"sent"}
    assert [n.attempts for n in db.session.scalars(select(Notification))] == [1, 1, 1]


def test_a_persons_roster_changes_go_out_as_one_text(
    app: Flask, make_site: Any, make_volunteer: Any
) -> None:
    """A publish queues one inbox row per post gained or lost; the phone gets one text per
    person listing them (and another person's changes stay theirs)."""
    site = make_site(name="小海高速卡口", demand={"temperature": 1})
    temperature = db.session.scalars(select(Role).where(Role.code == "temperature")).one()
    ann, bob = make_volunteer(name="张三"), make_volunteer(name="李四")
    ann.locale = bob.locale = "zh_Hans"
    for kind, day in (("shift_new", 7), ("shift_new", 8), ("shift_removed", 9)):
        notify(
            ann.id,
            kind,
            site_id=site.id,
            day=date(2026, 12, day).isoformat(),
            shift="day",
            role_id=temperature.id,
            version=2,
        )
    notify(
        bob.id,
        "shift_new",
        site_id=site.id,
        day=date(2026, 12, 7).isoformat(),
        shift="night",
        role_id=temperature.id,
        version=2,
    )
    db.session.commit()
    sender = Recorder()
    report = deliver_pending(sender)
    assert (report.sent, report.retried, report.failed) == (4, 0, 0)
    texts = {m.to: m for m in sender.sent}
    assert len(sender.sent) == 2
    digest = texts[ann.phone].text
    assert "+ 12月7日 白班 小海高速卡口 测温" in digest
    assert "+ 12月8日 白班 小海高速卡口 测温" in digest
    assert "− 12月9日 白班 小海高速卡口 测温" in digest
    assert "12月7日 夜班" in texts[bob.phone].text
    assert "12月8日" not in texts[bob.phone].text
    db.session.expire_all()
    assert {n.delivery_status for n in db.session.scalars(select(Notification))} == {"sent"}
    assert deliver_pending(sender).sent == 0


def test_a_failed_digest_is_retried_together(
    app: Flask, make_site: Any, make_volunteer: Any
) -> None:
    site = make_site(name="小海高速卡口", demand={"temperature": 1})
    ann = make_volunteer(name="张三")
    for day in (7, 8):
        notify(
            ann.id,
            "shift_new",
            site_id=site.id,
            day=date(2026, 12, day).isoformat(),
            shift="day",
            version=1,
        )
    db.session.commit()
    now = utcnow()
    assert deliver_pending(Broken(), now=now).retried == 2
    db.session.expire_all()
    assert [n.attempts for n in db.session.scalars(select(Notification))] == [1, 1]
    later = Recorder()
    assert deliver_pending(later, now=now + timedelta(minutes=2)).sent == 2
    assert len(later.sent) == 1
