"""Call-ups (集结号) for coordinators: compose one on a period (message from a template, the
audience from the pool's filters), preview whom it reaches, send it; each call-up's page with
its funnel and its poster (A4 PDF with a QR code of the public page).

The compose page takes ?role=<id>&shift=<kind>&from=<date>&to=<date> (the review page's "Call
up for these"): the message names that role, shift and dates, and the audience is the people
with the role's skill whose availability does not cover those shifts yet, plus the people
with no availability for the period. Anything in the query that does not parse is ignored."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from werkzeug.wrappers import Response
from wtforms import BooleanField, DateField, HiddenField, SelectField, TextAreaField
from wtforms.validators import Optional

from scheduler import printing
from scheduler.access import get_or_404, staff_required
from scheduler.coordinator import bp
from scheduler.coordinator.forms import MultiCheckboxField
from scheduler.extensions import db
from scheduler.forms import INVALID, NONE, add_error, id_or_none, select_choices
from scheduler.i18n import lazy_gettext as _l
from scheduler.i18n import localized_name
from scheduler.labels import SHIFT_LABELS
from scheduler.models import SHIFT_KINDS, CallUp, District, PlanningPeriod, Role, Skill, WorkUnit
from scheduler.models.callups import MAX_CALLUP_MESSAGE
from scheduler.parsing import database_id, iso_day
from scheduler.services import callups, delivery, scope, senders
from scheduler.services.callups import (
    TRAINED_ANY,
    TRAINED_NO,
    TRAINED_YES,
    Audience,
    CallUpError,
    Gap,
)

PREVIEW, SEND = "preview", "send"
LANGUAGES = {"zh_Hans": _l("Chinese"), "en": _l("English")}


class CallUpForm(FlaskForm):
    """The message and the audience. Choices are set per request (`_form`)."""

    token = HiddenField()
    locale = HiddenField()
    message = TextAreaField(_l("Message"))
    district_ids = MultiCheckboxField(_l("Districts"), coerce=int)
    work_unit_ids = SelectField(_l("Work unit"), coerce=id_or_none)
    skill_ids = MultiCheckboxField(_l("Skills"), coerce=int)
    trained = SelectField(
        _l("Training"),
        choices=select_choices(
            [
                (TRAINED_ANY, _l("Trained or not")),
                (TRAINED_YES, _l("Training done")),
                (TRAINED_NO, _l("Not trained yet")),
            ]
        ),
    )
    no_availability = BooleanField(_l("Has not entered availability for this period yet"))
    unclaimed = BooleanField(_l("Imported, has not claimed the account yet"))
    gap = BooleanField(_l("Availability does not cover a shift on some dates yet"))
    gap_skill_id = SelectField(_l("With the skill"), coerce=id_or_none)
    gap_shift = SelectField(
        _l("Shift"), choices=select_choices(SHIFT_LABELS.items()), default=SHIFT_KINDS[1]
    )
    gap_first = DateField(_l("From"), validators=[Optional()])
    gap_last = DateField(_l("To"), validators=[Optional()])
    gap_role_id = HiddenField()


def _form(period: PlanningPeriod, **initial: Any) -> CallUpForm:
    """The form, its district and work unit choices those of the user's scope (an id from
    elsewhere does not validate)."""
    form = CallUpForm(**initial)
    districts = scope.restrict(select(District), District.organisation_id, current_user)
    units = scope.restrict(select(WorkUnit), WorkUnit.organisation_id, current_user)
    form.district_ids.choices = select_choices(
        (d.id, d.name) for d in db.session.scalars(districts.order_by(District.name))
    )
    form.work_unit_ids.choices = select_choices(
        [
            (NONE, _l("Any work unit")),
            *((u.id, u.name) for u in db.session.scalars(units.order_by(WorkUnit.name))),
        ]
    )
    skills = list(db.session.scalars(select(Skill).order_by(Skill.id)))
    form.skill_ids.choices = select_choices((s.id, localized_name(s)) for s in skills)
    form.gap_skill_id.choices = select_choices(
        [(NONE, _l("Any skill")), *((s.id, localized_name(s)) for s in skills)]
    )
    return form


def public_url(callup_token: str) -> str:
    """The public page's absolute address (PUBLIC_BASE_URL when set, as on every printout)."""
    base = current_app.config.get("PUBLIC_BASE_URL")
    if base:
        return base.rstrip("/") + url_for("main.callup_page", token=callup_token)
    return url_for("main.callup_page", token=callup_token, _external=True)


def _locale(value: object) -> str:
    return value if isinstance(value, str) and value in LANGUAGES else "zh_Hans"


def _prefill(period: PlanningPeriod) -> tuple[Role | None, Gap | None]:
    """The role and gap the query names; what does not parse (or lies outside the period)
    is left out."""
    role_id = database_id(request.args.get("role"))
    role = db.session.get(Role, role_id) if role_id else None
    shift = request.args.get("shift")
    if shift not in SHIFT_KINDS:
        return role, None
    first = iso_day(request.args.get("from"))
    last = iso_day(request.args.get("to"))
    first = first if first is not None and period.covers(first) else period.start_date
    last = last if last is not None and period.covers(last) else period.end_date
    if last < first:
        first, last = period.start_date, period.end_date
    gap = Gap(
        shift=shift,
        first=first,
        last=last,
        skill_id=role.required_skill_id if role is not None else None,
        role_id=role.id if role is not None else None,
    )
    return role, gap


def _compose_url(period: PlanningPeriod, locale: str) -> str:
    """The compose page with the same prefill and the template in `locale`."""
    args: dict[str, Any] = {**request.args.to_dict(), "lang": locale, "period_id": period.id}
    return url_for("coordinator.callup_new", **args)


def _page(
    period: PlanningPeriod,
    form: CallUpForm,
    preview: callups.Preview | None = None,
    status: int = 200,
) -> tuple[str, int]:
    return (
        render_template(
            "coordinator/callup_form.html",
            period=period,
            form=form,
            preview=preview,
            language_links=[
                (
                    code,
                    label,
                    _compose_url(period, code),
                )
                for code, label in LANGUAGES.items()
            ],
            max_message=MAX_CALLUP_MESSAGE,
            public_url=public_url(form.token.data or "x"),
        ),
        status,
    )


@bp.get("/periods/<int:period_id>/callups/new")
@staff_required
def callup_new(period_id: int) -> tuple[str, int]:
    """The compose form: message from the template of ?lang= (Chinese by default), audience
    and message prefilled from ?role, ?shift, ?from, ?to when given."""
    period = get_or_404(PlanningPeriod, period_id)
    locale = _locale(request.args.get("lang"))
    token = callups.new_token()
    role, gap = _prefill(period)
    message = callups.default_message(period, locale, public_url(token), role=role, gap=gap)
    initial: dict[str, Any] = {"token": token, "locale": locale, "message": message}
    if gap is not None:
        initial.update(
            no_availability=True,
            gap=True,
            gap_skill_id=gap.skill_id or NONE,
            gap_shift=gap.shift,
            gap_first=gap.first,
            gap_last=gap.last,
            gap_role_id=str(gap.role_id or ""),
        )
    return _page(period, _form(period, **initial))


def _audience(period: PlanningPeriod, form: CallUpForm) -> Audience | None:
    """The audience the posted form describes, or None with the errors on the form."""
    gap = None
    if form.gap.data:
        first: date = form.gap_first.data or period.start_date
        last: date = form.gap_last.data or period.end_date
        if not (period.covers(first) and period.covers(last)) or last < first:
            form.gap_first.errors = [
                *form.gap_first.errors,
                gettext("Choose dates inside the period, the first before the last."),
            ]
            return None
        role_id = database_id(form.gap_role_id.data)
        gap = Gap(
            shift=form.gap_shift.data or SHIFT_KINDS[1],
            first=first,
            last=last,
            skill_id=form.gap_skill_id.data or None,
            role_id=role_id if role_id and db.session.get(Role, role_id) else None,
        )
    return Audience(
        district_ids=tuple(form.district_ids.data or ()),
        work_unit_ids=(form.work_unit_ids.data,) if form.work_unit_ids.data else (),
        skill_ids=tuple(form.skill_ids.data or ()),
        trained=form.trained.data or TRAINED_ANY,
        no_availability=bool(form.no_availability.data),
        unclaimed=bool(form.unclaimed.data),
        gap=gap,
    )


@bp.post("/periods/<int:period_id>/callups/new")
@staff_required
def callup_compose(period_id: int) -> Response | tuple[str, int]:
    """Preview (action=preview: the head count, a few names, SMS per person) or send
    (action=send) the call-up; a refusal re-renders the form with the reason."""
    period = get_or_404(PlanningPeriod, period_id)
    form = _form(period)
    if not form.validate_on_submit():
        return _page(period, form, status=INVALID)
    audience = _audience(period, form)
    if audience is None:
        return _page(period, form, status=INVALID)
    message = (form.message.data or "").strip()
    if request.form.get("action") != SEND:
        return _page(period, form, callups.preview(period, audience, message, current_user))
    try:
        callup = callups.send(
            period,
            audience,
            message,
            locale=_locale(form.locale.data),
            token=form.token.data or "",
            by=current_user,
        )
    except CallUpError as error:
        add_error(form, error)
        preview = callups.preview(period, audience, message, current_user)
        return _page(period, form, preview, INVALID)
    delivery.deliver_soon(current_app._get_current_object())  # type: ignore[attr-defined]  # the real app behind the proxy
    flash(gettext("Call-up sent to %(n)d people.", n=callups.funnel(callup).sent), "success")
    return redirect(url_for("coordinator.callup_detail", callup_id=callup.id))


@bp.get("/periods/<int:period_id>/callups")
@staff_required
def callups_list(period_id: int) -> str:
    """The period's call-ups, newest first, with the number each was sent to."""
    period = get_or_404(PlanningPeriod, period_id)
    return render_template(
        "coordinator/callups.html", period=period, callups=callups.callups_of(period)
    )


@bp.get("/callups/<int:callup_id>")
@staff_required
def callup_detail(callup_id: int) -> str:
    """One call-up: its message, audience, public page, poster and funnel."""
    callup = get_or_404(CallUp, callup_id)
    return render_template(
        "coordinator/callup.html",
        callup=callup,
        period=callup.period,
        funnel=callups.funnel(callup),
        audience=callups.describe(callup.period, Audience.from_json(callup.audience or {})),
        public_url=public_url(callup.token),
        segments=senders.sms_segments(callup.message),
    )


@bp.get("/callups/<int:callup_id>/poster.pdf")
@staff_required
def callup_poster(callup_id: int) -> Response:
    """An A4 poster of the call-up for notice boards: the call, the dates and sites, and a big
    QR code of the public page."""
    callup = get_or_404(CallUp, callup_id)
    html = printing.render_sheet(
        "coordinator/callup_poster.html",
        pdf=True,
        page_size=printing.PORTRAIT,
        page=callups.public_page(callup),
        public_url=public_url(callup.token),
    )
    return printing.pdf_response(html, f"callup-{callup.id}.pdf")
