"""Registration, login and logout, and claiming an imported account."""

from flask import Blueprint, url_for
from flask_login import current_user

bp = Blueprint("auth", __name__)


def home_url() -> str:
    """Where a logged-in user belongs: the dashboard for staff without a volunteer profile,
    /me for everyone else."""
    if current_user.is_authenticated and current_user.is_staff and current_user.volunteer is None:
        return url_for("coordinator.dashboard")
    if (
        current_user.is_authenticated
        and current_user.role == "liaison"
        and not current_user.volunteer
    ):
        return url_for("coordinator.pool")  # a liaison's members
    return url_for("volunteer.me")


from scheduler.auth import claim, codes, routes  # noqa: E402, F401  (their views register on bp)
