"""Printed sheets: sign-in sheets (签到表) per site and day, the roster wall chart, a
volunteer's personal schedule and the logistics headcount, each as a page (print CSS, the
browser prints it) and as a PDF. Published rosters only.

Who sees what: coordinators and admins every sheet; the lead of a shift of a site on a day
(whatever their account role) that site's sign-in sheet for that day; a volunteer their own
schedule. Everyone else gets 403, anonymous users the login page."""

from __future__ import annotations

from datetime import date, timedelta

from flask import Response, abort, render_template, request
from flask_babel import gettext, to_user_timezone
from flask_login import current_user, login_required

from scheduler import printing as render
from scheduler.access import get_or_404, staff_required, volunteer_required
from scheduler.forms import INVALID, add_error
from scheduler.models import PlanningPeriod, Roster, Site
from scheduler.parsing import iso_day
from scheduler.services import duty, sheets
from scheduler.services.sheets import SheetError
from scheduler.sheets import bp
from scheduler.sheets.forms import DayForm, HeadcountForm, WallChartForm


@bp.after_request
def _private(response: Response) -> Response:
    """Sheets name people (and leads' phone numbers): no shared cache may keep a copy."""
    response.headers.setdefault("Cache-Control", "private, no-store")
    return response


def _day_or_404(text: str) -> date:
    """The day in a sheet's URL: 'YYYY-MM-DD' only, else 404."""
    day = iso_day(text)
    if day is None:
        abort(404)
    return day


def _nothing(message: object, status: int = 404) -> tuple[str, int]:
    """The page saying why there is nothing to print (also for a PDF's URL)."""
    html = render.render_sheet(
        "sheets/nothing.html", pdf=False, page_size=render.PORTRAIT, message=message
    )
    return html, status


# The "Print sheets" page -------------------------------------------------------------------


@bp.get("/")
@staff_required
def index() -> str:
    """Coordinators: the sites with a sign-in sheet on a day (tomorrow by default), the
    all-sites PDF, the headcount and the wall chart of each published period."""
    form = DayForm(formdata=request.args)
    form.validate()
    day = form.day.data or sheets.local_today() + timedelta(days=1)
    form.day.data = day
    return render_template(
        "sheets/index.html",
        form=form,
        day=day,
        sites=sheets.day_sites(day, current_user),
        periods=sheets.printable_periods(current_user),
        **render.helpers(),
    )


# Sign-in sheets ----------------------------------------------------------------------------


def _may_print_signin(site_id: int, day: date) -> bool:
    """Staff, or the lead of one of the site's shifts that day in the published roster."""
    if current_user.is_staff:
        return True
    volunteer = current_user.volunteer
    return volunteer is not None and duty.leads_at(volunteer.id, site_id, day)


def _signin(site_id: int, day_text: str, pdf: bool) -> Response | tuple[str, int] | str:
    day = _day_or_404(day_text)
    if not _may_print_signin(site_id, day):
        abort(403)
    site = get_or_404(Site, site_id)
    try:
        sheet = sheets.signin_sheet(site, day)
    except SheetError as error:
        return _nothing(error.message)
    if pdf:
        return render.signin_pdf_response([sheet], day, site)
    return render.signin_html([sheet], day, pdf=False)


@bp.get("/sites/<int:site_id>/<day>/signin")
@login_required
def signin(site_id: int, day: str) -> Response | tuple[str, int] | str:
    """The site's sign-in sheet for the day (staff, or a lead of that site and day)."""
    return _signin(site_id, day, pdf=False)


@bp.get("/sites/<int:site_id>/<day>/signin.pdf")
@login_required
def signin_pdf(site_id: int, day: str) -> Response | tuple[str, int] | str:
    """The same sheet as a PDF (A4 portrait)."""
    return _signin(site_id, day, pdf=True)


def _signin_day(day_text: str, pdf: bool) -> Response | tuple[str, int] | str:
    day = _day_or_404(day_text)
    try:
        all_sheets = sheets.signin_sheets(day, user=current_user)
    except SheetError as error:
        return _nothing(error.message)
    if pdf:
        return render.signin_pdf_response(all_sheets, day)
    return render.signin_html(all_sheets, day, pdf=False)


@bp.get("/days/<day>/signin")
@staff_required
def signin_day(day: str) -> Response | tuple[str, int] | str:
    """Coordinators: every site's sign-in sheet of the day on one page."""
    return _signin_day(day, pdf=False)


@bp.get("/days/<day>/signin.pdf")
@staff_required
def signin_day_pdf(day: str) -> Response | tuple[str, int] | str:
    """Coordinators: every site's sign-in sheet of the day in one PDF, a site per page."""
    return _signin_day(day, pdf=True)


# Wall chart --------------------------------------------------------------------------------


def _describe(roster: Roster) -> str:
    when = roster.published_at
    published = to_user_timezone(when).strftime("%Y-%m-%d") if when else ""
    return gettext("Version %(num)d (%(day)s)", num=roster.version, day=published)


def _wall(period_id: int, pdf: bool) -> Response | tuple[str, int] | str:
    period = get_or_404(PlanningPeriod, period_id)
    form = WallChartForm(formdata=request.args)
    form.validate()
    if form.version.errors:
        return _nothing(form.version.errors[0], INVALID)
    try:
        chart = sheets.wall_chart(period, form.version.data)
    except SheetError as error:
        return _nothing(error.message)
    form.set_versions(chart.versions, _describe)
    form.version.data = chart.roster.version
    html = render.render_sheet(
        "sheets/wall.html", pdf=pdf, page_size=form.page_size, chart=chart, form=form
    )
    if not pdf:
        return html
    filename = f"wall-chart-{period.id}-v{chart.roster.version}.pdf"
    return render.pdf_response(html, filename)


@bp.get("/periods/<int:period_id>/wall")
@staff_required
def wall(period_id: int) -> Response | tuple[str, int] | str:
    """Coordinators: the period's site × date × shift chart of a published version."""
    return _wall(period_id, pdf=False)


@bp.get("/periods/<int:period_id>/wall.pdf")
@staff_required
def wall_pdf(period_id: int) -> Response | tuple[str, int] | str:
    """The wall chart as a PDF (A4 or A3 landscape: ?paper=a3)."""
    return _wall(period_id, pdf=True)


# Personal schedule -------------------------------------------------------------------------


def _schedule(pdf: bool) -> Response | str:
    volunteer = current_user.volunteer
    shifts = sheets.personal_schedule(volunteer)
    html = render.render_sheet(
        "sheets/schedule.html",
        pdf=pdf,
        page_size=render.PORTRAIT,
        shifts=shifts,
        user=current_user,
    )
    return render.pdf_response(html, "my-schedule.pdf") if pdf else html


@bp.get("/my-schedule")
@volunteer_required
def schedule() -> Response | str:
    """Volunteers: their own upcoming published shifts, to print or keep on the phone."""
    return _schedule(pdf=False)


@bp.get("/my-schedule.pdf")
@volunteer_required
def schedule_pdf() -> Response | str:
    return _schedule(pdf=True)


# Headcount ---------------------------------------------------------------------------------


def _headcount(fmt: str) -> Response | tuple[str, int] | str:
    form = HeadcountForm(formdata=request.args)
    if not form.validate():
        return render.headcount_html(form, None), INVALID
    try:
        plan = sheets.headcount(form.first_day.data, form.last_day.data, current_user)
    except SheetError as error:
        add_error(form, error)
        return render.headcount_html(form, None), INVALID
    form.first_day.data, form.last_day.data = plan.first, plan.last
    return render.headcount_download(form, plan, fmt)


@bp.get("/headcount")
@staff_required
def headcount() -> Response | tuple[str, int] | str:
    """Coordinators: people on duty per site, date and shift (meals, protective equipment)."""
    return _headcount("html")


@bp.get("/headcount.pdf")
@staff_required
def headcount_pdf() -> Response | tuple[str, int] | str:
    return _headcount("pdf")


@bp.get("/headcount.csv")
@staff_required
def headcount_csv() -> Response | tuple[str, int] | str:
    return _headcount("csv")
