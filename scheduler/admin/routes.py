"""Admin pages: accounts and their roles, deactivation, passwords. Admins only."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user
from werkzeug.wrappers import Response

from scheduler.access import admin_required, get_or_404
from scheduler.admin import bp
from scheduler.admin.forms import (
    ROLE_LABELS,
    STATUS_LABELS,
    AccountSearchForm,
    PasswordForm,
    ReturnForm,
    RoleForm,
)
from scheduler.htmx import render
from scheduler.models import User
from scheduler.services import admin as admin_service
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
