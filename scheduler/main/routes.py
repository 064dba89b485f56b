"""Landing page, health check, language switch and privacy notice."""

from __future__ import annotations

from flask import (
    Blueprint,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user
from sqlalchemy import text
from werkzeug.wrappers import Response

from scheduler.extensions import csrf, db, limiter
from scheduler.forms import EmptyForm
from scheduler.services.registration import safe_next

bp = Blueprint("main", __name__)


@bp.get("/")
def index() -> Response | str:
    if current_user.is_authenticated:
        if current_user.is_staff:
            return redirect(url_for("coordinator.dashboard"))
        return redirect(url_for("volunteer.me"))
    return render_template("main/index.html")


@bp.get("/healthz")
@limiter.exempt
@csrf.exempt
def healthz() -> tuple[Response, int]:
    try:
        db.session.execute(text("SELECT 1"))
    except Exception as exc:  # any driver error means the database is not usable
        db.session.rollback()
        return jsonify(status="error", database=f"unreachable: {type(exc).__name__}"), 503
    return jsonify(status="ok", database="ok"), 200


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
