"""The demo's union tree (issue 13): the city union, district unions with their own
coordinators, grassroots unions with liaisons; every volunteer in a union; each coordinator's
counts follow their scope; the solver problem covers exactly a period's sites and the people
of its unions."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from sqlalchemy import func, select

from scheduler import planning
from scheduler.extensions import db
from scheduler.models import (
    COORDINATOR,
    LIAISON,
    Organisation,
    PlanningPeriod,
    User,
    Volunteer,
)
from scheduler.services import dashboard, scope
from scheduler.services.demo import DEMO_ACCOUNTS, DEMO_UNIONS
from scheduler.services.phones import normalize_mobile


def test_demo_builds_the_tree_and_scoped_logins(app_factory: Callable[..., Flask]) -> None:
    app = app_factory()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["seed-demo", "--volunteers", "120", "--seed", "2"])
    assert result.exit_code == 0, result.output
    logins = runner.invoke(args=["demo-logins"]).output
    for _role, phone, password, _name in DEMO_ACCOUNTS:
        assert f"{phone}  {password}" in logins
    assert "崇川区" in logins
    assert "林森物流集团工会" in logins
    with app.app_context():
        (root,) = db.session.scalars(select(Organisation).where(Organisation.parent_id.is_(None)))
        kinds = dict(
            db.session.execute(
                select(Organisation.kind, func.count()).group_by(Organisation.kind)
            ).all()
        )
        assert kinds == {"city": 1, "district": 7, "grassroots": 7}
        assert (
            db.session.scalar(
                select(func.count(Volunteer.id)).where(Volunteer.organisation_id.is_(None))
            )
            == 0
        )
        staff = {
            u.phone: u
            for u in db.session.scalars(select(User).where(User.role.in_((COORDINATOR, LIAISON))))
        }
        by_union = {
            staff[normalize_mobile(phone)].organisation.name: staff[normalize_mobile(phone)]  # type: ignore[union-attr]  # every demo appointment has a union
            for phone in DEMO_UNIONS
        }
        assert by_union["南通市总工会"].organisation_id == root.id
        assert by_union["林森物流集团工会"].role == LIAISON
        chongchuan, tongzhou = by_union["崇川区"], by_union["通州区"]
        whole = dashboard.counts(by_union["南通市总工会"])
        a, b = dashboard.counts(chongchuan), dashboard.counts(tongzhou)
        assert 0 < a.volunteers < whole.volunteers
        assert 0 < b.volunteers < whole.volunteers
        assert a.volunteers + b.volunteers <= whole.volunteers
        assert (a.active_sites, whole.active_sites) == (4, 10)
        assert (a.open_periods, b.open_periods, whole.open_periods) == (1, 0, 2)

        city_period, own = db.session.scalars(
            select(PlanningPeriod).order_by(PlanningPeriod.id)
        ).all()
        problem, mapping = planning.build_problem(city_period)
        active = db.session.scalar(select(func.count(Volunteer.id))) or 0
        assert len(problem.people) == active
        assert set(mapping.site_ids) == {s.id for s in city_period.sites}
        problem, mapping = planning.build_problem(own)
        # 崇川区's own period is opened to the neighbouring 通州区 (reinforcement).
        members = {
            vid
            for coordinator in (chongchuan, tongzhou)
            for vid in db.session.scalars(
                scope.volunteers_in_scope(coordinator).with_only_columns(Volunteer.id)
            )
        }
        assert set(mapping.volunteers.values()) == members
        assert set(mapping.site_ids) == {s.id for s in own.sites}
