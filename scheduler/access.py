"""Access checks shared by every blueprint. Anonymous users are sent to log in; a logged-in user
without the right account role gets 403 — never a page that leaks whether a record exists."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from flask import abort, has_request_context, redirect, request, url_for
from flask_login import current_user, login_required

from scheduler.extensions import db
from scheduler.models import ADMIN, COORDINATOR, SITE_LEAD, User, Volunteer

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
    """Fetch by primary key or 404. Views that expose per-user data check ownership after."""
    obj = db.session.get(model, ident)
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
