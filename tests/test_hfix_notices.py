"""A volunteer's cancellation and the numbers on their shift card reach the coordinators whose
scope holds the period (scope.staff_covering), not every coordinator in the city: the notice
carries the volunteer's name, the site, the day and their reason."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from sqlalchemy import select

from scheduler.extensions import db
from scheduler.models import COORDINATOR, Notification, PlanningPeriod, Site, User
from scheduler.services import my_shifts
from scheduler.services.my_shifts import VOLUNTEER_CANCELLED
from tests.fixtures.rosters import make_roster
from tests.test_trust_gaps import City, build_city

MON = date(2026, 12, 7)


def _district_period(city: City) -> PlanningPeriod:
    period = PlanningPeriod(
        name="甲区一期",
        start_date=MON,
        end_date=date(2026, 12, 13),
        is_open=True,
        sites=[city.sites["a"]],
        organisation_id=city.districts["a"].organisation_id,
    )
    db.session.add(period)
    db.session.commit()
    make_roster(
        period, [(city.sites["a"], MON, "day", "code_checker", city.volunteers["a"])], version=1
    )
    return period


def test_a_cancellation_is_told_to_the_coordinators_covering_the_period_only(
    app: object, make_user: Callable[..., User], make_site: Callable[..., Site]
) -> None:
    city = build_city(make_user, make_site)
    loose = make_user(COORDINATOR, name="未任命协调员")
    _district_period(city)
    volunteer = city.volunteers["a"].volunteer
    assert volunteer is not None
    card = my_shifts.my_shifts(volunteer).upcoming[0]
    assert sorted(c.name for c in card.coordinators) == sorted(
        [city.coordinators["a"].name, city.coordinators["city"].name]
    )
    my_shifts.cancel(volunteer, card.assignment_id, "家里有事")
    told = set(
        db.session.scalars(
            select(Notification.user_id).where(Notification.kind == VOLUNTEER_CANCELLED)
        )
    )
    assert told == {city.coordinators["a"].id, city.coordinators["city"].id}
    assert city.coordinators["b"].id not in told
    assert loose.id not in told
