"""A volunteer's published shifts (confirm, cancel), self-sign-up and inbox, under /me.

Every view works on `current_user`'s volunteer profile: an assignment or notification id in a
URL or form only ever selects among their own rows (another's id is a 404 and writes nothing)."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext, to_user_timezone
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from scheduler.access import current_volunteer, volunteer_required
from scheduler.forms import DatabaseIdField, EmptyForm
from scheduler.htmx import is_htmx, render
from scheduler.i18n import lazy_gettext as _l
from scheduler.labels import SHIFT_LABELS, TranslatedOnce
from scheduler.models.responses import MAX_REASON_LENGTH
from scheduler.parsing import iso_day
from scheduler.services import inbox as inbox_service
from scheduler.services import my_shifts, signup
from scheduler.volunteer import bp

SIGNUP_PAGE_SIZE = 30  # posts per day shown at once: the page stays small on mobile data


class CancelForm(FlaskForm):
    reason = TextAreaField(
        _l("Why do you cancel?"),
        validators=[
            DataRequired(_l("Please say why you cancel.")),
            Length(max=MAX_REASON_LENGTH, message=_l("At most %(max)d characters.")),
        ],
        render_kw={"maxlength": MAX_REASON_LENGTH, "rows": 3},
    )


class ClaimForm(FlaskForm):
    post = StringField(validators=[DataRequired(), Length(max=80)])


class ReadForm(FlaskForm):
    notification = DatabaseIdField(validators=[Optional()])


def _parse_day(value: object) -> date | None:
    return iso_day(value)


@bp.context_processor
def _shift_helpers() -> dict[str, Any]:
    """Lazy helpers for /me (whose view lives in routes.py): called only by templates that
    show shifts or the inbox badge."""

    def my_shift_list() -> my_shifts.MyShifts:
        return my_shifts.my_shifts(current_volunteer())

    return {
        "my_shift_list": my_shift_list,
        "cancel_cutoff_hours": my_shifts.cutoff_hours,
        "shift_name": TranslatedOnce(SHIFT_LABELS),
        "parse_day": _parse_day,
        "local_time": to_user_timezone,
    }


def _card_or_404(assignment_id: int) -> my_shifts.ShiftCard:
    try:
        return my_shifts.shift_card(current_volunteer(), assignment_id)
    except my_shifts.ShiftNotFound:
        abort(404)


@bp.get("/shifts/<int:assignment_id>")
@volunteer_required
def shift(assignment_id: int) -> str:
    """Volunteers: one of their published shifts, with confirm and cancel (or whom to call)."""
    return render_template(
        "volunteer/shift.html", card=_card_or_404(assignment_id), form=CancelForm()
    )


@bp.post("/shifts/<int:assignment_id>/confirm")
@volunteer_required
def shift_confirm(assignment_id: int) -> Response:
    """Volunteers: confirm one of their upcoming published shifts."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        my_shifts.confirm(current_volunteer(), assignment_id)
    except my_shifts.ShiftNotFound:
        abort(404)
    except my_shifts.ShiftError as error:
        if is_htmx():
            return render(
                "volunteer/shift.html",
                "volunteer/_shift_card.html",
                status=409,
                card=_card_or_404(assignment_id),
                error=str(error),
            )
        flash(str(error), "error")
        return redirect(url_for("volunteer.me"))
    if is_htmx():
        return render(
            "volunteer/shift.html",
            "volunteer/_shift_card.html",
            card=_card_or_404(assignment_id),
        )
    flash(gettext("Thank you: your shift is confirmed."), "success")
    return redirect(url_for("volunteer.me"))


@bp.route("/shifts/<int:assignment_id>/cancel", methods=["GET", "POST"])
@volunteer_required
def shift_cancel(assignment_id: int) -> Response | tuple[str, int]:
    """Volunteers: cancel one of their published shifts with a reason, before the cutoff."""
    card = _card_or_404(assignment_id)
    form = CancelForm()
    if form.validate_on_submit():
        try:
            my_shifts.cancel(current_volunteer(), assignment_id, form.reason.data or "")
        except my_shifts.ShiftNotFound:
            abort(404)
        except my_shifts.ShiftError as error:
            form.reason.errors = [*form.reason.errors, str(error)]
        else:
            flash(gettext("Your shift is cancelled. The coordinators have been told."), "success")
            return redirect(url_for("volunteer.me"))
    status = 422 if form.is_submitted() else 200
    return render_template("volunteer/shift.html", card=card, form=form), status


@bp.get("/signup")
@volunteer_required
def signup_list() -> str:
    """Volunteers: open posts they can claim (periods open for self-sign-up), one day at a
    time (?day=YYYY-MM-DD, else the first day with posts), and their own self-sign-ups."""
    posts = signup.open_posts(current_volunteer())
    days = sorted({p.day for p in posts})
    chosen = _parse_day(request.args.get("day", ""))
    if chosen not in days:
        chosen = days[0] if days else None
    shown = [p for p in posts if p.day == chosen]
    return render_template(
        "volunteer/signup.html",
        posts=shown[:SIGNUP_PAGE_SIZE],
        more=max(len(shown) - SIGNUP_PAGE_SIZE, 0),
        days=[(day, sum(1 for p in posts if p.day == day)) for day in days],
        chosen=chosen,
        periods=signup.signup_periods(),
        mine=signup.my_signups(current_volunteer()),
        form=EmptyForm(),
    )


@bp.post("/signup/claim")
@volunteer_required
def signup_claim() -> Response:
    """Volunteers: claim one open post (first come, first served)."""
    form = ClaimForm()
    if not form.validate_on_submit():
        flash(gettext("This post is not open for self-sign-up."), "error")
        return redirect(url_for("volunteer.signup_list"))
    try:
        signup.claim(current_volunteer(), form.post.data or "")
    except signup.SignupError as error:
        flash(str(error), "error")
        return redirect(url_for("volunteer.signup_list"), 303)
    flash(gettext("The post is yours. It appears in your shifts once the roster is published."))
    return redirect(url_for("volunteer.signup_list"), 303)


@bp.post("/signup/<int:assignment_id>/withdraw")
@volunteer_required
def signup_withdraw(assignment_id: int) -> Response:
    """Volunteers: withdraw one of their self-sign-ups before the roster is published."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        signup.withdraw(current_volunteer(), assignment_id)
    except LookupError:
        abort(404)
    except signup.SignupError as error:
        flash(str(error), "error")
    else:
        flash(gettext("Your sign-up is withdrawn."))
    return redirect(url_for("volunteer.signup_list"), 303)


@bp.get("/inbox")
@volunteer_required
def inbox() -> str:
    """Volunteers: their notifications, newest first."""
    return render_template(
        "volunteer/inbox.html", box=inbox_service.inbox(current_user.id), form=EmptyForm()
    )


@bp.post("/inbox/read")
@volunteer_required
def inbox_read() -> Response:
    """Volunteers: mark one of their notifications read (`notification`), or all of them."""
    form = ReadForm()
    if not form.validate_on_submit():
        abort(400)
    inbox_service.mark_read(current_user.id, form.notification.data)
    if is_htmx():
        return render(
            "volunteer/inbox.html",
            "volunteer/_inbox_list.html",
            box=inbox_service.inbox(current_user.id),
            form=EmptyForm(),
        )
    return redirect(url_for("volunteer.inbox"), 303)
