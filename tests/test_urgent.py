"""Urgent requests (紧急求助): a coordinator or the site's lead asks for extra hands; the span
becomes extra posts on the shifts it overlaps; proposals put free, qualified, rested people
from the site's district first; the repair path fills it and publishing makes it a new version;
the request says open, partly filled or filled. Bad input writes nothing."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from scheduler.extensions import db
from scheduler.models import (
    Assignment,
    Availability,
    District,
    Notification,
    PlanningPeriod,
    Role,
    Site,
    UnfilledPost,
    UrgentRequest,
    User,
)
from scheduler.models.base import utcnow
from scheduler.planning import build_problem, shift_id
from scheduler.services import delivery, lookups, repair, urgent
from scheduler.services.demand import covered_posts, demand_of, urgent_extra
from scheduler.services.urgent import UrgentError
from tests.fixtures.auth import login
from tests.fixtures.rosters import make_roster

MON, TUE = date(2026, 12, 7), date(2026, 12, 8)


def role(code: str) -> Role:
    found = db.session.scalar(select(Role).where(Role.code == code))
    assert found is not None
    return found


def request_count() -> int:
    return db.session.scalar(select(func.count(UrgentRequest.id))) or 0


@dataclass
class World:
    period: PlanningPeriod
    site: Site
    people: list[User]
    lead: User
    coordinator: User


@pytest.fixture
def sync_app(app_factory: Callable[..., Flask]) -> Iterator[Flask]:
    app = app_factory(JOBS_SYNCHRONOUS=True, JOBS_SOLVER_WORKERS=1, REPAIR_TIME_LIMIT=5)
    with app.app_context():
        yield app


@pytest.fixture
def world(
    sync_app: Flask,
    make_site: Callable[..., Site],
    make_volunteer: Callable[..., User],
    make_user: Callable[..., User],
    make_period: Callable[..., PlanningPeriod],
    coordinator: User,
) -> World:
    """A checkpoint in 崇川区 running day shifts (08–16 local), one code checker each; five
    trained volunteers available on Monday's day shift, two of them from 崇川区; a site lead
    (account role site_lead) who leads Monday's day shift in published version 1."""
    home, away = District(name="崇川区"), District(name="港闸区")
    db.session.add_all([home, away])
    db.session.commit()
    site = make_site(
        name="东卡口",
        demand={"code_checker": 1},
        runs_night=False,
        runs_evening=False,
        district_id=home.id,
    )
    period = make_period(start=MON, end=TUE, sites=[site])
    districts = [away.id, home.id, away.id, home.id, away.id]
    people = [
        make_volunteer(name=f"志愿者{n}", trained_at=utcnow(), district_id=d)
        for n, d in zip("甲乙丙丁戊", districts, strict=True)
    ]
    lead = make_user("site_lead", name="点位长", trained_at=utcnow(), district_id=home.id)
    for user in people:
        assert user.volunteer is not None
        db.session.add(Availability(volunteer_id=user.volunteer.id, day=MON, start_hour=8))
    db.session.commit()
    rows = [(site, MON, "day", "code_checker", people[0]), (site, MON, "day", "site_lead", lead)]
    make_roster(period, rows, version=1)
    make_roster(period, rows)  # the draft starts as a copy of version 1
    return World(period, site, people, lead, coordinator)


def client_for(app: Flask, user: User) -> FlaskClient:
    client = app.test_client()
    login(client, user)
    return client


def post(world: World, by: User | None = None, **changes: Any) -> UrgentRequest:
    fields: dict[str, Any] = {
        "site_id": world.site.id,
        "day": MON,
        "start": time(10),
        "end": time(14),
        "needs": {role("code_checker").id: 2},
        "note": "核酸采样排队太长",
        "by": by or world.coordinator,
    }
    fields.update(changes)
    return urgent.create_request(world.period, **fields)


# --- the span becomes posts -----------------------------------------------------------------


def test_a_span_covers_the_shifts_it_overlaps(world: World, make_site: Any) -> None:
    full = make_site(name="全天卡口")  # night 00–08, day 08–16, evening 16–24
    tue = MON + timedelta(days=1)
    assert covered_posts(full, MON, time(10), time(14)) == ((MON, "day"),)
    assert covered_posts(full, MON, time(14), time(18)) == ((MON, "day"), (MON, "evening"))
    assert covered_posts(full, MON, time(6), time(8)) == ((MON, "night"),)
    # Past midnight: the evening and the next date's night.
    assert covered_posts(full, MON, time(22), time(2)) == ((MON, "evening"), (tue, "night"))
    assert covered_posts(full, MON, time(0), time(2)) == ((MON, "night"),)
    assert covered_posts(world.site, MON, time(18), time(22)) == ()
    late = make_site(name="夜班卡口", first_shift_hour=23)  # night 23–07 of the next morning
    sunday = MON - timedelta(days=1)
    assert covered_posts(late, MON, time(1), time(3)) == ((sunday, "night"),)
    assert covered_posts(late, MON, time(23), time(1)) == ((MON, "night"),)


def test_open_requests_add_posts_to_the_problem_and_withdrawn_ones_do_not(world: World) -> None:
    request = post(world)
    code = role("code_checker")
    extra = urgent_extra(world.period.id)
    assert extra == {(world.site.id, MON, "day"): {code.id: 2}}
    assert demand_of(world.site, MON, "day", extra)[code.id] == 3
    problem, _ = build_problem(world.period)
    monday = next(s for s in problem.shifts if s.id == shift_id(world.site.id, MON, "day"))
    assert monday.demand("code_checker").min == 3  # type: ignore[union-attr]
    tuesday = next(s for s in problem.shifts if s.id == shift_id(world.site.id, TUE, "day"))
    assert tuesday.demand("code_checker").min == 1  # type: ignore[union-attr]
    urgent.withdraw(request)
    assert urgent_extra(world.period.id) == {}
    with pytest.raises(UrgentError):
        urgent.withdraw(request)


def test_posting_notifies_the_coordinators_but_not_the_poster(
    world: World, make_user: Callable[..., User]
) -> None:
    other = make_user("coordinator", name="协调员二")
    post(world, by=world.lead)
    told = set(
        db.session.scalars(
            select(Notification.user_id).where(Notification.kind == "urgent_request")
        )
    )
    assert told == {world.coordinator.id, other.id}
    db.session.query(Notification).delete()
    post(world)
    told = set(db.session.scalars(select(Notification.user_id)))
    assert told == {other.id}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"site_id": 9999}, "site_id"),
        ({"day": date(2026, 12, 9)}, "day"),  # outside the period
        ({"day": None}, "day"),
        ({"start": time(10), "end": time(10)}, "start_time"),
        ({"start": None}, "start_time"),
        ({"start": time(18), "end": time(22)}, "start_time"),  # the site runs no evening
        ({"needs": {}}, "needs"),
        ({"needs": {"code_checker": 0}}, "needs"),
        ({"needs": {"code_checker": 51}}, "needs"),
        ({"needs": {12345: 1}}, "needs"),
        ({"note": "长" * 501}, "note"),
    ],
)
def test_bad_requests_are_refused_and_write_nothing(
    world: World, changes: dict[str, Any], field: str
) -> None:
    needs = changes.get("needs")
    if needs and "code_checker" in needs:
        changes["needs"] = {role("code_checker").id: needs["code_checker"]}
    with pytest.raises(UrgentError) as refused:
        post(world, **changes)
    assert refused.value.field == field
    db.session.rollback()
    assert request_count() == 0
    assert db.session.scalar(select(func.count(Notification.id))) == 0


def test_a_span_already_over_is_refused(world: World) -> None:
    three_pm = datetime(2026, 12, 7, 7, tzinfo=UTC)  # 15:00 in Asia/Shanghai
    with pytest.raises(UrgentError) as refused:
        post(world, start=time(10), end=time(14), now=three_pm)
    assert refused.value.field == "day"
    assert post(world, start=time(14), end=time(16), now=three_pm).id


def test_a_site_lead_may_ask_only_for_the_site_they_lead(
    world: World, make_site: Callable[..., Site], make_user: Callable[..., User]
) -> None:
    other_site = make_site(name="西卡口", demand={"code_checker": 1})
    world.period.sites.append(other_site)
    db.session.commit()
    assert [s.id for s in urgent.postable_sites(world.period, world.lead)] == [world.site.id]
    assert len(urgent.postable_sites(world.period, world.coordinator)) == 2
    with pytest.raises(UrgentError):
        post(world, by=world.lead, site_id=other_site.id)
    stranger = make_user("site_lead", name="别处点位长", trained_at=utcnow())
    assert urgent.postable_sites(world.period, stranger) == []
    assert urgent.lead_periods(stranger) == []
    assert urgent.lead_periods(world.lead) == [world.period]


# --- status and proposals ---------------------------------------------------------------------


def test_status_counts_people_beyond_the_sites_own_head_count(world: World) -> None:
    first = post(world)  # asks for 2 on Monday's day shift, where 1 is the site's own need
    second = post(world, needs={role("code_checker").id: 1})
    assert urgent.status_of(first).status == urgent.OPEN
    rows = [(world.site, MON, "day", "code_checker", p) for p in world.people[:2]]
    make_roster(world.period, rows, version=2)  # one beyond the site's own head count
    partly = urgent.status_of(first)
    assert (partly.status, partly.filled, partly.wanted) == (urgent.PARTLY_FILLED, 1, 2)
    assert urgent.status_of(second).status == urgent.OPEN  # the older request is served first
    rows = [(world.site, MON, "day", "code_checker", p) for p in world.people[:4]]
    make_roster(world.period, rows, version=3)
    assert urgent.status_of(first).status == urgent.FILLED
    assert urgent.status_of(second).status == urgent.FILLED
    urgent.withdraw(second)
    assert urgent.status_of(second).status == urgent.WITHDRAWN
    assert [s.request.id for s in urgent.requests_of(world.period)] == [second.id, first.id]


def test_proposals_are_free_qualified_people_from_the_sites_district_first(world: World) -> None:
    request = post(world)
    (proposal,) = urgent.proposals(request)
    names = [c.volunteer.user.name for c in proposal.candidates]
    # 甲 is already on the shift; 乙 and 丁 are from the site's district.
    assert "志愿者甲" not in names
    assert set(names[:2]) == {"志愿者乙", "志愿者丁"}
    assert set(names[2:]) == {"志愿者丙", "志愿者戊"}
    assert all(c.fits for c in proposal.candidates)


# --- through the pages ------------------------------------------------------------------------


def test_coordinator_posts_fills_and_publishes_a_request(sync_app: Flask, world: World) -> None:
    staff = client_for(sync_app, world.coordinator)
    page = staff.get(f"/coordinator/periods/{world.period.id}/urgent")
    assert page.status_code == 200
    response = staff.post(
        f"/coordinator/periods/{world.period.id}/urgent",
        data={
            "site_id": world.site.id,
            "day": "2026-12-07",
            "start_time": "10:00",
            "end_time": "14:00",
            f"need_{role('code_checker').id}": "2",
            "note": "排队太长",
        },
    )
    assert response.status_code == 302
    request = db.session.scalar(select(UrgentRequest))
    assert request is not None
    detail = staff.get(f"/coordinator/urgent/{request.id}").get_data(as_text=True)
    assert "志愿者乙" in detail
    assert "排队太长" in detail
    filled = staff.post(f"/coordinator/urgent/{request.id}/fill", data={})
    assert filled.status_code == 302
    assert filled.headers["Location"].endswith(f"/periods/{world.period.id}/roster/repair")
    confirm = staff.get(filled.headers["Location"]).get_data(as_text=True)
    assert "志愿者" in confirm
    # This world's lead holds a post the site does not ask for (its demand has no lead), so the
    # repair takes them off: a change to someone already told, to tick before publishing.
    proposal = repair.proposal(world.period)
    assert proposal is not None
    assert [c.name for c in proposal.told] == ["点位长"]
    published = staff.post(
        f"/coordinator/periods/{world.period.id}/roster/repair/publish",
        data={"approve": [c.key for c in proposal.told]},
    )
    assert published.status_code == 302
    db.session.expire_all()
    v2 = lookups.latest_published(world.period.id)
    assert v2 is not None
    assert v2.version == 2
    monday = [a for a in v2.assignments if a.day == MON and a.role.code == "code_checker"]
    assert len(monday) == 3
    assert world.people[0].volunteer.id in {a.volunteer_id for a in monday}  # type: ignore[union-attr]
    assert urgent.status_of(request).status == urgent.FILLED
    listing = staff.get(f"/coordinator/periods/{world.period.id}/urgent").get_data(as_text=True)
    assert "filled" in listing


def test_the_form_shows_errors_and_writes_nothing(sync_app: Flask, world: World) -> None:
    staff = client_for(sync_app, world.coordinator)
    response = staff.post(
        f"/coordinator/periods/{world.period.id}/urgent",
        data={
            "site_id": world.site.id,
            "day": "2026-12-07",
            "start_time": "18:00",
            "end_time": "22:00",
            f"need_{role('code_checker').id}": "2",
        },
    )
    assert response.status_code == 422
    assert "runs no shift in that time span" in response.get_data(as_text=True)
    response = staff.post(
        f"/coordinator/periods/{world.period.id}/urgent",
        data={
            "site_id": world.site.id,
            "day": "not a date",
            "start_time": "25:00",
            "end_time": "",
            f"need_{role('code_checker').id}": "-1",
        },
    )
    assert response.status_code == 422
    assert request_count() == 0


def test_site_lead_posts_from_their_page_and_sees_the_status(sync_app: Flask, world: World) -> None:
    lead = client_for(sync_app, world.lead)
    page = lead.get("/me/urgent")
    assert page.status_code == 200
    assert "东卡口" in page.get_data(as_text=True)
    response = lead.post(
        f"/me/urgent?period={world.period.id}",
        data={
            "site_id": world.site.id,
            "day": "2026-12-07",
            "start_time": "09:00",
            "end_time": "11:00",
            f"need_{role('code_checker').id}": "1",
        },
    )
    assert response.status_code == 302
    mine = lead.get("/me/urgent").get_data(as_text=True)
    assert "09:00–11:00" in mine
    assert "open" in mine
    # The lead cannot fill or open coordinator pages.
    request = db.session.scalar(select(UrgentRequest))
    assert lead.get(f"/coordinator/urgent/{request.id}").status_code == 403  # type: ignore[union-attr]
    assert lead.post(f"/coordinator/urgent/{request.id}/fill").status_code == 403  # type: ignore[union-attr]


def test_a_volunteer_who_leads_nothing_cannot_post(sync_app: Flask, world: World) -> None:
    volunteer = client_for(sync_app, world.people[1])
    assert volunteer.get("/me/urgent").status_code == 403
    assert volunteer.post("/me/urgent", data={"site_id": world.site.id}).status_code == 403
    assert request_count() == 0


def test_urgent_posts_are_hand_editable(sync_app: Flask, world: World) -> None:
    """A role the site does not normally ask for becomes a post once a request asks for it:
    its candidates page opens and a hand assignment lands on it (404 before the request)."""
    staff = client_for(sync_app, world.coordinator)
    extra_role = role("registrar")
    post_url = (
        f"/coordinator/periods/{world.period.id}/roster/posts/{world.site.id}"
        f"/2026-12-07/day/{extra_role.id}"
    )
    assert staff.get(post_url).status_code == 404
    post(world, needs={extra_role.id: 1}, start=time(12), end=time(13))
    assert staff.get(post_url).status_code == 200
    helper = world.people[1].volunteer
    assert helper is not None
    assigned = staff.post(
        f"{post_url}/assign", data={"volunteer_id": helper.id, "confirm": "1", "note": "临时登记员"}
    )
    assert assigned.status_code in (200, 302)
    on_post = db.session.scalars(
        select(Assignment.volunteer_id).where(
            Assignment.day == MON, Assignment.role_id == extra_role.id
        )
    ).all()
    assert on_post == [helper.id]


def test_the_coordinators_message_names_the_site_day_and_span(world: World) -> None:
    post(world, by=world.lead)
    note = db.session.scalar(select(Notification).where(Notification.kind == "urgent_request"))
    assert note is not None
    subject, body = delivery.render_message(note, {world.site.id: world.site}, {})
    assert subject == "Urgent request: 东卡口 Dec 7 10:00–14:00"
    assert body.startswith("点位长 asks for 2 more people at 东卡口 Dec 7 10:00–14:00.")


def test_the_overview_lists_requests_waiting_to_be_filled(sync_app: Flask, world: World) -> None:
    request = post(world)
    staff = client_for(sync_app, world.coordinator)
    page = staff.get("/coordinator/").get_data(as_text=True)
    assert "Urgent requests waiting (1)" in page
    assert f"/coordinator/urgent/{request.id}" in page
    urgent.withdraw(request)
    assert "Urgent requests waiting" not in staff.get("/coordinator/").get_data(as_text=True)


def test_a_lead_whose_lead_shift_is_over_may_no_longer_ask(world: World) -> None:
    after_it = datetime(2026, 12, 7, 9, tzinfo=UTC)  # 17:00 local: Monday's day shift is over
    assert urgent.postable_sites(world.period, world.lead, after_it) == []
    assert urgent.lead_periods(world.lead, after_it) == []
    with pytest.raises(UrgentError):
        post(world, by=world.lead, now=after_it, start=time(18), end=time(20))


def test_a_span_past_the_periods_last_day_is_refused(world: World, make_site: Any) -> None:
    full = make_site(name="全天卡口")
    world.period.sites.append(full)
    db.session.commit()
    with pytest.raises(UrgentError) as refused:
        post(world, site_id=full.id, day=TUE, start=time(22), end=time(2))
    assert refused.value.field == "end_time"
    db.session.rollback()
    assert request_count() == 0


def test_the_drafts_unfilled_posts_follow_the_request_at_once(world: World) -> None:
    code = role("code_checker")

    def missing() -> list[tuple[date, str, int, int]]:
        rows = db.session.execute(
            select(UnfilledPost.day, UnfilledPost.shift, UnfilledPost.role_id, UnfilledPost.missing)
        )
        return sorted(tuple(r) for r in rows)  # type: ignore[misc]

    assert missing() == []
    request = post(world)  # two more code checkers on Monday's day shift
    assert missing() == [(MON, "day", code.id, 2)]
    urgent.withdraw(request)
    assert missing() == []


def test_admins_are_told_too(world: World, make_user: Callable[..., User]) -> None:
    admin = make_user("admin", name="管理员")
    post(world, by=world.lead)
    told = set(db.session.scalars(select(Notification.user_id)))
    assert admin.id in told


def test_a_lead_cannot_post_for_another_site_through_the_page(
    sync_app: Flask, world: World, make_site: Callable[..., Site]
) -> None:
    other_site = make_site(name="西卡口", demand={"code_checker": 1})
    world.period.sites.append(other_site)
    db.session.commit()
    lead = client_for(sync_app, world.lead)
    response = lead.post(
        f"/me/urgent?period={world.period.id}",
        data={"site_id": other_site.id, "day": "2026-12-07", "start_time": "09:00",
              "end_time": "11:00", f"need_{role('code_checker').id}": "1"},
    )  # fmt: skip
    assert response.status_code == 422
    assert request_count() == 0
