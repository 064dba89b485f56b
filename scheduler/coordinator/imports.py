"""Importing a work unit's list of volunteers: upload -> preview with row errors -> confirm.

Registered on the coordinator blueprint. The upload is kept under the instance folder between
the steps (see scheduler.services.importer for why), named by a random token that is bound to
the coordinator who uploaded it.
"""

from __future__ import annotations

from pathlib import Path

from flask import current_app, flash, redirect, render_template, url_for
from flask_babel import gettext
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from scheduler.access import members_required
from scheduler.coordinator import bp
from scheduler.coordinator.import_forms import ImportConfirmForm, ImportUploadForm
from scheduler.extensions import db
from scheduler.forms import EmptyForm
from scheduler.models import LIAISON, WorkUnit
from scheduler.services import catalogue_admin, claims, importer

PREVIEW_VALID_ROWS_SHOWN = 200


def _upload_dir() -> Path:
    """IMPORT_DIR when configured (tests, shared volumes), else instance/imports."""
    configured = current_app.config.get("IMPORT_DIR")
    return Path(configured) if configured else Path(current_app.instance_path) / "imports"


def _work_unit_names() -> list[str]:
    """The work units the importer may name (a liaison: only their own union's)."""
    return [unit.name for unit, _count in catalogue_admin.list_work_units(current_user)]


def _liaison_unit() -> str | None:
    """A liaison imports members of their own union only: its work unit's name."""
    if current_user.role != LIAISON:
        return None
    return db.session.scalar(
        select(WorkUnit.name).where(WorkUnit.organisation_id == current_user.organisation_id)
    )


def _render_upload(
    form: ImportUploadForm, status: int = 200, file_error: str | None = None
) -> tuple[str, int]:
    liaison_unit = _liaison_unit()
    if liaison_unit is not None:
        form.work_unit.data = liaison_unit  # a liaison imports their own union's members
    return (
        render_template(
            "coordinator/import.html",
            form=form,
            liaison_unit=liaison_unit,
            file_error=file_error,
            work_units=_work_unit_names(),
            max_rows=importer.MAX_IMPORT_ROWS,
        ),
        status,
    )


def _render_preview(
    upload: importer.StoredUpload,
    preview: importer.ImportPreview,
    form: ImportConfirmForm,
    status: int = 200,
    changed: bool = False,
) -> tuple[str, int]:
    form.fingerprint.data = preview.fingerprint
    valid = preview.valid_rows
    return (
        render_template(
            "coordinator/import_preview.html",
            upload=upload,
            preview=preview,
            form=form,
            discard_form=EmptyForm(),
            changed=changed,
            shown_valid=valid[:PREVIEW_VALID_ROWS_SHOWN],
            hidden_valid=max(0, len(valid) - PREVIEW_VALID_ROWS_SHOWN),
        ),
        status,
    )


def _expired() -> Response:
    flash(
        gettext("This upload has expired or was already imported. Upload the file again."),
        "warning",
    )
    return redirect(url_for("coordinator.import_upload"))


@bp.route("/import", methods=["GET", "POST"])
@members_required
def import_upload() -> Response | tuple[str, int]:
    """Step 1: upload a file. A file that cannot be imported at all is refused here, before
    anything is kept; otherwise it is stored and the coordinator goes to the preview."""
    form = ImportUploadForm()
    if not form.validate_on_submit():
        return _render_upload(form, 422 if form.is_submitted() else 200)
    storage = form.file.data
    data = storage.read(importer.MAX_IMPORT_BYTES + 1)
    work_unit = _liaison_unit() or (form.work_unit.data or "").strip() or None
    try:
        importer.preview_import(
            data, storage.filename or "", work_unit, force_work_unit=_liaison_unit() is not None
        )
    except importer.ImportFileError as error:
        return _render_upload(form, 422, file_error=str(error.message))
    token = importer.store_upload(
        _upload_dir(),
        data,
        user_id=current_user.id,
        filename=storage.filename or "",
        work_unit=work_unit,
    )
    return redirect(url_for("coordinator.import_preview", token=token))


@bp.route("/import/<token>", methods=["GET"])
@members_required
def import_preview(token: str) -> Response | tuple[str, int]:
    """The rows as they would be imported, each bad row with its reasons; writes nothing."""
    upload = importer.load_upload(_upload_dir(), token, current_user.id)
    if upload is None:
        return _expired()
    try:
        preview = importer.preview_import(
            upload.data,
            upload.filename,
            upload.work_unit,
            force_work_unit=_liaison_unit() is not None,
        )
    except importer.ImportFileError:
        return _expired()
    return _render_preview(upload, preview, ImportConfirmForm(formdata=None))


@bp.route("/import/<token>", methods=["POST"])
@members_required
def import_confirm(token: str) -> Response | tuple[str, int]:
    """Step 2: re-check the file and write every valid row in one transaction. If the outcome
    differs from what the preview showed (e.g. a phone was registered meanwhile), nothing is
    written and the new preview is shown instead."""
    upload = importer.load_upload(_upload_dir(), token, current_user.id)
    if upload is None:
        return _expired()
    form = ImportConfirmForm()
    try:
        preview = importer.preview_import(
            upload.data,
            upload.filename,
            upload.work_unit,
            force_work_unit=_liaison_unit() is not None,
        )
    except importer.ImportFileError:
        return _expired()
    if not form.validate_on_submit() or form.fingerprint.data != preview.fingerprint:
        flash(
            gettext(
                "Something changed since the preview (for example a mobile number was "
                "registered meanwhile). Nothing was imported; check the rows again."
            ),
            "warning",
        )
        return _render_preview(upload, preview, form, 409, changed=True)
    if form.only_if_all_valid.data and preview.invalid_rows:
        flash(
            gettext(
                "Nothing was imported: %(n)d rows have errors and you chose to import only "
                "if every row is valid.",
                n=len(preview.invalid_rows),
            ),
            "error",
        )
        return _render_preview(upload, preview, form, 422)
    try:
        slips = importer.write_import(preview, current_user)
    except importer.ImportConflict as error:
        flash(str(error.message), "error")
        return _render_preview(upload, preview, form, 409, changed=True)
    importer.discard_upload(_upload_dir(), token)
    skipped = len(preview.invalid_rows)
    flash(
        gettext(
            "Imported %(created)d volunteers; %(skipped)d rows with errors were skipped. "
            "Each claims their account with the mobile number and the claim code below: "
            "print the slips or save the list now, the codes are not shown again.",
            created=len(slips),
            skipped=skipped,
        ),
        "success",
    )
    if not slips:
        return redirect(url_for("coordinator.import_upload"))
    codes = claims.store_slips(_upload_dir(), slips, user_id=current_user.id)
    return redirect(url_for("coordinator.import_codes", token=codes))


@bp.route("/import/<token>/discard", methods=["POST"])
@members_required
def import_discard(token: str) -> Response:
    """Throw an upload away without importing anything."""
    form = EmptyForm()
    upload = importer.load_upload(_upload_dir(), token, current_user.id)
    if upload is not None and form.validate_on_submit():
        importer.discard_upload(_upload_dir(), token)
        flash(gettext("The upload was discarded; nothing was imported."), "success")
    return redirect(url_for("coordinator.import_upload"))
