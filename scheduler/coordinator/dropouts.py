"""Drop-outs reported by phone: a coordinator marks a volunteer unavailable for some days, which
cancels their published shifts in that range so the holes show on the roster page for Repair."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, url_for
from flask_babel import gettext, ngettext
from flask_login import current_user

from scheduler.access import staff_required
from scheduler.coordinator import bp, volunteer_or_404
from scheduler.coordinator.forms import UnavailableForm
from scheduler.coordinator.volunteer_page import volunteer_page
from scheduler.extensions import db
from scheduler.forms import INVALID, add_error
from scheduler.services import my_shifts
from scheduler.services.my_shifts import ShiftError


@bp.post("/volunteers/<int:volunteer_id>/unavailable")
@staff_required
def volunteer_unavailable(volunteer_id: int) -> Any:
    """Cancel the volunteer's published shifts from one day to another (a drop-out reported
    by phone); bad input re-renders the volunteer page with the errors and changes nothing."""
    volunteer = volunteer_or_404(volunteer_id)
    form = UnavailableForm()
    if form.validate_on_submit():
        try:
            count = my_shifts.mark_unavailable(
                volunteer,
                form.first_day.data,
                form.last_day.data,
                form.reason.data or "",
                current_user,
            )
        except ShiftError as error:
            db.session.rollback()
            add_error(form, error)
        else:
            flash(
                ngettext(
                    "Marked unavailable: %(num)d shift cancelled. Repair the roster to fill it.",
                    "Marked unavailable: %(num)d shifts cancelled. Repair the roster to fill them.",
                    count,
                )
                if count
                else gettext(
                    "Marked unavailable: no upcoming published shift left to cancel in those days."
                )
            )
            return redirect(url_for("coordinator.volunteer_detail", volunteer_id=volunteer.id))
    return volunteer_page(volunteer, form), INVALID
