"""Landing page, health check, language switch and privacy notice."""

from __future__ import annotations

from pathlib import Path

from flask import (
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext
from flask_login import current_user
from werkzeug.wrappers import Response

from scheduler.extensions import csrf, db, limiter
from scheduler.forms import EmptyForm
from scheduler.health import health
from scheduler.main import bp
from scheduler.models import LIAISON
from scheduler.services.registration import safe_next


@bp.get("/")
def index() -> Response | str:
    if current_user.is_authenticated:
        if current_user.is_staff:
            return redirect(url_for("coordinator.dashboard"))
        if current_user.role == LIAISON and current_user.volunteer is None:
            return redirect(url_for("coordinator.pool"))  # a liaison's members
        return redirect(url_for("volunteer.me"))
    return render_template("main/index.html")


@bp.get("/healthz")
@limiter.exempt
@csrf.exempt
def healthz() -> tuple[Response, int]:
    report, status = health(current_app)
    return jsonify(report), status


@bp.post("/language")
def set_language() -> Response:
    form = EmptyForm()
    lang = request.form.get("lang")
    if form.validate_on_submit() and lang in current_app.config["LANGUAGES"]:
        session["lang"] = lang
        if current_user.is_authenticated:
            current_user.locale = lang
            db.session.commit()
    # Only same-site relative paths (the login's rule): an open redirect would aid phishing.
    return redirect(safe_next(request.form.get("next")) or url_for("main.index"))


@bp.get("/privacy")
def privacy() -> str:
    return render_template("main/privacy.html")


@bp.get("/favicon.ico")
@limiter.exempt
def favicon() -> Response:
    """Anyone: the tab icon, where browsers look for it without a link (a week's cache)."""
    assert current_app.static_folder is not None
    # 5 KB read whole (no open file handed to the server to stream and close later).
    icon = (Path(current_app.static_folder) / "icons" / "favicon.ico").read_bytes()
    response = Response(icon, mimetype="image/vnd.microsoft.icon")
    response.cache_control.public = True
    response.cache_control.max_age = 7 * 24 * 3600
    return response


@bp.get("/manifest.webmanifest")
@limiter.exempt
def manifest() -> Response:
    """Anyone: the web app manifest, so "add to home screen" gets the name and the icon."""
    body = {
        "name": gettext("Muster"),
        "short_name": gettext("Muster"),
        "start_url": url_for("main.index"),
        "display": "browser",
        "background_color": "#ffffff",
        "theme_color": "#b00020",
        "icons": [
            {
                "src": url_for("static", filename=f"icons/icon-{size}.png"),
                "sizes": f"{size}x{size}",
                "type": "image/png",
            }
            for size in (192, 512)
        ],
    }
    response = jsonify(body)
    response.mimetype = "application/manifest+json"
    return response
