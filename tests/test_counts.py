"""One definition of a post (one head of a role on a shift) and of filled / unfilled / above
the head count (services.coverage), and every place that counts a roster saying the same:
the run's status, the draft review, the publish page, the version page, the XLSX export and
the dashboard — on a roster with needs short by more than one person and a pinned cell
above its head count."""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook
from sqlalchemy import func, select

from scheduler.extensions import db
from scheduler.models import Assignment, Demand, Role, Roster, SolveRun
from scheduler.services import exports
from scheduler.services.coverage import Count, held_in, held_of, roster_coverage
from scheduler.services.lookups import current_draft
from tests.fixtures.auth import login
from tests.fixtures.rosters import make_roster, publish_form
from tests.test_planning import MON, TUE, SmallWorld, build_small_world

HX = {"HX-Request": "true"}


@pytest.fixture
def sync_app(app_factory: Callable[..., Flask]) -> Iterator[Flask]:
    app = app_factory(JOBS_SYNCHRONOUS=True, JOBS_SOLVER_WORKERS=1)
    with app.app_context():
        yield app


@pytest.fixture
def world(sync_app: Flask, make_site: Any, make_volunteer: Any) -> SmallWorld:
    world = build_small_world(make_site, make_volunteer)
    # Three code checkers at night, when nobody but the lead is free: needs short by 3 people
    # each, so "posts" (heads) and "needs" (roles on a shift) differ.
    checker = db.session.scalars(select(Role).where(Role.code == "code_checker")).one()
    night = db.session.scalars(
        select(Demand).where(
            Demand.site_id == world.checkpoint.id,
            Demand.shift == "night",
            Demand.role_id == checker.id,
        )
    ).one()
    night.headcount = 3
    db.session.commit()
    return world


@pytest.fixture
def staff(sync_app: Flask, coordinator: Any) -> FlaskClient:
    client = sync_app.test_client()
    login(client, coordinator)
    return client


def test_a_post_is_one_head_and_people_above_the_head_count_fill_none(
    world: SmallWorld,
) -> None:
    """The definition itself, on hand-made rows: 2 people on a need of 1 fill one post and
    are one above the head count; an empty need of 3 is 3 unfilled posts."""
    make_roster(
        world.period,
        [
            (world.checkpoint, MON, "day", "code_checker", world.people["checker"]),
            (world.checkpoint, MON, "day", "code_checker", world.people["partner"]),
            (world.checkpoint, MON, "day", "site_lead", world.people["lead"]),
        ],
    )
    draft = current_draft(world.period.id)
    assert draft is not None
    coverage = roster_coverage(world.period, held_in(draft.id))
    checker = db.session.scalars(select(Role).where(Role.code == "code_checker")).one()
    assert coverage.needs[(world.checkpoint.id, MON, "day", checker.id)] == Count(1, 2, 1)
    assert coverage.needs[(world.checkpoint.id, MON, "night", checker.id)].unfilled == 3
    # checkpoint: night lead 1 + checkers 3, day lead 1 + checker 1, over 3 days; testing:
    # sampler 1 by day over 3 days.
    assert coverage.posts == 3 * (1 + 3 + 1 + 1) + 3
    assert (coverage.filled, coverage.surplus) == (2, 1)
    assert coverage.unfilled == coverage.posts - 2
    assert coverage.filled + coverage.surplus == len(draft.assignments)
    assert held_of(draft.assignments) == held_in(draft.id)


def _text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_every_page_counts_posts_the_same_way(world: SmallWorld, staff: FlaskClient) -> None:
    # A draft with two pinned code checkers on a post for one: the solve keeps the pins.
    draft = make_roster(
        world.period,
        [
            (world.checkpoint, TUE, "day", "code_checker", world.people["checker"]),
            (world.checkpoint, TUE, "day", "code_checker", world.people["partner"]),
        ],
    )
    for a in draft.assignments:
        a.pinned = True
    db.session.commit()
    base = f"/coordinator/periods/{world.period.id}/roster"
    body = {"site_ids": [world.checkpoint.id, world.testing.id], "time_limit": "5"}
    status = staff.post(f"{base}/runs", data=body, headers=HX).get_data(as_text=True)
    run = db.session.scalars(select(SolveRun)).one()
    assert run.status == "succeeded", run.error

    draft = current_draft(world.period.id)
    assert draft is not None
    coverage = roster_coverage(world.period, held_in(draft.id))
    total = coverage.total
    assert total.surplus == 1
    assert total.unfilled >= 2 * 3  # the night checkers alone
    assert coverage.short_needs < total.unfilled  # heads, not needs, are counted
    assert total.filled + total.surplus == len(draft.assignments)
    filled = f"{total.filled} of {total.needed} posts filled"
    unfilled = f"{total.unfilled} posts unfilled"
    surplus = "1 person above the head count"

    # The run's status, as it answers the start and as it is polled.
    assert (run.posts_filled, run.posts_total) == (total.filled, total.needed)
    assert filled in _text(status)
    assert f"{total.unfilled} posts unfilled." in _text(status)
    polled = staff.get(f"{base}/runs/{run.id}", headers=HX).get_data(as_text=True)
    assert filled in _text(polled)
    assert f"{total.unfilled} posts unfilled." in _text(polled)

    # The review: counts, the unfilled heading, the list (one line per short need, the
    # missing people adding up to the same number).
    review = _text(staff.get(base).get_data(as_text=True))
    assert filled in review
    assert unfilled in review
    assert surplus in review
    assert f"Unfilled posts ({total.unfilled})" in review
    missing = sum(int(n) for n in re.findall(r"(\d+) (?:person|people) missing", review))
    assert missing == total.unfilled

    # The publish page, then the version it makes.
    confirm = _text(staff.get(f"{base}/publish").get_data(as_text=True))
    assert filled in confirm
    assert unfilled in confirm
    assert surplus in confirm
    assert staff.post(f"{base}/publish", data=publish_form(staff, base)).status_code == 302
    version = _text(staff.get(f"{base}/versions/1").get_data(as_text=True))
    assert filled in version
    assert unfilled in version
    assert surplus in version
    assert f"{len(draft.assignments)} posts added" in version

    # The XLSX export's coverage sheet: its total row.
    export = exports.roster_for_export(world.period.id)
    book = load_workbook(io.BytesIO(exports.roster_xlsx(export)))
    last = [c.value for c in list(book["Coverage"].iter_rows())[-1]]
    assert last == ["Total", None, None, None, total.needed, total.filled, total.unfilled, 1]

    # The dashboard.
    dashboard = _text(staff.get("/coordinator/").get_data(as_text=True))
    assert f"Draft: {filled}, {unfilled}" in dashboard


def test_a_run_counts_only_its_own_sites(world: SmallWorld, staff: FlaskClient) -> None:
    base = f"/coordinator/periods/{world.period.id}/roster"
    staff.post(f"{base}/runs", data={"site_ids": [world.testing.id], "time_limit": "5"}, headers=HX)
    run = db.session.scalars(select(SolveRun)).one()
    assert run.status == "succeeded", run.error
    roster = db.session.scalars(select(Roster)).one()
    ours = roster_coverage(world.period, held_in(roster.id), [world.testing.id]).total
    assert (run.posts_total, run.posts_filled) == (ours.needed, ours.filled) == (3, ours.filled)
    assert db.session.scalar(select(func.count(Assignment.id))) == ours.held
