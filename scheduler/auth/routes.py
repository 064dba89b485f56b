"""Registration, login and logout."""

from __future__ import annotations

from flask import (
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, logout_user
from werkzeug.wrappers import Response

from scheduler.auth import bp, home_url
from scheduler.auth.codes import start_phone_check
from scheduler.auth.forms import LoginForm, RegistrationForm
from scheduler.extensions import limiter
from scheduler.forms import EmptyForm, add_error
from scheduler.i18n import gettext
from scheduler.limits import failed_attempt, phone_key, setting
from scheduler.profile_forms import work_unit_names
from scheduler.services.accounts import AccountError, phone_taken
from scheduler.services.codes import REGISTER, verify_by_sms
from scheduler.services.phones import InvalidPhone, normalize_mobile
from scheduler.services.registration import (
    authenticate,
    pending_registration,
    register_volunteer,
    safe_next,
)
from scheduler.sessions import log_in


def phone_is_registered(raw: str) -> bool:
    """Whether this typed number (any spelling) belongs to an account already."""
    try:
        return phone_taken(normalize_mobile(raw))
    except InvalidPhone:
        return False


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit(setting("REGISTER_RATE_LIMIT_PER_IP"), methods=["POST"])
def register() -> Response:
    """Anyone not logged in: create a volunteer account, then go to /me logged in. (People
    a work unit imported claim their account with a code instead: auth.claim.)"""
    if current_user.is_authenticated:
        return redirect(home_url())
    form = RegistrationForm()
    form.load_choices()
    already_registered = False
    if form.validate_on_submit():
        password = form.password.data or ""
        try:
            if verify_by_sms():
                # The account waits for the code texted to the number (/confirm-phone).
                payload = pending_registration(
                    form.profile_data(), password=password, consented=bool(form.consent.data)
                )
                sent = start_phone_check(
                    form, REGISTER, normalize_mobile(form.phone.data or ""), payload
                )
                if sent is not None:
                    return sent
            else:
                user = register_volunteer(
                    form.profile_data(), password=password, consented=bool(form.consent.data)
                )
                log_in(user)
                flash(gettext("Welcome! Now tell us when you can serve."), "success")
                return redirect(url_for("volunteer.me"))
        except AccountError as error:
            add_error(form, error)
            already_registered = error.field == "phone" and phone_is_registered(
                form.phone.data or ""
            )
    status = 422 if request.method == "POST" else 200
    html = render_template(
        "auth/register.html",
        form=form,
        already_registered=already_registered,
        work_units=work_unit_names(),
    )
    response = make_response(html, status)
    # A re-rendered form carries the typed password back: never keep it in any cache.
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(setting("LOGIN_RATE_LIMIT_PER_IP"), methods=["POST"])
@limiter.limit(
    setting("LOGIN_RATE_LIMIT_PER_PHONE"),
    key_func=phone_key,
    methods=["POST"],
    deduct_when=failed_attempt,
)
def login() -> Response | tuple[str, int]:
    """Anyone: log in with mobile number and password; `next` only to a path on this site."""
    form = LoginForm()
    if request.method == "GET":
        form.next.data = safe_next(request.args.get("next")) or ""
        if current_user.is_authenticated:
            return redirect(home_url())
    if form.validate_on_submit():
        user = authenticate(form.phone.data or "", form.password.data or "")
        if user is not None and log_in(user):
            return redirect(safe_next(form.next.data) or home_url())
        form.form_errors.append(gettext("Mobile number or password is not correct."))
    status = 422 if request.method == "POST" else 200
    return render_template("auth/login.html", form=form), status


@bp.post("/logout")
def logout() -> Response:
    """Anyone (a logged-out visitor is simply sent home): end the session."""
    form = EmptyForm()
    if form.validate_on_submit():
        logout_user()
    return redirect(url_for("main.index"))
