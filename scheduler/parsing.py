"""Strict parsing of values from URLs and query strings, shared by the views: what does not
parse is None (the caller answers 404 or explains), never an exception deep in a query.

- `iso_day`: only 'YYYY-MM-DD' ('20261211' and '2026-W50-5', which `date.fromisoformat`
  accepts since Python 3.11, are refused).
- `database_id`: a positive integer an INTEGER column can hold (1..MAX_ID); bigger numbers
  would overflow the database driver."""

from __future__ import annotations

import re
from datetime import date, datetime

from scheduler.models.base import MAX_ID

__all__ = ["database_id", "iso_day"]

_ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_DIGITS = re.compile(r"[0-9]{1,10}")


def iso_day(text: object) -> date | None:
    """'2026-12-11' -> date(2026, 12, 11); None for anything else (other ISO forms, a day
    that does not exist, None)."""
    if not isinstance(text, str) or not _ISO_DAY.fullmatch(text):
        return None
    try:
        return datetime.strptime(text, "%Y-%m-%d").date()
    except ValueError:
        return None


def database_id(text: object) -> int | None:
    """'42' -> 42; None for anything that is not a number from 1 to MAX_ID (blank, '0',
    '-1', '1e3', '９', 2**63)."""
    if isinstance(text, int) and not isinstance(text, bool):
        text = str(text)
    value = text.strip() if isinstance(text, str) else ""
    if not _DIGITS.fullmatch(value):
        return None
    number = int(value)
    return number if 1 <= number <= MAX_ID else None
