"""Admin pages: accounts and their roles, deactivation, passwords; the union tree and who
coordinates each union. Admins only."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user
from werkzeug.wrappers import Response

from scheduler.access import admin_required, get_or_404
from scheduler.admin import bp
from scheduler.admin.forms import (
    ORG_KIND_LABELS,
    ROLE_LABELS,
    STATUS_LABELS,
    AccountSearchForm,
    AppointForm,
    OrganisationArchiveForm,
    OrganisationForm,
    OrganisationMergeForm,
    OrganisationNameForm,
    OrganisationParentForm,
    OrganisationReinforceForm,
    PasswordForm,
    ReturnForm,
    RoleForm,
)
from scheduler.extensions import db
from scheduler.forms import INVALID, add_error
from scheduler.htmx import render
from scheduler.models import Organisation, User
from scheduler.services import admin as admin_service
from scheduler.services import organisations as organisation_service
from scheduler.services.phones import national
from scheduler.sessions import keep_session


def _back(target: str | None) -> Response:
    """Return to the filtered account list the action came from; only that list is accepted
    as a target, so the hidden field cannot redirect anywhere else."""
    base = url_for("admin.accounts")
    if target and (target == base or target.startswith(base + "?")) and "\\" not in target:
        return redirect(target)
    return redirect(base)


@bp.route("/", methods=["GET"])
@admin_required
def index() -> Response:
    """The admin area starts at the account list."""
    return redirect(url_for("admin.accounts"))


@bp.route("/accounts", methods=["GET"])
@admin_required
def accounts() -> Response:
    """List and search accounts; htmx searches get only the table back."""
    form = AccountSearchForm(request.args)
    form.validate()
    page = request.args.get("page", 1, type=int) or 1
    result = admin_service.search_accounts(
        query="" if form.q.errors else (form.q.data or ""),
        role=form.role.data or None,
        status=form.status.data or None,
        page=page,
    )
    return render(
        "admin/accounts.html",
        "admin/_accounts_table.html",
        form=form,
        result=result,
        role_labels=ROLE_LABELS,
        status_labels=STATUS_LABELS,
        national=national,
        back=request.full_path.rstrip("?"),
        role_form_for=lambda user: RoleForm(formdata=None, role=user.role),
        return_form=ReturnForm(formdata=None),
    )


@bp.route("/accounts/<int:user_id>/role", methods=["POST"])
@admin_required
def change_role(user_id: int) -> Response:
    """Give an account another role (volunteer, site lead, coordinator, admin)."""
    user = get_or_404(User, user_id)
    form = RoleForm()
    if not form.validate_on_submit():
        flash(gettext("Choose one of the listed roles."), "error")
        return _back(form.next.data)
    try:
        admin_service.change_role(user, form.role.data)
    except admin_service.AdminError as error:
        flash(str(error.message), "error")
    else:
        flash(
            gettext("%(name)s is now: %(role)s.", name=user.name, role=str(ROLE_LABELS[user.role])),
            "success",
        )
    return _back(form.next.data)


def _set_active(user_id: int, active: bool) -> Response:
    user = get_or_404(User, user_id)
    form = ReturnForm()
    if form.validate_on_submit():
        try:
            admin_service.set_active(current_user, user, active)
        except admin_service.AdminError as error:
            flash(str(error.message), "error")
        else:
            message = (
                gettext("%(name)s can log in again.", name=user.name)
                if active
                else gettext("%(name)s is deactivated and can no longer log in.", name=user.name)
            )
            flash(message, "success")
    return _back(form.next.data)


@bp.route("/accounts/<int:user_id>/deactivate", methods=["POST"])
@admin_required
def deactivate(user_id: int) -> Response:
    """Stop an account from logging in; its history (shifts, hours) stays."""
    return _set_active(user_id, False)


@bp.route("/accounts/<int:user_id>/reactivate", methods=["POST"])
@admin_required
def reactivate(user_id: int) -> Response:
    """Let a deactivated account log in again."""
    return _set_active(user_id, True)


@bp.route("/accounts/<int:user_id>/password", methods=["GET", "POST"])
@admin_required
def set_password(user_id: int) -> Response | tuple[str, int]:
    """Set a new password for an account, e.g. the first one of an imported volunteer."""
    user = get_or_404(User, user_id)
    form = PasswordForm()
    if form.validate_on_submit():
        try:
            admin_service.set_password(user, form.password.data)
        except admin_service.AdminError as error:
            form.password.errors = [str(error.message)]
        else:
            # The account's sessions end (the user loader sees the new hash); an admin
            # resetting their own password stays logged in here.
            if user.id == current_user.id:
                keep_session(user)
            flash(
                gettext(
                    "New password set for %(name)s. Tell them in person or by phone.",
                    name=user.name,
                ),
                "success",
            )
            return redirect(url_for("admin.accounts"))
    status = 422 if form.is_submitted() else 200
    return (
        render_template("admin/set_password.html", form=form, user=user, national=national),
        status,
    )


# The union tree ---------------------------------------------------------------------------


def _node_or_404(org_id: int) -> Organisation:
    return get_or_404(Organisation, org_id)


def _choices(nodes: list[Organisation]) -> list[tuple[int, str]]:
    return [(n.id, f"{n.name} ({ORG_KIND_LABELS[n.kind]})") for n in nodes]


@bp.route("/organisations", methods=["GET", "POST"])
@admin_required
def organisations() -> Response | tuple[str, int]:
    """The union tree with its coordinators and liaisons; POST adds a union."""
    form = OrganisationForm()
    form.parent_id.choices = _choices(
        organisation_service.parent_choices(None, "district")
        + organisation_service.parent_choices(None, "grassroots")
    )
    if form.validate_on_submit():
        parent = db.session.get(Organisation, form.parent_id.data)
        try:
            node = organisation_service.create(form.kind.data, form.name.data, parent)
        except organisation_service.OrganisationError as error:
            add_error(form, error, flash_if_no_field=True)
        else:
            flash(gettext("“%(name)s” added.", name=node.name), "success")
            return redirect(url_for("admin.organisations"))
    status = INVALID if form.is_submitted() else 200
    return render_template(
        "admin/organisations.html",
        form=form,
        rows=organisation_service.tree(),
        unappointed=organisation_service.unappointed_coordinators(),
        national=national,
        kind_labels=ORG_KIND_LABELS,
        role_labels=ROLE_LABELS,
    ), status


@bp.get("/organisations/<int:org_id>")
@admin_required
def organisation(org_id: int) -> str:
    """One union: rename, move, merge, archive, appoint."""
    node = _node_or_404(org_id)
    name_form = OrganisationNameForm(formdata=None, name=node.name)
    parent_form = OrganisationParentForm(formdata=None, parent_id=node.parent_id)
    parent_form.parent_id.choices = _choices(organisation_service.parent_choices(node, node.kind))
    merge_form = OrganisationMergeForm(formdata=None)
    merge_form.target_id.choices = _choices(
        [n for n in organisation_service.merge_choices(node) if n.id != node.id]
    )
    staff = next((r.staff for r in organisation_service.tree() if r.node.id == node.id), [])
    return render_template(
        "admin/organisation.html",
        node=node,
        name_form=name_form,
        parent_form=parent_form,
        merge_form=merge_form,
        archive_form=OrganisationArchiveForm(formdata=None),
        reinforce_form=OrganisationReinforceForm(formdata=None),
        appoint_form=AppointForm(formdata=None),
        staff=staff,
        kind_labels=ORG_KIND_LABELS,
        role_labels=ROLE_LABELS,
        national=national,
    )


def _done(node_id: int, message: str | None, error: Exception | None = None) -> Response:
    if error is not None:
        flash(str(getattr(error, "message", error)), "error")
    elif message:
        flash(message, "success")
    return redirect(url_for("admin.organisation", org_id=node_id))


def _invalid(node_id: int) -> Response:
    flash(gettext("Check the form and try again."), "error")
    return redirect(url_for("admin.organisation", org_id=node_id))


@bp.post("/organisations/<int:org_id>/rename")
@admin_required
def organisation_rename(org_id: int) -> Response:
    node = _node_or_404(org_id)
    form = OrganisationNameForm()
    if not form.validate_on_submit():
        return _invalid(node.id)
    try:
        organisation_service.rename(node, form.name.data)
    except organisation_service.OrganisationError as error:
        db.session.rollback()
        return _done(org_id, None, error)
    return _done(org_id, gettext("Saved."))


@bp.post("/organisations/<int:org_id>/move")
@admin_required
def organisation_move(org_id: int) -> Response:
    node = _node_or_404(org_id)
    form = OrganisationParentForm()
    if not form.validate_on_submit():
        return _invalid(node.id)
    try:
        organisation_service.move(node, db.session.get(Organisation, form.parent_id.data))
    except organisation_service.OrganisationError as error:
        db.session.rollback()
        return _done(org_id, None, error)
    return _done(org_id, gettext("Saved."))


@bp.post("/organisations/<int:org_id>/merge")
@admin_required
def organisation_merge(org_id: int) -> Response:
    node = _node_or_404(org_id)
    form = OrganisationMergeForm()
    target = (
        db.session.get(Organisation, form.target_id.data) if form.validate_on_submit() else None
    )
    if target is None:
        return _invalid(node.id)
    source_name = node.name
    try:
        moved = organisation_service.merge(node, target)
    except organisation_service.OrganisationError as error:
        db.session.rollback()
        return _done(org_id, None, error)
    flash(
        gettext(
            "“%(source)s” merged into “%(target)s”: %(n)d volunteers moved.",
            source=source_name,
            target=target.name,
            n=moved,
        ),
        "success",
    )
    return redirect(url_for("admin.organisation", org_id=target.id))


@bp.post("/organisations/<int:org_id>/archive")
@admin_required
def organisation_archive(org_id: int) -> Response:
    node = _node_or_404(org_id)
    form = OrganisationArchiveForm()
    if not form.validate_on_submit():
        return _invalid(node.id)
    try:
        organisation_service.set_archived(node, form.archived.data == "1")
    except organisation_service.OrganisationError as error:
        db.session.rollback()
        return _done(org_id, None, error)
    return _done(org_id, gettext("Saved."))


@bp.post("/organisations/<int:org_id>/reinforcement")
@admin_required
def organisation_reinforcement(org_id: int) -> Response:
    """Let a district's coordinators open their periods to other districts, or stop it."""
    node = _node_or_404(org_id)
    form = OrganisationReinforceForm()
    if not form.validate_on_submit() or form.allowed.data not in ("0", "1"):
        return _invalid(node.id)
    try:
        organisation_service.set_may_reinforce(node, form.allowed.data == "1")
    except organisation_service.OrganisationError as error:
        db.session.rollback()
        return _done(org_id, None, error)
    return _done(org_id, gettext("Saved."))


@bp.post("/organisations/<int:org_id>/appoint")
@admin_required
def organisation_appoint(org_id: int) -> Response:
    node = _node_or_404(org_id)
    form = AppointForm()
    if not form.validate_on_submit():
        return _invalid(node.id)
    try:
        user = organisation_service.appoint(node, form.phone.data, form.role.data)
    except organisation_service.OrganisationError as error:
        db.session.rollback()
        return _done(org_id, None, error)
    return _done(
        org_id,
        gettext(
            "%(name)s is now: %(role)s of %(org)s.",
            name=user.name,
            role=str(ROLE_LABELS[user.role]),
            org=node.name,
        ),
    )
