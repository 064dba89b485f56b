"""Names of codes as people read them, shared by every blueprint and service: shift kinds
(夜班 / 白班 / 晚班), site kinds, and the audit log's actions and objects. Lazy strings: each
is translated where it is shown."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from scheduler.i18n import lazy_gettext as _l

__all__ = [
    "AUDIT_ACTION_LABELS",
    "AUDIT_OBJECT_LABELS",
    "SHIFT_LABELS",
    "SITE_KIND_LABELS",
    "TranslatedOnce",
]

SHIFT_LABELS = {"night": _l("Night"), "day": _l("Day"), "evening": _l("Evening")}
SITE_KIND_LABELS = {
    "checkpoint": _l("Highway checkpoint"),
    "testing": _l("Community testing site"),
    "other": _l("Other post"),
}

# The audit log's action codes (scheduler.services.audit.ACTIONS; a test keeps them in step).
AUDIT_ACTION_LABELS = {
    "site.create": _l("Site created"),
    "site.update": _l("Site or demand changed"),
    "site.archive": _l("Site archived"),
    "site.restore": _l("Site restored"),
    "period.create": _l("Period created"),
    "period.update": _l("Period changed"),
    "period.open": _l("Period opened for availability"),
    "period.lock": _l("Period closed for availability"),
    "period.close": _l("Period ended (emergency over)"),
    "period.signup": _l("Self-sign-up switched"),
    "catalogue.save": _l("Catalogue entry saved"),
    "catalogue.delete": _l("Catalogue entry deleted"),
    "work_unit.merge": _l("Work units merged"),
    "import.write": _l("Volunteers imported"),
    "claim_code.reset": _l("Claim codes issued again"),
    "roster.solve": _l("Roster generation started"),
    "roster.cancel_run": _l("Roster generation cancelled"),
    "edit.assign": _l("Volunteer assigned by hand"),
    "edit.override": _l("Rule warning overridden"),
    "edit.unassign": _l("Volunteer taken off a post"),
    "edit.pin": _l("Pin changed"),
    "edit.swap": _l("Posts swapped"),
    "roster.publish": _l("Roster published"),
    "repair.start": _l("Repair started"),
    "repair.publish": _l("Repair published"),
    "urgent.create": _l("Urgent request posted"),
    "urgent.withdraw": _l("Urgent request withdrawn"),
    "urgent.fill": _l("Urgent request fill started"),
    "account.role": _l("Account role changed"),
    "account.activate": _l("Account reactivated"),
    "account.deactivate": _l("Account deactivated"),
    "account.password": _l("Password reset"),
    "volunteer.trained": _l("Training recorded"),
    "volunteer.skill_verified": _l("Qualification verification changed"),
    "volunteer.unavailable": _l("Volunteer marked unavailable"),
    "export": _l("Personal data exported"),
    "retention.anonymise": _l("Anonymised after the retention period"),
    "period.reinforce": _l("Period opened to other districts"),
    "urgent.escalate": _l("Urgent request sent up one level"),
    "organisation.reinforce": _l("District's own reinforcement switched"),
    "account.reset_code": _l("Password reset code issued"),
    "callup.send": _l("Call-up sent"),
    "message.send": _l("Message sent"),
    "message.retry": _l("Failed messages sent again"),
    "organisation.create": _l("Union created"),
    "organisation.rename": _l("Union renamed"),
    "organisation.move": _l("Union moved"),
    "organisation.merge": _l("Unions merged"),
    "organisation.archive": _l("Union archived"),
    "organisation.restore": _l("Union restored"),
    "organisation.appoint": _l("Coordinator or liaison appointed"),
}
AUDIT_OBJECT_LABELS = {
    "site": _l("Site"),
    "period": _l("Period"),
    "role": _l("Role"),
    "skill": _l("Skill"),
    "district": _l("District"),
    "work_unit": _l("Work unit"),
    "import": _l("Import"),
    "user": _l("Account"),
    "volunteer": _l("Volunteer"),
    "solve_run": _l("Roster run"),
    "assignment": _l("Post"),
    "roster": _l("Roster version"),
    "urgent_request": _l("Urgent request"),
    "audit_log": _l("Audit log"),
    "roster_csv": _l("Roster (CSV)"),
    "roster_xlsx": _l("Roster (XLSX)"),
    "hours_csv": _l("Service hours (CSV)"),
    "hours_xlsx": _l("Service hours (XLSX)"),
    "claim_codes_csv": _l("Claim codes (CSV)"),
    "claim_codes_xlsx": _l("Claim codes (XLSX)"),
    "organisation": _l("Union"),
    "callup": _l("Call-up"),
    "message": _l("Messages"),
}


class TranslatedOnce(Mapping[str, str]):
    """`labels` (code -> lazy string) for one rendering, each translated the first time it is
    read: a lazy string is translated again every time it is shown (about 60 Python calls,
    on every shift card of /me). A read-only mapping of every code of `labels`."""

    def __init__(self, labels: Mapping[str, Any]) -> None:
        self.labels = labels
        self._translated: dict[str, str] = {}

    def __getitem__(self, code: str) -> str:
        try:
            return self._translated[code]
        except KeyError:
            label = self._translated[code] = str(self.labels[code])
            return label

    def __iter__(self) -> Iterator[str]:
        return iter(self.labels)

    def __len__(self) -> int:
        return len(self.labels)

    def __contains__(self, code: object) -> bool:
        return code in self.labels
