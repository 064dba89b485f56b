"""A volunteer's own service hours (志愿服务时长) under /me: the list of shifts recorded at
check-in with their totals, and a certificate of the hours served (a page to print, and the
same as a PDF). Always the logged-in volunteer's own records: nothing in the URL selects
whose."""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, render_template, request
from flask_babel import gettext, to_user_timezone
from flask_login import current_user

from scheduler.access import current_volunteer, volunteer_required
from scheduler.downloads import file_response
from scheduler.labels import SHIFT_LABELS
from scheduler.models.base import utcnow
from scheduler.services import hours as hours_service
from scheduler.services.pdf import html_to_pdf
from scheduler.volunteer import bp


def _context() -> dict[str, Any]:
    return {
        "mine": hours_service.my_hours(current_volunteer().id),
        "name": current_user.name,
        "local_clock": hours_service.local_clock,
        "shift_name": SHIFT_LABELS,
        "status_labels": hours_service.STATUS_LABELS,
    }


def _certificate_context() -> dict[str, Any]:
    """The issuer is the CERTIFICATE_ISSUER setting ("Muster" by default); the date today."""
    return {
        "issuer": current_app.config.get("CERTIFICATE_ISSUER") or gettext("Muster"),
        "issued": to_user_timezone(utcnow()).date(),
        **_context(),
    }


@bp.get("/hours")
@volunteer_required
def hours() -> str:
    """Volunteers: their service hours — totals, and every shift recorded at check-in."""
    return render_template("checkin/my_hours.html", **_context())


@bp.get("/hours/certificate")
@volunteer_required
def hours_certificate() -> str:
    """Volunteers: a certificate of the hours they served, to print (print CSS hides the
    rest of the page)."""
    return render_template("checkin/certificate.html", **_certificate_context())


@bp.get("/hours/certificate.pdf")
@volunteer_required
def hours_certificate_pdf() -> Response:
    """Volunteers: the certificate as an A4 PDF (Chinese font embedded)."""
    html = render_template("checkin/certificate_document.html", **_certificate_context())
    pdf = html_to_pdf(html, request.url_root)
    return file_response(pdf, "application/pdf", "service-hours.pdf", inline=True)
