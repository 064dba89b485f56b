"""Ad-hoc messages (issue 12): a coordinator reaches a shift, a site over some days, a period's
published roster or its leads -- exactly the people on duty there (not who cancelled, not
deactivated accounts); a site lead reaches only the shift they lead (404 elsewhere); a
volunteer reaches nobody; zero recipients and bad text are refused with nothing written; the
preview counts people and SMS parts (phones: tests/test_message_preview_phones.py); delivered
in each reader's language."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from scheduler.extensions import db
from scheduler.models import PlanningPeriod, Site, User
from scheduler.models.notifications import Notification
from scheduler.services import messages
from scheduler.services.delivery import deliver_pending
from scheduler.services.messages import MESSAGE
from scheduler.services.phones import national
from scheduler.services.senders import Message
from tests.fixtures.auth import signed_in
from tests.fixtures.rosters import cancel_shift, make_roster

WED, THU, FRI = date(2026, 12, 9), date(2026, 12, 10), date(2026, 12, 11)


class Recorder:
    def __init__(self) -> None:
        self.sent: list[Message] = []

    def send(self, message: Message) -> None:
        self.sent.append(message)


@dataclass
class World:
    app: Flask
    east: Site
    west: Site
    period: PlanningPeriod
    people: dict[str, User]

    def __getitem__(self, name: str) -> User:
        return self.people[name]


@pytest.fixture
def world(
    any_db_app: Flask,
    make_site: Callable[..., Site],
    make_volunteer: Callable[..., User],
    make_user: Callable[..., User],
) -> World:
    east = make_site(name="小海高速卡口")
    west = make_site(name="如东出口")
    people = {
        name: make_volunteer(name=label)
        for name, label in [
            ("li", "李点位长"),
            ("alice", "张三"),
            ("bob", "Bob"),
            ("carol", "王五"),
            ("dave", "赵六"),
            ("eve", "钱七"),
            ("frank", "孙八"),
        ]
    }
    people["bob"].locale = "en"
    people["alice"].locale = "zh_Hans"
    people["coordinator"] = make_user("coordinator", name="协调员")
    period = PlanningPeriod(
        name="第一期", start_date=WED, end_date=date(2026, 12, 13), is_open=True, sites=[east, west]
    )
    db.session.add(period)
    db.session.commit()
    make_roster(
        period,
        [
            (east, THU, "day", "site_lead", people["li"]),
            (east, THU, "day", "code_checker", people["alice"]),
            (east, THU, "day", "code_checker", people["eve"]),  # cancels
            (east, THU, "day", "code_checker", people["frank"]),  # deactivated
            (east, THU, "evening", "code_checker", people["bob"]),
            (west, THU, "day", "code_checker", people["carol"]),
            (east, FRI, "day", "code_checker", people["dave"]),
            (west, WED, "day", "site_lead", people["bob"]),
        ],
        version=1,
    )
    cancel_shift(people["eve"], east, THU, "day")
    people["frank"].active = False
    db.session.commit()
    return World(any_db_app, east, west, period, people)


def told(world: World) -> set[str]:
    """Who has a message queued, by the world's names."""
    ids = set(db.session.scalars(select(Notification.user_id).where(Notification.kind == MESSAGE)))
    return {name for name, user in world.people.items() if user.id in ids}


def coordinator_post(client: FlaskClient, **fields: str) -> tuple[int, str]:
    response = client.post("/coordinator/messages", data=fields)
    return response.status_code, response.get_data(as_text=True)


SHIFT = {"audience": "shift", "day": "2026-12-10", "shift": "day"}


def test_a_coordinator_previews_and_messages_one_shift(world: World) -> None:
    client = signed_in(world.app, world["coordinator"])
    text = "小海卡口今晚改到东侧车道集合"
    status, page = coordinator_post(
        client, site_id=str(world.east.id), text=text, action="preview", **SHIFT
    )
    assert status == 200
    assert "2 people get this message" in page
    for name in ("li", "alice"):
        assert world[name].name in page
        assert national(world[name].phone) in page  # staff see their scope's numbers in full
    for name in ("eve", "frank", "bob", "carol"):
        assert world[name].name not in page
    assert told(world) == set()  # a preview writes nothing
    response = client.post(
        "/coordinator/messages",
        data={"site_id": str(world.east.id), "text": text, "action": "send", **SHIFT},
    )
    assert response.status_code == 302
    assert told(world) == {"li", "alice"}


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        (
            {"audience": "site", "first_day": "2026-12-10", "last_day": "2026-12-11"},
            {"li", "alice", "bob", "dave"},
        ),
        ({"audience": "period"}, {"li", "alice", "bob", "carol", "dave"}),
        ({"audience": "leads"}, {"li", "bob"}),
    ],
)
def test_a_coordinator_messages_a_site_or_a_segment(
    world: World, fields: dict[str, str], expected: set[str]
) -> None:
    client = signed_in(world.app, world["coordinator"])
    status, _page = coordinator_post(
        client,
        site_id=str(world.east.id),
        period_id=str(world.period.id),
        text="明天上午培训",
        action="send",
        **fields,
    )
    assert status == 302
    assert told(world) == expected


def test_nobody_there_is_refused_with_a_message(world: World) -> None:
    client = signed_in(world.app, world["coordinator"])
    client.post("/language", data={"lang": "zh_Hans", "next": "/privacy"})
    status, page = coordinator_post(
        client,
        site_id=str(world.west.id),
        audience="shift",
        day="2026-12-12",
        shift="day",
        text="有人吗",
        action="send",
    )
    assert status == 422
    assert "已发布的排班中这里没有人：未发送。" in page
    assert told(world) == set()


@pytest.mark.parametrize("text", ["", "   ", "长" * (messages.MAX_MESSAGE_LENGTH + 1)])
def test_no_text_or_too_much_is_refused(world: World, text: str) -> None:
    client = signed_in(world.app, world["coordinator"])
    status, _page = coordinator_post(
        client, site_id=str(world.east.id), text=text, action="send", **SHIFT
    )
    assert status == 422
    assert told(world) == set()


def test_a_lead_messages_the_shift_they_lead(world: World) -> None:
    client = signed_in(world.app, world["li"])
    url = f"/checkin/sites/{world.east.id}/2026-12-10/day/message"
    assert client.get(url).status_code == 200
    page = client.post(url, data={"text": "请提前十分钟到", "action": "preview"}).get_data(
        as_text=True
    )
    assert world["alice"].name in page
    assert world["li"].name not in page.split("message-preview", 1)[1]  # not to themselves
    response = client.post(url, data={"text": "请提前十分钟到", "action": "send"})
    assert response.status_code == 302
    assert told(world) == {"alice"}


@pytest.mark.parametrize(
    ("who", "where"),
    [
        ("li", "{east}/2026-12-10/evening"),  # the lead's site, another shift
        ("li", "{west}/2026-12-10/day"),  # another site
        ("li", "{east}/2026-12-11/day"),  # another day
        ("alice", "{east}/2026-12-10/day"),  # on the shift, but not its lead
        ("bob", "{east}/2026-12-10/evening"),  # a code checker messages nobody
        ("li", "{east}/2026-12-10/noon"),
        ("li", "{east}/2026-13-10/day"),
        ("li", "999999/2026-12-10/day"),
    ],
)
def test_nobody_reaches_beyond_the_shift_they_lead(world: World, who: str, where: str) -> None:
    client = signed_in(world.app, world[who])
    url = "/checkin/sites/" + where.format(east=world.east.id, west=world.west.id) + "/message"
    assert client.get(url).status_code == 404
    assert client.post(url, data={"text": "hi", "action": "send"}).status_code == 404
    assert told(world) == set()


def test_volunteers_and_leads_cannot_use_the_coordinators_page(world: World) -> None:
    for name in ("li", "alice"):
        client = signed_in(world.app, world[name])
        assert client.get("/coordinator/messages").status_code == 403
        fields = {"site_id": str(world.east.id), "text": "x", "action": "send", **SHIFT}
        assert client.post("/coordinator/messages", data=fields).status_code == 403
    assert told(world) == set()


def test_a_message_is_delivered_in_each_readers_language(world: World) -> None:
    sender = world["coordinator"]
    audience = messages.Audience("site", site=world.east, first_day=THU, last_day=THU)
    messages.send(sender, audience, "今晚东侧车道集合")
    gateway = Recorder()
    deliver_pending(gateway)
    by_phone = {m.to: m for m in gateway.sent if m.kind == MESSAGE}
    chinese = by_phone[world["alice"].phone]
    english = by_phone[world["bob"].phone]
    assert chinese.text == "今晚东侧车道集合 — 协调员"
    assert chinese.subject == "来自协调员的消息"
    assert english.text == "今晚东侧车道集合 — 协调员"
    assert english.subject == "Message from 协调员"
    assert db.session.scalar(select(func.count()).where(Notification.kind == MESSAGE)) == 3


def test_the_inbox_shows_the_message(world: World) -> None:
    messages.send(
        world["coordinator"],
        messages.Audience("shift", site=world.east, day=THU, shift="day"),
        "带好身份证",
    )
    client = signed_in(world.app, world["alice"])
    assert "带好身份证 — 协调员" in client.get("/me/inbox").get_data(as_text=True)


def test_the_preview_shows_the_sms_parts(world: World) -> None:
    client = signed_in(world.app, world["coordinator"])
    client.post("/language", data={"lang": "en", "next": "/privacy"})
    _status, page = coordinator_post(
        client, site_id=str(world.east.id), text="好" * 71, action="preview", **SHIFT
    )
    assert "2 SMS parts per person" in page
    assert "4 SMS in all" in page
