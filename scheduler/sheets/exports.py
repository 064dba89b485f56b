"""Downloads of a period's published roster for coordinators: CSV and XLSX
(?version=N for an older version; the latest by default). See scheduler.services.exports for
what each file holds. A version that does not parse or does not exist is explained on the
period's versions page."""

from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from scheduler.access import get_or_404, staff_required
from scheduler.downloads import file_response
from scheduler.models import PlanningPeriod
from scheduler.services import exports
from scheduler.sheets import bp
from scheduler.sheets.forms import VersionForm


def _explained(period: PlanningPeriod, message: object) -> Response:
    """Back to the period's versions page, saying why there is no file."""
    flash(str(message), "error")
    return redirect(url_for("coordinator.roster_versions", period_id=period.id))


def _download(period_id: int, extension: str) -> Response:
    period = get_or_404(PlanningPeriod, period_id)
    form = VersionForm(formdata=request.args)
    if not form.validate():
        return _explained(period, form.first_error())
    try:
        export = exports.roster_for_export(period.id, form.version.data, current_user)
    except exports.ExportError as error:
        return _explained(period, error.message)
    if extension == "csv":
        body, media_type = exports.roster_csv(export), exports.CSV_MEDIA_TYPE
    else:
        body, media_type = exports.roster_xlsx(export), exports.XLSX_MEDIA_TYPE
    return file_response(body, media_type, *exports.export_filename(export, extension))


@bp.get("/periods/<int:period_id>/roster.csv")
@staff_required
def roster_csv(period_id: int) -> Response:
    """Staff: the period's published roster (?version=N, else the latest) as CSV."""
    return _download(period_id, "csv")


@bp.get("/periods/<int:period_id>/roster.xlsx")
@staff_required
def roster_xlsx(period_id: int) -> Response:
    """Staff: the period's published roster (?version=N, else the latest) as an XLSX workbook,
    one sheet per site and one of totals per volunteer."""
    return _download(period_id, "xlsx")
