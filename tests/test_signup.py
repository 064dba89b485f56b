"""Self-sign-up: only posts the volunteer is qualified, available and rested for are offered;
claiming is first come, first served and atomic in the database (20 concurrent claims of the
last place: exactly one wins, on SQLite and PostgreSQL); withdrawing before publication."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

import solver
from scheduler.extensions import db
from scheduler.models import (
    Assignment,
    Availability,
    PlanningPeriod,
    Roster,
    Site,
    SolveRun,
    User,
)
from scheduler.models.base import utcnow
from scheduler.planning import build_problem, save_solution
from scheduler.services import signup
from scheduler.services.availability import default_start
from tests.fixtures.rosters import make_roster
from tests.test_my_shifts import MON, Clock, client_for, role_id

TUE, WED, THU = (MON + timedelta(days=n) for n in (1, 2, 3))


@pytest.fixture(autouse=True)
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(signup, "utcnow", clock)
    return clock


def volunteer(
    make_volunteer: Callable[..., User], cells: list[tuple[date, str]], **kw: Any
) -> User:
    user = make_volunteer(trained_at=utcnow(), **kw)
    for day, kind in cells:
        db.session.add(
            Availability(volunteer_id=user.volunteer.id, day=day, start_hour=default_start(kind))
        )
    db.session.commit()
    return user


def key(period: PlanningPeriod, site: Site, day: date, kind: str, code: str) -> str:
    return f"{period.id}:{site.id}:{day.isoformat()}:{kind}:{role_id(code)}"


def assignments(roster_status: str = "draft") -> list[tuple[int, date, str, int | None, str, bool]]:
    db.session.expire_all()
    return [
        (a.volunteer_id, a.day, a.shift, a.slot, a.source, a.pinned)
        for a in db.session.scalars(
            select(Assignment)
            .join(Roster, Roster.id == Assignment.roster_id)
            .where(Roster.status == roster_status)
            .order_by(Assignment.id)
        )
    ]


@pytest.fixture
def open_period(
    app: Flask,
    make_site: Callable[..., Site],
    make_period: Callable[..., PlanningPeriod],
) -> tuple[PlanningPeriod, Site]:
    site = make_site(name="小海高速卡口", demand={"site_lead": 1, "code_checker": 2})
    period = make_period(sites=[site])
    period.self_signup_open = True
    db.session.commit()
    return period, site


# --- which posts are offered ------------------------------------------------------------------


def test_only_eligible_posts_are_listed(
    app: Flask, open_period: tuple[PlanningPeriod, Site], make_volunteer: Callable[..., User]
) -> None:
    period, site = open_period
    other_site = Site(name="不在本期的点位", kind="testing", address="x")
    db.session.add(other_site)
    me = volunteer(
        make_volunteer,
        [(MON, "day"), (MON, "night"), (TUE, "day"), (THU, "day")],
        accepts_nights=False,
    )
    a, b = volunteer(make_volunteer, []), volunteer(make_volunteer, [])
    make_roster(
        period,
        [
            (site, TUE, "day", "code_checker", a),  # Tuesday's two places are taken
            (site, TUE, "day", "code_checker", b),
            (site, WED, "evening", "code_checker", me),  # ends 24:00: no Thursday day shift
        ],
    )
    posts = signup.open_posts(me.volunteer)
    assert [(p.site.id, p.day, p.kind, p.role.code, p.free) for p in posts] == [
        (site.id, MON, "day", "code_checker", 2)
    ]
    html = client_for(app, me).get("/me/signup").get_data(as_text=True)
    assert html.count("Take this post") == 1
    assert key(period, site, MON, "day", "code_checker") in html
    # Untrained: no post needs no training in the default catalogue.
    untrained = make_volunteer()
    db.session.add(Availability(volunteer_id=untrained.volunteer.id, day=MON, start_hour=8))
    db.session.commit()
    assert signup.open_posts(untrained.volunteer) == []


def test_closed_period_offers_nothing_and_listing_writes_nothing(
    app: Flask, open_period: tuple[PlanningPeriod, Site], make_volunteer: Callable[..., User]
) -> None:
    period, _site = open_period
    me = volunteer(make_volunteer, [(MON, "day")])
    client = client_for(app, me)
    assert "Take this post" in client.get("/me/signup").get_data(as_text=True)
    assert db.session.scalar(select(func.count(Roster.id))) == 0  # a GET creates no draft
    period.self_signup_open = False
    db.session.commit()
    html = client.get("/me/signup").get_data(as_text=True)
    assert "Self-sign-up is not open at the moment." in html
    assert "Take this post" not in html


# --- claiming ---------------------------------------------------------------------------------


def test_claim_creates_draft_from_published_and_pins_the_claim(
    app: Flask, open_period: tuple[PlanningPeriod, Site], make_volunteer: Callable[..., User]
) -> None:
    period, site = open_period
    me = volunteer(make_volunteer, [(MON, "day")])
    other = volunteer(make_volunteer, [])
    make_roster(period, [(site, TUE, "day", "code_checker", other)], version=1)
    response = client_for(app, me).post(
        "/me/signup/claim", data={"post": key(period, site, MON, "day", "code_checker")}
    )
    assert response.status_code == 303
    assert assignments() == [
        (other.volunteer.id, TUE, "day", 1, "solver", False),  # copied from version 1
        (me.volunteer.id, MON, "day", 1, "self_signup", True),
    ]
    assert len(assignments("published")) == 1  # the published version is untouched


def test_last_place_then_just_taken(
    app: Flask, open_period: tuple[PlanningPeriod, Site], make_volunteer: Callable[..., User]
) -> None:
    period, site = open_period
    people = [volunteer(make_volunteer, [(MON, "day")]) for _ in range(3)]
    post = key(period, site, MON, "day", "code_checker")
    for user in people[:2]:
        assert (
            client_for(app, user).post("/me/signup/claim", data={"post": post}).status_code == 303
        )
    late = client_for(app, people[2])
    late.post("/me/signup/claim", data={"post": post})
    assert "Sorry, this post was just taken." in late.get("/me/signup").get_data(as_text=True)
    assert [(v, slot) for v, _d, _k, slot, _s, _p in assignments()] == [
        (people[0].volunteer.id, 1),
        (people[1].volunteer.id, 2),
    ]


def test_a_claim_of_a_full_post_is_refused_before_the_rules_judge_it(
    app: Flask,
    open_period: tuple[PlanningPeriod, Site],
    make_volunteer: Callable[..., User],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Fifty claim the last place: the losers are told at the cost of a few lookups, without
    building the problem (issue 9, item 11: a claim <= 15 ms of server CPU)."""
    period, site = open_period
    people = [volunteer(make_volunteer, [(MON, "day")]) for _ in range(3)]
    post = key(period, site, MON, "day", "code_checker")
    for user in people[:2]:
        client_for(app, user).post("/me/signup/claim", data={"post": post})
    judged: list[object] = []
    real = signup.eligible_posts
    monkeypatch.setattr(signup, "eligible_posts", lambda *a, **k: judged.append(a) or real(*a, **k))
    with pytest.raises(signup.SignupError, match="just taken"):
        signup.claim(people[2].volunteer, post)
    assert judged == []
    assert len(assignments()) == 2


def test_no_claims_while_the_roster_is_being_regenerated(
    app: Flask, open_period: tuple[PlanningPeriod, Site], make_volunteer: Callable[..., User]
) -> None:
    """A run would not know of the claim and could give the same place to someone else."""
    period, site = open_period
    me = volunteer(make_volunteer, [(MON, "day")])
    run = SolveRun(period_id=period.id, time_limit=30, status="running", started_at=utcnow())
    db.session.add(run)
    db.session.commit()
    client = client_for(app, me)
    client.post("/me/signup/claim", data={"post": key(period, site, MON, "day", "code_checker")})
    assert "being regenerated" in client.get("/me/signup").get_data(as_text=True)
    assert assignments() == []
    run.status = "succeeded"
    db.session.commit()
    post = key(period, site, MON, "day", "code_checker")
    assert client.post("/me/signup/claim", data={"post": post}).status_code == 303
    assert len(assignments()) == 1


@pytest.mark.parametrize(
    "post",
    [
        "",
        "garbage",
        "1:2:3",
        "{period}:{site}:2026-12-07:day:999",
        "{period}:{site}:2026-13-07:day:1",
        "{period}:{site}:20261207:day:1",
        "{period}:99999999999999999999:2026-12-07:day:1",
    ],
)
def test_bad_or_ineligible_claims_write_nothing(
    app: Flask,
    open_period: tuple[PlanningPeriod, Site],
    make_volunteer: Callable[..., User],
    post: str,
) -> None:
    period, site = open_period
    me = volunteer(make_volunteer, [(MON, "day")])
    client = client_for(app, me)
    response = client.post(
        "/me/signup/claim", data={"post": post.format(period=period.id, site=site.id)}
    )
    assert response.status_code in (302, 303)
    assert assignments() == []


def test_ineligible_post_is_refused(
    app: Flask, open_period: tuple[PlanningPeriod, Site], make_volunteer: Callable[..., User]
) -> None:
    period, site = open_period
    me = volunteer(make_volunteer, [(MON, "day")])
    client = client_for(app, me)
    for post in (
        key(period, site, TUE, "day", "code_checker"),  # not available
        key(period, site, MON, "day", "site_lead"),  # not qualified
    ):
        client.post("/me/signup/claim", data={"post": post})
        assert "You cannot take this post" in client.get("/me/signup").get_data(as_text=True)
    period.self_signup_open = False
    db.session.commit()
    client.post("/me/signup/claim", data={"post": key(period, site, MON, "day", "code_checker")})
    assert "not open for self-sign-up" in client.get("/me/signup").get_data(as_text=True)
    assert assignments() == []


def claim_in_parallel(app: Flask, users: list[User], post: str) -> list[str]:
    """Each user claims `post` from their own thread and client, released by one barrier;
    returns the page each then sees."""
    barrier = threading.Barrier(len(users))
    results: list[Any] = [RuntimeError("no result")] * len(users)
    clients: list[FlaskClient] = [client_for(app, user) for user in users]

    def worker(index: int) -> None:
        try:
            client = clients[index]
            barrier.wait(timeout=20)
            response = client.post("/me/signup/claim", data={"post": post})
            assert response.status_code == 303, response.status_code
            results[index] = client.get("/me/signup").get_data(as_text=True)
        except BaseException as error:  # re-raised in the test's thread
            results[index] = error

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(users))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return results


def test_twenty_concurrent_claims_of_the_last_place(
    any_db_app: Flask,
    make_site: Callable[..., Site],
    make_period: Callable[..., PlanningPeriod],
    make_volunteer: Callable[..., User],
) -> None:
    site = make_site(name="并发点位", demand={"code_checker": 1})
    period = make_period(sites=[site])
    period.self_signup_open = True
    db.session.add(Roster(period_id=period.id, status="draft"))
    db.session.commit()
    users = [volunteer(make_volunteer, [(MON, "day")]) for _ in range(20)]
    pages = claim_in_parallel(any_db_app, users, key(period, site, MON, "day", "code_checker"))
    rows = assignments()
    assert len(rows) == 1
    assert rows[0][3] == 1  # slot 1
    winners = [p for p in pages if "Sorry, this post was just taken." not in p]
    assert len(winners) == 1
    assert "The post is yours." in winners[0]
    assert db.session.scalar(select(func.count(Roster.id))) == 1


# --- withdrawing ------------------------------------------------------------------------------


def test_withdraw_own_self_signup_before_publication(
    app: Flask, open_period: tuple[PlanningPeriod, Site], make_volunteer: Callable[..., User]
) -> None:
    period, site = open_period
    me = volunteer(make_volunteer, [(MON, "day"), (TUE, "day")])
    other = volunteer(make_volunteer, [(MON, "day")])
    client = client_for(app, me)
    for day in (MON, TUE):
        client.post(
            "/me/signup/claim", data={"post": key(period, site, day, "day", "code_checker")}
        )
    mon, tue = (
        db.session.scalar(
            select(Assignment.id).where(
                Assignment.day == day, Assignment.volunteer_id == me.volunteer.id
            )
        )
        for day in (MON, TUE)
    )
    assert client_for(app, other).post(f"/me/signup/{mon}/withdraw").status_code == 404
    assert len(assignments()) == 2
    response = client.post(f"/me/signup/{mon}/withdraw")
    assert response.status_code == 303
    assert [(d, s) for _v, d, _k, _slot, s, _p in assignments()] == [(TUE, "self_signup")]
    # Once a published version holds it, it is a shift to cancel, not to withdraw.
    make_roster(period, [(site, TUE, "day", "code_checker", me)], version=1)
    client.post(f"/me/signup/{tue}/withdraw")
    assert "already published" in client.get("/me/signup").get_data(as_text=True)
    assert len(assignments()) == 1


def test_withdraw_refuses_solver_rows(
    app: Flask, open_period: tuple[PlanningPeriod, Site], make_volunteer: Callable[..., User]
) -> None:
    period, site = open_period
    me = volunteer(make_volunteer, [])
    draft = make_roster(period, [(site, MON, "day", "code_checker", me)])
    row = db.session.scalar(select(Assignment.id).where(Assignment.roster_id == draft.id))
    assert client_for(app, me).post(f"/me/signup/{row}/withdraw").status_code == 404
    assert len(assignments()) == 1


# --- the solver keeps claims and numbers its places ------------------------------------------


def test_save_solution_numbers_places_around_pinned_claims(
    app: Flask,
    make_site: Callable[..., Site],
    make_period: Callable[..., PlanningPeriod],
    make_volunteer: Callable[..., User],
) -> None:
    site = make_site(
        name="编号点位", demand={"code_checker": 2}, runs_night=False, runs_evening=False
    )
    period = make_period(start=MON, end=MON, sites=[site])
    period.self_signup_open = True
    db.session.commit()
    people = [volunteer(make_volunteer, [(MON, "day")]) for _ in range(3)]
    signup.claim(people[0].volunteer, key(period, site, MON, "day", "code_checker"))
    problem, mapping = build_problem(period)
    run = SolveRun(period_id=period.id, time_limit=5, status="running")
    db.session.add(run)
    db.session.commit()
    save_solution(run, solver.solve(problem, time_limit=5, workers=1, seed=0), problem, mapping)
    db.session.commit()
    rows = assignments()
    assert len(rows) == 2
    assert (people[0].volunteer.id, 1, "self_signup", True) in [
        (v, s, src, p) for v, _d, _k, s, src, p in rows
    ]
    assert sorted(slot for *_x, slot, _s, _p in rows) == [1, 2]


# --- the coordinator's switch -----------------------------------------------------------------


def test_coordinator_opens_and_closes_self_signup(
    app: Flask,
    make_period: Callable[..., PlanningPeriod],
    coordinator: User,
    make_volunteer: Callable[..., User],
    make_user: Callable[..., User],
) -> None:
    period = make_period()
    url = f"/coordinator/periods/{period.id}/self-signup"
    staff = client_for(app, coordinator)
    assert "Self-sign-up" in staff.get("/coordinator/periods").get_data(as_text=True)
    assert staff.post(url, data={"open": "1"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(PlanningPeriod, period.id).self_signup_open is True
    assert staff.post(url, data={"open": "maybe"}).status_code == 400
    for role in ("volunteer", "site_lead"):
        assert client_for(app, make_user(role)).post(url, data={"open": "0"}).status_code == 403
    assert app.test_client().post(url, data={"open": "0"}).status_code == 302
    assert client_for(app, make_user("admin")).post(url, data={"open": "0"}).status_code == 302
    assert (
        staff.post(
            f"/coordinator/periods/{period.id + 99}/self-signup", data={"open": "1"}
        ).status_code
        == 404
    )
    db.session.expire_all()
    assert db.session.get(PlanningPeriod, period.id).self_signup_open is False


# --- access -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/me/signup"), ("POST", "/me/signup/claim"), ("POST", "/me/signup/1/withdraw")],
)
def test_access_per_role(
    app: Flask, make_user: Callable[..., User], method: str, path: str
) -> None:
    anonymous = app.test_client().open(path, method=method)
    assert anonymous.status_code == 302
    assert anonymous.headers["Location"].startswith("/login")
    for role in ("coordinator", "admin"):
        response = client_for(app, make_user(role)).open(path, method=method)
        assert (response.status_code, response.headers.get("Location")) == (302, "/coordinator/")
    response = client_for(app, make_user("site_lead")).open(path, method=method)
    assert (response.status_code, response.headers.get("Location")) == (302, "/me")
    for user in (make_user("volunteer"), make_user("site_lead", weekly_cap=3)):
        response = client_for(app, user).open(path, method=method)
        expected = {"GET": 200}.get(method, 404 if "withdraw" in path else 302)
        assert response.status_code in (expected, 303)
    assert db.session.scalar(select(func.count(Assignment.id))) == 0


def test_the_database_refuses_a_second_volunteer_in_the_same_place(
    any_db_app: Flask,
    make_site: Callable[..., Site],
    make_period: Callable[..., PlanningPeriod],
    make_volunteer: Callable[..., User],
) -> None:
    site = make_site(demand={"code_checker": 2})
    period = make_period(sites=[site])
    draft = Roster(period_id=period.id, status="draft")
    db.session.add(draft)
    db.session.commit()
    first, second = make_volunteer(), make_volunteer()
    place = {"roster_id": draft.id, "site_id": site.id, "day": MON, "shift": "day"}
    place["role_id"] = role_id("code_checker")
    db.session.add(Assignment(**place, volunteer_id=first.volunteer.id, slot=1))
    db.session.commit()
    db.session.add(Assignment(**place, volunteer_id=second.volunteer.id, slot=1))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
    db.session.add(Assignment(**place, volunteer_id=second.volunteer.id, slot=0))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
    assert db.session.scalar(select(func.count(Assignment.id))) == 1


def test_a_lost_race_retries_the_next_place(
    app: Flask,
    open_period: tuple[PlanningPeriod, Site],
    make_volunteer: Callable[..., User],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Made deterministic: another claim takes place 1 between our read and our insert."""
    period, site = open_period
    me, rival = (volunteer(make_volunteer, [(MON, "day")]) for _ in range(2))
    real_ensure = signup.ensure_draft

    def ensure_then_rival_commits(p: PlanningPeriod) -> Roster:
        draft = real_ensure(p)
        rival_row = Assignment(
            roster_id=draft.id,
            site_id=site.id,
            day=MON,
            shift="day",
            role_id=role_id("code_checker"),
            volunteer_id=rival.volunteer.id,
            slot=1,
            pinned=True,
            source="self_signup",
        )
        # Our first read must still see place 1 free: hide the rival's row from it once.
        real_scalars = db.session.scalars
        calls = {"n": 0}

        def stale_scalars(statement: Any, *args: Any, **kwargs: Any) -> Any:
            calls["n"] += 1
            result = real_scalars(statement, *args, **kwargs)
            if calls["n"] == 1:  # the rival commits on its own connection meanwhile
                with Session(db.engine) as rival_session:
                    rival_session.add(rival_row)
                    rival_session.commit()
                return iter([])
            return result

        monkeypatch.setattr(db.session, "scalars", stale_scalars)
        return draft

    monkeypatch.setattr(signup, "ensure_draft", ensure_then_rival_commits)
    signup.claim(me.volunteer, key(period, site, MON, "day", "code_checker"))
    monkeypatch.undo()
    rows = sorted((slot, v) for v, _d, _k, slot, _s, _p in assignments())
    assert rows == [(1, rival.volunteer.id), (2, me.volunteer.id)]


def test_posts_are_shown_one_day_at_a_time(
    app: Flask, open_period: tuple[PlanningPeriod, Site], make_volunteer: Callable[..., User]
) -> None:
    period, site = open_period
    me = volunteer(make_volunteer, [(MON, "day"), (WED, "day")])
    client = client_for(app, me)
    first = client.get("/me/signup").get_data(as_text=True)
    assert key(period, site, MON, "day", "code_checker") in first
    assert key(period, site, WED, "day", "code_checker") not in first
    assert "Wed, Dec 9 (1)" in first
    wed = client.get("/me/signup", query_string={"day": WED.isoformat()}).get_data(as_text=True)
    assert key(period, site, WED, "day", "code_checker") in wed
    assert key(period, site, MON, "day", "code_checker") not in wed
    bad = client.get("/me/signup", query_string={"day": "not-a-day"})
    assert bad.status_code == 200
    assert key(period, site, MON, "day", "code_checker") in bad.get_data(as_text=True)
