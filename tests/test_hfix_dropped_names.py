"""A run's dropped pins store the volunteer's id, not their name (planning._dropped_facts):
the roster page looks the name up when it shows them, so an anonymised account reads
anonymised there too -- retention never has to find names inside SolveRun.dropped_pins."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask

from scheduler.extensions import db
from scheduler.models import COORDINATOR, User, Volunteer
from scheduler.models.base import utcnow
from scheduler.planning import NOT_QUALIFIED
from scheduler.services.profile import anonymise
from tests.fixtures.auth import login
from tests.test_pin_drops import World, make_ineligible, pin_one, solve, world  # noqa: F401


def test_a_dropped_pin_shows_the_name_as_it_is_now(
    any_db_app: Flask,
    world: World,  # noqa: F811
    make_user: Callable[..., User],
) -> None:
    mine = pin_one(world)
    vid = mine.volunteer_id
    make_ineligible(world, vid, NOT_QUALIFIED)
    run = solve(world)
    assert run.dropped_pins is not None
    assert "志愿者" not in str(run.dropped_pins)
    user = db.session.get_one(Volunteer, vid).user
    old = user.name
    anonymise(user, "已删除用户", "—", utcnow())
    db.session.commit()
    coordinator = make_user(COORDINATOR, name="市协调员")
    coordinator.organisation_id = world.home.organisation_id
    db.session.commit()
    client = any_db_app.test_client()
    login(client, coordinator)
    page = client.get(f"/coordinator/periods/{world.period.id}/roster").get_data(as_text=True)
    assert "training the role needs" in page
    assert old not in page
    assert "已删除用户" in page
