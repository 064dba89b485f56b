"""How many people a post needs: the site's head count for the shift plus what open urgent
requests (紧急求助) add to it. Planning, hand edits, the review and the requests' own status
all read demand from here, so an urgent request is an ordinary post everywhere.

An urgent request asks for a span of hours; rosters are made of whole shifts, so each shift
of the site that the span overlaps gets the extra head count (at a site running 00/08/16:
10:00–14:00 adds to the day shift; 14:00–18:00 to the day and the evening; 22:00–02:00 to
the evening and the next date's night)."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from scheduler.extensions import db
from scheduler.models import Site, UrgentRequest

PostKey = tuple[int, date, str]  # site id, local date, shift kind

__all__ = ["covered_posts", "demand_of", "open_requests", "request_window", "urgent_extra"]


def request_window(site: Site, day: date, start: time, end: time) -> tuple[datetime, datetime]:
    """The request's span as aware datetimes in the site's zone; an end at or before the start
    is on the next date."""
    zone = ZoneInfo(site.timezone)
    begin = datetime.combine(day, start, tzinfo=zone)
    finish = datetime.combine(day + timedelta(days=1 if end <= start else 0), end, tzinfo=zone)
    return begin, finish


def covered_posts(site: Site, day: date, start: time, end: time) -> tuple[tuple[date, str], ...]:
    """The (local date, shift) of every shift the site runs whose window overlaps the span, in
    time order. Shifts belong to the date they start, so a span past midnight reaches the next
    date's first shift, and an early-morning span a night shift that began the evening before
    (at a site whose night starts at 23:00)."""
    begin, finish = request_window(site, day, start, end)
    posts = []
    for shift_day in (day - timedelta(days=1), day, day + timedelta(days=1)):
        for kind in site.shift_kinds:
            shift_start, shift_end = site.shift_window(shift_day, kind)
            if shift_start < finish and begin < shift_end:
                posts.append((shift_start, shift_day, kind))
    return tuple((d, k) for _start, d, k in sorted(posts))


def open_requests(
    period_id: int | None = None, site_ids: Iterable[int] | None = None
) -> list[UrgentRequest]:
    """Requests not withdrawn, oldest first (the order their posts are counted as filled)."""
    query = (
        select(UrgentRequest)
        .where(UrgentRequest.withdrawn_at.is_(None))
        .options(selectinload(UrgentRequest.needs), selectinload(UrgentRequest.site))
        .order_by(UrgentRequest.created_at, UrgentRequest.id)
    )
    if period_id is not None:
        query = query.where(UrgentRequest.period_id == period_id)
    if site_ids is not None:
        query = query.where(UrgentRequest.site_id.in_(list(site_ids)))
    return list(db.session.scalars(query))


def urgent_extra(
    period_id: int | None, site_ids: Iterable[int] | None = None
) -> dict[PostKey, Counter[int]]:
    """Extra head count per post (site, day, shift) and role id from the open requests of
    the period (of every period with None)."""
    extra: dict[PostKey, Counter[int]] = defaultdict(Counter)
    for request in open_requests(period_id, site_ids):
        posts = covered_posts(request.site, request.day, request.start_time, request.end_time)
        for day, kind in posts:
            for need in request.needs:
                extra[(request.site_id, day, kind)][need.role_id] += need.headcount
    return dict(extra)


def demand_of(
    site: Site, day: date, kind: str, extra: dict[PostKey, Counter[int]] | None = None
) -> dict[int, int]:
    """Head count per role id of one post: the site's demand plus `extra` (urgent_extra)."""
    need = Counter(site.demand_for(kind))
    if extra:
        need.update(extra.get((site.id, day, kind), {}))
    return {role_id: n for role_id, n in need.items() if n > 0}
