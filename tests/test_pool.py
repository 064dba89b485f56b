"""The volunteer pool: search by name, partial phone and work unit; filters; pinyin sort in both
languages; pagination; the htmx fragment and the plain GET page."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.security import generate_password_hash

from scheduler.extensions import db
from scheduler.models import (
    Availability,
    District,
    PlanningPeriod,
    Skill,
    User,
    Volunteer,
    VolunteerSkill,
    WorkUnit,
)
from scheduler.models.accounts import name_sort_key
from scheduler.services.pool import PoolQuery, search_pool

HX = {"HX-Request": "true"}
# Pool volunteers never log in; one hash for all keeps the tests fast (scrypt is slow on purpose).
_HASH = generate_password_hash("not-used-in-these-tests")


def add_volunteer(name: str, phone: str, **fields: Any) -> Volunteer:
    """A volunteer written directly (no password hashing): for tests that need many."""
    user = User(name=name, phone=phone, password_hash=_HASH, role="volunteer")
    user.volunteer = Volunteer(**fields)
    db.session.add(user)
    db.session.commit()
    return user.volunteer


@pytest.fixture
def staff(login_as: Callable[..., FlaskClient], coordinator: User) -> FlaskClient:
    return login_as(coordinator)


def names(html: str) -> list[str]:
    return re.findall(r'class="pool-name">([^<]+)</a>', html)


@pytest.fixture
def pool_world(app: Flask, make_period: Callable[..., PlanningPeriod]) -> dict[str, Any]:
    haian = District(name="海安市")
    rudong = District(name="如东县")
    grid = WorkUnit(name="国网南通供电公司")
    school = WorkUnit(name="南通大学")
    db.session.add_all([haian, rudong, grid, school])
    db.session.commit()
    medical = db.session.scalar(select(Skill).where(Skill.code == "medical"))
    zhang = add_volunteer("张伟", "+8613812345678", work_unit=grid, district=haian)
    add_volunteer("安娜", "+8613900001111", work_unit=school, district=rudong)
    bai = add_volunteer("白雪", "+8613700002222", work_unit=grid)
    chen = add_volunteer(
        "陈静", "+8613600003333", district=haian, trained_at=datetime(2026, 1, 5, tzinfo=UTC)
    )
    chen.skills.append(VolunteerSkill(skill=medical))
    period = make_period(start=date(2026, 12, 7), end=date(2026, 12, 13))
    make_period(start=date(2027, 1, 4), end=date(2027, 1, 10), is_open=False, name="旧")
    db.session.add_all(
        [
            Availability(volunteer_id=bai.id, day=date(2026, 12, 8), start_hour=0),
            Availability(volunteer_id=chen.id, day=date(2026, 12, 9), start_hour=8),
            # only in a closed period: does not count as available
            Availability(volunteer_id=zhang.id, day=date(2027, 1, 5), start_hour=8),
        ]
    )
    db.session.commit()
    return {"haian": haian, "grid": grid, "medical": medical, "period": period}


def test_sort_key_is_pinyin() -> None:
    assert name_sort_key("张伟") == "zhang wei"
    assert name_sort_key("吕 Li") == "lv li"
    assert sorted(["张三", "陈四", "白五", "安六"], key=name_sort_key) == [
        "安六",
        "白五",
        "陈四",
        "张三",
    ]


def test_name_pinyin_follows_every_rename(app: Flask) -> None:
    volunteer = add_volunteer("张伟", "+8613812345678")
    assert volunteer.user.name_pinyin == "zhang wei"
    volunteer.user.name = "安娜"
    db.session.commit()
    stored = db.session.scalar(select(User.name_pinyin).where(User.id == volunteer.user_id))
    assert stored == "an na"


@pytest.mark.parametrize("lang", ["zh_Hans", "en"])
def test_pinyin_sort_order_in_both_languages(
    staff: FlaskClient, pool_world: dict, lang: str
) -> None:
    with staff.session_transaction() as session:
        session["lang"] = lang
    html = staff.get("/coordinator/volunteers").get_data(as_text=True)
    assert names(html) == ["安娜", "白雪", "陈静", "张伟"]


def test_search_by_name(staff: FlaskClient, pool_world: dict) -> None:
    assert names(staff.get("/coordinator/volunteers?q=白").get_data(as_text=True)) == ["白雪"]
    assert names(staff.get("/coordinator/volunteers?q=张伟").get_data(as_text=True)) == ["张伟"]


@pytest.mark.parametrize("query", ["5678", "138123", "138 1234", "+86138"])
def test_search_by_partial_phone(staff: FlaskClient, pool_world: dict, query: str) -> None:
    html = staff.get("/coordinator/volunteers", query_string={"q": query}).get_data(as_text=True)
    assert names(html) == ["张伟"]
    assert "13812345678" in html  # full number for coordinators


def test_search_by_work_unit(staff: FlaskClient, pool_world: dict) -> None:
    html = staff.get("/coordinator/volunteers", query_string={"q": "供电"}).get_data(as_text=True)
    assert names(html) == ["白雪", "张伟"]


def test_search_escapes_like_wildcards(staff: FlaskClient, pool_world: dict) -> None:
    assert names(staff.get("/coordinator/volunteers?q=%25").get_data(as_text=True)) == []
    assert names(staff.get("/coordinator/volunteers?q=_").get_data(as_text=True)) == []


def test_filters(staff: FlaskClient, pool_world: dict) -> None:
    def found(**args: Any) -> list[str]:
        html = staff.get("/coordinator/volunteers", query_string=args).get_data(as_text=True)
        return names(html)

    assert found(skill=pool_world["medical"].id) == ["陈静"]
    assert found(district=pool_world["haian"].id) == ["陈静", "张伟"]
    assert found(trained="yes") == ["陈静"]
    assert found(trained="no") == ["安娜", "白雪", "张伟"]
    assert found(avail="open") == ["白雪", "陈静"]
    assert found(avail="slot", day="2026-12-08", shift="night") == ["白雪"]
    assert found(avail="slot", day="2026-12-08", shift="day") == []
    assert found(q="供电", district=pool_world["haian"].id) == ["张伟"]


def test_bad_filter_values_are_ignored_not_500(staff: FlaskClient, pool_world: dict) -> None:
    response = staff.get(
        "/coordinator/volunteers",
        query_string={
            "skill": "abc",
            "trained": "perhaps",
            "day": "2026-13-40",
            "page": "-3",
            "sort": "phone",
            "avail": "slot",
            "q": "x" * 500,
        },
    )
    assert response.status_code == 200
    response = staff.get("/coordinator/volunteers?avail=slot")
    assert "Choose a date and a shift." in response.get_data(as_text=True)
    assert names(response.get_data(as_text=True)) == ["安娜", "白雪", "陈静", "张伟"]


def test_sort_by_work_unit_and_district_in_pinyin(staff: FlaskClient, pool_world: dict) -> None:
    # 国网南通供电公司 (guo) < 南通大学 (nan); within a unit by name; none last
    html = staff.get("/coordinator/volunteers?sort=work_unit").get_data(as_text=True)
    assert names(html) == ["白雪", "张伟", "安娜", "陈静"]
    # 海安市 (hai) < 如东县 (ru)
    html = staff.get("/coordinator/volunteers?sort=district").get_data(as_text=True)
    assert names(html) == ["陈静", "张伟", "安娜", "白雪"]


def test_sort_by_work_unit_pages(app: Flask) -> None:
    units = [WorkUnit(name=n) for n in ("张家港", "安徽", "北京")]
    db.session.add_all(units)
    db.session.commit()
    for index, unit in enumerate(units * 2):
        add_volunteer(f"志愿者{index}", f"+86135{index:08d}", work_unit=unit)
    query = PoolQuery(sort="work_unit", page=2)
    page = search_pool(query, per_page=4)
    assert [v.work_unit.name for v in page.volunteers] == ["张家港", "张家港"]
    assert page.total == 6


def test_pagination(app: Flask, staff: FlaskClient) -> None:
    app.config["POOL_PAGE_SIZE"] = 4
    surnames = "安白陈邓樊高黄江孔李"  # already in pinyin order
    for index, surname in enumerate(surnames):
        add_volunteer(f"{surname}明", f"+86137{index:08d}")
    first = staff.get("/coordinator/volunteers").get_data(as_text=True)
    assert names(first) == ["安明", "白明", "陈明", "邓明"]
    assert "1–4 of 10 volunteers" in first
    assert "Page 1 of 3" in first
    third = staff.get("/coordinator/volunteers?page=3").get_data(as_text=True)
    assert names(third) == ["孔明", "李明"]
    # a page past the end shows the last one
    assert names(staff.get("/coordinator/volunteers?page=99").get_data(as_text=True)) == [
        "孔明",
        "李明",
    ]
    # page links keep the filters
    filtered = staff.get("/coordinator/volunteers?q=明&sort=name").get_data(as_text=True)
    assert 'href="/coordinator/volunteers?q=%E6%98%8E&amp;sort=name&amp;page=2"' in filtered


def test_search_service_pages_in_sql(app: Flask) -> None:
    for index, name in enumerate(["张三", "陈四", "白五", "安六", "李七"]):
        add_volunteer(name, f"+86136{index:08d}")
    page = search_pool(PoolQuery(page=2), per_page=2)
    assert (page.total, page.pages, page.page) == (5, 3, 2)
    assert [v.user.name for v in page.volunteers] == ["陈四", "李七"]


def test_htmx_gets_results_fragment_and_plain_get_the_page(
    staff: FlaskClient, pool_world: dict
) -> None:
    fragment = staff.get("/coordinator/volunteers?q=白", headers=HX)
    body = fragment.get_data(as_text=True)
    assert body.lstrip().startswith('<section id="pool-results"')
    assert "<html" not in body
    assert names(body) == ["白雪"]
    assert "HX-Request" in fragment.headers.get("Vary", "")
    page = staff.get("/coordinator/volunteers?q=白").get_data(as_text=True)
    assert "<html" in page
    assert 'hx-get="/coordinator/volunteers"' in page
    assert 'hx-push-url="true"' in page
    assert names(page) == ["白雪"]
    restore = staff.get(
        "/coordinator/volunteers?q=白", headers={**HX, "HX-History-Restore-Request": "true"}
    )
    assert "<html" in restore.get_data(as_text=True)


def test_deactivated_accounts_are_not_in_the_pool(staff: FlaskClient, pool_world: dict) -> None:
    user = db.session.scalar(select(User).where(User.name == "安娜"))
    user.active = False
    db.session.commit()
    html = staff.get("/coordinator/volunteers").get_data(as_text=True)
    assert "安娜" not in names(html)


def test_script_in_name_is_escaped(staff: FlaskClient, app: Flask) -> None:
    add_volunteer("<script>x()</script>", "+8613512340000")
    html = staff.get("/coordinator/volunteers").get_data(as_text=True)
    assert "<script>x()</script>" not in html
    assert "&lt;script&gt;x()&lt;/script&gt;" in html
