"""Access checks shared by every blueprint. Anonymous users are sent to log in; a logged-in user
without the right account role gets 403 — never a page that leaks whether a record exists."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from flask import abort, has_request_context, redirect, request, url_for
from flask_login import current_user, login_required

from scheduler.extensions import db
from scheduler.models import ADMIN, COORDINATOR, LIAISON, SITE_LEAD, User, Volunteer
from scheduler.services import scope

F = TypeVar("F", bound=Callable[..., Any])
M = TypeVar("M")


def roles_required(*roles: str) -> Callable[[F], F]:
    """Allow only logged-in users whose account role is one of `roles`."""

    def decorator(view: F) -> F:
        @wraps(view)
        @login_required
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return cast(F, wrapped)

    return decorator


staff_required = roles_required(COORDINATOR, ADMIN)
admin_required = roles_required(ADMIN)
lead_or_staff_required = roles_required(SITE_LEAD, COORDINATOR, ADMIN)
# Pages a grassroots union's liaison shares with coordinators (their members only: scope).
members_required = roles_required(LIAISON, COORDINATOR, ADMIN)


def catalogue_editor_required(view: F) -> F:
    """Staff who may change the role catalogue and skills (scope.may_edit_catalogue: admins and
    the city's coordinators); a district's coordinator gets 403 -- the catalogue exists and
    they read it, they may not change it."""

    @wraps(view)
    @staff_required
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not scope.may_edit_catalogue(current_user):
            abort(403)
        return view(*args, **kwargs)

    return cast(F, wrapped)


def volunteer_required(view: F) -> F:
    """Logged-in users with a volunteer profile. Staff without one belong on the coordinator
    dashboard; anyone else without one is sent to /me, which explains."""

    @wraps(view)
    @login_required
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if current_user.volunteer is None:
            if current_user.is_staff:
                return redirect(url_for("coordinator.dashboard"))
            return redirect(url_for("volunteer.me"))
        return view(*args, **kwargs)

    return cast(F, wrapped)


def current_volunteer() -> Volunteer:
    """The logged-in user's volunteer profile, in a view behind `volunteer_required`."""
    volunteer = current_user.volunteer
    assert volunteer is not None
    return volunteer


def get_or_404(model: type[M], ident: Any) -> M:
    """Fetch by primary key or 404 — also 404 when the row lies outside the logged-in user's
    scope (scheduler.services.scope), so an id from another district is "not found" in every
    view. Views that expose per-user data check ownership after."""
    return get_in_scope_or_404(model, ident, current_user)


def get_in_scope_or_404(model: type[M], ident: Any, user: Any) -> M:
    """The row `ident` of `model` if `user` may see it, else 404. Volunteers and site leads
    have no scope: their views check ownership (my shift, a shift I lead) instead."""
    obj = (
        scope.get_in_scope(model, ident, user)
        if scope.is_scoped(user)
        else db.session.get(model, ident)
    )
    if obj is None:
        abort(404)
    return obj


def audit_actor() -> tuple[User | None, str | None]:
    """Who is acting, for the audit log (scheduler.services.audit): the logged-in account and
    the client's address (ProxyFix has applied TRUSTED_PROXIES), or (None, None) outside a
    request or when nobody is logged in."""
    if not has_request_context():
        return None, None
    user = current_user._get_current_object() if current_user.is_authenticated else None
    return user, (request.remote_addr or None)


def check_in_scope(obj: object) -> None:
    """404 unless the logged-in user may see `obj` (for rows a view found another way)."""
    if scope.is_scoped(current_user) and not scope.in_scope(obj, current_user):
        abort(404)
