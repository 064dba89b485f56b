"""scheduler.planning's refusals are ServiceErrors: a view or service that handles a refused
operation (`except ServiceError`) handles a period that cannot be planned the same way."""

from __future__ import annotations

from datetime import date

import pytest
from flask import Flask
from flask_babel import force_locale

from scheduler.extensions import db
from scheduler.models import PlanningPeriod
from scheduler.planning import PlanningError, SolutionRejected, build_problem
from scheduler.services.errors import ServiceError


def test_planning_errors_are_service_errors() -> None:
    assert issubclass(PlanningError, ServiceError)
    assert issubclass(SolutionRejected, ServiceError)
    error = PlanningError("no sites")
    assert (error.message, error.field, str(error)) == ("no sites", None, "no sites")


def test_a_period_without_sites_is_refused_as_a_service_error(app: Flask) -> None:
    period = PlanningPeriod(
        name="空期", start_date=date(2026, 12, 7), end_date=date(2026, 12, 9), is_open=True
    )
    db.session.add(period)
    db.session.commit()
    with pytest.raises(ServiceError) as refused:
        build_problem(period)
    with force_locale("en"):
        assert str(refused.value) == "The period has no active sites to roster."
    assert refused.value.field is None
