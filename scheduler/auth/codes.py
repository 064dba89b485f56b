"""Getting back into an account, and confirming a phone with a texted code.

Registered on the auth blueprint. "Forgot password" texts a 6-digit code through the
configured channel; where there is none the page says to ask a coordinator, whose reset code
(printed on a slip, scheduler.coordinator.claim_codes) is entered on the same reset page. With
VERIFY_PHONE=sms, registration and claims wait on /confirm-phone for the code texted to the
number. Each phone may ask for codes CODE_RATE_LIMIT_PER_PHONE times and each address has a
ceiling (CODE_RATE_LIMIT_PER_IP); the codes' own rules are in scheduler.services.codes."""

from __future__ import annotations

from typing import Any

from flask import flash, make_response, redirect, render_template, request, session, url_for
from flask_babel import gettext
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from scheduler.auth import bp, home_url
from scheduler.extensions import limiter
from scheduler.forms import add_error
from scheduler.i18n import lazy_gettext as _l
from scheduler.limits import account_allowed, count_account_failure, phone_key, setting
from scheduler.profile_forms import PHONE_ATTRS, PHONE_FIELD_LENGTH, REQUIRED
from scheduler.services import claims, codes, registration
from scheduler.services.accounts import MIN_PASSWORD_LENGTH
from scheduler.services.errors import ServiceError
from scheduler.services.phones import InvalidPhone, mask, national, normalize_mobile
from scheduler.services.profile import MAX_PASSWORD_LENGTH
from scheduler.sessions import log_in

RESET_PHONE = "reset_phone"  # session: the number a reset code was just texted to
PHONE_CHECK = "phone_check"  # session: {"purpose", "phone"} of a registration or claim
ASK_LIMIT = "CODE_RATE_LIMIT_PER_PHONE"
TOO_OFTEN = _l(
    "This mobile number has asked for codes too often. Wait an hour and try again, or ask a "
    "coordinator for a code on a slip."
)
CODE_ATTRS = {
    "autocomplete": "one-time-code",
    "autocapitalize": "characters",
    "spellcheck": "false",
    "maxlength": 20,
}


def _phone_field() -> StringField:
    return StringField(
        _l("Mobile number"),
        [DataRequired(REQUIRED), Length(max=PHONE_FIELD_LENGTH)],
        render_kw={**PHONE_ATTRS, "autocomplete": "username"},
    )


def _new_password_fields() -> tuple[PasswordField, PasswordField]:
    password = PasswordField(
        _l("New password"),
        [
            DataRequired(REQUIRED),
            Length(
                min=MIN_PASSWORD_LENGTH,
                max=MAX_PASSWORD_LENGTH,
                message=_l("Password must have at least %(n)d characters.", n=MIN_PASSWORD_LENGTH),
            ),
        ],
        render_kw={"autocomplete": "new-password"},
        description=_l("At least %(n)d characters.", n=MIN_PASSWORD_LENGTH),
    )
    confirm = PasswordField(
        _l("Password again"),
        [DataRequired(REQUIRED), EqualTo("password", message=_l("The passwords do not match."))],
        render_kw={"autocomplete": "new-password"},
    )
    return password, confirm


class ForgotForm(FlaskForm):
    phone = _phone_field()


class ResetForm(FlaskForm):
    phone = _phone_field()
    code = StringField(
        _l("One-time code"),
        [DataRequired(REQUIRED), Length(max=20)],
        render_kw=CODE_ATTRS,
        description=_l(
            "The 6 digits of the text message, or the 8 characters on a coordinator's slip."
        ),
    )
    password, confirm = _new_password_fields()


class PhoneCodeForm(FlaskForm):
    code = StringField(
        _l("One-time code"),
        [DataRequired(REQUIRED), Length(max=20)],
        render_kw={**CODE_ATTRS, "inputmode": "numeric"},
        description=_l("The 6 digits of the text message."),
    )


def _no_store(html: str, status: int) -> Response:
    response = make_response(html, status)
    response.headers["Cache-Control"] = "no-store"
    return response


def _e164(raw: str | None) -> str | None:
    try:
        return normalize_mobile(raw or "")
    except InvalidPhone:
        return None


@bp.route("/password/forgot", methods=["GET", "POST"])
@limiter.limit(setting("CODE_RATE_LIMIT_PER_IP"), methods=["POST"])
def forgot_password() -> Response:
    """Anyone not logged in: have a reset code texted to their number. The answer is the
    same whether or not the number has an account. Without a channel: ask a coordinator."""
    if current_user.is_authenticated:
        return redirect(home_url())
    form = ForgotForm()
    ready = codes.sms_ready()
    status = 200
    if ready and form.validate_on_submit():
        if not account_allowed(ASK_LIMIT, phone_key()):
            form.form_errors.append(str(TOO_OFTEN))
            status = 429
        else:
            count_account_failure(ASK_LIMIT, phone_key())  # every ask counts
            try:
                codes.send_reset_code(form.phone.data or "")
            except codes.CodeError as error:
                add_error(form, error)
                status = 422
            else:
                phone = _e164(form.phone.data)
                assert phone is not None  # send_reset_code refuses anything else
                session[RESET_PHONE] = phone
                flash(
                    gettext(
                        "If %(phone)s has a Muster account, a text message with your code is "
                        "on its way to it.",
                        phone=mask(phone),
                    ),
                    "success",
                )
                return redirect(url_for("auth.reset_password"))
    elif ready and request.method == "POST":
        status = 422
    return _no_store(render_template("auth/forgot.html", form=form, ready=ready), status)


@bp.route("/password/reset", methods=["GET", "POST"])
@limiter.limit(setting("CODE_RATE_LIMIT_PER_IP"), methods=["POST"])
def reset_password() -> Response:
    """Anyone not logged in: the phone, a reset code (texted, or on a coordinator's slip) and
    a new password; then logged in here, and logged out everywhere else."""
    if current_user.is_authenticated:
        return redirect(home_url())
    form = ResetForm()
    if request.method == "GET" and session.get(RESET_PHONE):
        form.phone.data = national(str(session[RESET_PHONE]))
    if form.validate_on_submit():
        try:
            user = codes.reset_password(
                form.phone.data or "", form.code.data or "", form.password.data or ""
            )
        except codes.CodeError as error:
            add_error(form, error)
        else:
            session.pop(RESET_PHONE, None)
            log_in(user)
            flash(
                gettext(
                    "Your password is changed. Anyone logged in with the old one is logged out."
                ),
                "success",
            )
            return redirect(home_url())
    status = 422 if request.method == "POST" else 200
    return _no_store(render_template("auth/reset.html", form=form), status)


def start_phone_check(
    form: FlaskForm, purpose: str, phone: str, payload: dict[str, Any]
) -> Response | None:
    """Text the code that confirms a registration or claim (VERIFY_PHONE=sms) and send the
    browser to /confirm-phone; None (with the reason on `form`) when the phone asked too
    often or the channel failed."""
    if not account_allowed(ASK_LIMIT, phone_key()):
        form.form_errors.append(str(TOO_OFTEN))
        return None
    count_account_failure(ASK_LIMIT, phone_key())
    try:
        codes.send_phone_check(purpose, phone, payload)
    except codes.CodeError as error:
        add_error(form, error)
        return None
    session[PHONE_CHECK] = {"purpose": purpose, "phone": phone}
    return redirect(url_for("auth.confirm_phone"))


@bp.route("/confirm-phone", methods=["GET", "POST"])
@limiter.limit(setting("CODE_RATE_LIMIT_PER_IP"), methods=["POST"])
def confirm_phone() -> Response:
    """Anyone not logged in with a registration or claim waiting: enter the code texted to
    the number; only then is the account created or claimed."""
    if current_user.is_authenticated:
        return redirect(home_url())
    pending = session.get(PHONE_CHECK)
    if (
        not isinstance(pending, dict)
        or pending.get("purpose") not in (codes.REGISTER, codes.CLAIM)
        or not isinstance(pending.get("phone"), str)
    ):
        flash(gettext("Nothing is waiting for a code here. Register or claim your account."))
        return redirect(url_for("auth.register"))
    purpose, phone = pending["purpose"], pending["phone"]
    form = PhoneCodeForm()
    if form.validate_on_submit():
        try:
            payload = codes.confirm_phone(purpose, phone, form.code.data or "")
            if purpose == codes.REGISTER:
                user = registration.complete_registration(payload)
            else:
                user = claims.complete_pending_claim(payload)
        except ServiceError as error:
            add_error(form, error)
        else:
            session.pop(PHONE_CHECK, None)
            log_in(user)
            if purpose == codes.REGISTER:
                flash(gettext("Welcome! Now tell us when you can serve."), "success")
                return redirect(url_for("volunteer.me"))
            flash(
                gettext(
                    "Welcome! Your union had already added you to Muster; your account is now "
                    "yours. Check your details, then tell us when you can serve."
                ),
                "success",
            )
            return redirect(url_for("volunteer.profile"))
    status = 422 if request.method == "POST" else 200
    html = render_template("auth/confirm_phone.html", form=form, phone=mask(phone), purpose=purpose)
    return _no_store(html, status)
