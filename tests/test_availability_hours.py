"""Availability is the hours a volunteer offered (issue 10, item 4): a volunteer is only placed
in, offered, counted for or proposed for a shift whose real hours lie inside the spans they
tapped. Testing sites that run 07:00–15:00 and 15:00–23:00 (first shift hour 23) next to
checkpoints on 00/08/16 are the case that went wrong: 白班 08:00–16:00 was matched to 07:00–15:00.
Also: the grid shows the sites' real spans, the tap path's SQL statement count, and the data
migration of existing cells."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import downgrade, upgrade
from sqlalchemy import event, select, text, update

import solver
from scheduler.extensions import db
from scheduler.models import Availability, PlanningPeriod, Site, User
from scheduler.models.base import utcnow
from scheduler.planning import build_problem, person_id, shift_id
from scheduler.services import availability as avail
from scheduler.services import editing, signup
from scheduler.services.dashboard import heat_map
from tests.fixtures.app import build_app
from tests.fixtures.auth import login
from tests.test_migrations import empty_database_url  # noqa: F401 (a fixture)
from tests.test_urgent import sync_app  # noqa: F401 (a fixture)
from tests.test_urgent import world as urgent_world  # noqa: F401 (a fixture)

MON = date(2026, 12, 7)
TUE = MON + timedelta(days=1)
HTMX = {"HX-Request": "true", "Accept-Language": "en"}


# --- the rule itself --------------------------------------------------------------------------


def test_offer_covers_a_shift_only_inside_the_hours_offered() -> None:
    day_only = avail.Offer([(MON, 8)])  # 08:00–16:00
    assert day_only.covers(MON, 8)
    assert not day_only.covers(MON, 7)  # 07:00–15:00 starts an hour early
    assert not day_only.covers(MON, 9)  # 09:00–17:00 ends an hour late
    # The union of spans counts: 00–08 and 08–16 are the hours 00–16.
    joined = avail.Offer([(MON, 0), (MON, 8)])
    assert joined.covers(MON, 7)
    assert joined.covers(MON, 3)
    assert not joined.covers(MON, 15)
    # Across midnight: 16–24 on Monday and 00–08 on Tuesday hold a 23:00 night shift.
    night = avail.Offer([(MON, 16), (TUE, 0)])
    assert night.covers(MON, 23)
    assert not avail.Offer([(MON, 16)]).covers(MON, 23)
    assert avail.Offer([(MON, 23)]).covers(MON, 23)
    assert not avail.Offer([]).covers(MON, 8)
    starts = sorted(avail.span_index(MON, h) for h in (0, 7, 8, 15, 16, 23))
    assert list(joined.covered(starts)) == [avail.span_index(MON, h) for h in (0, 7, 8)]


@pytest.mark.parametrize(
    ("hour", "kind", "hours"),
    [
        (0, "night", "00:00–08:00"),
        (7, "day", "07:00–15:00"),
        (8, "day", "08:00–16:00"),
        (15, "evening", "15:00–23:00"),
        (16, "evening", "16:00–24:00"),
        (23, "night", "23:00–07:00 (+1)"),
    ],
)
def test_spans_are_named_by_their_kind_and_real_hours(hour: int, kind: str, hours: str) -> None:
    assert avail.kind_of_start(hour) == kind
    assert avail.span_hours(hour) == hours


# --- a period with both patterns ----------------------------------------------------------


@pytest.fixture
def mixed(
    app: Flask,
    make_site: Callable[..., Site],
    make_period: Callable[..., PlanningPeriod],
) -> dict[str, Any]:
    """A checkpoint on 00/08/16 and a testing site on 07/15 (first hour 23, no nights)."""
    checkpoint = make_site(name="南通北高速卡口", demand={"code_checker": 1})
    testing = make_site(
        name="汇龙镇核酸检测点",
        kind="testing",
        first_shift_hour=23,
        runs_night=False,
        demand={"code_checker": 1},
    )
    period = make_period(start=MON, end=TUE, sites=[checkpoint, testing])
    return {"checkpoint": checkpoint, "testing": testing, "period": period}


def offering(make_volunteer: Callable[..., User], *cells: tuple[date, int]) -> User:
    user = make_volunteer(trained_at=utcnow(), accepts_nights=True)
    assert user.volunteer is not None
    for day, hour in cells:
        db.session.add(Availability(volunteer_id=user.volunteer.id, day=day, start_hour=hour))
    db.session.commit()
    return user


def test_build_problem_matches_real_hours(
    mixed: dict[str, Any], make_volunteer: Callable[..., User]
) -> None:
    eight = offering(make_volunteer, (MON, 8))
    seven = offering(make_volunteer, (MON, 7))
    both = offering(make_volunteer, (MON, 0), (MON, 8))
    problem, _ = build_problem(mixed["period"])
    testing_day = shift_id(mixed["testing"].id, MON, "day")  # 07:00–15:00
    checkpoint_day = shift_id(mixed["checkpoint"].id, MON, "day")  # 08:00–16:00
    assert problem.shift(testing_day).start.hour == 7

    def available(user: User) -> frozenset[str]:
        assert user.volunteer is not None
        return problem.person(person_id(user.volunteer.id)).available

    assert available(eight) == {checkpoint_day}
    assert available(seven) == {testing_day}
    assert available(both) >= {testing_day, checkpoint_day}


def test_a_volunteer_who_offered_08_16_is_not_rostered_at_07(
    mixed: dict[str, Any], make_volunteer: Callable[..., User]
) -> None:
    """The solver fills the 07:00–15:00 post only with the volunteer who offered 07:00–15:00,
    even though the one who offered 08:00–16:00 is free and the post would otherwise stay
    empty."""
    eight = offering(make_volunteer, (MON, 8))
    problem, _mapping = build_problem(mixed["period"])
    solution = solver.solve(problem, time_limit=10)
    assert eight.volunteer is not None
    placed = {a.shift for a in solution.assignments if a.person == person_id(eight.volunteer.id)}
    assert placed == {shift_id(mixed["checkpoint"].id, MON, "day")}

    seven = offering(make_volunteer, (MON, 7))
    problem, _mapping = build_problem(mixed["period"])
    solution = solver.solve(problem, time_limit=10)
    assert seven.volunteer is not None
    placed = {a.shift for a in solution.assignments if a.person == person_id(seven.volunteer.id)}
    assert placed == {shift_id(mixed["testing"].id, MON, "day")}


def test_self_signup_offers_only_posts_inside_the_hours(
    mixed: dict[str, Any], make_volunteer: Callable[..., User]
) -> None:
    eight = offering(make_volunteer, (MON, 8))
    assert eight.volunteer is not None
    posts = signup.eligible_posts(mixed["period"], eight.volunteer)
    assert {(p.site.id, p.day, p.kind) for p in posts} == {(mixed["checkpoint"].id, MON, "day")}


def test_hand_edit_candidates_rank_by_real_hours(
    mixed: dict[str, Any], make_volunteer: Callable[..., User]
) -> None:
    from scheduler.models import Role
    from tests.fixtures.rosters import make_roster

    eight = offering(make_volunteer, (MON, 8))
    seven = offering(make_volunteer, (MON, 7))
    make_roster(mixed["period"], [])
    role = db.session.scalar(select(Role).where(Role.code == "code_checker"))
    assert role is not None
    found = editing.candidates(mixed["period"], mixed["testing"], MON, "day", role)
    by_user = {c.volunteer.user_id: c for c in found}
    assert by_user[seven.id].fits
    assert not by_user[eight.id].fits
    assert "not_available" in {w.rule for w in by_user[eight.id].warnings}
    assert found[0].volunteer.user_id == seven.id


def test_heat_map_counts_per_real_span(
    mixed: dict[str, Any], make_volunteer: Callable[..., User]
) -> None:
    offering(make_volunteer, (MON, 8))
    offering(make_volunteer, (MON, 0), (MON, 8))
    heat = heat_map(mixed["period"])
    assert heat.starts == (0, 7, 8, 15, 16)
    cells = dict(heat.rows)[MON]
    assert (cells[7].available, cells[7].needed) == (1, 1)  # only the one who offered 00–16
    assert (cells[8].available, cells[8].needed) == (2, 1)
    assert cells[0].available == 1


# --- the grid -----------------------------------------------------------------------------


def grid_cells(html: str) -> list[str]:
    return re.findall(r'name="cell" value="([\d-]+ \d\d)"', html)


def test_grid_shows_the_sites_real_spans_and_spans_offered_before(
    mixed: dict[str, Any], make_volunteer: Callable[..., User], client: FlaskClient
) -> None:
    user = offering(make_volunteer, (MON, 20))  # a span no site runs (e.g. an old pattern)
    login(client, user)
    html = client.get("/me/availability", headers={"Accept-Language": "en"}).get_data(as_text=True)
    monday = [c for c in grid_cells(html) if c.startswith(MON.isoformat())]
    assert monday == [f"{MON.isoformat()} {h:02d}" for h in (0, 7, 8, 15, 16, 20)]
    for hours in ("07:00–15:00", "08:00–16:00", "15:00–23:00", "16:00–24:00"):
        assert hours in html
    assert "Sites in this period run different hours" in html
    stale = re.search(rf'<button[^>]*value="{MON.isoformat()} 20"[^>]*>', html, re.S)
    assert stale is not None
    assert 'aria-pressed="true"' in stale.group(0)


def test_grid_of_one_pattern_shows_its_hours_without_the_hint(
    app: Flask,
    make_site: Callable[..., Site],
    make_period: Callable[..., PlanningPeriod],
    make_volunteer: Callable[..., User],
    client: FlaskClient,
) -> None:
    testing = make_site(kind="testing", first_shift_hour=23, runs_night=False)
    make_period(start=MON, end=TUE, sites=[testing])
    login(client, offering(make_volunteer))
    html = client.get("/me/availability", headers={"Accept-Language": "zh-CN"}).get_data(
        as_text=True
    )
    monday = [c for c in grid_cells(html) if c.startswith(MON.isoformat())]
    assert monday == [f"{MON.isoformat()} 07", f"{MON.isoformat()} 15"]
    assert "白班" in html
    assert "07:00–15:00" in html
    assert "08:00–16:00" not in html
    assert "各点位的班次时间不同" not in html


def test_whole_day_offers_every_span_the_sites_run(
    mixed: dict[str, Any], make_volunteer: Callable[..., User], client: FlaskClient
) -> None:
    user = offering(make_volunteer)
    login(client, user)
    period = mixed["period"]
    response = client.post(
        "/me/availability/day",
        data={"day": MON.isoformat(), "period": str(period.id), "week": MON.isoformat()},
        headers=HTMX,
    )
    assert response.status_code == 200
    assert user.volunteer is not None
    rows = db.session.scalars(
        select(Availability.start_hour).where(Availability.volunteer_id == user.volunteer.id)
    )
    assert sorted(rows) == [0, 7, 8, 15, 16]


def test_tap_toggles_the_span_and_returns_its_real_hours(
    mixed: dict[str, Any], make_volunteer: Callable[..., User], client: FlaskClient
) -> None:
    user = offering(make_volunteer)
    login(client, user)
    response = client.post(
        "/me/availability/cell", data={"cell": f"{MON.isoformat()} 07"}, headers=HTMX
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'aria-pressed="true"' in html
    assert "07:00–15:00" in html
    assert user.volunteer is not None
    assert avail.Offer([(MON, 7)]).covers(MON, 7)
    stored = db.session.execute(
        select(Availability.day, Availability.start_hour).where(
            Availability.volunteer_id == user.volunteer.id
        )
    ).all()
    assert [tuple(r) for r in stored] == [(MON, 7)]
    again = client.post(
        "/me/availability/cell", data={"cell": f"{MON.isoformat()} 07"}, headers=HTMX
    )
    assert 'aria-pressed="false"' in again.get_data(as_text=True)
    assert db.session.scalar(select(db.func.count()).select_from(Availability)) == 0


@pytest.fixture
def statements(app: Flask) -> Iterator[list[str]]:
    seen: list[str] = []
    with app.app_context():
        engine = db.engine

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    yield seen
    event.remove(engine, "before_cursor_execute", record)


def test_a_tap_costs_three_sql_statements(
    mixed: dict[str, Any],
    make_volunteer: Callable[..., User],
    client: FlaskClient,
    statements: list[str],
) -> None:
    """Load the user with the volunteer, read the cell's state (open date, day off, already
    offered) in one query, write once. Was 7, then 4 (issue 9, item 11)."""
    user = offering(make_volunteer)
    login(client, user)
    for expected_on in (True, False):
        statements.clear()
        response = client.post(
            "/me/availability/cell", data={"cell": f"{MON.isoformat()} 08"}, headers=HTMX
        )
        assert response.status_code == 200
        assert ('aria-pressed="true"' in response.get_data(as_text=True)) is expected_on
        assert len(statements) == 3, statements


# --- the data migration ---------------------------------------------------------------------


def test_migration_keeps_every_cell_as_the_hours_its_grid_showed(
    empty_database_url: str,  # noqa: F811 (the fixture imported above)
) -> None:
    app = build_app(empty_database_url)
    with app.app_context():
        upgrade(revision="aee36e0fba12")
        with db.engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO users (id, phone, name, name_pinyin, password_hash, role, "
                    "active, created_at) VALUES (1, '+8613800000001', '王', 'wang', 'x', "
                    "'volunteer', :yes, '2026-12-01 00:00:00')"
                ),
                {"yes": True},
            )
            conn.execute(
                text(
                    "INSERT INTO volunteers (id, user_id, accepts_nights, weekly_cap) "
                    "VALUES (1, 1, :yes, 5)"
                ),
                {"yes": True},
            )
            conn.execute(
                text(
                    "INSERT INTO availability (volunteer_id, day, shift) VALUES "
                    "(1, '2026-12-07', 'night'), (1, '2026-12-07', 'day'), "
                    "(1, '2026-12-08', 'evening')"
                )
            )
        upgrade()
        with db.engine.connect() as conn:
            rows = conn.execute(
                text("SELECT volunteer_id, day, start_hour FROM availability_hours ORDER BY 2, 3")
            ).all()
        assert [(v, str(d), h) for v, d, h in rows] == [
            (1, "2026-12-07", 0),
            (1, "2026-12-07", 8),
            (1, "2026-12-08", 16),
        ]
        with db.engine.begin() as conn:  # a span of the other pattern, same kind as 08
            conn.execute(
                text(
                    "INSERT INTO availability_hours (volunteer_id, day, start_hour) "
                    "VALUES (1, '2026-12-07', 7), (1, '2026-12-08', 23)"
                )
            )
        downgrade(revision="aee36e0fba12")
        with db.engine.connect() as conn:
            rows = conn.execute(
                text("SELECT volunteer_id, day, shift FROM availability ORDER BY 2, 3")
            ).all()
        assert [(v, str(d), k) for v, d, k in rows] == [
            (1, "2026-12-07", "day"),
            (1, "2026-12-07", "night"),
            (1, "2026-12-08", "evening"),
            (1, "2026-12-08", "night"),
        ]
        downgrade(revision="base")
        db.engine.dispose()


def test_urgent_proposals_leave_out_who_offered_other_hours(
    urgent_world: Any,  # noqa: F811 (the fixture imported above)
) -> None:
    """The urgent request's post is the 08:00–16:00 shift; 乙 moves their offer to 07:00–15:00
    and is no longer proposed, though free, qualified and from the site's district."""
    from scheduler.services import urgent
    from tests.test_urgent import post

    second = urgent_world.people[1]
    assert second.volunteer is not None
    db.session.execute(
        update(Availability)
        .where(Availability.volunteer_id == second.volunteer.id)
        .values(start_hour=7)
    )
    db.session.commit()
    (proposal,) = urgent.proposals(post(urgent_world))
    names = [c.volunteer.user.name for c in proposal.candidates]
    assert "志愿者乙" not in names
    assert names[0] == "志愿者丁"
