"""A volunteer's own pages: /me, availability, profile, password, deleting the account.

Every view works on `current_user` only: no id in a URL or form ever selects whose data is
shown or changed."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import (
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale, gettext, to_user_timezone
from flask_login import current_user, login_required, logout_user
from werkzeug.wrappers import Response

from scheduler.access import current_volunteer, volunteer_required
from scheduler.forms import add_error
from scheduler.htmx import fragment, is_htmx, render, retarget
from scheduler.limits import account_allowed, count_account_failure
from scheduler.models import SITE_LEAD, VOLUNTEER, PlanningPeriod
from scheduler.models.base import utcnow
from scheduler.parsing import database_id
from scheduler.services import availability as avail
from scheduler.services import lookups, my_page
from scheduler.services.accounts import AccountError
from scheduler.services.phones import national
from scheduler.services.profile import (
    change_password,
    changes_phone,
    delete_account,
    profile_data_of,
    profile_gaps,
    update_profile,
)
from scheduler.sessions import keep_session
from scheduler.volunteer import bp, grid
from scheduler.volunteer.dates import DAY_LABEL, DAY_LONG, DAY_SHORT, date_format
from scheduler.volunteer.forms import (
    DayForm,
    DeleteAccountForm,
    GridForm,
    PasswordForm,
    ProfileEditForm,
    parse_cell,
    parse_week,
)


@bp.context_processor
def template_helpers() -> dict[str, Any]:
    """Dates the way people write them ('12月7日周一' / 'Mon, Dec 7') and phone numbers as
    dialled in China. Only the volunteer's own numbers are shown on these pages."""
    return {
        "day_label": date_format(DAY_LABEL),
        "day_short": date_format(DAY_SHORT),
        "day_long": date_format(DAY_LONG),
        "national": national,
    }


def _today() -> date:
    return to_user_timezone(utcnow()).date()


@bp.get("")
@login_required
def me() -> Response | str:
    """Any logged-in user: their profile, availability summary and (later) their shifts.
    Staff without a volunteer profile go to the coordinator dashboard instead."""
    volunteer = current_user.volunteer
    if volunteer is None and current_user.is_staff:
        return redirect(url_for("coordinator.dashboard"))
    if volunteer is None:
        return render_template("volunteer/me.html", user=current_user, volunteer=None)
    page = my_page.load(volunteer)
    return render_template(
        "volunteer/me.html",
        user=current_user,
        volunteer=volunteer,
        profile=page.profile,
        summaries=page.summaries,
        signup_open=page.signup_open,
        profile_gaps=profile_gaps(volunteer, page.profile),
    )


def _week_context(form_week: date | None, form_period: int | None) -> dict[str, Any]:
    periods = lookups.open_periods()
    period = avail.choose_period(periods, form_period)
    view = (
        avail.week_view(current_volunteer(), period, periods, form_week, _today())
        if period is not None
        else None
    )
    days = grid.grid_days(view.rows) if view is not None else []
    return {"view": view, "periods": periods, "days": days}


def _grid_redirect() -> Response:
    """Back to the week and period the grid form named (the no-JavaScript path)."""
    week = parse_week(request.form.get("week"))
    return redirect(
        url_for(
            "volunteer.availability",
            period=database_id(request.form.get("period")),
            week=week.isoformat() if week else None,
        )
    )


def _refused(message: str) -> Response:
    """A refused change: 400 with the message for htmx, a flash and the same week otherwise."""
    if is_htmx():
        return retarget(
            fragment("volunteer/_availability_error.html", status=400, message=message),
            "#availability-error",
        )
    flash(message, "error")
    return _grid_redirect()


def _grid_fragment() -> Response:
    return render(
        "volunteer/availability.html",
        "volunteer/_grid.html",
        **_week_context(
            parse_week(request.form.get("week")), database_id(request.form.get("period"))
        ),
        clear_error=True,
    )


@bp.get("/availability")
@volunteer_required
def availability() -> Response:
    """Volunteers: the week grid of the open periods (?period=<id>&week=YYYY-MM-DD)."""
    context = _week_context(
        parse_week(request.args.get("week")), database_id(request.args.get("period"))
    )
    return render("volunteer/availability.html", "volunteer/_grid.html", **context)


@bp.post("/availability/cell")
@volunteer_required
def availability_cell() -> Response:
    """Volunteers: flip one of their own cells; htmx gets the cell back, others a redirect.

    The busiest POST of the app (every tap): the value is parsed by hand rather than through
    a form class (CSRFProtect has already checked the token for every POST)."""
    cell = parse_cell(request.form.get("cell"))
    if cell is None:
        return _refused(gettext("Unknown shift."))
    day, start_hour = cell
    # The reply is rendered in the user's language; settle it now, while the user row is
    # loaded, rather than reloading the row the commit expires.
    get_locale()
    try:
        tap = avail.toggle_cell(
            current_volunteer(), day, start_hour, database_id(request.form.get("period"))
        )
    except avail.AvailabilityError as error:
        return _refused(str(error))
    if not is_htmx():
        return _grid_redirect()
    if tap.day_off_removed:  # the whole day's row changes: send the grid instead of the cell
        return retarget(_grid_fragment(), "#availability-grid")
    # The cell, and out of band the week's counter and, when the tap changed them, the states
    # of 'whole day' and 'whole week' (all read by the tap's own query). Most taps change
    # neither: rendering the two buttons anyway was a tenth of the tap's Python calls.
    context: dict[str, Any] = {
        "day": grid.tapped_day(avail.Cell(day, start_hour, tap.available), tap.whole_day),
        "clear_error": True,
        "week_count": tap.week_count,
    }
    if tap.whole_day is not None:
        context.update(whole_day=tap.whole_day, whole_week=tap.whole_week)
    return render("volunteer/availability.html", "volunteer/_cell.html", **context)


def _period_of(form: GridForm, day: date) -> PlanningPeriod | None:
    """The open period the grid showed, when it covers `day`; else one that does."""
    for period in lookups.open_periods():
        if period.id == form.period_id and period.covers(day):
            return period
    return avail.period_covering(day)


@bp.post("/availability/day")
@volunteer_required
def availability_day() -> Response:
    """Volunteers: 'whole day' on (or off when already all on) for one of their dates."""
    form = DayForm()
    if not form.validate_on_submit():
        return _refused(gettext("Unknown date."))
    period = _period_of(form, form.day_date)
    if period is None:
        return _refused(str(avail.NOT_OPEN))
    try:
        avail.toggle_day(current_volunteer(), period, form.day_date)
    except avail.AvailabilityError as error:
        return _refused(str(error))
    return _grid_fragment() if is_htmx() else _grid_redirect()


@bp.post("/availability/day-off")
@volunteer_required
def availability_day_off() -> Response:
    """Volunteers: mark one of their dates as a day off (clearing it), or undo that."""
    form = DayForm()
    if not form.validate_on_submit():
        return _refused(gettext("Unknown date."))
    try:
        avail.toggle_day_off(current_volunteer(), form.day_date)
    except avail.AvailabilityError as error:
        return _refused(str(error))
    return _grid_fragment() if is_htmx() else _grid_redirect()


@bp.post("/availability/week")
@volunteer_required
def availability_week() -> Response:
    """Volunteers: 'whole week' for the shown week of an open period."""
    form = GridForm()
    periods = lookups.open_periods()
    period = next((p for p in periods if p.id == form.period_id), None)
    if not form.validate_on_submit() or period is None or form.week_date is None:
        return _refused(str(avail.NOT_OPEN))
    try:
        avail.toggle_week(current_volunteer(), period, form.week_date)
    except avail.AvailabilityError as error:
        return _refused(str(error))
    return _grid_fragment() if is_htmx() else _grid_redirect()


@bp.route("/profile", methods=["GET", "POST"])
@volunteer_required
def profile() -> Response | tuple[str, int]:
    """Volunteers: edit their own profile (everything from registration but password and
    consent)."""
    form = ProfileEditForm(data=None if request.method == "POST" else _initial_profile())
    context = form.load_choices()
    status = 422 if request.method == "POST" else 200
    if form.validate_on_submit():
        data = form.profile_data()
        moving = changes_phone(current_user, data)
        # Refused phone changes (wrong password, a number that cannot be used) are counted
        # per account: probing which numbers exist stays slow.
        key = str(current_user.id)
        if moving and not account_allowed("PHONE_CHANGE_RATE_LIMIT", key):
            form.phone.errors = [
                *form.phone.errors,
                gettext("Too many attempts. Please wait a few minutes and try again."),
            ]
            status = 429
        else:
            try:
                update_profile(current_user, data, password=form.current_password.data or "")
            except AccountError as error:
                if moving and error.field in ("phone", "current_password"):
                    count_account_failure("PHONE_CHANGE_RATE_LIMIT", key)
                add_error(form, error)
            else:
                flash(gettext("Your profile is saved."), "success")
                return redirect(url_for("volunteer.me"))
    return render_template("volunteer/profile.html", form=form, **context), status


def _initial_profile() -> dict[str, Any]:
    data = profile_data_of(current_user)
    return {
        "name": data.name,
        "phone": national(data.phone),
        "work_unit": data.work_unit,
        "district": data.district_id or 0,
        "skills": sorted(data.skill_ids or ()),
        "accepts_nights": data.accepts_nights,
        "weekly_cap": data.weekly_cap,
        "partner_phone": national(data.partner_phone) if data.partner_phone else "",
        "emergency_name": data.emergency_name,
        "emergency_phone": national(data.emergency_phone) if data.emergency_phone else "",
    }


@bp.route("/password", methods=["GET", "POST"])
@login_required
def password() -> Response | tuple[str, int]:
    """Any logged-in user: change their own password (the current one is required)."""
    form = PasswordForm()
    if form.validate_on_submit():
        try:
            change_password(current_user, form.current.data or "", form.password.data or "")
        except AccountError as error:
            add_error(form, error)
        else:
            keep_session(current_user)  # every other session of the account ends
            flash(gettext("Your password is changed."), "success")
            return redirect(url_for("volunteer.me"))
    status = 422 if request.method == "POST" else 200
    return render_template("volunteer/password.html", form=form), status


@bp.route("/delete", methods=["GET", "POST"])
@login_required
def delete() -> Response | tuple[str, int]:
    """Volunteers and site leads: delete their own account after confirming the password.
    Coordinator and admin accounts are managed by an admin instead (403 here)."""
    if current_user.role not in (VOLUNTEER, SITE_LEAD):
        abort(403)
    form = DeleteAccountForm()
    if form.validate_on_submit():
        try:
            delete_account(current_user, form.password.data or "")
        except AccountError as error:
            add_error(form, error)
        else:
            logout_user()
            flash(gettext("Your account is deleted. Thank you for serving."), "success")
            return redirect(url_for("main.index"))
    status = 422 if request.method == "POST" else 200
    return render_template("volunteer/delete.html", form=form), status
