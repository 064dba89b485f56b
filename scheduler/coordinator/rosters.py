"""Roster pages of a planning period: generate a roster in the background (a status fragment
that polls itself), cancel a run, and review the draft (coverage heat map, unfilled posts with
their reasons, fairness figures, one shift's assignments). Staff only."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace
from typing import Any

from babel.dates import format_interval, format_skeleton
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale, gettext
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import IntegerField
from wtforms.validators import InputRequired, NumberRange

from scheduler import jobs
from scheduler.access import get_or_404, staff_required
from scheduler.coordinator import bp
from scheduler.coordinator.forms import MultiCheckboxField
from scheduler.coordinator.reinforcement import reinforcement_context
from scheduler.extensions import db
from scheduler.forms import INVALID, EmptyForm, add_error, select_choices
from scheduler.htmx import RUN_FINISHED, RUN_STARTED, is_htmx, render, retarget, trigger
from scheduler.i18n import lazy_gettext as _l
from scheduler.i18n import localized_name
from scheduler.labels import SHIFT_LABELS
from scheduler.models import SHIFT_KINDS, PlanningPeriod, Site, SolveRun, User, Volunteer
from scheduler.models.rosters import MAX_TIME_LIMIT, MIN_TIME_LIMIT
from scheduler.parsing import iso_day
from scheduler.services import my_shifts, rosters
from scheduler.services.holes import HoleGroup
from scheduler.services.rosters import DEFAULT_TIME_LIMIT, RosterError

# The review lists only the first unfilled posts with their reasons (the demo leaves hundreds,
# which made the page ~370 KB); the rest are a page away, and every heat-map cell opens its shift.
UNFILLED_ON_REVIEW = 15
UNFILLED_PER_PAGE = 50


class GenerateRosterForm(FlaskForm):
    """Which sites to roster (all are ticked by default) and how long the solver may search."""

    site_ids = MultiCheckboxField(_l("Sites"), coerce=int)
    time_limit = IntegerField(
        _l("Time limit (seconds)"),
        default=DEFAULT_TIME_LIMIT,
        validators=[
            InputRequired(message=_l("Enter a time limit.")),
            NumberRange(
                min=MIN_TIME_LIMIT,
                max=MAX_TIME_LIMIT,
                message=_l("Between %(min)s and %(max)s seconds."),
            ),
        ],
    )

    def set_sites(self, sites: list[Site]) -> None:
        self.site_ids.choices = select_choices((s.id, s.name) for s in sites)
        if not self.is_submitted():
            self.site_ids.data = [s.id for s in sites]


@bp.app_template_filter("month_day")
def month_day(day: date) -> str:
    """12月7日 in Chinese, Dec 7 in English."""
    return format_skeleton("MMMd", day, locale=str(get_locale()))


@bp.app_template_filter("day_range")
def day_range(first: date, last: date) -> str:
    """12月9日至14日 in Chinese, Dec 9 – 14 in English; one day as `month_day`."""
    if first == last:
        return month_day(first)
    return format_interval(first, last, "MMMd", locale=str(get_locale()))


@bp.app_template_global("callup_url")
def callup_url(period_id: int, group: HoleGroup) -> str:
    """The call-up compose page prefilled for one group of holes."""
    # "from" is a Python keyword: the query is passed as a mapping.
    query: dict[str, Any] = {
        "role": group.role_id,
        "shift": group.shift,
        "from": group.first.isoformat(),
        "to": group.last.isoformat(),
    }
    return url_for("coordinator.callup_new", period_id=period_id, **query)


@bp.app_template_filter("shift_name")
def shift_name(kind: str) -> str:
    """夜班 / 白班 / 晚班 (Night / Day / Evening)."""
    label = SHIFT_LABELS.get(kind)
    return str(label) if label is not None else kind


@bp.app_template_filter("fromiso")
def from_iso(value: str) -> date:
    """An ISO date string (as stored in unfilled posts' reasons) as a date."""
    return date.fromisoformat(value)


def _period_run(period_id: int, run_id: int) -> tuple[PlanningPeriod, SolveRun]:
    period = get_or_404(PlanningPeriod, period_id)
    run = get_or_404(SolveRun, run_id)
    if run.period_id != period.id:
        abort(404)
    return period, run


def status_context(period: PlanningPeriod, run: SolveRun | None) -> dict[str, Any]:
    """What the run status fragment (and the generate form) need: the run, whether its roster
    has been superseded by later changes to the draft, the holes a repair run fills."""
    return {
        "period": period,
        "run": run,
        "superseded": rosters.superseded(run),
        "repair_holes": len(my_shifts.cancelled_posts(period))
        if run is not None and run.active and run.minimal_change
        else None,
        # The run's own counts (services.coverage), never a count of stored rows.
        "unfilled_count": run.posts_total - run.posts_filled
        if run is not None and not run.active
        else None,
        "cancel_form": EmptyForm(),
        "dropped_pins": dropped_pins(run),
    }


def dropped_pins(run: SolveRun | None) -> list[dict[str, Any]]:
    """The pins a finished run dropped (scheduler.planning: their volunteer may no longer serve
    them), each with its role's name in the current language as `role` and the volunteer's
    name as it is now (`name`: the run stores only the id, so an anonymised account reads
    anonymised here; one query)."""
    if run is None or run.active or not run.dropped_pins:
        return []
    names = dict(
        db.session.execute(
            select(Volunteer.id, User.name)
            .join(User, User.id == Volunteer.user_id)
            .where(Volunteer.id.in_({d["volunteer_id"] for d in run.dropped_pins}))
        ).all()
    )
    return [
        {
            **d,
            "name": names.get(d["volunteer_id"], ""),
            "role": localized_name(SimpleNamespace(name_zh=d["role_zh"], name_en=d["role_en"])),
        }
        for d in run.dropped_pins
    ]


def _roster_page(form: GenerateRosterForm, period: PlanningPeriod, status: int = 200) -> Any:
    rosters.fail_stale_runs(period.id)
    run = rosters.latest_run(period.id)
    return (
        render_template(
            "coordinator/roster.html",
            form=form,
            review=rosters.review(period),
            unfilled_shown=UNFILLED_ON_REVIEW,
            cancelled=my_shifts.cancelled_posts(period),
            shift_kinds=SHIFT_KINDS,
            **reinforcement_context(period),
            **status_context(period, run),
        ),
        status,
    )


@bp.get("/periods/<int:period_id>/roster")
@staff_required
def roster(period_id: int) -> Any:
    """The roster page: generate a roster, follow the run, review the draft."""
    period = get_or_404(PlanningPeriod, period_id)
    form = GenerateRosterForm()
    form.set_sites(rosters.active_sites(period))
    return _roster_page(form, period)


@bp.post("/periods/<int:period_id>/roster/runs")
@staff_required
def roster_generate(period_id: int) -> Any:
    """Start a solve run and answer with its status fragment (htmx) or the page (no JS)."""
    period = get_or_404(PlanningPeriod, period_id)
    form = GenerateRosterForm()
    form.set_sites(rosters.active_sites(period))
    if form.validate_on_submit():
        try:
            run = rosters.start_run(
                period, form.site_ids.data or [], form.time_limit.data, current_user
            )
        except RosterError as error:
            add_error(form, error)
        else:
            jobs.submit(run.id)
            db.session.refresh(run)
            if is_htmx():
                return trigger(
                    render(
                        "coordinator/roster.html",
                        "coordinator/_solve_status.html",
                        **status_context(period, run),
                    ),
                    RUN_STARTED,
                )
            flash(gettext("Roster generation started."))
            return redirect(url_for("coordinator.roster", period_id=period.id))
    if is_htmx():
        # htmx swaps only 2xx answers: the form with its errors comes back as 200 and is
        # retargeted onto itself (the status fragment stays as it was).
        return retarget(
            render(
                "coordinator/roster.html",
                "coordinator/_roster_form.html",
                form=form,
                **status_context(period, rosters.latest_run(period.id)),
            ),
            "#roster-form",
        )
    return _roster_page(form, period, INVALID)


@bp.get("/periods/<int:period_id>/roster/runs/<int:run_id>")
@staff_required
def roster_run_status(period_id: int, run_id: int) -> Any:
    """The self-polling status fragment of a run (the whole roster page without htmx)."""
    period, run = _period_run(period_id, run_id)
    rosters.fail_stale_runs(period.id)
    db.session.refresh(run)
    if not is_htmx():
        form = GenerateRosterForm()
        form.set_sites(rosters.active_sites(period))
        return _roster_page(form, period)
    response = render(
        "coordinator/roster.html", "coordinator/_solve_status.html", **status_context(period, run)
    )
    # The fragment polls only while the run is active: an answer with it ended is the end.
    return response if run.active else trigger(response, RUN_FINISHED)


@bp.post("/periods/<int:period_id>/roster/runs/<int:run_id>/cancel")
@staff_required
def roster_run_cancel(period_id: int, run_id: int) -> Any:
    """Cancel a queued or running run."""
    period, run = _period_run(period_id, run_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    rosters.cancel_run(run)
    if is_htmx():
        response = render(
            "coordinator/roster.html",
            "coordinator/_solve_status.html",
            **status_context(period, run),
        )
        return response if run.active else trigger(response, RUN_FINISHED)
    flash(gettext("Cancel requested."))
    return redirect(url_for("coordinator.roster", period_id=period.id))


@bp.get("/periods/<int:period_id>/roster/unfilled")
@staff_required
def roster_unfilled(period_id: int) -> str:
    """Every unfilled post of the draft with the solver's reasons, a page at a time (the review
    shows only the first few, so it stays light with hundreds of holes)."""
    period = get_or_404(PlanningPeriod, period_id)
    review = rosters.review(period)
    pages = max(1, -(-len(review.unfilled) // UNFILLED_PER_PAGE))
    page = min(max(request.args.get("page", 1, type=int), 1), pages)
    first = (page - 1) * UNFILLED_PER_PAGE
    return render_template(
        "coordinator/roster_unfilled.html",
        review=review,
        posts=review.unfilled[first : first + UNFILLED_PER_PAGE],
        page=page,
        pages=pages,
    )


@bp.get("/periods/<int:period_id>/roster/shifts/<int:site_id>/<day>/<kind>")
@staff_required
def roster_shift(period_id: int, site_id: int, day: str, kind: str) -> str:
    """One shift of the draft: its posts, who fills them, and what is missing and why."""
    period = get_or_404(PlanningPeriod, period_id)
    site = get_or_404(Site, site_id)
    when = iso_day(day)
    if when is None:
        abort(404)
    if kind not in site.shift_kinds or not period.covers(when):
        abort(404)
    return render_template(
        "coordinator/roster_shift.html", view=rosters.shift_view(period, site, when, kind)
    )
