"""Turning the sheets' data (scheduler.services.sheets) into pages and PDFs.

One template per sheet serves both: it extends `layout`, which is the bare print document for
the PDF (rendered by WeasyPrint with static/css/print.css) and, for the page, base.html (or
the coordinator layout for staff) with the same stylesheet, so the browser prints the page
the way the PDF looks. Used by the views and by `flask export-sheets`."""

from __future__ import annotations

import re
import secrets
import shutil
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import segno
from babel.dates import format_skeleton
from flask import Response, current_app, render_template, request, url_for
from flask_babel import force_locale, get_locale, gettext, to_user_timezone
from flask_login import current_user
from markupsafe import Markup
from weasyprint import Document

from scheduler.downloads import file_response
from scheduler.labels import SHIFT_LABELS, SITE_KIND_LABELS
from scheduler.models import Site
from scheduler.services.pdf import combined_pdf, html_to_document, html_to_pdf
from scheduler.services.sheets import (
    Headcount,
    SignInSheet,
    file_slug,
    headcount_csv,
    printed_at,
    signin_sheets,
)
from scheduler.services.spreadsheets import CSV_MEDIA_TYPE

DOCUMENT = "sheets/_document.html"  # the PDF: the sheet alone
SCREEN = "sheets/_screen.html"  # the page, for site leads and volunteers
STAFF = "sheets/_staff.html"  # the page inside the coordinator layout

PORTRAIT = "A4"
LANDSCAPE = "A4 landscape"


def qr_svg(text: str) -> Markup:
    """A QR code as inline SVG (no image file, no JavaScript); CSS sets its printed size."""
    code = segno.make_qr(text, error="m")
    return Markup(code.svg_inline(scale=1, border=2, omitsize=True, svgclass="qr-code"))


def checkin_url(site: Site, day: date) -> str:
    """The page the sign-in sheet's QR code opens: the site's check-in for that day."""
    return url_for("checkin.site_day", site_id=site.id, day=day.isoformat(), _external=True)


def _date_format(skeleton: str) -> Callable[[date], str]:
    def fmt(day: date) -> str:
        return format_skeleton(skeleton, day, locale=get_locale())

    return fmt


def helpers() -> dict[str, Any]:
    """What every sheet template uses: dates in the reader's language ('2026年12月11日周五' /
    'Fri, Dec 11, 2026'), shift and site kind names, the QR code, local times."""
    return {
        "day_long": _date_format("yMMMEd"),
        "day_label": _date_format("MMMEd"),
        "shift_name": SHIFT_LABELS,
        "site_kind": SITE_KIND_LABELS,
        "qr_svg": qr_svg,
        "checkin_url": checkin_url,
        "local_time": to_user_timezone,
        "printed_at": printed_at(),  # a site's sign-in sheet has its own, in the site's zone
    }


def render_sheet(template: str, *, pdf: bool, page_size: str, **context: Any) -> str:
    """The sheet's HTML: the print document when `pdf`, else the page around it."""
    if pdf:
        layout = DOCUMENT
    elif current_user.is_authenticated and current_user.is_staff:
        layout = STAFF
    else:
        layout = SCREEN
    return render_template(
        template, layout=layout, pdf=pdf, page_size=page_size, **helpers(), **context
    )


def pdf_response(html: str, filename: str) -> Response:
    """The page as a PDF, shown in the browser (saved under `filename`)."""
    return file_response(
        html_to_pdf(html, request.url_root), "application/pdf", filename, inline=True
    )


# Headcount ---------------------------------------------------------------------------------


def headcount_html(form: Any, plan: Headcount | None, pdf: bool = False) -> str:
    """The headcount page (the form, and the plan when there is one) or its PDF document."""
    return render_sheet("sheets/headcount.html", pdf=pdf, page_size=LANDSCAPE, form=form, plan=plan)


def headcount_download(form: Any, plan: Headcount, fmt: str) -> Response | str:
    """The headcount as `fmt`: 'csv' (a file), 'pdf', or 'html' (the page)."""
    name = f"headcount-{plan.first.isoformat()}-{plan.last.isoformat()}"
    if fmt == "csv":
        return file_response(headcount_csv(plan), CSV_MEDIA_TYPE, f"{name}.csv")
    if fmt == "pdf":
        return pdf_response(headcount_html(form, plan, pdf=True), f"{name}.pdf")
    return headcount_html(form, plan)


# Sign-in sheets ----------------------------------------------------------------------------


def signin_html(sheets: list[SignInSheet], day: date, pdf: bool) -> str:
    return render_sheet("sheets/signin.html", pdf=pdf, page_size=PORTRAIT, sheets=sheets, day=day)


def signin_documents(sheets: list[SignInSheet], day: date, base_url: str) -> list[Document]:
    """Each site's sign-in sheet laid out on its own (its pages numbered '1 / n')."""
    return [html_to_document(signin_html([sheet], day, pdf=True), base_url) for sheet in sheets]


def all_signin_pdf(documents: list[Document], day: date) -> bytes:
    """Every site's sheet in one PDF, from the documents already laid out."""
    return combined_pdf(documents, f"{gettext('Sign-in sheets')} · {day.isoformat()}")


def signin_pdf_response(sheets: list[SignInSheet], day: date, site: Site | None = None) -> Response:
    """One site's sheet, or every site's of the day (`site` None), as a PDF to show."""
    documents = signin_documents(sheets, day, request.url_root)
    body = documents[0].write_pdf() if site is not None else all_signin_pdf(documents, day)
    return file_response(body, "application/pdf", signin_filename(day, site), inline=True)


def signin_filename(day: date, site: Site | None = None) -> str:
    return f"signin-{day.isoformat()}-{file_slug(site) if site else 'all'}.pdf"


# Files written by `flask export-sheets`: a site's '<id>-<pinyin>.pdf' (or '<id>.pdf' when its
# name has no letters or digits in pinyin) and all.pdf. Only these are ever replaced or removed.
EXPORTED_PDF = re.compile(r"(?:[0-9]+(?:-[a-z0-9-]*)?|all)\.pdf")


def export_signin_pdfs(
    day: date, out_dir: Path, base_url: str, locale: str | None = None
) -> list[Path]:
    """Write the sign-in sheet of every site with people on duty on `day` to `out_dir`, one
    PDF per site ('<id>-<pinyin slug>.pdf') and all of them in all.pdf; returns the paths.
    Runs outside a request: `base_url` is where the app is served, for the QR codes' links.

    The PDFs are written into a temporary folder next to `out_dir` and moved into it only
    when every one is written, so a failure leaves `out_dir` as it was. Sheets a previous run
    wrote there for sites with nobody on duty now are removed (only files named like the
    command's own, see EXPORTED_PDF; anything else in the folder is left alone), so all.pdf
    never sits next to a stale site's sheet. Raises SheetError when nothing is published for
    that day (nothing is written)."""
    sheets = signin_sheets(day)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    # Same file system as `out_dir`, so moving in is a rename; mkdir honours the umask
    # (a folder made by mkdtemp would end up readable by its owner only).
    staging = out_dir.parent / f".{out_dir.name}.partial-{secrets.token_hex(4)}"
    staging.mkdir()
    try:
        with (
            current_app.test_request_context("/", base_url=base_url),
            force_locale(locale or current_app.config["BABEL_DEFAULT_LOCALE"]),
        ):
            documents = signin_documents(sheets, day, request.url_root)
            for sheet, document in zip(sheets, documents, strict=True):
                (staging / f"{file_slug(sheet.site)}.pdf").write_bytes(document.write_pdf())
            (staging / "all.pdf").write_bytes(all_signin_pdf(documents, day))
        return _move_into(staging, out_dir)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _move_into(staging: Path, out_dir: Path) -> list[Path]:
    """Put the staged PDFs in `out_dir`: the whole folder renamed into place when `out_dir`
    does not exist yet; else each file replaced (a rename: never half a file) and the
    command's files not in this run removed. Returns the new paths."""
    names = sorted(p.name for p in staging.iterdir())
    if not out_dir.exists():
        staging.rename(out_dir)
    else:
        for name in names:
            (staging / name).replace(out_dir / name)
        for stale in out_dir.iterdir():
            if stale.is_file() and EXPORTED_PDF.fullmatch(stale.name) and stale.name not in names:
                stale.unlink()
    return [out_dir / name for name in names]
