"""Claiming an imported account with the one-time code from the work unit's slip.

Registered on the auth blueprint. The phone number alone never claims an account: the code
is required, works once and expires (scheduler.services.claims); failed attempts count per
phone number (CLAIM_RATE_LIMIT_PER_PHONE) under a per-address ceiling."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import BooleanField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from scheduler.auth import bp, home_url
from scheduler.auth.codes import start_phone_check
from scheduler.extensions import limiter
from scheduler.forms import add_error
from scheduler.i18n import lazy_gettext as _l
from scheduler.limits import failed_attempt, phone_key, setting
from scheduler.profile_forms import PHONE_ATTRS, PHONE_FIELD_LENGTH, REQUIRED
from scheduler.services.accounts import MIN_PASSWORD_LENGTH
from scheduler.services.claims import ClaimError, claim_account, pending_claim
from scheduler.services.codes import CLAIM, verify_by_sms
from scheduler.services.profile import MAX_PASSWORD_LENGTH
from scheduler.sessions import log_in


class ClaimForm(FlaskForm):
    phone = StringField(
        _l("Mobile number"),
        [DataRequired(REQUIRED), Length(max=PHONE_FIELD_LENGTH)],
        render_kw={**PHONE_ATTRS, "autocomplete": "username"},
    )
    code = StringField(
        _l("Claim code"),
        [DataRequired(REQUIRED), Length(max=20)],
        render_kw={
            "autocomplete": "one-time-code",
            "autocapitalize": "characters",
            "spellcheck": "false",
            "maxlength": 20,
        },
        description=_l("The 8 characters on the slip from your work unit, e.g. K7QM-3WXD."),
    )
    password = PasswordField(
        _l("Password"),
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
    consent = BooleanField(
        _l("I have read the privacy notice and agree that Muster keeps these details."),
        [DataRequired(_l("Please agree to the privacy notice to register."))],
    )


@bp.route("/claim", methods=["GET", "POST"])
@limiter.limit(setting("CLAIM_RATE_LIMIT_PER_IP"), methods=["POST"])
@limiter.limit(
    setting("CLAIM_RATE_LIMIT_PER_PHONE"),
    key_func=phone_key,
    methods=["POST"],
    deduct_when=failed_attempt,
)
def claim() -> Response | tuple[str, int]:
    """Anyone not logged in: set the password of the account a work unit imported for this
    phone, with the claim code from the slip; then check the imported details on /me/profile."""
    if current_user.is_authenticated:
        return redirect(home_url())
    form = ClaimForm()
    if form.validate_on_submit():
        phone, code = form.phone.data or "", form.code.data or ""
        password, consented = form.password.data or "", bool(form.consent.data)
        try:
            if verify_by_sms():
                # The claim waits for the code texted to the number (/confirm-phone).
                e164, payload = pending_claim(phone, code, password, consented=consented)
                sent = start_phone_check(form, CLAIM, e164, payload)
                if sent is not None:
                    return sent
            else:
                user = claim_account(phone, code, password, consented=consented)
                log_in(user)
                flash(
                    gettext(
                        "Welcome! Your union had already added you to Muster; your account is "
                        "now yours. Check your details, then tell us when you can serve."
                    ),
                    "success",
                )
                return redirect(url_for("volunteer.profile"))
        except ClaimError as error:
            add_error(form, error)
    status = 422 if request.method == "POST" else 200
    return render_template("auth/claim.html", form=form), status
