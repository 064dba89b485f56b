"""scope.staff_users_covering (whom /me lists to call, who is told of a cancellation) names the
same accounts as `in_scope` asked of each of them, with one read of the union tree however
many distinct appointments there are, and that read is not kept: a node moved between two
calls is seen by the second."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
from flask import Flask
from sqlalchemy import select

from scheduler.extensions import db
from scheduler.models import (
    ADMIN,
    CITY,
    COORDINATOR,
    DISTRICT,
    GRASSROOTS,
    STAFF_ROLES,
    Organisation,
    PlanningPeriod,
    User,
)
from scheduler.services import scope
from tests.fixtures.statements import statements


def node(kind: str, name: str, parent: Organisation | None = None) -> Organisation:
    org = Organisation(kind=kind, name=name, parent_id=parent.id if parent else None)
    db.session.add(org)
    db.session.flush()
    return org


def world(
    districts: int, make_user: Callable[..., User]
) -> tuple[PlanningPeriod, list[Organisation], Organisation]:
    """A city, `districts` districts each with a coordinator and a grassroots union with its
    own coordinator, a city coordinator, an admin, an unappointed coordinator and an inactive
    one; a period of the first district's grassroots union."""
    city = node(CITY, "市总工会")
    unions = []
    for n in range(districts):
        district = node(DISTRICT, f"区{n}", city)
        union = node(GRASSROOTS, f"基层{n}", district)
        unions.append(district)
        for org in (district, union):
            make_user(role=COORDINATOR).organisation_id = org.id
    make_user(role=COORDINATOR).organisation_id = city.id
    make_user(role=ADMIN)
    make_user(role=COORDINATOR)  # appointed to nothing: sees nothing once there is a tree
    gone = make_user(role=COORDINATOR)
    gone.organisation_id, gone.active = unions[0].id, False
    grassroots = db.session.scalars(
        select(Organisation).where(Organisation.parent_id == unions[0].id)
    ).one()
    period = PlanningPeriod(
        name="第一期",
        start_date=date(2026, 12, 7),
        end_date=date(2026, 12, 20),
        organisation_id=grassroots.id,
    )
    db.session.add(period)
    db.session.commit()
    return period, unions, grassroots


def by_the_rule(obj: object) -> list[int]:
    """Every active staff account `in_scope` says holds `obj`, by id (the reference)."""
    staff = db.session.scalars(
        select(User).where(User.role.in_(STAFF_ROLES), User.active.is_(True)).order_by(User.id)
    )
    return [u.id for u in staff if scope.in_scope(obj, u)]


@pytest.mark.parametrize("districts", [2, 6])
def test_the_same_accounts_as_in_scope_with_one_read_of_the_tree(
    app: Flask, make_user: Callable[..., User], districts: int
) -> None:
    with app.app_context():
        period, _unions, _grassroots = world(districts, make_user)
        expected = by_the_rule(period)
        with statements() as seen:
            covering = [u.id for u in scope.staff_users_covering(period)]
        assert covering == expected
        # The city coordinator, the admin, the district's and the union's coordinators.
        assert len(covering) == 4
        # Two statements (the accounts, the tree), whatever the number of appointments.
        assert len(seen) == 2, seen


def test_a_node_moved_between_two_calls_is_seen_by_the_second(
    app: Flask, make_user: Callable[..., User]
) -> None:
    with app.app_context():
        period, unions, grassroots = world(2, make_user)
        first, second = unions
        coordinator_of = {
            u.organisation_id: u.id
            for u in db.session.scalars(
                select(User).where(User.role == COORDINATOR, User.active.is_(True))
            )
        }
        before = scope.staff_covering(period)
        assert coordinator_of[first.id] in before
        assert coordinator_of[second.id] not in before
        grassroots.parent_id = second.id
        db.session.commit()
        after = scope.staff_covering(period)
        assert coordinator_of[second.id] in after
        assert coordinator_of[first.id] not in after
        assert after == by_the_rule(period)
