"""A volunteer's page as coordinators see it, rendered in one place: by its own view
(coordinator/routes.py) and again, with errors, by a refused "unavailable" form
(coordinator/dropouts.py)."""

from __future__ import annotations

from flask import render_template

from scheduler.coordinator.forms import UnavailableForm
from scheduler.forms import EmptyForm
from scheduler.models import Volunteer
from scheduler.models.base import utcnow
from scheduler.services import claims, pool, sheets


def volunteer_page(volunteer: Volunteer, unavailable_form: UnavailableForm | None = None) -> str:
    """The volunteer's page; `unavailable_form` when its "unavailable" form is shown again
    with errors (coordinator/dropouts.py)."""
    return render_template(
        "coordinator/volunteer.html",
        record=pool.volunteer_record(volunteer),
        upcoming=sheets.personal_schedule(volunteer),
        volunteer=volunteer,
        verifiers=pool.verifier_names(volunteer),
        unavailable_form=unavailable_form or UnavailableForm(formdata=None),
        claimable=claims.is_claimable(volunteer.user),
        claim_expires=claims.expires_on(volunteer.user, utcnow()),
        claim_form=EmptyForm(),
    )
