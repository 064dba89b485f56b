"""From holes to a call-up: the most posts any roster could fill (the solver's max-flow bound,
beside "filled X of Y") and the unfilled posts grouped by role × shift × consecutive days, each
with a call-up link; on the review, publish and version pages (zh and en) and in `flask solve`."""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from scheduler.extensions import db
from scheduler.models import Availability, PlanningPeriod, Role, Site, User
from scheduler.models.base import utcnow
from scheduler.services import editing, holes, publishing, rosters
from scheduler.services.availability import default_start
from scheduler.services.holes import HoleGroup, group_holes
from scheduler.services.lookups import current_draft
from tests.fixtures.auth import login
from tests.fixtures.rosters import make_roster

MON, TUE, WED, THU, FRI = (date(2026, 12, d) for d in (7, 8, 9, 10, 11))


@dataclass(frozen=True)
class H:
    role_id: int
    shift: str
    day: date
    missing: int
    site_id: int = 1


# --- the grouping rule, on its own ------------------------------------------------------------


def test_consecutive_days_of_one_role_and_shift_are_one_group_summed_over_sites() -> None:
    groups = group_holes(
        [
            H(6, "day", MON, 2),
            H(6, "day", TUE, 1, site_id=2),
            H(6, "day", TUE, 3),
            H(6, "day", WED, 1),
        ]
    )
    assert groups == [HoleGroup(6, "day", MON, WED, 7)]
    assert groups[0].days == 3


def test_a_day_without_a_hole_splits_the_days() -> None:
    groups = group_holes([H(6, "day", MON, 2), H(6, "day", WED, 1), H(6, "day", THU, 1)])
    assert groups == [HoleGroup(6, "day", MON, MON, 2), HoleGroup(6, "day", WED, THU, 2)]


def test_shifts_and_roles_are_kept_apart_and_the_largest_comes_first() -> None:
    groups = group_holes(
        [
            H(6, "day", MON, 1),
            H(6, "night", MON, 4),
            H(3, "day", MON, 2),
            H(3, "day", TUE, 2),
            H(6, "day", TUE, 0),  # nothing missing: no group, no split of its own
        ]
    )
    assert groups == [
        HoleGroup(6, "night", MON, MON, 4),
        HoleGroup(3, "day", MON, TUE, 4),
        HoleGroup(6, "day", MON, MON, 1),
    ]


def test_every_missing_post_is_in_exactly_one_group() -> None:
    cells = [
        H(r, k, date(2026, 12, d), (r + d) % 3)
        for r in (1, 2)
        for k in ("day", "night")
        for d in range(1, 29)
    ]
    groups = group_holes(cells)
    assert sum(g.missing for g in groups) == sum(c.missing for c in cells)
    for role in (1, 2):
        for kind in ("day", "night"):
            mine = sorted(
                (g for g in groups if (g.role_id, g.shift) == (role, kind)), key=lambda g: g.first
            )
            for before, after in itertools.pairwise(mine):
                assert (after.first - before.last).days >= 2  # runs never touch


def test_no_holes_no_groups() -> None:
    assert group_holes([]) == []


# --- a small world: 12 posts, 3 of which anyone can take --------------------------------------


@pytest.fixture
def app(any_db_app: Flask) -> Flask:
    """Every test of this file that needs the app runs on SQLite and on PostgreSQL."""
    return any_db_app


@dataclass
class World:
    period: PlanningPeriod
    site: Site
    ann: User
    bo: User
    checker: Role


@pytest.fixture
def world(app: Flask, make_site: Any, make_volunteer: Any) -> World:
    # code checkers, 2 a shift, night and day, Mon–Wed: 12 posts
    site = make_site(name="东卡口", demand={"code_checker": 2}, runs_evening=False)
    period = PlanningPeriod(name="小期", start_date=MON, end_date=WED, is_open=True, sites=[site])
    db.session.add(period)
    now = utcnow()
    ann = make_volunteer(name="安", trained_at=now)
    bo = make_volunteer(name="波", trained_at=now)
    # Ann can come to every day shift, Bo only to Tuesday's: at most 4 posts can be filled
    # (Mon 1, Tue 2, Wed 1); nobody can take a night post.
    for user, days in ((ann, (MON, TUE, WED)), (bo, (TUE,))):
        assert user.volunteer is not None
        for day in days:
            db.session.add(
                Availability(
                    volunteer_id=user.volunteer.id, day=day, start_hour=default_start("day")
                )
            )
    db.session.commit()
    checker = db.session.scalars(select(Role).where(Role.code == "code_checker")).one()
    return World(period, site, ann, bo, checker)


def _draft(w: World) -> None:
    # Ann and Bo on Tuesday's day shift: Monday and Wednesday day posts stay open (a gap).
    make_roster(
        w.period,
        [(w.site, TUE, "day", "code_checker", w.ann), (w.site, TUE, "day", "code_checker", w.bo)],
    )


def test_the_review_knows_how_many_posts_could_be_filled(world: World) -> None:
    _draft(world)
    review = rosters.review(world.period)
    assert (review.posts_filled, review.posts_total) == (2, 12)
    assert review.posts_fillable == 4
    assert review.posts_nobody == 8
    assert review.hole_groups == [
        HoleGroup(world.checker.id, "night", MON, WED, 6),
        HoleGroup(world.checker.id, "day", MON, MON, 2),
        HoleGroup(world.checker.id, "day", WED, WED, 2),
    ]


def test_the_figure_is_reused_per_draft_revision(world: World, app: Flask) -> None:
    _draft(world)
    assert holes.fillable(world.period) == 4
    # Nobody's availability goes by a draft change: the cached figure stands...
    db.session.execute(Availability.__table__.delete())
    db.session.commit()
    assert holes.fillable(world.period) == 4
    # ...until the draft changes (a new revision) or the figure is older than FILLABLE_TTL.
    draft = current_draft(world.period.id)
    assert draft is not None
    editing.unassign(draft.assignments[0])
    db.session.commit()
    assert holes.fillable(world.period) == 0
    app.extensions[holes._CACHE_KEY].clear()
    assert holes.fillable(world.period) == 0


def test_the_fillable_figure_never_falls_below_what_is_filled(world: World) -> None:
    # A hand edit may overrule a rule the bound keeps: what is filled was fillable.
    assert holes.shown_fillable(0, 3, 12) == 3
    assert holes.shown_fillable(20, 3, 12) == 12
    assert holes.shown_fillable(None, 3, 12) is None


def test_a_period_without_active_sites_has_no_figure(app: Flask, make_period: Any) -> None:
    assert holes.fillable(make_period(sites=[])) is None


@pytest.fixture
def staff(app: Flask, coordinator: Any) -> FlaskClient:
    client = app.test_client()
    login(client, coordinator)
    return client


def _text(html: str, element_id: str) -> str:
    found = re.search(rf'id="{element_id}"[^>]*>(.*?)</(?:p|table|span)>', html, re.S)
    assert found, f"no #{element_id}"
    return " ".join(re.sub(r"<[^>]+>", " ", found.group(1)).split())


def test_the_review_page_in_chinese(world: World, staff: FlaskClient) -> None:
    _draft(world)
    html = staff.get(
        f"/coordinator/periods/{world.period.id}/roster", headers={"Accept-Language": "zh-CN"}
    ).get_data(as_text=True)
    assert "已填 2 / 12 个岗位" in _text(html, "roster-counts")
    assert _text(html, "roster-fillable") == "可填的 4 个中已填 2 个；8 个岗位无人能上"
    groups = _text(html, "hole-groups")
    assert "查验双码 · 夜班 · 12月7日至9日 缺 6 个岗位 为这些岗位发集结号" in groups
    assert "查验双码 · 白班 · 12月7日 缺 2 个岗位" in groups
    assert groups.index("夜班") < groups.index("白班 · 12月7日") < groups.index("12月9日 缺 2")
    pid, rid = world.period.id, world.checker.id
    assert (
        f'href="/coordinator/periods/{pid}/callups/new?role={rid}&amp;shift=night'
        f'&amp;from=2026-12-07&amp;to=2026-12-09"'
    ) in html
    assert f"role={rid}&amp;shift=day&amp;from=2026-12-09&amp;to=2026-12-09" in html


def test_the_review_page_in_english(world: World, staff: FlaskClient) -> None:
    _draft(world)
    html = staff.get(
        f"/coordinator/periods/{world.period.id}/roster", headers={"Accept-Language": "en"}
    ).get_data(as_text=True)
    assert "2 of 12 posts filled" in _text(html, "roster-counts")
    assert _text(html, "roster-fillable") == (
        "2 of the 4 fillable; 8 posts have nobody who can take them"
    )
    groups = _text(html, "hole-groups")
    assert "Code checker · Night · Dec 7 – 9 6 posts short Call up for these" in groups
    assert "Code checker · Day · Dec 7 2 posts short" in groups


def test_every_post_fillable_says_so(world: World, staff: FlaskClient) -> None:
    # Nights dropped and the day head count is 1: 3 posts, all of them Ann's to take.
    for demand in world.site.demands:
        demand.headcount = 0 if demand.shift == "night" else 1
    db.session.commit()
    html = staff.get(
        f"/coordinator/periods/{world.period.id}/roster", headers={"Accept-Language": "en"}
    ).get_data(as_text=True)
    assert "There is no draft yet" in html
    assert 'id="roster-fillable"' not in html
    make_roster(world.period, [(world.site, MON, "day", "code_checker", world.ann)])
    html = staff.get(
        f"/coordinator/periods/{world.period.id}/roster", headers={"Accept-Language": "en"}
    ).get_data(as_text=True)
    assert _text(html, "roster-fillable") == "every post has someone who could take it"


def test_the_publish_and_version_pages_show_the_figure(
    world: World, staff: FlaskClient, coordinator: User
) -> None:
    _draft(world)
    base = f"/coordinator/periods/{world.period.id}/roster"
    page = staff.get(f"{base}/publish", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert _text(page, "roster-fillable") == "可填的 4 个中已填 2 个；8 个岗位无人能上"
    publishing.publish(world.period, coordinator)
    db.session.commit()
    page = staff.get(f"{base}/versions/1", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert _text(page, "roster-fillable") == (
        "2 of the 4 fillable; 8 posts have nobody who can take them"
    )


def test_flask_solve_prints_the_fillable_figure(world: World, runner: Any) -> None:
    result = runner.invoke(args=["solve", "--period", str(world.period.id), "--time-limit", "5"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    coverage = next(i for i, line in enumerate(lines) if line.startswith("coverage:"))
    assert lines[coverage] == "coverage: 4 of 12 posts filled (33.3%)"
    assert lines[coverage + 1] == (
        "fillable: 4 of the 4 fillable; 8 posts have nobody who can take them"
    )
