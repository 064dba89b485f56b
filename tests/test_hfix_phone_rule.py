"""One phone rule (scope.phone_as_seen): the lists a coordinator messages from read numbers
through it too (scope.phone_seen_by), so a number of a node outside their scope is masked even
if a list let it through; exports.volunteer_totals must be told how to write numbers."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask

from scheduler.models import Site, User
from scheduler.services import exports, scope
from scheduler.services.phones import mask, national
from tests.test_trust_gaps import build_city


def test_phone_seen_by_follows_the_node_rule(
    app: Flask, make_user: Callable[..., User], make_site: Callable[..., Site]
) -> None:
    city = build_city(make_user, make_site)
    a, b = city.districts["a"], city.districts["b"]
    phone = city.volunteers["b"].phone
    district = city.coordinators["a"]
    assert scope.phone_seen_by(district, phone, a.organisation_id) == national(phone)
    assert scope.phone_seen_by(district, phone, b.organisation_id) == mask(phone)
    assert scope.phone_seen_by(city.coordinators["city"], phone, b.organisation_id) == national(
        phone
    )
    assert scope.phone_seen_by(city.volunteers["a"], phone, a.organisation_id) == mask(phone)


def test_volunteer_totals_needs_the_phone_rule() -> None:
    with pytest.raises(TypeError):
        exports.volunteer_totals([])  # type: ignore[call-arg]
