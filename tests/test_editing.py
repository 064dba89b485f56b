"""Hand edits of the draft: every hard rule a hand edit can break comes back as a warning and
writes nothing until confirmed with a note; confirmed overrides are recorded; candidates are
ranked; unassign, pin and swap; pins survive a re-solve; published rosters refuse every edit;
staff-only access."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from scheduler.extensions import db
from scheduler.models import (
    Assignment,
    Availability,
    PlanningPeriod,
    Role,
    Roster,
    Site,
    SolveRun,
    UnfilledPost,
    User,
    VolunteerSkill,
)
from scheduler.models.base import utcnow
from scheduler.models.rosters import DRAFT, PUBLISHED
from scheduler.services import editing
from scheduler.services.availability import default_start
from scheduler.services.editing import EditError
from tests.fixtures.auth import login
from tests.test_planning import MON, TUE, SmallWorld, build_small_world, skill

D = [date(2026, 12, 7) + timedelta(days=i) for i in range(14)]  # Mon 7 .. Sun 20 December


@dataclass
class EditWorld:
    period: PlanningPeriod
    south: Site  # night 00-08, day 08-16, evening 16-24: registrar 2, temperature 1, sampler 1
    north: Site  # first shift at 04: night 04-12, day 12-20, evening 20-04: registrar 1
    draft: Roster
    people: dict[str, User]

    def vid(self, name: str) -> int:
        volunteer = self.people[name].volunteer
        assert volunteer is not None
        return volunteer.id


def role(code: str) -> Role:
    return db.session.scalars(select(Role).where(Role.code == code)).one()


def put(world: EditWorld, name: str, site: Site, day: date, kind: str, code: str = "registrar"):
    row = Assignment(
        roster_id=world.draft.id,
        site_id=site.id,
        day=day,
        shift=kind,
        role_id=role(code).id,
        volunteer_id=world.vid(name),
    )
    db.session.add(row)
    db.session.commit()
    return row


@pytest.fixture
def world(app: Flask, make_site: Any, make_volunteer: Any) -> EditWorld:
    south = make_site(name="南卡口", demand={"registrar": 2, "temperature": 1, "sampler": 1})
    north = make_site(name="北卡口", demand={"registrar": 1}, first_shift_hour=4)
    period = PlanningPeriod(
        name="两周", start_date=D[0], end_date=D[-1], is_open=True, sites=[south, north]
    )
    db.session.add(period)
    db.session.commit()
    now = utcnow()
    people = {
        "anna": make_volunteer(name="安娜", trained_at=now, accepts_nights=True),
        "bo": make_volunteer(name="<script>博</script>", trained_at=now, accepts_nights=True),
        "capped": make_volunteer(name="曹限", trained_at=now, accepts_nights=True, weekly_cap=2),
        "daytime": make_volunteer(name="丁日", trained_at=now, accepts_nights=False),
        "nurse": make_volunteer(name="聂护", trained_at=now, accepts_nights=True),
        "busy": make_volunteer(name="贝忙", trained_at=now, accepts_nights=True),
    }
    db.session.add(
        VolunteerSkill(
            volunteer_id=people["nurse"].volunteer.id,  # type: ignore[union-attr]
            skill_id=skill("medical").id,
            verified_at=now,
        )
    )
    for name, user in people.items():
        if name == "busy":
            continue  # tapped no availability at all
        for day in D:
            for kind in ("night", "day", "evening"):
                db.session.add(
                    Availability(
                        volunteer_id=user.volunteer.id, day=day, start_hour=default_start(kind)
                    )
                )  # type: ignore[union-attr]
    draft = Roster(period_id=period.id, status=DRAFT)
    db.session.add(draft)
    db.session.commit()
    return EditWorld(period, south, north, draft, people)


def rules_of(outcome: editing.EditOutcome) -> set[str]:
    return {w.rule for w in outcome.warnings}


def hand_rows(world: EditWorld) -> int:
    return db.session.scalar(
        select(func.count(Assignment.id)).where(
            Assignment.roster_id == world.draft.id, Assignment.source == "hand"
        )
    )


def try_assign(world: EditWorld, name: str, site: Site, day: date, kind: str, code="registrar"):
    return editing.assign(world.period, site, day, kind, role(code), world.vid(name))


def test_a_valid_assignment_is_saved_without_warnings(world: EditWorld) -> None:
    outcome = try_assign(world, "anna", world.south, D[0], "day")
    db.session.commit()
    assert outcome.applied
    assert outcome.warnings == []
    row = db.session.scalars(select(Assignment)).one()
    assert (row.source, row.rule_override, row.override_note, row.slot) == ("hand", False, None, 1)
    # One of two registrars: the post still shows one person missing.
    post = db.session.scalars(select(UnfilledPost)).one()
    assert (post.role_id, post.missing) == (role("registrar").id, 1)


def test_rest_of_16_hours(world: EditWorld) -> None:
    put(world, "anna", world.south, D[0], "evening")  # ends Tuesday 00:00
    outcome = try_assign(world, "anna", world.south, D[1], "day")  # starts 08:00: 8 h rest
    assert not outcome.applied
    assert "rest" in rules_of(outcome)
    assert hand_rows(world) == 0


def test_two_shifts_at_the_same_time(world: EditWorld) -> None:
    put(world, "anna", world.south, D[0], "day")  # 08-16
    outcome = try_assign(world, "anna", world.north, D[0], "night")  # 04-12 the same day
    assert not outcome.applied
    assert "overlap" in rules_of(outcome)
    assert hand_rows(world) == 0


def test_weekly_cap_and_seven_day_limit(world: EditWorld) -> None:
    put(world, "capped", world.south, D[0], "day")
    put(world, "capped", world.south, D[2], "day")
    outcome = try_assign(world, "capped", world.south, D[4], "day")  # a third in 7 days, cap 2
    assert "seven_day_cap" in rules_of(outcome)
    for i in (0, 1, 2, 3, 4):
        put(world, "anna", world.south, D[i], "day")
    outcome = try_assign(world, "anna", world.south, D[5], "day")  # a sixth in 7 days, limit 5
    assert "seven_day_cap" in rules_of(outcome)
    assert hand_rows(world) == 0


def test_nights_refused(world: EditWorld) -> None:
    outcome = try_assign(world, "daytime", world.south, D[0], "night")
    assert rules_of(outcome) == {"nights_refused"}
    assert outcome.warnings[0].label == "Does not accept night shifts"


def test_unqualified(world: EditWorld) -> None:
    outcome = try_assign(world, "anna", world.south, D[0], "day", "sampler")
    assert rules_of(outcome) == {"not_qualified"}
    assert try_assign(world, "nurse", world.south, D[0], "day", "sampler").applied


def test_not_available(world: EditWorld) -> None:
    outcome = try_assign(world, "busy", world.south, D[0], "day")
    assert rules_of(outcome) == {"not_available"}


def test_consecutive_days(world: EditWorld) -> None:
    for i in range(6):
        put(world, "anna", world.south if i % 2 else world.north, D[i], "day")
    outcome = try_assign(world, "anna", world.south, D[6], "day")  # a seventh day in a row
    assert "max_consecutive_days" in rules_of(outcome)


def test_nights_in_seven_days(world: EditWorld) -> None:
    for i in (0, 2, 4):
        put(world, "anna", world.south, D[i], "night")
    outcome = try_assign(world, "anna", world.south, D[6], "night")  # a fourth in 7 days
    assert rules_of(outcome) == {"nights_7_days"}


def test_same_shift_time_is_refused_outright(world: EditWorld) -> None:
    put(world, "anna", world.north, D[0], "day")
    with pytest.raises(EditError):
        try_assign(world, "anna", world.south, D[0], "day")


def test_a_rule_is_broken_only_with_confirmation_and_a_note(
    world: EditWorld, client: FlaskClient, coordinator: User
) -> None:
    login(client, coordinator)
    url = (
        f"/coordinator/periods/{world.period.id}/roster/posts/{world.south.id}/"
        f"{D[0].isoformat()}/night/{role('registrar').id}/assign"
    )
    body = {"volunteer_id": world.vid("daytime")}
    response = client.post(url, data=body)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "This edit breaks a rule" in html
    assert "Does not accept night shifts" in html
    assert 'name="confirm"' in html
    assert f'name="volunteer_id" value="{world.vid("daytime")}"' in html
    db.session.expire_all()
    assert hand_rows(world) == 0

    response = client.post(url, data={**body, "confirm": "y"})  # no note
    assert response.status_code == 422
    assert "Say why the rule may be broken." in response.get_data(as_text=True)
    db.session.expire_all()
    assert hand_rows(world) == 0

    response = client.post(url, data={**body, "confirm": "y", "note": "x" * 501})
    assert response.status_code == 422
    db.session.expire_all()
    assert hand_rows(world) == 0

    response = client.post(url, data={**body, "confirm": "y", "note": "只有她会说方言"})
    assert response.status_code == 302
    assert f"/roster/shifts/{world.south.id}/{D[0].isoformat()}/night" in response.location
    db.session.expire_all()
    row = db.session.scalars(select(Assignment)).one()
    assert (row.rule_override, row.override_note, row.source) == (True, "只有她会说方言", "hand")
    page = client.get(response.location).get_data(as_text=True)
    assert "rule broken on purpose" in page


def test_assign_with_bad_input_changes_nothing(
    world: EditWorld, client: FlaskClient, coordinator: User
) -> None:
    login(client, coordinator)
    base = (
        f"/coordinator/periods/{world.period.id}/roster/posts/{world.south.id}/{D[0].isoformat()}"
    )
    registrar = role("registrar").id
    assert client.post(f"{base}/day/{registrar}/assign", data={}).status_code == 422
    assert (
        client.post(f"{base}/day/{registrar}/assign", data={"volunteer_id": 999999}).status_code
        == 422
    )
    logistics = role("logistics").id  # the site asks for none
    assert client.get(f"{base}/day/{logistics}").status_code == 404
    assert client.get(f"{base}/noon/{registrar}").status_code == 404
    outside = f"/coordinator/periods/{world.period.id}/roster/posts/{world.south.id}/2030-01-01"
    assert client.get(f"{outside}/day/{registrar}").status_code == 404
    db.session.expire_all()
    assert hand_rows(world) == 0


def test_candidates_are_ranked_with_reasons(
    world: EditWorld, client: FlaskClient, coordinator: User
) -> None:
    put(world, "bo", world.south, D[1], "night")  # already at this site the next day
    ranked = editing.candidates(world.period, world.south, D[0], "night", role("registrar"))
    names = [c.volunteer.user.name for c in ranked]
    fits = [c for c in ranked if c.fits]
    assert {c.volunteer.user.name for c in fits} == {"安娜", "曹限", "聂护", "<script>博</script>"}
    assert names.index("丁日") > len(fits) - 1  # breaks a rule: after everyone who fits
    busy = next(c for c in ranked if c.volunteer.id == world.vid("busy"))
    assert [w.rule for w in busy.warnings] == ["not_available"]  # qualified, never tapped
    bo = next(c for c in ranked if c.volunteer.id == world.vid("bo"))
    assert bo.same_site
    assert bo.shifts == 1

    login(client, coordinator)
    url = (
        f"/coordinator/periods/{world.period.id}/roster/posts/{world.south.id}/"
        f"{D[0].isoformat()}/night/{role('registrar').id}"
    )
    response = client.get(url)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'id="candidates"' in html
    assert "&lt;script&gt;博&lt;/script&gt;" in html
    assert "<script>博" not in html
    assert "Does not accept night shifts" in html
    assert "already at this site" in html


def test_unassign_pin_and_swap_through_the_pages(
    world: EditWorld, client: FlaskClient, coordinator: User
) -> None:
    a = put(world, "anna", world.south, D[0], "day")
    b = put(world, "bo", world.north, D[0], "night")
    login(client, coordinator)
    base = f"/coordinator/periods/{world.period.id}/roster/assignments"
    shift = client.get(
        f"/coordinator/periods/{world.period.id}/roster/shifts/{world.south.id}/{D[0].isoformat()}/day"
    ).get_data(as_text=True)
    assert f"{base}/{a.id}/unassign" in shift
    assert f"{base}/{a.id}/pin" in shift

    assert client.post(f"{base}/{a.id}/pin", data={"pinned": "y"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(Assignment, a.id).pinned is True
    assert client.post(f"{base}/{a.id}/pin", data={}).status_code == 302
    db.session.expire_all()
    assert db.session.get(Assignment, a.id).pinned is False

    page = client.get(f"{base}/{a.id}/swap")
    assert page.status_code == 200
    assert "&lt;script&gt;博" in page.get_data(as_text=True)
    response = client.post(f"{base}/{a.id}/swap", data={"other_id": b.id})
    assert response.status_code == 302
    db.session.expire_all()
    held = {
        (r.volunteer_id, r.site_id, r.source)
        for r in db.session.scalars(
            select(Assignment).where(Assignment.roster_id == world.draft.id)
        )
    }
    assert held == {
        (world.vid("bo"), world.south.id, "hand"),
        (world.vid("anna"), world.north.id, "hand"),
    }
    db.session.expire_all()
    assert db.session.get(Assignment, a.id).volunteer_id == world.vid("bo")  # ids stay
    assert client.post(f"{base}/{a.id}/swap", data={"other_id": 999999}).status_code == 422

    row = db.session.scalars(
        select(Assignment).where(Assignment.volunteer_id == world.vid("anna"))
    ).one()
    row_id = row.id
    assert client.post(f"{base}/{row_id}/unassign", data={}).status_code == 302
    db.session.expire_all()
    assert db.session.get(Assignment, row_id) is None
    assert client.post(f"{base}/999999/unassign", data={}).status_code == 404


def test_a_swap_that_breaks_a_rule_needs_confirmation(
    world: EditWorld, client: FlaskClient, coordinator: User
) -> None:
    a = put(world, "daytime", world.south, D[0], "day")
    b = put(world, "anna", world.south, D[1], "night")
    login(client, coordinator)
    url = f"/coordinator/periods/{world.period.id}/roster/assignments/{a.id}/swap"
    response = client.post(url, data={"other_id": b.id})
    assert response.status_code == 200
    assert "Does not accept night shifts" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Assignment, a.id).volunteer_id == world.vid("daytime")
    response = client.post(url, data={"other_id": b.id, "confirm": "y", "note": "换班"})
    assert response.status_code == 302
    db.session.expire_all()
    night = db.session.scalars(select(Assignment).where(Assignment.shift == "night")).one()
    assert (night.volunteer_id, night.rule_override, night.override_note) == (
        world.vid("daytime"),
        True,
        "换班",
    )


def test_published_rosters_refuse_every_edit(
    world: EditWorld, client: FlaskClient, coordinator: User
) -> None:
    row = put(world, "anna", world.south, D[0], "day")
    other = put(world, "bo", world.south, D[1], "day")
    world.draft.status, world.draft.version, world.draft.published_at = PUBLISHED, 1, utcnow()
    db.session.commit()
    with pytest.raises(EditError):
        editing.unassign(row)
    with pytest.raises(EditError):
        editing.set_pinned(row, True)
    with pytest.raises(EditError):
        editing.swap(world.period, row, other)
    with pytest.raises(EditError):
        editing.ensure_editable(world.draft)
    db.session.rollback()
    login(client, coordinator)
    base = f"/coordinator/periods/{world.period.id}/roster/assignments/{row.id}"
    assert client.post(f"{base}/unassign", data={}).status_code == 302
    assert client.post(f"{base}/pin", data={"pinned": "y"}).status_code == 302
    db.session.expire_all()
    kept = db.session.get(Assignment, row.id)
    assert kept is not None
    assert kept.pinned is False


@pytest.fixture
def sync_app(app_factory: Callable[..., Flask]) -> Iterator[Flask]:
    app = app_factory(JOBS_SYNCHRONOUS=True, JOBS_SOLVER_WORKERS=1)
    with app.app_context():
        yield app


def test_pins_and_overrides_survive_a_re_solve(
    sync_app: Flask, make_site: Any, make_volunteer: Any, coordinator: User
) -> None:
    small: SmallWorld = build_small_world(make_site, make_volunteer)
    client = sync_app.test_client()
    login(client, coordinator)
    roster = f"/coordinator/periods/{small.period.id}/roster"
    body = {"site_ids": [small.checkpoint.id, small.testing.id], "time_limit": "5"}
    assert client.post(f"{roster}/runs", data=body).status_code == 302
    draft = db.session.scalars(select(Roster)).one()
    checker = role("code_checker")
    # Hand: the untrained volunteer as code checker on Monday's day shift (a deliberate
    # override), pinned; and the partner on Tuesday's day shift, pinned.
    for name, day in (("untrained", MON), ("partner", TUE)):
        existing = db.session.scalars(
            select(Assignment).where(
                Assignment.roster_id == draft.id,
                Assignment.site_id == small.checkpoint.id,
                Assignment.day == day,
                Assignment.shift == "day",
                Assignment.role_id == checker.id,
            )
        ).all()
        for row in existing:
            editing.unassign(row)
        mine = db.session.scalars(
            select(Assignment).where(
                Assignment.roster_id == draft.id,
                Assignment.volunteer_id == small.vid(name),
                Assignment.day == day,
                Assignment.shift == "day",
            )
        ).all()
        for row in mine:
            editing.unassign(row)
        outcome = editing.assign(
            small.period,
            small.checkpoint,
            day,
            "day",
            checker,
            small.vid(name),
            confirm=True,
            note="试岗",
        )
        assert outcome.applied
        db.session.commit()
        row = db.session.scalars(
            select(Assignment).where(
                Assignment.roster_id == draft.id, Assignment.volunteer_id == small.vid(name)
            )
        ).one()
        editing.set_pinned(row, True)
        db.session.commit()
    override = db.session.scalars(
        select(Assignment).where(Assignment.volunteer_id == small.vid("untrained"))
    ).one()
    assert override.rule_override is True

    assert client.post(f"{roster}/runs", data=body).status_code == 302
    db.session.expire_all()
    last = db.session.scalars(select(SolveRun).order_by(SolveRun.id.desc())).first()
    assert last is not None
    assert last.status == "succeeded", last.error
    for name, day in (("untrained", MON), ("partner", TUE)):
        row = db.session.scalars(
            select(Assignment).where(
                Assignment.roster_id == draft.id, Assignment.volunteer_id == small.vid(name)
            )
        ).one()
        assert (row.site_id, row.day, row.shift, row.role_id, row.pinned, row.source) == (
            small.checkpoint.id,
            day,
            "day",
            checker.id,
            True,
            "hand",
        )


NEW_ROUTES = [
    ("get", "/roster/posts/{site}/2026-12-07/day/{role}"),
    ("post", "/roster/posts/{site}/2026-12-07/day/{role}/assign"),
    ("post", "/roster/assignments/{a}/unassign"),
    ("post", "/roster/assignments/{a}/pin"),
    ("get", "/roster/assignments/{a}/swap"),
    ("post", "/roster/assignments/{a}/swap"),
]


@pytest.mark.parametrize(("method", "path"), NEW_ROUTES)
def test_edit_routes_are_staff_only(
    world: EditWorld, app: Flask, make_user: Any, method: str, path: str
) -> None:
    a = put(world, "anna", world.south, D[0], "day")
    url = f"/coordinator/periods/{world.period.id}" + path.format(
        site=world.south.id, role=role("registrar").id, a=a.id
    )
    body = {"volunteer_id": world.vid("bo"), "other_id": a.id, "pinned": "y"}
    anonymous = app.test_client()
    response = getattr(anonymous, method)(url, data=body if method == "post" else None)
    assert response.status_code == 302
    assert "/login" in response.location
    for who in (world.people["bo"], make_user("site_lead")):
        client = app.test_client()
        login(client, who)
        assert (
            getattr(client, method)(url, data=body if method == "post" else None).status_code == 403
        )
    db.session.expire_all()
    assert db.session.get(Assignment, a.id).pinned is False
    assert hand_rows(world) == 0


def test_swapping_two_posts_on_the_same_shift_time(world: EditWorld) -> None:
    a = put(world, "anna", world.south, D[0], "day", "temperature")
    b = put(world, "bo", world.north, D[0], "day")
    a.slot, b.slot, a.pinned = 1, 1, True
    db.session.commit()
    outcome = editing.swap(world.period, a, b)
    db.session.commit()
    assert outcome.applied
    db.session.expire_all()
    rows = {
        r.volunteer_id: (r.site_id, r.role_id, r.slot, r.pinned)
        for r in db.session.scalars(select(Assignment))
    }
    assert rows == {
        world.vid("bo"): (world.south.id, role("temperature").id, 1, True),
        world.vid("anna"): (world.north.id, role("registrar").id, 1, False),
    }
