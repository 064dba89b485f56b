"""Hand edits of the draft roster (ranked candidates for a post, assign, unassign, swap, pin,
each re-checked against the rules with a confirmation step for a deliberate break), publishing
the draft as a numbered version, and the published versions, read-only. Staff only.

Plain forms and redirects: every action works without JavaScript."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import abort, current_app, flash, make_response, redirect, render_template, url_for
from flask_babel import gettext
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy.exc import IntegrityError
from werkzeug.wrappers import Response
from wtforms import BooleanField, HiddenField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from scheduler.access import get_or_404, staff_required
from scheduler.coordinator import bp
from scheduler.extensions import db
from scheduler.forms import INVALID, DatabaseIdField, EmptyForm, add_error
from scheduler.i18n import lazy_gettext as _l
from scheduler.models import Assignment, PlanningPeriod, Role, Site
from scheduler.parsing import iso_day
from scheduler.services import delivery, editing, holes, publishing, repair
from scheduler.services.demand import demand_of, urgent_extra
from scheduler.services.editing import NOTE_MAX, EditError, EditOutcome
from scheduler.services.publishing import NothingChanged, PublishError, RosterDiff


class _ConfirmMixin:
    confirm = BooleanField(_l("Break the rule on purpose"))
    note = TextAreaField(
        _l("Why (kept with the roster)"),
        validators=[Optional(), Length(max=NOTE_MAX, message=_l("At most %(max)d characters."))],
    )


class AssignForm(_ConfirmMixin, FlaskForm):
    """Which volunteer takes the post; `confirm` and `note` when a rule is broken."""

    volunteer_id = DatabaseIdField(
        _l("Volunteer"),
        validators=[InputRequired(message=_l("Choose a volunteer."))],
        message=_l("Choose a volunteer."),
    )


class SwapForm(_ConfirmMixin, FlaskForm):
    """The other post whose volunteer changes places with this one's."""

    other_id = DatabaseIdField(
        _l("Swap with"),
        validators=[InputRequired(message=_l("Choose a post."))],
        message=_l("Choose a post."),
    )


class PublishForm(FlaskForm):
    """The Publish button, with the draft revision the coordinator is looking at."""

    revision = HiddenField(validators=[InputRequired()])

    @classmethod
    def for_period(cls, period: PlanningPeriod) -> PublishForm:
        """The form for the draft as it is now: its revision, read before the diff shown."""
        return cls(formdata=None, revision=publishing.draft_revision(period))

    def seen_revision(self) -> int | None:
        """The posted revision, None when missing or not a number."""
        value = (self.revision.data or "").strip()
        return int(value) if value.isascii() and value.isdigit() and len(value) <= 18 else None


class PinForm(FlaskForm):
    """Pin (checked) or release (unchecked) an assignment."""

    pinned = BooleanField(_l("Pinned"))


@bp.app_template_global("roster_diff")
def roster_diff(period: PlanningPeriod) -> RosterDiff | None:
    """What the draft changes against the last published version (for the roster page)."""
    return publishing.draft_diff(period)


def _post(
    period_id: int, site_id: int, day: str, kind: str, role_id: int
) -> tuple[PlanningPeriod, Site, date, str, Role]:
    period = get_or_404(PlanningPeriod, period_id)
    site = get_or_404(Site, site_id)
    role = get_or_404(Role, role_id)
    when = iso_day(day)
    if when is None:
        abort(404)
    if (
        site not in period.sites
        or kind not in site.shift_kinds
        or not period.covers(when)
        or role.id not in demand_of(site, when, kind, urgent_extra(period.id, [site.id]))
    ):
        abort(404)
    return period, site, when, kind, role


def _shift_url(period: PlanningPeriod, site_id: int, day: date, kind: str) -> str:
    return url_for(
        "coordinator.roster_shift",
        period_id=period.id,
        site_id=site_id,
        day=day.isoformat(),
        kind=kind,
    )


def _assignment(period: PlanningPeriod, assignment_id: int) -> Assignment:
    assignment = editing.draft_assignment(period, assignment_id)
    if assignment is None:
        abort(404)
    return assignment


def _post_page(
    period: PlanningPeriod,
    site: Site,
    day: date,
    kind: str,
    role: Role,
    form: AssignForm,
    outcome: EditOutcome | None = None,
    status: int = 200,
) -> Any:
    fill = None
    try:
        ranked = editing.candidates(period, site, day, kind, role)
        fill = editing.post_fill(period, site, day, kind, role)
    except EditError as error:
        ranked = []
        add_error(form, error)
    return (
        render_template(
            "coordinator/roster_edit.html",
            period=period,
            site=site,
            day=day,
            kind=kind,
            role=role,
            candidates=ranked,
            fill=fill,
            form=form,
            outcome=outcome,
        ),
        status,
    )


@bp.get("/periods/<int:period_id>/roster/posts/<int:site_id>/<day>/<kind>/<int:role_id>")
@staff_required
def roster_post(period_id: int, site_id: int, day: str, kind: str, role_id: int) -> Any:
    """Ranked candidates for one post of the draft, each with an Assign button."""
    period, site, when, kind, role = _post(period_id, site_id, day, kind, role_id)
    return _post_page(period, site, when, kind, role, AssignForm(formdata=None))


@bp.post("/periods/<int:period_id>/roster/posts/<int:site_id>/<day>/<kind>/<int:role_id>/assign")
@staff_required
def roster_assign(period_id: int, site_id: int, day: str, kind: str, role_id: int) -> Any:
    """Assign a volunteer; rules broken anew come back as warnings to confirm (nothing saved)."""
    period, site, when, kind, role = _post(period_id, site_id, day, kind, role_id)
    form = AssignForm()
    if not form.validate_on_submit():
        return _post_page(period, site, when, kind, role, form, status=INVALID)
    assert form.volunteer_id.data is not None  # InputRequired, and a valid id
    try:
        outcome = editing.assign(
            period,
            site,
            when,
            kind,
            role,
            form.volunteer_id.data,
            confirm=form.confirm.data,
            note=form.note.data,
        )
    except EditError as error:
        db.session.rollback()
        add_error(form, error)
        return _post_page(period, site, when, kind, role, form, status=INVALID)
    except IntegrityError:
        db.session.rollback()
        form.form_errors.append(_l("The draft changed meanwhile; try again."))
        return _post_page(period, site, when, kind, role, form, status=INVALID)
    if not outcome.applied:
        return _post_page(period, site, when, kind, role, form, outcome)
    db.session.commit()
    flash(
        gettext("Assigned, breaking a rule on purpose.")
        if outcome.warnings
        else gettext("Assigned.")
    )
    return redirect(_shift_url(period, site.id, when, kind))


@bp.post("/periods/<int:period_id>/roster/assignments/<int:assignment_id>/unassign")
@staff_required
def roster_unassign(period_id: int, assignment_id: int) -> Response:
    """Take a volunteer off a post of the draft."""
    period = get_or_404(PlanningPeriod, period_id)
    assignment = _assignment(period, assignment_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    back = _shift_url(period, assignment.site_id, assignment.day, assignment.shift)
    try:
        editing.unassign(assignment)
    except EditError as error:
        db.session.rollback()
        flash(str(error), "error")
        return redirect(back)
    db.session.commit()
    flash(gettext("Unassigned."))
    return redirect(back)


@bp.post("/periods/<int:period_id>/roster/assignments/<int:assignment_id>/pin")
@staff_required
def roster_pin(period_id: int, assignment_id: int) -> Response:
    """Pin an assignment so re-solving keeps it, or release it (pinned unchecked)."""
    period = get_or_404(PlanningPeriod, period_id)
    assignment = _assignment(period, assignment_id)
    form = PinForm()
    if not form.validate_on_submit():
        abort(400)
    back = _shift_url(period, assignment.site_id, assignment.day, assignment.shift)
    try:
        editing.set_pinned(assignment, bool(form.pinned.data))
    except EditError as error:
        db.session.rollback()
        flash(str(error), "error")
        return redirect(back)
    db.session.commit()
    flash(gettext("Pinned.") if form.pinned.data else gettext("Unpinned."))
    return redirect(back)


def _swap_page(
    period: PlanningPeriod,
    assignment: Assignment,
    form: SwapForm,
    outcome: EditOutcome | None = None,
    status: int = 200,
) -> Any:
    return (
        render_template(
            "coordinator/roster_edit_swap.html",
            period=period,
            assignment=assignment,
            partners=editing.swap_partners(assignment),
            form=form,
            outcome=outcome,
        ),
        status,
    )


@bp.get("/periods/<int:period_id>/roster/assignments/<int:assignment_id>/swap")
@staff_required
def roster_swap(period_id: int, assignment_id: int) -> Any:
    """Choose the post (within a day of this one) to swap volunteers with."""
    period = get_or_404(PlanningPeriod, period_id)
    assignment = _assignment(period, assignment_id)
    if assignment.roster.status != "draft":
        abort(404)
    return _swap_page(period, assignment, SwapForm(formdata=None))


@bp.post("/periods/<int:period_id>/roster/assignments/<int:assignment_id>/swap")
@staff_required
def roster_swap_post(period_id: int, assignment_id: int) -> Any:
    """Swap two volunteers; rules broken anew come back as warnings to confirm."""
    period = get_or_404(PlanningPeriod, period_id)
    assignment = _assignment(period, assignment_id)
    form = SwapForm()
    if not form.validate_on_submit():
        return _swap_page(period, assignment, form, status=INVALID)
    assert form.other_id.data is not None  # InputRequired, and a valid id
    other = editing.draft_assignment(period, form.other_id.data)
    if other is None:
        form.other_id.errors = [*form.other_id.errors, _l("Choose a post.")]
        return _swap_page(period, assignment, form, status=INVALID)
    back = _shift_url(period, assignment.site_id, assignment.day, assignment.shift)
    try:
        outcome = editing.swap(
            period, assignment, other, confirm=form.confirm.data, note=form.note.data
        )
    except EditError as error:
        db.session.rollback()
        add_error(form, error)
        return _swap_page(period, assignment, form, status=INVALID)
    if not outcome.applied:
        return _swap_page(period, assignment, form, outcome)
    db.session.commit()
    flash(gettext("Swapped."))
    return redirect(back)


def _fillable(period: PlanningPeriod, summary: publishing.Summary | None) -> int | None:
    """The most posts any roster of the period could fill, shown beside the summary's count."""
    if summary is None:
        return None
    cov = summary.coverage
    return holes.shown_fillable(holes.fillable(period), cov.filled, cov.posts)


@bp.get("/periods/<int:period_id>/roster/publish")
@staff_required
def roster_publish_confirm(period_id: int) -> Response:
    """What publishing would change (coverage, counts per site and day, who is new, moved,
    removed; the details folded), with the Publish button at the top, or why there is
    nothing to publish. Never cached: browser back after publishing asks again."""
    period = get_or_404(PlanningPeriod, period_id)
    form = PublishForm.for_period(period)
    summary = publishing.draft_summary(period)
    response = make_response(
        render_template(
            "coordinator/roster_edit_publish.html",
            period=period,
            summary=summary,
            diff=summary.diff if summary is not None else None,
            form=form,
            fillable=_fillable(period, summary),
        )
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/periods/<int:period_id>/roster/publish")
@staff_required
def roster_publish(period_id: int) -> Response:
    """Publish the draft as the next version and queue the volunteers' notifications."""
    period = get_or_404(PlanningPeriod, period_id)
    form = PublishForm()
    if not form.validate_on_submit() and "csrf_token" in form.errors:
        abort(400)
    if repair.needs_approval(period):
        flash(
            gettext(
                "This draft holds a repair that takes volunteers off shifts they were told: "
                "tick those changes on the repair page to publish it."
            ),
            "error",
        )
        return redirect(url_for("coordinator.roster_repair_confirm", period_id=period.id))
    seen = form.seen_revision()
    try:
        # A form without the revision it showed (-1, never a revision): what was reviewed is
        # unknown, so the service refuses it as a changed draft.
        version, _changes = publishing.publish(
            period, current_user, revision=-1 if seen is None else seen
        )
        db.session.commit()
    except PublishError as error:
        db.session.rollback()
        if not isinstance(error, NothingChanged):  # the page itself says nothing changed
            flash(str(error), "error")
        return redirect(url_for("coordinator.roster_publish_confirm", period_id=period.id))
    except IntegrityError:
        db.session.rollback()
        flash(gettext("Someone published at the same time; check the versions."), "error")
        return redirect(url_for("coordinator.roster_versions", period_id=period.id))
    # Flask types current_app as the app; the proxy's _get_current_object is unknown to mypy.
    delivery.deliver_soon(current_app._get_current_object())  # type: ignore[attr-defined]
    flash(gettext("Published as version %(number)d.", number=version.version))
    return redirect(
        url_for("coordinator.roster_version", period_id=period.id, version=version.version)
    )


@bp.get("/periods/<int:period_id>/roster/versions")
@staff_required
def roster_versions(period_id: int) -> str:
    """The period's published versions, newest first."""
    period = get_or_404(PlanningPeriod, period_id)
    return render_template(
        "coordinator/roster_versions.html",
        period=period,
        versions=publishing.versions(period.id),
    )


@bp.get("/periods/<int:period_id>/roster/versions/<int:version>")
@staff_required
def roster_version(period_id: int, version: int) -> str:
    """One published version, read-only, with what it changed against the one before."""
    period = get_or_404(PlanningPeriod, period_id)
    roster = publishing.published_version(period.id, version)
    if roster is None:
        abort(404)
    previous = publishing.published_version(period.id, version - 1) if version > 1 else None
    summary = publishing.summary(period, previous, roster)
    return render_template(
        "coordinator/roster_edit_version.html",
        period=period,
        roster=roster,
        rows=publishing.roster_rows(roster),
        summary=summary,
        diff=summary.diff,
        fillable=_fillable(period, summary),
    )
