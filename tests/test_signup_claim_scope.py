"""A self-sign-up claim judges the claimed post alone: the problem it builds holds the claiming
volunteer and the claimed site (plus the shifts the volunteer holds elsewhere, for rest), not
the whole pool and period. The rules still see everything the volunteer holds: a claim that
breaks rest against a shift at another site is refused."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask

from scheduler import planning
from scheduler.extensions import db
from scheduler.models import PlanningPeriod, Site, User
from scheduler.services import signup
from tests.test_my_shifts import MON, client_for, make_roster
from tests.test_signup import assignments, key, volunteer

TUE = MON + timedelta(days=1)


@pytest.fixture
def sites_period(
    app: Flask, make_site: Callable[..., Site], make_period: Callable[..., PlanningPeriod]
) -> tuple[PlanningPeriod, list[Site]]:
    sites = [make_site(name=f"卡口{n}") for n in range(5)]
    period = make_period(sites=sites)
    period.self_signup_open = True
    db.session.commit()
    return period, sites


def test_claim_builds_a_problem_of_one_volunteer_and_one_site(
    app: Flask,
    monkeypatch: pytest.MonkeyPatch,
    sites_period: tuple[PlanningPeriod, list[Site]],
    make_volunteer: Callable[..., User],
) -> None:
    period, sites = sites_period
    others = [volunteer(make_volunteer, [(MON, "day"), (TUE, "day")]) for _ in range(6)]
    # Others fill posts at every site, in the draft: none of it concerns my claim.
    make_roster(
        period,
        [(site, TUE, "day", "code_checker", who) for site, who in zip(sites, others, strict=False)],
    )
    me = volunteer(make_volunteer, [(MON, "day"), (MON, "night"), (TUE, "day")])
    built: list[Any] = []
    real = planning.build_problem

    def spy(*args: Any, **kwargs: Any) -> Any:
        problem, mapping = real(*args, **kwargs)
        built.append(problem)
        return problem, mapping

    monkeypatch.setattr(signup, "build_problem", spy)
    client = client_for(app, me)
    client.post(
        "/me/signup/claim", data={"post": key(period, sites[2], MON, "day", "code_checker")}
    )

    (problem,) = built
    assert [p.id for p in problem.people] == [f"v{me.volunteer.id}"]
    assert {s.site for s in problem.shifts} == {str(sites[2].id)}
    assert (me.volunteer.id, MON, "day", 1, "self_signup", True) in assignments()


def test_claim_still_checks_rest_against_shifts_at_other_sites(
    app: Flask,
    sites_period: tuple[PlanningPeriod, list[Site]],
    make_volunteer: Callable[..., User],
) -> None:
    period, sites = sites_period
    me = volunteer(make_volunteer, [(MON, "evening"), (TUE, "night")], accepts_nights=True)
    rested = volunteer(make_volunteer, [(TUE, "night")], accepts_nights=True)
    make_roster(period, [(sites[0], MON, "evening", "code_checker", me)])
    before = assignments()
    client = client_for(app, me)
    # Monday's evening shift ends at midnight, Tuesday's night starts then: no rest between.
    client.post(
        "/me/signup/claim", data={"post": key(period, sites[3], TUE, "night", "code_checker")}
    )
    assert "You cannot take this post" in client.get("/me/signup").get_data(as_text=True)
    assert assignments() == before
    # The same post is open to someone rested.
    post = key(period, sites[3], TUE, "night", "code_checker")
    client_for(app, rested).post("/me/signup/claim", data={"post": post})
    assert (rested.volunteer.id, TUE, "night", 1, "self_signup", True) in assignments()
