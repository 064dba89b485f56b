"""Call-ups (集结号): each audience filter, the prefill from the review page's link, the
preview, refusing an empty audience, sending (one outbox row per person and nothing else),
the public page and its funnel (opened once per browser, registered / logged in through it,
availability entered afterwards), in Chinese and English, on SQLite and PostgreSQL."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_babel import force_locale
from sqlalchemy import func, select

from scheduler.extensions import db
from scheduler.models import (
    Availability,
    CallUp,
    CallUpEvent,
    CallUpRecipient,
    District,
    Notification,
    PlanningPeriod,
    Role,
    Site,
    Skill,
    User,
    VolunteerSkill,
    WorkUnit,
)
from scheduler.models.accounts import IMPORTED_PASSWORD_HASH
from scheduler.models.base import utcnow
from scheduler.models.callups import LOGGED_IN, OPENED, REGISTERED
from scheduler.services import callups, delivery
from scheduler.services.callups import Audience, CallUpError, Gap
from scheduler.services.senders import LogSender, sms_segments
from tests.fixtures.auth import PASSWORD, login

FIRST, LAST = date(2026, 12, 9), date(2026, 12, 14)


@dataclass
class Pool:
    period: PlanningPeriod
    coordinator: User
    people: dict[str, User]
    sampler: Role
    medical: Skill
    chongchuan: District
    tongzhou: District
    jia: WorkUnit

    def ids(self, *names: str) -> set[int]:
        return {self.people[n].id for n in names}


def offer_days(user: User, first: date, last: date, hour: int = 8) -> None:
    assert user.volunteer is not None
    day = first
    while day <= last:
        db.session.add(Availability(volunteer_id=user.volunteer.id, day=day, start_hour=hour))
        day += timedelta(days=1)


@pytest.fixture
def pool(
    any_db_app: Flask,
    make_site: Callable[..., Site],
    make_period: Callable[..., PlanningPeriod],
    make_volunteer: Callable[..., User],
    coordinator: User,
) -> Pool:
    """张 崇川/甲 medical trained, covers every day shift 12-09..12-14; 李 崇川/乙 medical,
    one day shift only; 王 通州/甲 nothing entered; 赵 通州, imported and unclaimed; 钱 is
    inactive (never reached)."""
    chongchuan, tongzhou = District(name="崇川区"), District(name="通州区")
    jia, yi = WorkUnit(name="甲单位"), WorkUnit(name="乙单位")
    db.session.add_all([chongchuan, tongzhou, jia, yi])
    db.session.commit()
    site = make_site(name="小海高速卡口", demand={"site_lead": 1, "sampler": 2})
    period = make_period(sites=[site], name="十二月第一期")
    people = {
        "张": make_volunteer(name="张一", district_id=chongchuan.id, work_unit_id=jia.id),
        "李": make_volunteer(name="李二", district_id=chongchuan.id, work_unit_id=yi.id),
        "王": make_volunteer(name="王三", district_id=tongzhou.id, work_unit_id=jia.id),
        "赵": make_volunteer(name="赵四", district_id=tongzhou.id),
        "钱": make_volunteer(name="钱五", district_id=chongchuan.id),
    }
    medical = db.session.scalars(select(Skill).where(Skill.code == "medical")).one()
    sampler = db.session.scalars(select(Role).where(Role.code == "sampler")).one()
    for name in ("张", "李"):
        volunteer = people[name].volunteer
        assert volunteer is not None
        db.session.add(VolunteerSkill(volunteer=volunteer, skill=medical, verified_at=utcnow()))
    assert people["张"].volunteer is not None
    people["张"].volunteer.trained_at = utcnow()
    offer_days(people["张"], FIRST, LAST)
    offer_days(people["李"], FIRST, FIRST)
    people["赵"].password_hash = IMPORTED_PASSWORD_HASH
    people["钱"].active = False
    offer_days(people["钱"], FIRST, FIRST)
    db.session.commit()
    return Pool(period, coordinator, people, sampler, medical, chongchuan, tongzhou, jia)


def reached(pool: Pool, audience: Audience) -> set[int]:
    return {p.user_id for p in callups.audience_people(pool.period, audience)}


# The filters, each on its own ---------------------------------------------------------------


def test_no_filter_reaches_every_active_volunteer(pool: Pool) -> None:
    assert reached(pool, Audience()) == pool.ids("张", "李", "王", "赵")


def test_district_filter(pool: Pool) -> None:
    assert reached(pool, Audience(district_ids=(pool.chongchuan.id,))) == pool.ids("张", "李")


def test_work_unit_filter(pool: Pool) -> None:
    assert reached(pool, Audience(work_unit_ids=(pool.jia.id,))) == pool.ids("张", "王")


def test_skill_filter(pool: Pool) -> None:
    assert reached(pool, Audience(skill_ids=(pool.medical.id,))) == pool.ids("张", "李")


def test_training_filter(pool: Pool) -> None:
    assert reached(pool, Audience(trained="yes")) == pool.ids("张")
    assert reached(pool, Audience(trained="no")) == pool.ids("李", "王", "赵")


def test_no_availability_for_the_period(pool: Pool) -> None:
    assert reached(pool, Audience(no_availability=True)) == pool.ids("王", "赵")


def test_availability_outside_the_period_does_not_count(pool: Pool) -> None:
    offer_days(pool.people["王"], date(2026, 12, 25), date(2026, 12, 25))
    db.session.commit()
    assert reached(pool, Audience(no_availability=True)) == pool.ids("王", "赵")


def test_imported_not_claimed(pool: Pool) -> None:
    assert reached(pool, Audience(unclaimed=True)) == pool.ids("赵")


def test_skill_whose_availability_does_not_cover_the_shift_yet(pool: Pool) -> None:
    gap = Gap(shift="day", first=FIRST, last=LAST, skill_id=pool.medical.id)
    # 张 covers every day shift of those dates; 李 only the first.
    assert reached(pool, Audience(gap=gap)) == pool.ids("李")
    # Any skill: everyone who does not cover them.
    assert reached(pool, Audience(gap=Gap("day", FIRST, LAST))) == pool.ids("李", "王", "赵")
    # 李 covers the first date itself.
    one_day = Gap(shift="day", first=FIRST, last=FIRST, skill_id=pool.medical.id)
    assert reached(pool, Audience(gap=one_day)) == set()
    # A night shift nobody offered.
    nights = Gap(shift="night", first=FIRST, last=FIRST, skill_id=pool.medical.id)
    assert reached(pool, Audience(gap=nights)) == pool.ids("张", "李")


def test_groups_are_alternatives_and_filters_narrow_them(pool: Pool) -> None:
    gap = Gap(shift="day", first=FIRST, last=LAST, skill_id=pool.medical.id)
    both = Audience(no_availability=True, gap=gap)
    assert reached(pool, both) == pool.ids("李", "王", "赵")
    narrowed = Audience(district_ids=(pool.tongzhou.id,), no_availability=True, gap=gap)
    assert reached(pool, narrowed) == pool.ids("王", "赵")


def test_audience_round_trips_as_json(pool: Pool) -> None:
    audience = Audience(
        district_ids=(1, 2),
        work_unit_ids=(3,),
        skill_ids=(4,),
        trained="no",
        no_availability=True,
        unclaimed=True,
        gap=Gap("evening", FIRST, LAST, skill_id=5, role_id=6),
    )
    assert Audience.from_json(audience.to_json()) == audience


# SMS segments -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "segments"),
    [
        ("", 0),
        ("a" * 160, 1),
        ("a" * 161, 2),
        ("a" * 306, 2),
        ("a" * 307, 3),
        ("[" * 80, 1),  # extension characters take two septets
        ("[" * 81, 2),
        ("集" * 70, 1),
        ("集" * 71, 2),
        ("集" * 134, 2),
        ("集" * 135, 3),
        ("a" * 69 + "集", 1),  # one Chinese character makes the whole text UCS-2
        ("a" * 70 + "集", 2),
    ],
)
def test_sms_segments(text: str, segments: int) -> None:
    assert sms_segments(text) == segments


# The compose page: prefill, preview, refusal, send ------------------------------------------


def staff_client(app: Flask, pool: Pool) -> FlaskClient:
    client = app.test_client()
    login(client, pool.coordinator)
    return client


def form_fields(html: str) -> dict[str, str | list[str]]:
    """What the browser would post from the compose page (inputs, checked boxes, selects,
    the textarea)."""
    data: dict[str, str | list[str]] = {}
    for tag in re.findall(r"<input[^>]*>", html):
        name = re.search(r'name="([^"]+)"', tag)
        if not name:
            continue
        kind = re.search(r'type="([^"]+)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        if kind and kind.group(1) == "checkbox":
            if "checked" in tag:
                data.setdefault(name.group(1), [])
                assert isinstance(data[name.group(1)], list)
                data[name.group(1)].append(value.group(1) if value else "y")  # type: ignore[union-attr]  # a list, checked above
            continue
        data[name.group(1)] = value.group(1) if value else ""
    for name, body in re.findall(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', html, re.S):
        selected = re.search(r'<option selected value="([^"]*)"', body) or re.search(
            r'<option value="([^"]*)"[^>]*selected', body
        )
        first = re.search(r'<option[^>]*value="([^"]*)"', body)
        data[name] = (selected or first).group(1) if (selected or first) else ""  # type: ignore[union-attr]  # one of them matched
    text = re.search(r'<textarea[^>]*name="message"[^>]*>\r?\n?(.*?)</textarea>', html, re.S)
    assert text is not None
    data["message"] = text.group(1).replace("&amp;", "&")
    return data


def prefilled(client: FlaskClient, pool: Pool, query: str = "", lang: str = "en") -> str:
    response = client.get(
        f"/coordinator/periods/{pool.period.id}/callups/new{query}",
        headers={"Accept-Language": lang},
    )
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_prefill_from_the_review_pages_link(any_db_app: Flask, pool: Pool) -> None:
    client = staff_client(any_db_app, pool)
    query = f"?role={pool.sampler.id}&shift=day&from=2026-12-09&to=2026-12-14&lang=en"
    html = prefilled(client, pool, query)
    fields = form_fields(html)
    assert "Sampler" in str(fields["message"])
    assert "Day shifts, Dec 9–Dec 14" in str(fields["message"])
    assert "/c/" + str(fields["token"]) in str(fields["message"])
    assert fields["no_availability"] == ["y"]
    assert fields["gap"] == ["y"]
    assert fields["gap_skill_id"] == str(pool.medical.id)
    assert fields["gap_shift"] == "day"
    assert fields["gap_first"] == "2026-12-09"
    assert fields["gap_last"] == "2026-12-14"
    assert fields["gap_role_id"] == str(pool.sampler.id)
    # Previewed as posted: people with the skill who do not cover those shifts, plus
    # people with no availability for the period.
    response = client.post(
        f"/coordinator/periods/{pool.period.id}/callups/new", data={**fields, "action": "preview"}
    )
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "<strong>3 people</strong>" in page
    for name in ("李二", "王三", "赵四"):
        assert name in page
    assert "张一" not in page
    assert db.session.scalar(select(func.count()).select_from(CallUp)) == 0


def test_prefill_in_chinese(any_db_app: Flask, pool: Pool) -> None:
    client = staff_client(any_db_app, pool)
    query = f"?role={pool.sampler.id}&shift=day&from=2026-12-09&to=2026-12-14"
    message = str(form_fields(prefilled(client, pool, query, lang="zh-CN"))["message"])
    assert message.startswith("【集结号】小海高速卡口")
    for text in ("白班", "采样", "12月9日–12月14日"):
        assert text in message
    plain = str(form_fields(prefilled(client, pool, "", lang="zh-CN"))["message"])
    assert plain.startswith("【集结号】十二月第一期")


@pytest.mark.parametrize(
    "query",
    [
        "?role=abc&shift=xyz&from=2026-13-40&to=bad",
        "?role=999999&shift=night",
        "?role=-1&shift=day&from=2030-01-01&to=2020-01-01",
        "?role=99999999999999999999&from=2026-12-09",
        "?shift=%00&lang=fr",
    ],
)
def test_invalid_prefill_is_ignored(any_db_app: Flask, pool: Pool, query: str) -> None:
    client = staff_client(any_db_app, pool)
    fields = form_fields(prefilled(client, pool, query))
    assert fields["message"]
    if "shift=day" in query or "shift=night" in query:
        # A valid shift keeps its gap; dates outside the period fall back to the period's.
        assert fields["gap_first"] == "2026-12-07"
        assert fields["gap_last"] == "2026-12-20"
        assert fields["gap_role_id"] == ""
    else:
        assert "gap" not in fields


def test_preview_shows_count_names_phones_and_sms_per_person(any_db_app: Flask, pool: Pool) -> None:
    client = staff_client(any_db_app, pool)
    fields = form_fields(prefilled(client, pool))
    fields["district_ids"] = [str(pool.chongchuan.id)]
    fields["message"] = "a" * 161
    response = client.post(
        f"/coordinator/periods/{pool.period.id}/callups/new", data={**fields, "action": "preview"}
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200, re.findall(r"field-error[^<]*<", page)
    assert "<strong>2 people</strong>" in page
    assert "2 SMS parts per person" in page
    phone = pool.people["张"].phone
    # In full: a coordinator sees their scope's numbers (tests/test_message_preview_phones.py).
    assert f"张一 · {phone[3:]}" in page
    assert "Send to 2 people" in page
    assert db.session.scalar(select(func.count()).select_from(CallUp)) == 0


def snapshot() -> dict[str, list[str]]:
    db.session.rollback()
    return {
        table.name: sorted(repr(tuple(row)) for row in db.session.execute(select(table)))
        for table in db.metadata.sorted_tables
    }


def test_a_call_up_to_nobody_is_refused_and_writes_nothing(any_db_app: Flask, pool: Pool) -> None:
    client = staff_client(any_db_app, pool)
    fields = form_fields(prefilled(client, pool))
    fields["district_ids"] = [str(pool.tongzhou.id)]
    fields["trained"] = "yes"
    before = snapshot()
    response = client.post(
        f"/coordinator/periods/{pool.period.id}/callups/new", data={**fields, "action": "send"}
    )
    assert response.status_code == 422
    assert "Nobody matches these filters, so nothing was sent." in response.get_data(as_text=True)
    assert snapshot() == before


def test_send_writes_one_notification_per_recipient_and_nothing_else(
    any_db_app: Flask, pool: Pool
) -> None:
    client = staff_client(any_db_app, pool)
    fields = form_fields(prefilled(client, pool))
    fields["no_availability"] = ["y"]
    before = snapshot()
    response = client.post(
        f"/coordinator/periods/{pool.period.id}/callups/new", data={**fields, "action": "send"}
    )
    assert response.status_code == 302
    after = snapshot()
    changed = {name for name in after if after[name] != before[name]}
    # ... and its audit row (services.audit: the call-up, its period and head count).
    assert changed == {"callups", "callup_recipients", "notifications", "audit_entries"}
    callup = db.session.scalars(select(CallUp)).one()
    assert response.headers["Location"].endswith(f"/coordinator/callups/{callup.id}")
    assert callup.token == fields["token"]
    assert callup.audience["no_availability"] is True
    assert callup.created_by_id == pool.coordinator.id
    notes = db.session.scalars(select(Notification)).all()
    assert {n.user_id for n in notes} == pool.ids("王", "赵")
    assert len(notes) == 2
    assert all(n.kind == "callup" and n.payload == {"callup_id": callup.id} for n in notes)
    recipients = db.session.scalars(select(CallUpRecipient)).all()
    assert {(r.user_id, r.notification_id) for r in recipients} == {
        (n.user_id, n.id) for n in notes
    }
    # The same form again (a double click) sends nothing more.
    again = client.post(
        f"/coordinator/periods/{pool.period.id}/callups/new", data={**fields, "action": "send"}
    )
    assert again.status_code == 422
    assert "This call-up has already been sent." in again.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Notification)) == 2


def send_one(pool: Pool, audience: Audience | None = None, message: str | None = None) -> CallUp:
    token = callups.new_token()
    return callups.send(
        pool.period,
        audience or Audience(no_availability=True),
        message or f"集结号：请报名 https://muster.example/c/{token}",
        locale="zh_Hans",
        token=token,
        by=pool.coordinator,
    )


def test_service_refusals_write_nothing(pool: Pool) -> None:
    with pytest.raises(CallUpError):
        send_one(pool, message="   ")
    with pytest.raises(CallUpError):
        send_one(pool, message="x" * 501)
    with pytest.raises(CallUpError):
        callups.send(pool.period, Audience(), "hi", locale="en", token="short", by=pool.coordinator)
    assert db.session.scalar(select(func.count()).select_from(CallUp)) == 0
    assert db.session.scalar(select(func.count()).select_from(Notification)) == 0


def test_delivery_sends_the_coordinators_text(pool: Pool) -> None:
    callup = send_one(pool)
    note = db.session.scalars(select(Notification)).first()
    assert note is not None
    with force_locale("en"):
        subject, body = delivery.render_message(note, {}, {})
    assert body == callup.message
    assert subject == "Call-up: 十二月第一期"
    report = delivery.deliver_pending(LogSender())
    assert report.sent == 2
    funnel = callups.funnel(callup)
    assert (funnel.sent, funnel.delivered) == (2, 2)


# The public page and the funnel ---------------------------------------------------------------


def test_public_page_explains_the_call_and_writes_nothing(any_db_app: Flask, pool: Pool) -> None:
    callup = send_one(pool)
    client = any_db_app.test_client()
    before = snapshot()
    zh = client.get(f"/c/{callup.token}", headers={"Accept-Language": "zh-CN"})
    assert zh.status_code == 200
    page = zh.get_data(as_text=True)
    for text in ("十二月第一期", "小海高速卡口", "测试路1号", "采样", "点位长", "注册", "登录"):
        assert text in page, text
    assert "协助采样" in page  # what a sampler does
    en = client.get(f"/c/{callup.token}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    for text in ("Sampler", "Register as a volunteer", "Medical qualification"):
        assert text in en
    assert f'hx-post="/c/{callup.token}/opened"' in en
    assert snapshot() == before
    assert client.get("/c/no-such-call-up-token-at-all-000").status_code == 404
    assert client.get("/c/short").status_code == 404
    assert client.post("/c/no-such-call-up-token-at-all-000/opened").status_code == 404


def events(callup: CallUp, kind: str) -> list[CallUpEvent]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(CallUpEvent).where(CallUpEvent.callup_id == callup.id, CallUpEvent.kind == kind)
        )
    )


def test_opened_once_per_browser(any_db_app: Flask, pool: Pool) -> None:
    callup = send_one(pool)
    first, second = any_db_app.test_client(), any_db_app.test_client()
    first.get(f"/c/{callup.token}")
    assert first.post(f"/c/{callup.token}/opened").status_code == 204
    assert first.post(f"/c/{callup.token}/opened").status_code == 204
    # Once opened, the page no longer asks to count it.
    assert "/opened" not in first.get(f"/c/{callup.token}").get_data(as_text=True)
    second.post(f"/c/{callup.token}/opened")
    assert len(events(callup, OPENED)) == 2
    assert callups.funnel(callup).opened == 2


def test_register_through_the_page_then_enter_availability(any_db_app: Flask, pool: Pool) -> None:
    callup = send_one(pool)
    client = any_db_app.test_client()
    client.get(f"/c/{callup.token}")
    response = client.post(
        "/register",
        data={
            "name": "新来的",
            "phone": "13912340001",
            "password": PASSWORD,
            "work_unit": "南通供电公司",
            "district": "0",
            "consent": "y",
        },
    )
    assert response.status_code == 302
    (joined,) = events(callup, REGISTERED)
    newcomer = db.session.scalars(select(User).where(User.phone == "+8613912340001")).one()
    assert joined.user_id == newcomer.id
    assert not joined.had_availability
    assert callups.funnel(callup).availability == 0
    # Their first tap on the availability grid.
    tap = client.post("/me/availability/cell", data={"cell": "2026-12-09 08"})
    assert tap.status_code in (200, 302)
    # A recipient enters availability too; one who had some already never counts.
    offer_days(pool.people["王"], FIRST, FIRST)
    offer_days(pool.people["李"], LAST, LAST)
    db.session.commit()
    funnel = callups.funnel(callup)
    assert (funnel.registered, funnel.logged_in, funnel.joined) == (1, 0, 1)
    assert funnel.availability == 2


def test_log_in_through_the_page_is_counted_once(any_db_app: Flask, pool: Pool) -> None:
    callup = send_one(pool)
    client = any_db_app.test_client()
    client.get(f"/c/{callup.token}")
    login(client, pool.people["王"])
    client.post("/logout")
    client.get(f"/c/{callup.token}")
    login(client, pool.people["王"])
    (joined,) = events(callup, LOGGED_IN)
    assert joined.user_id == pool.people["王"].id
    assert events(callup, REGISTERED) == []
    # Logging in without coming through the page, or as staff, records nothing.
    other = any_db_app.test_client()
    login(other, pool.people["李"])
    staff = any_db_app.test_client()
    staff.get(f"/c/{callup.token}")
    login(staff, pool.coordinator)
    assert len(events(callup, LOGGED_IN)) == 1


def test_the_call_ups_page_shows_its_funnel(any_db_app: Flask, pool: Pool) -> None:
    callup = send_one(pool)
    delivery.deliver_pending(LogSender())
    visitor = any_db_app.test_client()
    visitor.get(f"/c/{callup.token}")
    visitor.post(f"/c/{callup.token}/opened")
    client = staff_client(any_db_app, pool)
    page = client.get(
        f"/coordinator/callups/{callup.id}", headers={"Accept-Language": "en"}
    ).get_data(as_text=True)
    rows = dict(re.findall(r'<th scope="row">([^<]+)</th><td class="num">(\d+)', page))
    assert rows["Sent"] == "2"
    assert rows["Delivered"] == "2"
    assert rows["Opened the link"] == "1"
    assert rows["Registered or logged in through it"] == "0"
    assert rows["Entered availability for the period afterwards"] == "0"
    assert "no availability for this period yet" in page
    assert f"http://localhost/c/{callup.token}" in page
    listing = client.get(
        f"/coordinator/periods/{pool.period.id}/callups", headers={"Accept-Language": "zh-CN"}
    ).get_data(as_text=True)
    assert f"/coordinator/callups/{callup.id}" in listing
    assert "发集结号" in listing


def test_public_page_of_a_closed_period_says_so(any_db_app: Flask, pool: Pool) -> None:
    callup = send_one(pool)
    pool.period.is_open = False
    db.session.commit()
    page = (
        any_db_app.test_client()
        .get(f"/c/{callup.token}", headers={"Accept-Language": "zh-CN"})
        .get_data(as_text=True)
    )
    assert "本期已不再收集可服务时间" in page


def test_the_same_call_up_sent_twice_at_once_goes_out_once(any_db_app: Flask, pool: Pool) -> None:
    """A double click (or two tabs) posting the same form at the same moment: the public
    token is unique, so one send wins and the other is told, never a 500 or a second SMS."""
    client = staff_client(any_db_app, pool)
    fields = form_fields(prefilled(client, pool))
    fields["no_availability"] = ["y"]
    barrier = threading.Barrier(2)
    results: list[int | BaseException] = [RuntimeError("no result")] * 2

    def worker(index: int) -> None:
        try:
            own = staff_client(any_db_app, pool)
            barrier.wait(timeout=10)
            response = own.post(
                f"/coordinator/periods/{pool.period.id}/callups/new",
                data={**fields, "action": "send"},
            )
            results[index] = response.status_code
        except BaseException as error:  # reported in the test's thread
            results[index] = error

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(r if isinstance(r, int) else -1 for r in results) == [302, 422], results
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(CallUp)) == 1
    assert db.session.scalar(select(func.count()).select_from(Notification)) == 2
    assert db.session.scalar(select(func.count()).select_from(CallUpRecipient)) == 2
