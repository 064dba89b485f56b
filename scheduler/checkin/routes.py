"""Check-in and service hours.

/checkin/sites/<site>/<YYYY-MM-DD> is the page the printed sign-in sheet's QR code opens (keep
the endpoint name and URL): the site's shifts that day, where the lead of a shift marks who
came. Marking posts one person's row and gets that row back (htmx) or a redirect to the page
(plain forms). Access is decided by scheduler.services.attendance: staff mark any shift, the
lead of a shift marks that shift and reads the others, everyone else gets 403.

/checkin/hours is the coordinators' table of service hours with its XLSX and CSV exports."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import (
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from scheduler.access import members_required
from scheduler.checkin import bp
from scheduler.checkin.forms import (
    HoursFilterForm,
    StatusForm,
    TimesForm,
    WalkInForm,
    WalkInSearchForm,
)
from scheduler.downloads import file_response
from scheduler.extensions import db
from scheduler.htmx import fragment, is_htmx, varies
from scheduler.labels import SHIFT_LABELS
from scheduler.models import PlanningPeriod, Site
from scheduler.parsing import iso_day
from scheduler.services import attendance, hours, scope
from scheduler.services.attendance import (
    CheckinError,
    NotAllowed,
    NotOnShift,
    Person,
    ShiftCheckin,
)
from scheduler.services.catalogue_admin import list_work_units
from scheduler.services.hours import STATUS_LABELS
from scheduler.services.periods import list_periods
from scheduler.services.phones import mask, national
from scheduler.services.spreadsheets import CSV_MEDIA_TYPE, XLSX_MEDIA_TYPE


@bp.context_processor
def _checkin_context() -> dict[str, Any]:
    return {
        "shift_labels": SHIFT_LABELS,
        "status_labels": STATUS_LABELS,
        "national": national,
        "mask": mask,
        "lead_edit_hours": int(attendance.LEAD_EDIT_WINDOW.total_seconds() // 3600),
        "opens_before_hours": int(attendance.OPENS_BEFORE.total_seconds() // 3600),
    }


# Loading with access checks ---------------------------------------------------------------------


def _site_and_day(site_id: int, day_text: str) -> tuple[Site, date]:
    """The site and date of a URL; unknown ones are 404 for staff and 403 for everyone else
    (who may not learn which sites exist)."""
    site = db.session.get(Site, site_id)
    day = iso_day(day_text)
    # Staff outside the site's scope learn no more than about a site that does not exist.
    hidden = site is not None and current_user.is_staff and not scope.in_scope(site, current_user)
    if site is None or day is None or hidden:
        abort(404 if current_user.is_staff else 403)
    return site, day


def _shift_or_abort(site_id: int, day_text: str, kind: str) -> ShiftCheckin:
    site, day = _site_and_day(site_id, day_text)
    try:
        return attendance.shift_checkin(site, day, kind, current_user)
    except NotAllowed:
        abort(403)
    except NotOnShift:
        abort(404)


def _page_url(shift: ShiftCheckin, **args: Any) -> str:
    return url_for(
        "checkin.site_day",
        site_id=shift.site.id,
        day=shift.day.isoformat(),
        _anchor=f"shift-{shift.kind}",
        **args,
    )


def _roles(shift: ShiftCheckin) -> list[Any]:
    return attendance.walk_in_roles(shift) if shift.can_mark else []


# Pages ------------------------------------------------------------------------------------------


@bp.get("/")
@login_required
def index() -> str:
    """Today's shifts to check in: for staff every site with people on duty, for a volunteer
    the shifts they lead (empty for anyone else)."""
    entries = attendance.todays_shifts(current_user)
    return render_template("checkin/index.html", entries=entries)


# The printed sheet's QR code opens this page: keep the endpoint name and URL
# (/checkin/sites/<site_id>/<YYYY-MM-DD>).
@bp.get("/sites/<int:site_id>/<day>")
@login_required
def site_day(site_id: int, day: str) -> str | Response:
    """The site's shifts on the day with who is on duty and what was recorded. Walk-in search:
    ?walkin=<shift>&q=<text> (htmx gets just the results)."""
    site, the_day = _site_and_day(site_id, day)
    try:
        view = attendance.site_day(site, the_day, current_user)
    except NotAllowed:
        abort(403)
    search = WalkInSearchForm(request.args)
    searching = next((s for s in view.shifts if s.kind == search.walkin.data and s.can_mark), None)
    query = (search.q.data or "").strip() if searching is not None else ""
    candidates = attendance.walk_in_candidates(searching, query, current_user) if searching else []
    context: dict[str, Any] = {
        "view": view,
        "roles": {s.kind: _roles(s) for s in view.shifts},
        "search_kind": searching.kind if searching else None,
        "query": query,
        "candidates": candidates,
    }
    if is_htmx() and searching is not None:
        return fragment("checkin/_walk_in_results.html", shift=searching, **context)
    return varies(make_response(render_template("checkin/site_day.html", **context)))


# Changes ----------------------------------------------------------------------------------------


def _row(shift: ShiftCheckin, person: Person | None, error: str | None = None) -> Response:
    """The person's row (empty when a walk-in was removed) and, out of band, the shift's
    tally read afresh, for htmx."""
    html = (
        render_template("checkin/_person.html", shift=shift, person=person, error=error)
        if person is not None
        else ""
    )
    fresh = _shift_or_abort(shift.site.id, shift.day.isoformat(), shift.kind)
    html += render_template("checkin/_counts.html", shift=fresh, oob=True)
    return varies(make_response(html))


def _after_change(
    shift: ShiftCheckin, volunteer_id: int, person: Person | None, error: str | None
) -> Response:
    if is_htmx():
        return _row(shift, person if person is not None else shift.person(volunteer_id), error)
    if error:
        flash(error, "error")
    return redirect(_page_url(shift), code=303)


def _form_error(form: Any) -> str:
    for errors in form.errors.values():
        if errors:
            return str(errors[0])
    return gettext("Please check the form.")


@bp.post("/sites/<int:site_id>/<day>/<shift>/<int:volunteer_id>/status")
@login_required
def mark(site_id: int, day: str, shift: str, volunteer_id: int) -> Response:
    """One tap: present, late or absent for someone on the shift (or remove a walk-in)."""
    checkin = _shift_or_abort(site_id, day, shift)
    if checkin.person(volunteer_id) is None:
        abort(404)
    form = StatusForm()
    if not form.validate_on_submit():
        return _after_change(checkin, volunteer_id, None, _form_error(form))
    try:
        person = attendance.mark(checkin, volunteer_id, form.status.data, current_user)
    except CheckinError as error:
        db.session.rollback()
        return _after_change(checkin, volunteer_id, None, str(error))
    if person is None:  # a walk-in removed
        if is_htmx():
            return _row(checkin, None)
        return redirect(_page_url(checkin), code=303)
    return _after_change(checkin, volunteer_id, person, None)


@bp.post("/sites/<int:site_id>/<day>/<shift>/<int:volunteer_id>/times")
@login_required
def times(site_id: int, day: str, shift: str, volunteer_id: int) -> Response:
    """Correct someone's time in and out (local HH:MM), or record the time out as now."""
    checkin = _shift_or_abort(site_id, day, shift)
    if checkin.person(volunteer_id) is None:
        abort(404)
    form = TimesForm()
    if not form.validate_on_submit():
        return _after_change(checkin, volunteer_id, None, _form_error(form))
    try:
        person = attendance.set_times(
            checkin,
            volunteer_id,
            form.time_in.data,
            form.time_out.data,
            current_user,
            out_now=form.out_now.data == "1",
        )
    except CheckinError as error:
        db.session.rollback()
        return _after_change(checkin, volunteer_id, None, str(error))
    return _after_change(checkin, volunteer_id, person, None)


@bp.post("/sites/<int:site_id>/<day>/<shift>/walk-ins")
@login_required
def walk_in(site_id: int, day: str, shift: str) -> Response:
    """Add a walk-in from the pool; htmx gets the shift's section back."""
    checkin = _shift_or_abort(site_id, day, shift)
    form = WalkInForm()
    error = None
    if not form.validate_on_submit():
        if form.tampered():  # an id no page sends: not a whole number, or out of range
            abort(400)
        error = _form_error(form)
    else:
        try:
            attendance.add_walk_in(checkin, form.volunteer_id.data, form.role_id.data, current_user)
        except CheckinError as failure:
            db.session.rollback()
            error = str(failure)
    if not is_htmx():
        if error:
            flash(error, "error")
        return redirect(_page_url(checkin), code=303)
    return fragment(
        "checkin/_shift.html",
        shift=checkin,
        roles={checkin.kind: _roles(checkin)},
        search_kind=checkin.kind if error else None,
        query="",
        candidates=[],
        walk_in_error=error,
    )


# Service hours ----------------------------------------------------------------------------------


def _hours_table() -> tuple[HoursFilterForm, hours.HoursTable, PlanningPeriod | None]:
    form = HoursFilterForm(request.args)
    periods = list_periods(current_user)
    units = [unit for unit, _count in list_work_units(current_user)]
    form.period.choices = [("", gettext("All dates"))] + [
        (str(p.id), f"{p.name} ({p.start_date.isoformat()} – {p.end_date.isoformat()})")
        for p in periods
    ]
    form.work_unit.choices = [("", gettext("All work units"))] + [
        (str(u.id), u.name) for u in units
    ]
    period = next((p for p in periods if p.id == form.period.data), None)
    if period is None:
        form.period.data = None
    unit_id = form.work_unit.data if any(u.id == form.work_unit.data for u in units) else None
    form.work_unit.data = unit_id
    table = hours.hours_table(
        first=period.start_date if period else None,
        last=period.end_date if period else None,
        work_unit_id=unit_id,
        site_ids=[site.id for site in period.sites] if period else None,
        user=current_user,
    )
    return form, table, period


def _filter_args(form: HoursFilterForm) -> dict[str, Any]:
    return {
        key: value
        for key, value in (("period", form.period.data), ("work_unit", form.work_unit.data))
        if value is not None
    }


@bp.get("/hours")
@members_required
def hours_page() -> str:
    """Coordinators: service hours per volunteer (hours, shifts served, late, no-shows),
    filtered by period (its dates and sites) and work unit, most hours first, in pages."""
    form, table, period = _hours_table()
    page = hours.page_of(table, form.page.data or 1)
    return render_template(
        "checkin/hours.html",
        form=form,
        table=table,
        page=page,
        period=period,
        filter_args=_filter_args(form),
    )


def _download(
    body: bytes, media_type: str, extension: str, period: PlanningPeriod | None
) -> Response:
    name = f"service-hours-{period.start_date.isoformat() if period else 'all'}.{extension}"
    return file_response(body, media_type, name)


@bp.get("/hours.xlsx")
@members_required
def hours_xlsx() -> Response:
    """The filtered table (all pages) as XLSX."""
    _form, table, period = _hours_table()
    return _download(hours.export_xlsx(table), XLSX_MEDIA_TYPE, "xlsx", period)


@bp.get("/hours.csv")
@members_required
def hours_csv() -> Response:
    """The filtered table (all pages) as CSV (UTF-8 with BOM)."""
    _form, table, period = _hours_table()
    return _download(hours.export_csv(table), CSV_MEDIA_TYPE, "csv", period)
