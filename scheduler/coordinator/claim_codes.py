"""The claim codes of an import, and a new code for one imported volunteer.

Registered on the coordinator blueprint. After an import the coordinator sees the codes once
more as downloads: a CSV and an XLSX of every code, and per work unit a printable A4 page of
slips to cut and hand out (a page the browser prints, and the same as a PDF). The plain codes
stay in an owner-only file bound to the coordinator until they say they are done, a day at
most (scheduler.services.claims); the database keeps only digests."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import abort, current_app, flash, make_response, redirect, render_template, url_for
from flask_babel import gettext
from flask_login import current_user
from werkzeug.wrappers import Response

from scheduler import printing as render
from scheduler.access import get_or_404, members_required, staff_required
from scheduler.coordinator import bp, volunteer_or_404
from scheduler.downloads import file_response
from scheduler.forms import EmptyForm
from scheduler.models import Volunteer, WorkUnit
from scheduler.services import claims, codes
from scheduler.services.spreadsheets import CSV_MEDIA_TYPE, XLSX_MEDIA_TYPE


def no_store(view: Callable[..., Any]) -> Callable[..., Response]:
    """A response carrying plain claim codes: no cache (the browser's or a proxy's) may keep
    it (`Cache-Control: private, no-store`)."""

    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Response:
        response = make_response(view(*args, **kwargs))
        response.headers["Cache-Control"] = "private, no-store"
        return response

    return wrapped


def codes_dir() -> Path:
    """Next to the import uploads (IMPORT_DIR, else instance/imports)."""
    configured = current_app.config.get("IMPORT_DIR")
    return Path(configured) if configured else Path(current_app.instance_path) / "imports"


def _slips_or_gone(token: str) -> list[claims.ClaimSlip] | Response:
    slips = claims.load_slips(codes_dir(), token, current_user.id)
    if slips is None:
        flash(
            gettext(
                "These claim codes are no longer kept. Give a volunteer a new code from their "
                "page in the volunteer list."
            ),
            "warning",
        )
        return redirect(url_for("coordinator.import_upload"))
    return slips


def _claim_url(endpoint: str = "auth.claim") -> str:
    """The page a slip sends its reader to (the claim page, or the password reset page)."""
    base = current_app.config.get("PUBLIC_BASE_URL")
    if base:
        return base.rstrip("/") + url_for(endpoint)
    return url_for(endpoint, _external=True)


@bp.get("/import/codes/<token>")
@members_required
@no_store
def import_codes(token: str) -> Response | str:
    """The downloads of an import's claim codes."""
    slips = _slips_or_gone(token)
    if isinstance(slips, Response):
        return slips
    return render_template(
        "coordinator/import_codes.html",
        token=token,
        slips=slips,
        groups=claims.by_work_unit(slips),
        form=EmptyForm(),
    )


@bp.get("/import/codes/<token>/codes.csv")
@members_required
@no_store
def import_codes_csv(token: str) -> Response:
    slips = _slips_or_gone(token)
    if isinstance(slips, Response):
        return slips
    return file_response(claims.slips_csv(slips), CSV_MEDIA_TYPE, "claim-codes.csv")


@bp.get("/import/codes/<token>/codes.xlsx")
@members_required
@no_store
def import_codes_xlsx(token: str) -> Response:
    slips = _slips_or_gone(token)
    if isinstance(slips, Response):
        return slips
    return file_response(claims.slips_xlsx(slips), XLSX_MEDIA_TYPE, "claim-codes.xlsx")


def _unit_slips(token: str, unit: int, pdf: bool) -> Response | str:
    slips = _slips_or_gone(token)
    if isinstance(slips, Response):
        return slips
    groups = claims.by_work_unit(slips)
    if not 1 <= unit <= len(groups):
        abort(404)
    name, unit_slips = groups[unit - 1]
    html = render.render_sheet(
        "coordinator/claim_slips.html",
        pdf=pdf,
        page_size=render.PORTRAIT,
        token=token,
        unit=unit,
        unit_name=name,
        slips=unit_slips,
        claim_url=_claim_url(),
    )
    if pdf:
        return render.pdf_response(html, f"claim-slips-{unit}.pdf")
    return html


@bp.get("/import/codes/<token>/slips/<int:unit>")
@members_required
@no_store
def import_slips(token: str, unit: int) -> Response | str:
    """One work unit's slips (the `unit`-th group of the downloads page) as a page to print."""
    return _unit_slips(token, unit, pdf=False)


@bp.get("/import/codes/<token>/slips/<int:unit>.pdf")
@members_required
@no_store
def import_slips_pdf(token: str, unit: int) -> Response | str:
    """The same slips as a PDF (A4 portrait)."""
    return _unit_slips(token, unit, pdf=True)


@bp.post("/import/codes/<token>/discard")
@members_required
def import_codes_discard(token: str) -> Response:
    """The coordinator has printed or saved the codes: forget the plain copy."""
    form = EmptyForm()
    if form.validate_on_submit() and claims.load_slips(codes_dir(), token, current_user.id):
        claims.discard_slips(codes_dir(), token)
        flash(gettext("The claim codes are no longer kept on the server."), "success")
    return redirect(url_for("coordinator.import_upload"))


@bp.post("/volunteers/<int:volunteer_id>/claim-code")
@members_required
@no_store
def volunteer_claim_code(volunteer_id: int) -> Response | tuple[str, int]:
    """A new claim code for an imported volunteer who has not claimed the account (the old
    code stops working). Shown once, on this response, with a slip to print."""
    volunteer = volunteer_or_404(volunteer_id)
    form = EmptyForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        slip = claims.reissue_code(volunteer.user)
    except claims.ClaimError as error:
        flash(str(error), "error")
        return redirect(url_for("coordinator.volunteer_detail", volunteer_id=volunteer.id))
    return _one_slip(volunteer, slip, _claim_url())


@bp.post("/volunteers/<int:volunteer_id>/reset-code")
@staff_required
@no_store
def volunteer_reset_code(volunteer_id: int) -> Response | tuple[str, int]:
    """A one-time password reset code for a volunteer who forgot the password (the old
    reset code stops working), for when no text message can reach them. Shown once, on this
    response, on the same slip as a claim code."""
    volunteer = volunteer_or_404(volunteer_id)
    form = EmptyForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        slip = codes.issue_reset_slip(volunteer.user)
    except codes.CodeError as error:
        flash(str(error), "error")
        return redirect(url_for("coordinator.volunteer_detail", volunteer_id=volunteer.id))
    return _one_slip(volunteer, slip, _claim_url("auth.reset_password"), reset=True)


def _one_slip(
    volunteer: Volunteer, slip: claims.ClaimSlip, url: str, reset: bool = False
) -> tuple[str, int]:
    """One volunteer's slip (a claim code, or with `reset` a password reset code), shown once
    on the response that made it."""
    html = render.render_sheet(
        "coordinator/claim_slips.html",
        pdf=False,
        page_size=render.PORTRAIT,
        token=None,
        unit=None,
        unit_name=slip.work_unit,
        slips=[slip],
        claim_url=url,
        volunteer=volunteer,
        reset=reset,
    )
    return html, 200


@bp.post("/work-units/<int:unit_id>/claim-codes")
@members_required
def work_unit_claim_codes(unit_id: int) -> Response:
    """New claim codes for every volunteer of the work unit who has not claimed their
    account (those imported before claim codes existed have none): the same downloads and
    slips as after an import."""
    unit = get_or_404(WorkUnit, unit_id)
    form = EmptyForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        slips = claims.reissue_work_unit_codes(unit.id)
    except claims.ClaimError as error:
        flash(str(error), "error")
        return redirect(url_for("coordinator.work_unit_edit", unit_id=unit.id))
    flash(
        gettext(
            "%(num)d volunteers of %(name)s have new claim codes; their old codes no longer work.",
            num=len(slips),
            name=unit.name,
        ),
        "success",
    )
    token = claims.store_slips(codes_dir(), slips, user_id=current_user.id)
    return redirect(url_for("coordinator.import_codes", token=token))
