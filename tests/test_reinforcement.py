"""Reinforcement across districts (issue 13): a period opened to other districts draws on their
volunteers (the solver's problem, hand edits), an urgent request sent up one level draws on the
parent's pool and reaches the parent's coordinators, and a reinforcing volunteer shows on the
period's roster with their home union and a masked phone while the other district's pool and
pages stay closed. Every change is audited. On SQLite and PostgreSQL (the world of
tests/test_scope_access.py: districts 甲区 (A) and 乙区 (B) under the city)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, select

from scheduler.extensions import db
from scheduler.models import (
    Assignment,
    AuditEntry,
    Notification,
    Organisation,
    PlanningPeriod,
    Roster,
    UrgentRequest,
    Volunteer,
)
from scheduler.models.rosters import DRAFT, PUBLISHED
from scheduler.planning import build_problem, person_id
from scheduler.services import audit, organisations, rosters, scope
from scheduler.services.catalogue import ensure_default_catalogue
from tests.fixtures.app import build_app
from tests.fixtures.database import POSTGRES_URL, postgres_schema_url
from tests.test_scope_access import CITY_COORD, COORD_A, COORD_B, A, B, ScopedWorld
from tests.test_scope_access import build_scoped_world as build_world


@pytest.fixture(params=["sqlite", "postgresql"])
def world(request: pytest.FixtureRequest, tmp_path: Path, worker_id: str) -> Iterator[ScopedWorld]:
    """A fresh two-district world per test (these tests write)."""
    if request.param == "postgresql":
        if not POSTGRES_URL:
            pytest.skip("MUSTER_TEST_DATABASE_URL is not set: PostgreSQL variant not run")
        url = postgres_schema_url(f"{worker_id}_reinforce")
    else:
        url = f"sqlite:///{tmp_path / 'muster.sqlite'}"
    app = build_app(url)
    with app.app_context():
        db.create_all()
        ensure_default_catalogue()
        try:
            yield build_world(app, tmp_path / "imports")
        finally:
            db.session.remove()
            db.engine.dispose()


def period(world: ScopedWorld, key: str) -> PlanningPeriod:
    return db.session.get_one(PlanningPeriod, world.ids[key]["period"])


def eligible(world: ScopedWorld, key: str) -> set[int]:
    db.session.expire_all()
    return set(db.session.scalars(scope.eligible_volunteer_ids(period(world, key))))


def actions(action: str) -> list[AuditEntry]:
    return list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def open_to(world: ScopedWorld, who: str, key: str, nodes: list[int]) -> Any:
    url = f"/coordinator/periods/{world.ids[key]['period']}/reinforcements"
    return world.clients[who].post(url, data={"node_ids": [str(n) for n in nodes]})


def test_the_city_opens_a_period_to_another_district_and_the_pool_follows(
    world: ScopedWorld,
) -> None:
    theirs = world.ids[B]["volunteer"]
    mine = eligible(world, A)  # A's volunteer and the two A's coordinator imported
    assert world.ids[A]["volunteer"] in mine
    assert theirs not in mine
    assert not scope.may_serve(period(world, A), db.session.get_one(Volunteer, theirs))
    closed, _ = build_problem(period(world, A))

    response = open_to(world, CITY_COORD, A, [world.ids[B]["org"]])
    assert response.status_code == 302
    assert eligible(world, A) == mine | {theirs}
    assert scope.may_serve(period(world, A), db.session.get_one(Volunteer, theirs))
    # B's own period is untouched: it still draws on B only.
    assert eligible(world, B) == {theirs}
    [entry] = actions(audit.PERIOD_REINFORCE)
    assert entry.object_id == world.ids[A]["period"]
    assert entry.changes == {"reinforcements": [[], ["乙区"]]}

    # The solver's problem gains exactly B's eligible volunteer; shifts and rules stay.
    opened, _ = build_problem(period(world, A))
    assert opened.shifts == closed.shifts
    assert opened.rules == closed.rules
    assert {p.id for p in opened.people} - {p.id for p in closed.people} == {person_id(theirs)}
    assert {p.id for p in closed.people} == {person_id(v) for v in mine}

    # Closing it again (nothing ticked) is audited too.
    assert open_to(world, CITY_COORD, A, []).status_code == 302
    assert eligible(world, A) == mine
    assert len(actions(audit.PERIOD_REINFORCE)) == 2


def test_the_city_node_opens_a_period_to_every_district(world: ScopedWorld) -> None:
    assert open_to(world, CITY_COORD, A, [world.ids[A]["city_org"]]).status_code == 302
    db.session.expire_all()
    assert scope.draws_on(period(world, A)) is None
    assert world.ids[B]["volunteer"] in eligible(world, A)


def test_a_district_opens_its_own_period_only_when_the_city_allows(world: ScopedWorld) -> None:
    target = [world.ids[B]["org"]]
    assert open_to(world, COORD_A, A, target).status_code == 403
    assert world.ids[B]["volunteer"] not in eligible(world, A)
    # Its own district is no choice (nor a node below it): refused, nothing written.
    node_a = db.session.get_one(Organisation, world.ids[A]["org"])
    organisations.set_may_reinforce(node_a, True)
    [allowed] = actions(audit.ORG_REINFORCE)
    assert allowed.changes == {"may_reinforce": [False, True]}
    assert open_to(world, COORD_A, A, [world.ids[A]["unit_org"]]).status_code == 302
    assert actions(audit.PERIOD_REINFORCE) == []
    assert open_to(world, COORD_A, A, target).status_code == 302
    assert world.ids[B]["volunteer"] in eligible(world, A)
    # A grassroots union cannot be given the right; the city never needs it.
    with pytest.raises(organisations.OrganisationError):
        organisations.set_may_reinforce(
            db.session.get_one(Organisation, world.ids[A]["unit_org"]), True
        )


def test_the_other_district_still_cannot_see_the_period_that_draws_on_it(
    world: ScopedWorld,
) -> None:
    """B's coordinator gets 404 for A's period although it draws on B's volunteers; A's
    coordinator still cannot browse B's pool or open B's volunteer's page."""
    assert open_to(world, CITY_COORD, A, [world.ids[B]["org"]]).status_code == 302
    period_a = world.ids[A]["period"]
    for url in (
        f"/coordinator/periods/{period_a}/roster",
        f"/coordinator/periods/{period_a}/edit",
        f"/coordinator/urgent/{world.ids[A]['urgent']}",
    ):
        assert world.clients[COORD_B].get(url).status_code == 404, url
    assert open_to(world, COORD_B, A, []).status_code == 404
    client = world.clients[COORD_A]
    assert client.get(f"/coordinator/volunteers/{world.ids[B]['volunteer']}").status_code == 404
    pool = client.get("/coordinator/volunteers").get_data(as_text=True)
    assert "乙区志愿者" not in pool
    assert "甲区志愿者" in pool


def test_a_reinforcing_volunteer_shows_on_the_roster_with_home_union_and_masked_phone(
    world: ScopedWorld,
) -> None:
    assert open_to(world, CITY_COORD, A, [world.ids[B]["org"]]).status_code == 302
    theirs = world.ids[B]["volunteer"]
    draft = db.session.scalars(
        select(Roster).where(Roster.period_id == world.ids[A]["period"], Roster.status == DRAFT)
    ).one()
    published = db.session.scalars(
        select(Roster).where(Roster.period_id == world.ids[A]["period"], Roster.status == PUBLISHED)
    ).one()
    for roster, day in ((draft, date(2026, 12, 9)), (published, date(2026, 12, 11))):
        db.session.add(
            Assignment(
                roster_id=roster.id,
                site_id=world.ids[A]["site"],
                day=day,
                shift="day",
                role_id=world.ids[A]["lead_role"],
                slot=2,
                volunteer_id=theirs,
            )
        )
    db.session.commit()
    client = world.clients[COORD_A]
    base = f"/coordinator/periods/{world.ids[A]['period']}/roster"
    shift = client.get(f"{base}/shifts/{world.ids[A]['site']}/2026-12-09/day")
    assert shift.status_code == 200
    page = shift.get_data(as_text=True)
    assert "乙区志愿者" in page
    assert "乙厂" in page
    assert "139****0111" in page
    assert "13900000111" not in page
    assert f'/coordinator/volunteers/{theirs}"' not in page  # no door into B's pool
    # A's own volunteer keeps the full number and the link.
    assert f"/coordinator/volunteers/{world.ids[A]['volunteer']}" in page
    version = client.get(f"{base}/versions/1").get_data(as_text=True)
    assert "乙区志愿者" in version
    assert "乙厂" in version
    # The printed sign-in sheet and the CSV export say where each person is from.
    sheet = client.get(f"/sheets/sites/{world.ids[A]['site']}/2026-12-11/signin")
    assert sheet.status_code == 200, sheet.get_data(as_text=True)[:300]
    assert "乙厂" in sheet.get_data(as_text=True)
    csv = client.get(f"/sheets/periods/{world.ids[A]['period']}/roster.csv")
    assert csv.status_code == 200
    lines = csv.get_data(as_text=True).lstrip("\ufeff").splitlines()
    assert lines[0].endswith(",home_union")
    assert any("乙区志愿者" in line and line.endswith(",乙厂") for line in lines)


def test_the_version_page_costs_the_same_statements_for_one_or_many_home_unions(
    world: ScopedWorld,
) -> None:
    """The home union comes with the rows (one lookup), not one query per person."""
    assert open_to(world, CITY_COORD, A, [world.ids[A]["city_org"]]).status_code == 302
    client = world.clients[CITY_COORD]
    url = f"/coordinator/periods/{world.ids[A]['period']}/roster/versions/1"

    def statements() -> int:
        seen = [0]

        def count(*_args: Any) -> None:
            seen[0] += 1

        event.listen(db.engine, "before_cursor_execute", count)
        try:
            assert client.get(url).status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
        return seen[0]

    statements()  # the first request also loads the session's account and the catalogue
    before = statements()
    published = db.session.scalars(
        select(Roster).where(Roster.period_id == world.ids[A]["period"], Roster.status == PUBLISHED)
    ).one()
    db.session.add(
        Assignment(
            roster_id=published.id,
            site_id=world.ids[A]["site"],
            day=date(2026, 12, 12),
            shift="day",
            role_id=world.ids[A]["lead_role"],
            slot=1,
            volunteer_id=world.ids[B]["volunteer"],
        )
    )
    db.session.commit()
    assert statements() == before


def test_an_escalated_request_draws_on_the_parent_and_reaches_the_city_only(
    world: ScopedWorld,
) -> None:
    request_id = world.ids[A]["urgent"]
    page = world.clients[COORD_A].get(f"/coordinator/urgent/{request_id}")
    assert "市总工会" in page.get_data(as_text=True)  # the button names whom it asks
    # B's coordinator cannot send A's request anywhere.
    assert (
        world.clients[COORD_B].post(f"/coordinator/urgent/{request_id}/escalate").status_code == 404
    )

    response = world.clients[COORD_A].post(f"/coordinator/urgent/{request_id}/escalate")
    assert response.status_code == 302
    db.session.expire_all()
    request = db.session.get_one(UrgentRequest, request_id)
    assert request.escalated_at is not None
    assert request.escalated_by_id == world.users[COORD_A].id
    [entry] = actions(audit.URGENT_ESCALATE)
    assert entry.object_id == request_id
    # The period now draws on the city's pool (every district) while the request stands.
    assert scope.draws_on(period(world, A)) is None
    assert world.ids[B]["volunteer"] in eligible(world, A)
    # The city's coordinator is told through the outbox; the sibling district is not.
    told = {
        n.user_id
        for n in db.session.scalars(
            select(Notification).where(Notification.kind == "urgent_request")
        )
        if n.payload.get("escalated") and n.payload.get("request_id") == request_id
    }
    assert told == {world.users[CITY_COORD].id}
    # The city sees it, marked as sent up; the sibling district gets 404.
    city = world.clients[CITY_COORD].get(f"/coordinator/urgent/{request_id}")
    assert city.status_code == 200
    assert "甲区" in city.get_data(as_text=True)
    assert world.clients[COORD_B].get(f"/coordinator/urgent/{request_id}").status_code == 404
    listed = world.clients[CITY_COORD].get(f"/coordinator/periods/{world.ids[A]['period']}/urgent")
    assert "coord-tag warn" in listed.get_data(as_text=True)
    # Sending it up twice is refused, nothing more written.
    again = world.clients[COORD_A].post(f"/coordinator/urgent/{request_id}/escalate")
    assert again.status_code == 302
    assert len(actions(audit.URGENT_ESCALATE)) == 1
    # Withdrawn, the period is back to its own pool.
    world.clients[COORD_A].post(f"/coordinator/urgent/{request_id}/withdraw")
    assert world.ids[B]["volunteer"] not in eligible(world, A)


def test_a_city_wide_period_has_nowhere_to_send_its_requests(world: ScopedWorld) -> None:
    city_period = period(world, A)
    city_period.organisation_id = world.ids[A]["city_org"]
    db.session.commit()
    response = world.clients[CITY_COORD].post(
        f"/coordinator/urgent/{world.ids[A]['urgent']}/escalate"
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get_one(UrgentRequest, world.ids[A]["urgent"]).escalated_at is None
    assert actions(audit.URGENT_ESCALATE) == []


def test_the_review_counts_only_whom_the_period_draws_on(world: ScopedWorld) -> None:
    """The fairness figures of A's roster count A's people, and B's once A is opened to B
    (shown by name, without a link into B's pool)."""
    # Both volunteers offered time on the period's first Monday (the world's availability).
    before = rosters.review(period(world, A)).fairness.offered
    assert open_to(world, CITY_COORD, A, [world.ids[B]["org"]]).status_code == 302
    db.session.expire_all()
    assert rosters.review(period(world, A)).fairness.offered == before + 1
