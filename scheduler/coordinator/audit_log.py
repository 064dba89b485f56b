"""The audit log for coordinators and admins: filter by actor, action, object type and date
range, page through it, export the selection to CSV (the export is itself logged). There is
no route that edits or deletes a row. A coordinator of a district sees the rows of their
scope only, filters included (services.audit decides which)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app, render_template, request, url_for
from flask_babel import to_user_timezone
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import DateField, IntegerField, SelectField
from wtforms.validators import NumberRange, Optional

from scheduler.access import staff_required
from scheduler.coordinator import bp
from scheduler.downloads import file_response
from scheduler.forms import NONE, id_or_none, select_choices
from scheduler.i18n import lazy_gettext as _l
from scheduler.labels import AUDIT_ACTION_LABELS, AUDIT_OBJECT_LABELS
from scheduler.services import audit
from scheduler.services.spreadsheets import CSV_MEDIA_TYPE

PAGE_SIZE = 50


class AuditFilterForm(FlaskForm):
    """The log's filters; submitted by GET (a bookmarkable URL), so no CSRF."""

    class Meta:
        csrf = False

    actor = SelectField(_l("Who"), coerce=id_or_none, default=NONE)
    action = SelectField(_l("Action"), default="")
    object_type = SelectField(_l("Object"), default="")
    since = DateField(_l("From"), validators=[Optional()])
    until = DateField(_l("To"), validators=[Optional()])
    page = IntegerField(validators=[Optional(), NumberRange(min=1)])

    def set_choices(self) -> None:
        any_ = _l("any")
        self.actor.choices = select_choices([(NONE, any_), *audit.actors(current_user)])
        self.action.choices = select_choices(
            [("", any_), *((code, AUDIT_ACTION_LABELS.get(code, code)) for code in audit.ACTIONS)]
        )
        types = dict.fromkeys([*AUDIT_OBJECT_LABELS, *audit.object_types(current_user)])
        self.object_type.choices = select_choices(
            [("", any_), *((t, AUDIT_OBJECT_LABELS.get(t, t)) for t in types)]
        )

    def to_query(self) -> audit.LogQuery:
        """The filters that validated (anything else is ignored, never a 500)."""

        def ok(name: str) -> bool:
            return not self[name].errors

        since = self.since.data if ok("since") else None
        until = self.until.data if ok("until") else None
        if since and until and until < since:
            self.until.errors = [*self.until.errors, _l("The end date is before the start.")]
            until = None
        return audit.LogQuery(
            actor_id=(self.actor.data or None) if ok("actor") else None,
            action=(self.action.data or None) if ok("action") else None,
            object_type=(self.object_type.data or None) if ok("object_type") else None,
            since=since,
            until=until,
            page=(self.page.data or 1) if ok("page") else 1,
        )


def _offset() -> timedelta:
    """How far the deployment's time zone is ahead of UTC (days in the filters are local)."""
    zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    return datetime.now(zone).utcoffset() or timedelta(0)


def _form() -> tuple[AuditFilterForm, audit.LogQuery]:
    form = AuditFilterForm(formdata=request.args)
    form.set_choices()
    form.validate()
    return form, form.to_query()


@bp.get("/audit")
@staff_required
def audit_log() -> str:
    """Staff: the audit log, newest first, filtered and paged."""
    form, query = _form()
    page = audit.search(query, PAGE_SIZE, _offset(), current_user)
    args: dict[str, Any] = {k: v for k, v in request.args.items() if k != "page" and v}

    def page_url(number: int) -> str:
        return url_for("coordinator.audit_log", **args, page=number)

    return render_template(
        "coordinator/audit_log.html",
        form=form,
        page=page,
        page_url=page_url,
        csv_url=url_for("coordinator.audit_log_csv", **args),
        action_labels=AUDIT_ACTION_LABELS,
        object_labels=AUDIT_OBJECT_LABELS,
        local=to_user_timezone,
        summary_text=audit.summary_text,
    )


@bp.get("/audit.csv")
@staff_required
def audit_log_csv() -> Response:
    """Staff: every row the filters select, as CSV (recorded in the log itself)."""
    _form_unused, query = _form()
    body = audit.export_csv(query, _offset(), current_user)
    return file_response(body, CSV_MEDIA_TYPE, "audit-log.csv")
