"""Names of codes as people read them, shared by every blueprint and service: shift kinds
(夜班 / 白班 / 晚班) and site kinds. Lazy strings: each is translated where it is shown."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

__all__ = ["SHIFT_LABELS", "SITE_KIND_LABELS"]

SHIFT_LABELS = {"night": _l("Night"), "day": _l("Day"), "evening": _l("Evening")}
SITE_KIND_LABELS = {
    "checkpoint": _l("Highway checkpoint"),
    "testing": _l("Community testing site"),
    "other": _l("Other post"),
}
