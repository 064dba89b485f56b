"""scope.staff_contacts_covering_node (the coordinators a shift card on /me names, read with the
union tree in one statement, as rows) names exactly the accounts scope.staff_users_covering
names for a period of that node: the one scope rule, on SQLite and on PostgreSQL, for a city
with and without a tree, a district's and a grassroots union's period and a period of no node."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from flask import Flask

from scheduler.extensions import db
from scheduler.models import (
    ADMIN,
    COORDINATOR,
    LIAISON,
    Organisation,
    PlanningPeriod,
    User,
)
from scheduler.models.organisations import CITY, DISTRICT, GRASSROOTS
from scheduler.services import scope
from tests.fixtures.statements import statements


@pytest.fixture
def flask_app(any_db_app: Flask) -> Iterator[Flask]:
    with any_db_app.test_request_context():
        yield any_db_app


def _same_as_users(period: PlanningPeriod, roles: tuple[str, ...]) -> list[str]:
    expected = [u.name for u in scope.staff_users_covering(period, roles)]
    with statements() as seen:
        found = scope.staff_contacts_covering_node(period.organisation_id, roles)
    assert len(seen) == 1
    assert [c.name for c in found] == expected
    return expected


def _period(
    make_period: Callable[..., PlanningPeriod], node: Organisation | None
) -> PlanningPeriod:
    period = make_period()
    period.organisation_id = node.id if node is not None else None
    db.session.commit()
    return period


def test_without_a_tree_every_coordinator_covers_every_period(
    flask_app: Flask,
    make_user: Callable[..., User],
    make_period: Callable[..., PlanningPeriod],
) -> None:
    db.session.query(Organisation).delete()
    db.session.commit()
    make_user(role=COORDINATOR, name="甲")
    make_user(role=COORDINATOR, name="乙")
    make_user(role=ADMIN, name="管理员")
    assert _same_as_users(_period(make_period, None), (COORDINATOR,)) == ["甲", "乙"]


def test_each_period_is_covered_by_the_coordinators_above_it(
    flask_app: Flask,
    make_user: Callable[..., User],
    make_period: Callable[..., PlanningPeriod],
) -> None:
    db.session.query(Organisation).delete()
    city = Organisation(kind=CITY, name="市总工会")
    db.session.add(city)
    db.session.flush()
    a = Organisation(kind=DISTRICT, name="甲区", parent_id=city.id)
    b = Organisation(kind=DISTRICT, name="乙区", parent_id=city.id)
    db.session.add_all([a, b])
    db.session.flush()
    a_union = Organisation(kind=GRASSROOTS, name="甲厂", parent_id=a.id)
    db.session.add(a_union)
    db.session.commit()
    for name, node in (("市", city), ("甲", a), ("乙", b), ("甲厂", a_union), ("无", None)):
        user = make_user(role=COORDINATOR, name=f"{name}协调员")
        user.organisation_id = node.id if node is not None else None
    make_user(role=LIAISON, name="联络员").organisation_id = a_union.id
    gone = make_user(role=COORDINATOR, name="离开的协调员")
    gone.organisation_id, gone.active = city.id, False
    db.session.commit()
    assert _same_as_users(_period(make_period, a_union), (COORDINATOR,)) == [
        "市协调员",
        "甲协调员",
        "甲厂协调员",
    ]
    assert _same_as_users(_period(make_period, b), (COORDINATOR,)) == ["市协调员", "乙协调员"]
    assert _same_as_users(_period(make_period, city), (COORDINATOR,)) == ["市协调员"]
    _same_as_users(_period(make_period, None), (COORDINATOR,))
    _same_as_users(_period(make_period, a_union), (COORDINATOR, LIAISON, ADMIN))
