"""Reminders before every published shift (issue 12): written into the outbox with the publish
at the period's times in the site's zone (UTC in the database), moved or withdrawn by a new
version, a cancellation, a deactivated account, new period or site times; never sent once
the shift has started, even when the sender was down until then; an alarm in the calendar at
the same times. SQLite and PostgreSQL for the outbox paths."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from icalendar import Calendar
from sqlalchemy import delete, select

from scheduler.extensions import db
from scheduler.models import ADMIN, Assignment, PlanningPeriod, Role, Site, User
from scheduler.models.base import set_clock
from scheduler.models.notifications import (
    EXPIRED,
    FAILED,
    PENDING,
    SENT,
    WITHDRAWN,
    Notification,
)
from scheduler.services import admin, my_shifts, periods, publishing, sites
from scheduler.services.delivery import deliver_pending
from scheduler.services.lookups import current_draft, latest_published
from scheduler.services.periods import PeriodData, PeriodError
from scheduler.services.reminders import REMINDER
from scheduler.services.senders import Message
from tests.fixtures.auth import login
from tests.fixtures.rosters import make_roster

MON, TUE = date(2026, 12, 7), date(2026, 12, 8)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


class Recorder:
    """A channel that takes every message (plays the SMS gateway)."""

    def __init__(self) -> None:
        self.sent: list[Message] = []

    def send(self, message: Message) -> None:
        self.sent.append(message)

    def reminders(self) -> list[Message]:
        return [m for m in self.sent if m.kind == REMINDER]


class Down:
    """A channel that is down."""

    def send(self, message: Message) -> None:
        raise ConnectionError("gateway down")


@dataclass
class World:
    site: Site
    period: PlanningPeriod
    alice: User  # day shift on Monday, code checker; reads Chinese
    bob: User  # night shift on Tuesday (00:00), site lead; reads English
    coordinator: User


@pytest.fixture
def world(
    any_db_app: Flask,
    make_site: Callable[..., Site],
    make_volunteer: Callable[..., User],
    make_user: Callable[..., User],
) -> World:
    site = make_site(name="南通北高速卡口", timezone="Asia/Shanghai")
    alice = make_volunteer(name="张三")
    alice.locale = "zh_Hans"
    bob = make_volunteer(name="Bob")
    bob.locale = "en"
    coordinator = make_user("coordinator", name="协调员")
    period = PlanningPeriod(
        name="第一期", start_date=MON, end_date=date(2026, 12, 13), is_open=True, sites=[site]
    )
    db.session.add(period)
    db.session.commit()
    make_roster(
        period, [(site, MON, "day", "code_checker", alice), (site, TUE, "night", "site_lead", bob)]
    )
    return World(site, period, alice, bob, coordinator)


def publish(world: World) -> None:
    publishing.publish(world.period, world.coordinator)
    db.session.commit()


def reminders(user: User, status: str | None = PENDING) -> list[datetime]:
    """When the user's reminders (in that state) are due, in order."""
    query = select(Notification).where(
        Notification.user_id == user.id, Notification.kind == REMINDER
    )
    if status is not None:
        query = query.where(Notification.delivery_status == status)
    notes = list(db.session.scalars(query))
    if status == PENDING:  # not tried yet: they wait for their due time
        assert all(n.next_attempt_at.isoformat() == n.payload["due"] for n in notes)
    return sorted(datetime.fromisoformat(n.payload["due"]) for n in notes)


def test_publishing_writes_the_reminders_at_local_times_in_utc(world: World) -> None:
    publish(world)
    # Day shift 08:00 Shanghai (00:00 UTC): the evening before at 18:00, and 2 h before.
    assert reminders(world.alice) == [utc(2026, 12, 6, 10), utc(2026, 12, 6, 22)]
    # Night shift 00:00 on Tuesday (Monday 16:00 UTC): Monday 18:00 and Monday 22:00 local.
    assert reminders(world.bob) == [utc(2026, 12, 7, 10), utc(2026, 12, 7, 14)]
    latest = latest_published(world.period.id)
    assert latest is not None
    linked = set(
        db.session.scalars(select(Notification.assignment_id).where(Notification.kind == REMINDER))
    )
    assert linked == set(
        db.session.scalars(select(Assignment.id).where(Assignment.roster_id == latest.id))
    )


def test_a_reminder_time_already_past_at_publishing_is_not_written(world: World) -> None:
    set_clock(utc(2026, 12, 6, 15))  # 23:00 in Shanghai, the evening before Monday's shift
    publish(world)
    assert reminders(world.alice) == [utc(2026, 12, 6, 22)]  # only "2 h before" is ahead
    assert len(reminders(world.bob)) == 2


def test_a_new_version_moves_and_withdraws_reminders(world: World) -> None:
    publish(world)
    draft = current_draft(world.period.id)
    assert draft is not None
    assert world.alice.volunteer
    assert world.bob.volunteer
    moved = db.session.scalars(
        select(Assignment).where(
            Assignment.roster_id == draft.id, Assignment.volunteer_id == world.alice.volunteer.id
        )
    ).one()
    moved.shift = "evening"  # Monday 16:00 local = 08:00 UTC
    db.session.execute(
        delete(Assignment).where(
            Assignment.roster_id == draft.id, Assignment.volunteer_id == world.bob.volunteer.id
        )
    )
    draft.touch()
    db.session.commit()
    publish(world)
    assert reminders(world.alice) == [utc(2026, 12, 6, 10), utc(2026, 12, 7, 6)]
    # The rows name the shift: the day shift's two are withdrawn, the evening's are new.
    assert reminders(world.alice, WITHDRAWN) == [utc(2026, 12, 6, 10), utc(2026, 12, 6, 22)]
    shifts = db.session.scalars(
        select(Notification.payload).where(
            Notification.user_id == world.alice.id, Notification.delivery_status == PENDING
        )
    )
    assert {p["shift"] for p in shifts if "starts" in p} == {"evening"}
    assert reminders(world.bob) == []
    assert len(reminders(world.bob, WITHDRAWN)) == 2


def test_a_role_change_keeps_the_reminders_linked_to_the_new_version(world: World) -> None:
    publish(world)
    first = set(db.session.scalars(select(Notification.id).where(Notification.kind == REMINDER)))
    draft = current_draft(world.period.id)
    assert draft is not None
    assert world.alice.volunteer
    db.session.execute(
        delete(Assignment).where(
            Assignment.roster_id == draft.id, Assignment.volunteer_id == world.alice.volunteer.id
        )
    )
    lead = db.session.scalars(select(Role).where(Role.code == "site_lead")).one()
    db.session.add(
        Assignment(
            roster_id=draft.id,
            site_id=world.site.id,
            day=MON,
            shift="day",
            role_id=lead.id,
            volunteer_id=world.alice.volunteer.id,
        )
    )
    draft.touch()
    db.session.commit()
    publish(world)
    kept = set(
        db.session.scalars(
            select(Notification.id).where(
                Notification.kind == REMINDER, Notification.delivery_status == PENDING
            )
        )
    )
    assert kept == first  # the same rows, nothing withdrawn or added
    latest = latest_published(world.period.id)
    assert latest is not None
    for note in db.session.scalars(select(Notification).where(Notification.id.in_(kept))):
        assert db.session.get(Assignment, note.assignment_id).roster_id == latest.id  # type: ignore[union-attr]  # linked


def test_a_cancelled_shift_withdraws_its_reminders(world: World) -> None:
    publish(world)
    assert world.alice.volunteer is not None
    post = db.session.scalars(
        select(Assignment).where(
            Assignment.volunteer_id == world.alice.volunteer.id,
            Assignment.roster_id == latest_published(world.period.id).id,  # type: ignore[union-attr]  # published above
        )
    ).one()
    my_shifts.cancel(world.alice.volunteer, post.id, "家里有事")
    assert reminders(world.alice) == []
    assert len(reminders(world.alice, WITHDRAWN)) == 2
    assert len(reminders(world.bob)) == 2


def test_a_deactivated_account_loses_its_reminders_with_its_posts(
    world: World, make_user: Callable[..., User]
) -> None:
    """Deactivating gives up the account's future posts (the coordinators repair them), so
    their reminders are withdrawn, and reactivating gives neither back."""
    boss = make_user(ADMIN, name="管理员")
    publish(world)
    admin.set_active(boss, world.alice, False)
    assert reminders(world.alice) == []
    assert len(reminders(world.alice, WITHDRAWN)) == 2
    admin.set_active(boss, world.alice, True)
    assert reminders(world.alice) == []


def test_new_period_or_site_times_move_the_reminders(world: World) -> None:
    publish(world)
    data = PeriodData(
        name=world.period.name,
        start_date=world.period.start_date,
        end_date=world.period.end_date,
        site_ids=[world.site.id],
        reminder_evening_at="19:30",
        reminder_hours_before=None,
    )
    periods.save_period(world.period, data)
    assert reminders(world.alice) == [utc(2026, 12, 6, 11, 30)]
    shifted = sites.site_data_of(world.site)
    shifted.first_shift_hour = 7  # the day shift now starts 15:00 local (07:00 UTC)
    sites.save_site(world.site, shifted)
    assert reminders(world.alice) == [utc(2026, 12, 6, 11, 30)]  # the evening before: same
    assert reminders(world.bob) == [utc(2026, 12, 7, 11, 30)]
    data.reminder_hours_before = 3
    periods.save_period(world.period, data)
    assert reminders(world.alice) == [utc(2026, 12, 6, 11, 30), utc(2026, 12, 7, 4)]


@pytest.mark.parametrize(
    ("evening", "hours", "field"),
    [
        ("25:00", 2, "reminder_evening_at"),
        ("18h", 2, "reminder_evening_at"),
        ("", 0, "reminder_hours_before"),
        ("", 49, "reminder_hours_before"),
    ],
)
def test_bad_reminder_settings_are_refused(
    world: World, evening: str, hours: int, field: str
) -> None:
    data = PeriodData(
        name="第一期",
        start_date=MON,
        end_date=date(2026, 12, 13),
        site_ids=[world.site.id],
        reminder_evening_at=evening,
        reminder_hours_before=hours,
    )
    with pytest.raises(PeriodError) as refused:
        periods.save_period(world.period, data)
    assert refused.value.field == field
    db.session.rollback()
    assert db.session.get(PlanningPeriod, world.period.id).reminder_evening_at == "18:00"  # type: ignore[union-attr]  # exists


def test_a_reminder_is_never_sent_after_its_shift_started(world: World) -> None:
    publish(world)
    report = deliver_pending(Down(), now=utc(2026, 12, 6, 22))  # both of alice's are due
    assert report.sent == 0
    gateway = Recorder()
    back = utc(2026, 12, 7, 0, 30)  # the sender is back half an hour after her shift started
    report = deliver_pending(gateway, now=back)
    assert gateway.reminders() == []
    assert report.skipped == 2
    assert reminders(world.alice, EXPIRED) == [utc(2026, 12, 6, 10), utc(2026, 12, 6, 22)]
    assert reminders(world.alice, FAILED) == []


def test_a_reminder_goes_out_when_the_sender_is_back_before_the_start(world: World) -> None:
    publish(world)
    deliver_pending(Down(), now=utc(2026, 12, 6, 10))  # the evening reminder fails
    gateway = Recorder()
    deliver_pending(gateway, now=utc(2026, 12, 6, 23))  # back an hour before her shift
    texts = [m.text for m in gateway.reminders()]
    assert len(texts) == 2
    assert all(m.to == world.alice.phone and m.locale == "zh_Hans" for m in gateway.reminders())
    for text in texts:
        assert "南通北高速卡口" in text
        assert "测试路1号" in text
        assert "08:00–16:00" in text
        assert "查验双码" in text
        assert "12月7日" in text
    assert reminders(world.alice, SENT) == [utc(2026, 12, 6, 10), utc(2026, 12, 6, 22)]
    # Bob's are not due yet; at their time they go out in English.
    deliver_pending(gateway, now=utc(2026, 12, 7, 14))
    [*_, english] = gateway.reminders()
    assert english.to == world.bob.phone
    assert english.locale == "en"
    assert "Reminder" in (english.subject or "")
    assert "Site lead" in english.text
    assert "00:00–08:00" in english.text
    assert "Dec 8" in english.text


def test_a_withdrawn_reminder_is_not_sent(world: World) -> None:
    publish(world)
    assert world.alice.volunteer is not None
    post = db.session.scalars(
        select(Assignment).where(
            Assignment.volunteer_id == world.alice.volunteer.id,
            Assignment.roster_id == latest_published(world.period.id).id,  # type: ignore[union-attr]  # published above
        )
    ).one()
    my_shifts.cancel(world.alice.volunteer, post.id, "病了")
    gateway = Recorder()
    deliver_pending(gateway, now=utc(2026, 12, 6, 23))
    assert gateway.reminders() == []


def test_reminders_stay_out_of_the_inbox(world: World, any_db_app: Flask) -> None:
    publish(world)
    client = any_db_app.test_client()
    login(client, world.alice)
    page = client.get("/me/inbox").get_data(as_text=True)
    assert "Reminder" not in page
    assert "提醒" not in page


def test_the_calendar_carries_an_alarm_at_each_reminder_time(
    world: World, any_db_app: Flask
) -> None:
    publish(world)
    client = any_db_app.test_client()
    login(client, world.alice)
    response = client.get("/me/calendar.ics")
    assert response.status_code == 200
    calendar = Calendar.from_ical(response.data)
    [event] = calendar.walk("VEVENT")
    triggers = sorted(alarm.decoded("TRIGGER") for alarm in event.walk("VALARM"))
    # 08:00 start: the evening before at 18:00 is 14 h before; and 2 h before.
    assert triggers == [timedelta(hours=-14), timedelta(hours=-2)]
    assert all(alarm["ACTION"] == "DISPLAY" for alarm in event.walk("VALARM"))


def test_the_period_form_sets_and_checks_reminder_times(
    world: World, any_db_app: Flask, make_user: Callable[..., Any]
) -> None:
    client = any_db_app.test_client()
    login(client, world.coordinator)
    url = f"/coordinator/periods/{world.period.id}/edit"
    page = client.get(url).get_data(as_text=True)
    assert 'name="reminder_evening_at"' in page
    assert 'value="18:00"' in page
    form = {
        "name": "第一期",
        "start_date": "2026-12-07",
        "end_date": "2026-12-13",
        "site_ids": str(world.site.id),
        "contact_id": "0",
        "reminder_evening_at": "24:00",
        "reminder_hours_before": "2",
    }
    refused = client.post(url, data=form)
    assert refused.status_code == 422
    assert "18:00" in refused.get_data(as_text=True)
    form["reminder_evening_at"] = "19:00"
    form["reminder_hours_before"] = ""
    assert client.post(url, data=form).status_code == 302
    db.session.expire_all()
    period = db.session.get(PlanningPeriod, world.period.id)
    assert period is not None
    assert (period.reminder_evening_at, period.reminder_hours_before) == ("19:00", None)


def test_a_reminder_waiting_for_a_retry_survives_a_new_version(world: World) -> None:
    publish(world)
    deliver_pending(Down(), now=utc(2026, 12, 6, 10))  # alice's evening one: retry later
    draft = current_draft(world.period.id)
    assert draft is not None
    assert world.bob.volunteer is not None
    db.session.execute(
        delete(Assignment).where(
            Assignment.roster_id == draft.id, Assignment.volunteer_id == world.bob.volunteer.id
        )
    )
    draft.touch()
    db.session.commit()
    set_clock(utc(2026, 12, 6, 10, 2))  # republished while the retry waits
    publish(world)
    waiting = db.session.scalars(
        select(Notification).where(
            Notification.user_id == world.alice.id,
            Notification.kind == REMINDER,
            Notification.delivery_status == PENDING,
        )
    ).all()
    assert sorted(n.payload["due"] for n in waiting) == [
        "2026-12-06T10:00:00+00:00",
        "2026-12-06T22:00:00+00:00",
    ]
    assert min(n.attempts for n in waiting) == 0
    assert max(n.attempts for n in waiting) == 1
