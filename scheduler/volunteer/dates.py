"""Dates the way people write them on a volunteer's pages ('12月7日周一' / 'Mon, Dec 7'): the
templates' day_label, day_short and day_long, and the availability grid's labels."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from functools import lru_cache

from babel.dates import format_skeleton

from scheduler.i18n import current_locale

DAY_LABEL, DAY_SHORT, DAY_LONG = "MMMEd", "MMMd", "yMMMd"


def date_format(skeleton: str) -> Callable[[date], str]:
    """A function writing a date by the CLDR `skeleton` in the current locale."""

    def fmt(day: date) -> str:
        return format_day(skeleton, str(current_locale()), day)

    return fmt


@lru_cache(maxsize=4096)
def format_day(skeleton: str, locale: str, day: date) -> str:
    """`day` by the CLDR `skeleton` in `locale`. The grid names each of its dates, /me every
    shift card's, and CLDR formatting is slow: the same few dates are formatted once per
    process."""
    return format_skeleton(skeleton, day, locale=locale)
