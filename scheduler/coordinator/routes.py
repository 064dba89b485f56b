"""Coordinator pages: dashboard, sites and demand, catalogue, periods, districts and work units,
the volunteer pool and a volunteer's record. Coordinators and admins only (staff_required).

Views parse a form, call one service function (which validates again and commits once) and
render; invalid input re-renders the form with field errors and status 422."""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext, ngettext
from flask_login import current_user
from werkzeug.wrappers import Response

from scheduler.access import (
    catalogue_editor_required,
    check_in_scope,
    get_or_404,
    members_required,
    staff_required,
)
from scheduler.coordinator import bp, volunteer_or_404
from scheduler.coordinator.forms import (
    NONE,
    MergeForm,
    NameForm,
    PeriodForm,
    PoolSearchForm,
    RoleForm,
    SkillForm,
    ToggleForm,
    site_form,
)
from scheduler.coordinator.volunteer_page import volunteer_page
from scheduler.extensions import db
from scheduler.forms import INVALID, EmptyForm, add_error
from scheduler.htmx import is_htmx, render
from scheduler.i18n import list_comma, localized, localized_name
from scheduler.labels import SHIFT_LABELS, SITE_KIND_LABELS
from scheduler.models import (
    COORDINATOR,
    SHIFT_KINDS,
    District,
    PlanningPeriod,
    Role,
    Site,
    Skill,
    WorkUnit,
)
from scheduler.models.planning import MAX_PERIOD_DAYS
from scheduler.services import (
    catalogue_admin,
    dashboard,
    outbox,
    periods,
    pool,
    scope,
    sites,
    urgent,
)
from scheduler.services.availability import kind_of_start, span_hours
from scheduler.services.catalogue import DEFAULT_ROLES
from scheduler.services.catalogue_admin import CatalogueError, RoleData, SkillData
from scheduler.services.hours import volunteer_totals
from scheduler.services.lookups import open_periods
from scheduler.services.periods import PeriodData, PeriodError
from scheduler.services.phones import national
from scheduler.services.sites import SiteError


@bp.context_processor
def _coordinator_context() -> dict[str, Any]:
    return {
        "shift_kinds": SHIFT_KINDS,
        "shift_labels": SHIFT_LABELS,
        "site_kind_labels": SITE_KIND_LABELS,
        "national": national,
        "max_period_days": MAX_PERIOD_DAYS,
        # A volunteer's hours and no-shows on their page (coordinator/volunteer.html).
        "service_hours": volunteer_totals,
        # Availability spans by start hour (the volunteer page and the heat map).
        "kind_of_start": kind_of_start,
        "span_hours": span_hours,
    }


# Dashboard --------------------------------------------------------------------------------


@bp.get("/", endpoint="dashboard")  # the name base.html's navigation links to
@staff_required
def dashboard_view() -> str:
    """Headline counts, each open period's state with the one step that moves it forward,
    urgent requests waiting, and the availability heat map of one open period (?period=<id>)."""
    open_list = [p for p in open_periods() if scope.in_scope(p, current_user)]
    selected = next((p for p in open_list if p.id == request.args.get("period", type=int)), None)
    if selected is None and open_list:
        selected = open_list[0]
    heat = dashboard.heat_map(selected) if selected is not None else None
    waiting = [w for w in urgent.waiting() if scope.in_scope(w.request, current_user)]
    return render_template(
        "coordinator/dashboard.html",
        counts=dashboard.counts(current_user),
        urgent_waiting=waiting,
        open_periods=open_list,
        states=dashboard.period_states(open_list, waiting),
        heat=heat,
        messages_failed=sum(c.failed for c in outbox.counts(current_user).values()),
        unappointed=scope.unappointed(current_user),
    )


# Sites ------------------------------------------------------------------------------------


@bp.get("/sites")
@staff_required
def sites_list() -> str:
    """Active sites (?archived=1 adds the archived ones)."""
    show_archived = request.args.get("archived") == "1"
    rows = sites.list_sites(include_archived=show_archived, user=current_user)
    return render_template(
        "coordinator/sites.html",
        sites=rows,
        totals=sites.demand_totals(rows),
        show_archived=show_archived,
        action_form=EmptyForm(),
    )


def _site_page(form: Any, site: Site | None, status: int = 200) -> tuple[str, int]:
    hours = form.first_shift_hour.data if isinstance(form.first_shift_hour.data, int) else 0
    return (
        render_template(
            "coordinator/site_form.html",
            form=form,
            site=site,
            hours=sites.shift_label_hours(hours if 0 <= hours <= 23 else 0),
            common_timezones=("Asia/Shanghai", "Asia/Urumqi", "Asia/Hong_Kong", "UTC"),
        ),
        status,
    )


def _save_site(site: Site | None) -> Response | tuple[str, int]:
    roles = sites.catalogue_roles()
    districts = catalogue_admin.list_districts(current_user)
    if request.method == "GET":
        if site is None:
            initial = sites.default_site_data(request.args.get("kind", "checkpoint"), roles)
        else:
            initial = sites.site_data_of(site)
        return _site_page(site_form(roles, districts, initial=initial), site)
    form = site_form(roles, districts)
    if form.validate_on_submit():
        try:
            saved = sites.save_site(site, form.to_data(), current_user)
        except SiteError as error:
            add_error(form, error, flash_if_no_field=True)
        else:
            flash(gettext("Site “%(name)s” saved.", name=saved.name))
            return redirect(url_for("coordinator.sites_list"))
    return _site_page(form, site, INVALID)


@bp.route("/sites/new", methods=["GET", "POST"])
@staff_required
def site_new() -> Response | tuple[str, int]:
    """New site form, pre-filled with the usual demand for ?kind=checkpoint|testing|other."""
    return _save_site(None)


@bp.route("/sites/<int:site_id>/edit", methods=["GET", "POST"])
@staff_required
def site_edit(site_id: int) -> Response | tuple[str, int]:
    """Edit a site's details, shift pattern and demand grid."""
    site = sites.get_site(site_id)
    if site is not None:
        check_in_scope(site)
    if site is None:
        abort(404)
    return _save_site(site)


def _set_archived(site_id: int, archived: bool) -> Response:
    site = get_or_404(Site, site_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    sites.set_archived(site, archived)
    message = "Site “%(name)s” archived." if archived else "Site “%(name)s” restored."
    flash(gettext(message, name=site.name))
    return redirect(url_for("coordinator.sites_list", archived="1" if not archived else None))


@bp.post("/sites/<int:site_id>/archive")
@staff_required
def site_archive(site_id: int) -> Response:
    """Archive a site: kept with its history, no longer offered for new periods."""
    return _set_archived(site_id, True)


@bp.post("/sites/<int:site_id>/unarchive")
@staff_required
def site_unarchive(site_id: int) -> Response:
    """Bring an archived site back."""
    return _set_archived(site_id, False)


# Role catalogue and skills ----------------------------------------------------------------


@bp.get("/catalogue")
@staff_required
def catalogue() -> str:
    """The role catalogue and the skills (on a new database, none: an editor may add the
    usual ones)."""
    roles = catalogue_admin.list_roles()
    return render_template(
        "coordinator/catalogue.html",
        roles=roles,
        skills=catalogue_admin.list_skills(),
        delete_form=EmptyForm(),
        may_edit=scope.may_edit_catalogue(current_user),
        # named only on the empty catalogue's notice
        default_roles=None
        if roles
        else list_comma().join(localized(zh, en) for _code, zh, en, *_rest in DEFAULT_ROLES),
    )


@bp.post("/catalogue/defaults")
@catalogue_editor_required
def catalogue_defaults() -> Response:
    """Add the default roles and skills that are missing (a new database has none)."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    added = catalogue_admin.add_default_catalogue(current_user)
    flash(
        ngettext(
            "%(num)d usual role or skill added.", "%(num)d usual roles and skills added.", added
        )
        if added
        else gettext("The usual roles and skills are there already.")
    )
    return redirect(url_for("coordinator.catalogue"))


def _role_page(form: RoleForm, role: Role | None, status: int = 200) -> tuple[str, int]:
    return render_template("coordinator/role_form.html", form=form, role=role), status


def _save_role(role: Role | None) -> Response | tuple[str, int]:
    form = RoleForm(obj=role) if request.method == "GET" else RoleForm()
    form.set_skills(catalogue_admin.list_skills(), localized_name)
    if request.method == "GET" and role is not None:
        form.required_skill_id.data = role.required_skill_id or 0
    if form.validate_on_submit():
        data = RoleData(
            code=form.code.data or "",
            name_zh=form.name_zh.data,
            name_en=form.name_en.data,
            required_skill_id=form.required_skill_id.data or None,
            requires_training=form.requires_training.data,
            is_lead=form.is_lead.data,
            sort_order=form.sort_order.data,
        )
        try:
            saved = catalogue_admin.save_role(role, data, current_user)
        except CatalogueError as error:
            add_error(form, error, flash_if_no_field=True)
        else:
            flash(gettext("Role “%(name)s” saved.", name=localized_name(saved)))
            return redirect(url_for("coordinator.catalogue"))
        return _role_page(form, role, INVALID)
    return _role_page(form, role, INVALID if form.is_submitted() else 200)


@bp.route("/catalogue/roles/new", methods=["GET", "POST"])
@catalogue_editor_required
def role_new() -> Response | tuple[str, int]:
    """Add a role (post) to the catalogue."""
    return _save_role(None)


@bp.route("/catalogue/roles/<int:role_id>/edit", methods=["GET", "POST"])
@catalogue_editor_required
def role_edit(role_id: int) -> Response | tuple[str, int]:
    """Edit a role's names, required skill, training, lead flag and order."""
    return _save_role(get_or_404(Role, role_id))


@bp.post("/catalogue/roles/<int:role_id>/delete")
@catalogue_editor_required
def role_delete(role_id: int) -> Response:
    """Delete a role; refused with a message while any site's demand uses it."""
    role = get_or_404(Role, role_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    name = localized_name(role)
    try:
        catalogue_admin.delete_role(role, current_user)
    except CatalogueError as error:
        flash(str(error.message), "error")
    else:
        flash(gettext("Role “%(name)s” deleted.", name=name))
    return redirect(url_for("coordinator.catalogue"))


def _save_skill(skill: Skill | None) -> Response | tuple[str, int]:
    form = SkillForm(obj=skill) if request.method == "GET" else SkillForm()
    if form.validate_on_submit():
        data = SkillData(
            code=form.code.data or "",
            name_zh=form.name_zh.data,
            name_en=form.name_en.data,
            is_qualification=form.is_qualification.data,
        )
        try:
            saved = catalogue_admin.save_skill(skill, data, current_user)
        except CatalogueError as error:
            add_error(form, error, flash_if_no_field=True)
        else:
            flash(gettext("Skill “%(name)s” saved.", name=localized_name(saved)))
            return redirect(url_for("coordinator.catalogue"))
    status = INVALID if form.is_submitted() else 200
    return render_template("coordinator/skill_form.html", form=form, skill=skill), status


@bp.route("/catalogue/skills/new", methods=["GET", "POST"])
@catalogue_editor_required
def skill_new() -> Response | tuple[str, int]:
    """Add a skill or qualification."""
    return _save_skill(None)


@bp.route("/catalogue/skills/<int:skill_id>/edit", methods=["GET", "POST"])
@catalogue_editor_required
def skill_edit(skill_id: int) -> Response | tuple[str, int]:
    """Edit a skill's names and whether it is a qualification."""
    return _save_skill(get_or_404(Skill, skill_id))


# Planning periods -------------------------------------------------------------------------


@bp.get("/periods")
@staff_required
def periods_list() -> str:
    """All planning periods with their sites and open/closed state."""
    return render_template(
        "coordinator/periods.html",
        periods=periods.list_periods(current_user),
        action_form=EmptyForm(),
    )


def _save_period(period: PlanningPeriod | None) -> Response | tuple[str, int]:
    if request.method == "GET" and period is not None:
        form = PeriodForm(obj=period)
        form.site_ids.data = [site.id for site in period.sites]
        form.contact_id.data = period.contact_id or NONE
    else:
        form = PeriodForm()
        if request.method == "GET" and current_user.role == COORDINATOR:
            form.contact_id.data = current_user.id  # whoever sets a period up, by default
    form.set_sites(periods.selectable_sites(period, current_user))
    form.set_contacts(periods.period_contacts(period, current_user))
    if form.validate_on_submit():
        data = PeriodData(
            name=form.name.data,
            start_date=form.start_date.data,
            end_date=form.end_date.data,
            site_ids=list(form.site_ids.data or []),
            deprioritise_no_shows=bool(form.deprioritise_no_shows.data),
            contact_id=form.contact_id.data or None,
            reminder_evening_at=form.reminder_evening_at.data or "",
            reminder_hours_before=form.reminder_hours_before.data,
        )
        try:
            saved = periods.save_period(period, data, current_user)
        except PeriodError as error:
            add_error(form, error, flash_if_no_field=True)
        else:
            flash(gettext("Period “%(name)s” saved.", name=saved.name))
            return redirect(url_for("coordinator.periods_list"))
    status = INVALID if form.is_submitted() else 200
    return render_template("coordinator/period_form.html", form=form, period=period), status


@bp.route("/periods/new", methods=["GET", "POST"])
@staff_required
def period_new() -> Response | tuple[str, int]:
    """Create a planning period (it opens for availability at once)."""
    return _save_period(None)


@bp.route("/periods/<int:period_id>/edit", methods=["GET", "POST"])
@staff_required
def period_edit(period_id: int) -> Response | tuple[str, int]:
    """Edit a period's name, dates and sites."""
    return _save_period(get_or_404(PlanningPeriod, period_id))


def _set_period_open(period_id: int, is_open: bool) -> Response:
    period = get_or_404(PlanningPeriod, period_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        periods.set_open(period, is_open)
    except PeriodError as error:
        flash(str(error.message), "error")
        return redirect(url_for("coordinator.periods_list"))
    message = (
        "“%(name)s” is open for availability."
        if is_open
        else "“%(name)s” is closed for availability."
    )
    flash(gettext(message, name=period.name))
    return redirect(url_for("coordinator.periods_list"))


@bp.post("/periods/<int:period_id>/open")
@staff_required
def period_open(period_id: int) -> Response:
    """Open a period so volunteers can enter availability for it."""
    return _set_period_open(period_id, True)


@bp.post("/periods/<int:period_id>/close")
@staff_required
def period_close(period_id: int) -> Response:
    """Close a period for availability entry."""
    return _set_period_open(period_id, False)


# Districts and work units -----------------------------------------------------------------


@bp.route("/districts", methods=["GET", "POST"])
@staff_required
def districts() -> Response | tuple[str, int]:
    """List districts; POST adds one (the city's coordinators and admins only: a district is
    a node under the city union, scope.may_edit_catalogue)."""
    may_add = scope.may_edit_catalogue(current_user)
    if request.method == "POST" and not may_add:
        abort(403)
    form = NameForm()
    if form.validate_on_submit():
        try:
            district = catalogue_admin.save_district(None, form.name.data, current_user)
        except CatalogueError as error:
            add_error(form, error, flash_if_no_field=True)
        else:
            flash(gettext("District “%(name)s” added.", name=district.name))
            return redirect(url_for("coordinator.districts"))
    status = INVALID if form.is_submitted() else 200
    return render_template(
        "coordinator/districts.html",
        form=form,
        may_add=may_add,
        districts=catalogue_admin.list_districts(current_user),
    ), status


@bp.route("/districts/<int:district_id>/edit", methods=["GET", "POST"])
@staff_required
def district_edit(district_id: int) -> Response | tuple[str, int]:
    """Rename a district."""
    district = get_or_404(District, district_id)
    form = NameForm(obj=district) if request.method == "GET" else NameForm()
    if form.validate_on_submit():
        try:
            catalogue_admin.save_district(district, form.name.data, current_user)
        except CatalogueError as error:
            add_error(form, error, flash_if_no_field=True)
        else:
            flash(gettext("District “%(name)s” saved.", name=district.name))
            return redirect(url_for("coordinator.districts"))
    status = INVALID if form.is_submitted() else 200
    return render_template("coordinator/district_form.html", form=form, district=district), status


@bp.route("/work-units", methods=["GET", "POST"])
@staff_required
def work_units() -> Response | tuple[str, int]:
    """List work units with their volunteer counts; POST adds one."""
    form = NameForm()
    if form.validate_on_submit():
        try:
            unit = catalogue_admin.save_work_unit(None, form.name.data)
        except CatalogueError as error:
            add_error(form, error, flash_if_no_field=True)
        else:
            flash(gettext("Work unit “%(name)s” added.", name=unit.name))
            return redirect(url_for("coordinator.work_units"))
    status = INVALID if form.is_submitted() else 200
    return render_template(
        "coordinator/work_units.html",
        form=form,
        units=catalogue_admin.list_work_units(current_user),
    ), status


def _work_unit_page(unit: WorkUnit, form: NameForm, merge_form: MergeForm, status: int) -> Any:
    return render_template(
        "coordinator/work_unit_form.html",
        unit=unit,
        form=form,
        merge_form=merge_form,
        claim_form=EmptyForm(),
    ), status


def _merge_form(unit: WorkUnit) -> MergeForm:
    form = MergeForm()
    form.target_id.choices = [
        (other.id, other.name)
        for other, _count in catalogue_admin.list_work_units(current_user)
        if other.id != unit.id
    ]
    return form


@bp.route("/work-units/<int:unit_id>/edit", methods=["GET", "POST"])
@staff_required
def work_unit_edit(unit_id: int) -> Response | tuple[str, int]:
    """Rename a work unit (the page also offers merging it into another)."""
    unit = get_or_404(WorkUnit, unit_id)
    form = NameForm(obj=unit) if request.method == "GET" else NameForm()
    if form.validate_on_submit():
        try:
            catalogue_admin.save_work_unit(unit, form.name.data)
        except CatalogueError as error:
            add_error(form, error, flash_if_no_field=True)
        else:
            flash(gettext("Work unit “%(name)s” saved.", name=unit.name))
            return redirect(url_for("coordinator.work_units"))
    status = INVALID if form.is_submitted() else 200
    return _work_unit_page(unit, form, _merge_form(unit), status)


@bp.post("/work-units/<int:unit_id>/merge")
@staff_required
def work_unit_merge(unit_id: int) -> Response | tuple[str, int]:
    """Merge this work unit into the chosen one: its volunteers move, it is deleted."""
    unit = get_or_404(WorkUnit, unit_id)
    form = _merge_form(unit)
    if form.validate_on_submit():
        target = db.session.get(WorkUnit, form.target_id.data)
        if target is not None and scope.in_scope(target, current_user):
            source_name = unit.name
            try:
                moved = catalogue_admin.merge_work_units(unit, target)
            except CatalogueError as error:
                add_error(form, error, flash_if_no_field=True)
            else:
                flash(
                    gettext(
                        "“%(source)s” merged into “%(target)s”: %(n)d volunteers moved.",
                        source=source_name,
                        target=target.name,
                        n=moved,
                    )
                )
                return redirect(url_for("coordinator.work_units"))
    return _work_unit_page(unit, NameForm(obj=unit), form, INVALID)


# Volunteer pool ---------------------------------------------------------------------------


@bp.get("/volunteers", endpoint="pool")
@members_required
def pool_view() -> Response:
    """Search, filter, sort and page the pool. htmx requests get the results fragment."""
    form = PoolSearchForm(formdata=request.args)
    form.set_choices(
        catalogue_admin.list_skills(), catalogue_admin.list_districts(current_user), localized_name
    )
    form.validate()
    results = pool.search_pool(
        form.to_query(), current_app.config["POOL_PAGE_SIZE"], user=current_user
    )
    args: dict[str, Any] = {k: v for k, v in request.args.items() if k != "page" and v}

    def page_url(number: int) -> str:
        return url_for("coordinator.pool", **args, page=number)

    return render(
        "coordinator/pool.html",
        "coordinator/_pool_results.html",
        form=form,
        results=results,
        page_url=page_url,
    )


# One volunteer ----------------------------------------------------------------------------


@bp.get("/volunteers/<int:volunteer_id>")
@members_required
def volunteer_detail(volunteer_id: int) -> str:
    """A volunteer's profile, skills (with verification), training, upcoming published
    shifts, availability in the open periods and partner. A liaison sees their members'."""
    return volunteer_page(volunteer_or_404(volunteer_id))


@bp.post("/volunteers/<int:volunteer_id>/training")
@staff_required
def volunteer_training(volunteer_id: int) -> Response:
    """Mark training done (value=1) or undo it (value=0). htmx gets the training fragment."""
    volunteer = volunteer_or_404(volunteer_id)
    form = ToggleForm()
    if not form.validate_on_submit():
        abort(400)
    pool.set_trained(volunteer, form.on)
    if is_htmx():
        return render(
            "coordinator/volunteer.html", "coordinator/_training.html", volunteer=volunteer
        )
    flash(gettext("Training recorded.") if form.on else gettext("Training record removed."))
    return redirect(url_for("coordinator.volunteer_detail", volunteer_id=volunteer.id))


@bp.post("/volunteers/<int:volunteer_id>/skills/<int:skill_id>/verification")
@staff_required
def volunteer_verify(volunteer_id: int, skill_id: int) -> Response:
    """Verify (value=1) or unverify (value=0) a declared qualification. htmx gets the row."""
    volunteer = volunteer_or_404(volunteer_id)
    entry = pool.get_volunteer_skill(volunteer.id, skill_id)
    if entry is None or not entry.skill.is_qualification:
        abort(404)
    form = ToggleForm()
    if not form.validate_on_submit():
        abort(400)
    pool.set_verified(entry, current_user, form.on)
    if is_htmx():
        return render(
            "coordinator/volunteer.html",
            "coordinator/_skill_row.html",
            volunteer=volunteer,
            entry=entry,
            verifiers=pool.verifier_names(volunteer),
        )
    flash(gettext("Qualification verified.") if form.on else gettext("Verification withdrawn."))
    return redirect(url_for("coordinator.volunteer_detail", volunteer_id=volunteer.id))
