"""The dashboard says, for each open period, where it stands and the one step that moves it
forward; the roster page shows drop-outs first."""

from __future__ import annotations

from datetime import time
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from scheduler.extensions import db
from scheduler.models import Assignment, Role, SolveRun, UrgentNeed, UrgentRequest
from scheduler.models.base import utcnow
from scheduler.services import dashboard, lookups, publishing, urgent
from scheduler.services.dashboard import (
    GENERATE_STEP,
    PUBLISH_STEP,
    REPAIR_STEP,
    RUNNING_STEP,
    UP_TO_DATE,
    URGENT_STEP,
)
from scheduler.services.my_shifts import cancel
from tests.fixtures.auth import login
from tests.fixtures.rosters import cancel_shift, make_roster
from tests.test_planning import MON, TUE, SmallWorld, build_small_world


@pytest.fixture
def world(app: Flask, make_site: Any, make_volunteer: Any) -> SmallWorld:
    return build_small_world(make_site, make_volunteer)


@pytest.fixture
def staff(app: Flask, coordinator: Any) -> FlaskClient:
    client = app.test_client()
    login(client, coordinator)
    return client


def _state(world: SmallWorld) -> dashboard.PeriodState:
    (state,) = dashboard.period_states([world.period], urgent.waiting(MON))
    return state


def _step(staff: FlaskClient, world: SmallWorld) -> str:
    html = staff.get("/coordinator/").get_data(as_text=True)
    line = html.split(f'id="period-step-{world.period.id}"')[1].split("</li>")[0]
    return " ".join(line.replace("\n", " ").split()).replace(" ,", ",")


def test_each_state_has_its_one_step(
    world: SmallWorld, staff: FlaskClient, coordinator: Any
) -> None:
    base = f"/coordinator/periods/{world.period.id}/roster"
    # Availability collected, no draft: generate.
    state = _state(world)
    assert (state.step, state.offered, state.draft) == (GENERATE_STEP, 7, None)
    line = _step(staff, world)
    assert "7 volunteers entered availability" in line
    assert "No draft yet" in line
    assert f'href="{base}#roster-form"' in line
    assert "Generate the roster" in line

    # A draft, nothing published: publish.
    make_roster(
        world.period,
        [
            (world.checkpoint, MON, "day", "site_lead", world.people["lead"]),
            (world.checkpoint, TUE, "day", "code_checker", world.people["checker"]),
        ],
    )
    state = _state(world)
    assert state.step == PUBLISH_STEP
    assert state.draft is not None
    assert (state.draft.filled, state.draft.needed) == (2, 15)
    line = _step(staff, world)
    assert "Draft: 2 of 15 posts filled, 13 posts unfilled" in line
    assert "Not published yet" in line
    assert f'href="{base}/publish"' in line
    assert "Review and publish" in line

    # Published, unchanged: up to date.
    publishing.publish(world.period, coordinator)
    db.session.commit()
    assert _state(world).step == UP_TO_DATE
    line = _step(staff, world)
    assert "Published: version 1" in line
    assert "Up to date." in line
    assert "<button" not in line

    # A volunteer cancels (which frees the post in the draft): repair, with its button.
    _cancel(world, "checker")
    state = _state(world)
    assert (state.step, state.cancelled) == (REPAIR_STEP, 1)
    line = _step(staff, world)
    assert "1 cancellation waiting for repair" in line
    assert f'action="{base}/repair"' in line
    assert 'name="csrf_token"' in line

    # An urgent request comes first.
    role = db.session.scalars(db.select(Role).where(Role.code == "code_checker")).one()
    request = UrgentRequest(
        period_id=world.period.id,
        site_id=world.checkpoint.id,
        day=MON,
        start_time=time(9),
        end_time=time(12),
        needs=[UrgentNeed(role_id=role.id, headcount=1)],
    )
    db.session.add(request)
    db.session.commit()
    assert _state(world).step == URGENT_STEP
    line = _step(staff, world)
    assert "1 urgent request open" in line
    assert f'href="/coordinator/urgent/{request.id}"' in line

    # A run in progress comes before everything.
    db.session.add(SolveRun(period_id=world.period.id, status="running", started_at=utcnow()))
    db.session.commit()
    assert _state(world).step == RUNNING_STEP


def _cancel(world: SmallWorld, name: str) -> None:
    v1 = lookups.latest_published(world.period.id)
    assert v1 is not None
    (mine,) = [a for a in v1.assignments if a.volunteer_id == world.vid(name)]
    cancel(world.people[name].volunteer, mine.id, "发烧")


def test_a_repaired_hole_waits_for_publishing_not_for_repair(
    world: SmallWorld, coordinator: Any
) -> None:
    make_roster(
        world.period,
        [(world.checkpoint, TUE, "day", "code_checker", world.people["checker"])],
    )
    publishing.publish(world.period, coordinator)
    db.session.commit()
    _cancel(world, "checker")
    assert _state(world).step == REPAIR_STEP
    # The coordinator puts someone else on the hole in the draft.
    db.session.add(
        Assignment(
            roster_id=lookups.current_draft(world.period.id).id,  # type: ignore[union-attr]
            site_id=world.checkpoint.id,
            day=TUE,
            shift="day",
            role_id=db.session.scalars(db.select(Role).where(Role.code == "code_checker")).one().id,
            volunteer_id=world.vid("partner"),
        )
    )
    db.session.commit()
    state = _state(world)
    assert (state.cancelled, state.changes, state.step) == (0, 2, PUBLISH_STEP)


def test_a_canceller_put_back_by_hand_still_needs_publishing(
    world: SmallWorld, coordinator: Any
) -> None:
    """The draft then holds exactly version 1's posts, but publishing clears the cancellation
    and tells the volunteer: there is something to publish."""
    make_roster(
        world.period,
        [(world.checkpoint, TUE, "day", "code_checker", world.people["checker"])],
    )
    publishing.publish(world.period, coordinator)
    db.session.commit()
    cancel_shift(world.people["checker"], world.checkpoint, TUE, "day")  # the draft keeps it
    state = _state(world)
    assert (state.changes, state.cancelled, state.step) == (0, 0, PUBLISH_STEP)


def test_dropouts_come_first_on_the_roster_page(
    world: SmallWorld, staff: FlaskClient, coordinator: Any
) -> None:
    make_roster(
        world.period,
        [(world.checkpoint, TUE, "day", "code_checker", world.people["checker"])],
    )
    publishing.publish(world.period, coordinator)
    db.session.commit()
    cancel_shift(world.people["checker"], world.checkpoint, TUE, "day")
    html = staff.get(f"/coordinator/periods/{world.period.id}/roster").get_data(as_text=True)
    assert "Cancelled by volunteers (1)" in html
    dropouts = html.index('id="roster-dropouts"')
    assert dropouts < html.index('id="roster-form"')
    assert dropouts < html.index('id="roster-heat"')
    assert dropouts < html.index("Unfilled posts")
