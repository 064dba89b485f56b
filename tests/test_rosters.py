"""The roster page: generate (a run through the job runner, inline here), the self-polling
status fragment, cancel, the draft review (heat map, unfilled reasons in the reader's language,
fairness), one shift's page, and the schema's guarantees on rosters and assignments."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from scheduler.extensions import db
from scheduler.models import Assignment, Role, Roster, SolveRun, UnfilledPost
from scheduler.models.base import utcnow
from scheduler.services import rosters
from tests.fixtures.auth import login
from tests.test_planning import MON, TUE, SmallWorld, build_small_world

HX = {"HX-Request": "true"}


@pytest.fixture
def sync_app(app_factory: Callable[..., Flask]) -> Iterator[Flask]:
    app = app_factory(JOBS_SYNCHRONOUS=True, JOBS_SOLVER_WORKERS=1)
    with app.app_context():
        yield app


@pytest.fixture
def small(sync_app: Flask, make_site: Any, make_volunteer: Any) -> SmallWorld:
    return build_small_world(make_site, make_volunteer)


@pytest.fixture
def staff(sync_app: Flask, coordinator: Any) -> FlaskClient:
    client = sync_app.test_client()
    login(client, coordinator)
    return client


def roster_url(world: SmallWorld) -> str:
    return f"/coordinator/periods/{world.period.id}/roster"


def generate(client: FlaskClient, world: SmallWorld, **data: Any) -> Any:
    body = {"site_ids": [world.checkpoint.id, world.testing.id], "time_limit": "5", **data}
    return client.post(f"{roster_url(world)}/runs", data=body, headers=HX)


def test_generate_then_status_then_review(small: SmallWorld, staff: FlaskClient) -> None:
    page = staff.get(roster_url(small))
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Generate roster" in html
    assert "There is no draft yet" in html

    response = generate(staff, small)
    assert response.status_code == 200
    fragment = response.get_data(as_text=True)
    assert 'id="solve-status"' in fragment
    assert "Roster generated." in fragment
    assert "hx-trigger" not in fragment  # finished: no more polling
    run = db.session.scalars(select(SolveRun)).one()
    assert (run.status, run.all_sites, run.time_limit) == ("succeeded", True, 5)
    assert run.posts_total == 15
    assert 0 < run.posts_filled <= 15
    assert run.started_at is not None
    assert run.finished_at is not None

    status = staff.get(f"{roster_url(small)}/runs/{run.id}", headers=HX)
    assert status.status_code == 200
    assert "Roster generated." in status.get_data(as_text=True)

    review = staff.get(roster_url(small)).get_data(as_text=True)
    assert 'id="roster-heat"' in review
    assert "东卡口" in review
    assert f"/roster/shifts/{small.checkpoint.id}/{MON.isoformat()}/night" in review
    assert "Unfilled posts" in review
    # Monday night's code checker cannot be filled: the reason is in words with names.
    assert "林点长" in review
    assert 'id="load-histogram"' in review
    assert 'id="nights-histogram"' in review
    assert 'id="most-loaded"' in review


def test_review_in_chinese_renders_reasons_dates_and_shift_names(
    small: SmallWorld, staff: FlaskClient
) -> None:
    generate(staff, small)
    html = staff.get(roster_url(small), headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "12月7日" in html
    assert "夜班" in html
    assert "白班" in html
    assert "林点长" in html


def test_shift_page_lists_assignments_and_unfilled(small: SmallWorld, staff: FlaskClient) -> None:
    generate(staff, small)
    draft = db.session.scalars(select(Roster)).one()
    rows = list(db.session.scalars(select(Assignment).where(Assignment.roster_id == draft.id)))
    a = rows[0]
    url = f"{roster_url(small)}/shifts/{a.site_id}/{a.day.isoformat()}/{a.shift}"
    response = staff.get(url)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert a.volunteer.user.name in html
    assert 'id="shift-demand"' in html
    assert staff.get(f"{roster_url(small)}/shifts/{a.site_id}/not-a-date/day").status_code == 404
    assert staff.get(f"{roster_url(small)}/shifts/{a.site_id}/2030-01-01/day").status_code == 404
    wrong_kind = f"{roster_url(small)}/shifts/{small.testing.id}/{MON.isoformat()}/night"
    assert staff.get(wrong_kind).status_code == 404


def test_generate_a_subset_records_the_sites(small: SmallWorld, staff: FlaskClient) -> None:
    response = generate(staff, small, site_ids=[small.testing.id])
    assert "Roster generated." in response.get_data(as_text=True)
    run = db.session.scalars(select(SolveRun)).one()
    assert not run.all_sites
    assert [s.id for s in run.sites] == [small.testing.id]
    assert run.posts_total == 3
    sites = set(db.session.scalars(select(Assignment.site_id)))
    assert sites <= {small.testing.id}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"time_limit": "4"}, "Between 5 and 600 seconds."),
        ({"time_limit": "601"}, "Between 5 and 600 seconds."),
        ({"time_limit": ""}, "Enter a time limit."),
        ({"site_ids": []}, "Choose at least one site."),
        ({"site_ids": ["999999"]}, "not a valid choice"),
    ],
)
def test_invalid_generate_changes_nothing(
    small: SmallWorld, staff: FlaskClient, data: dict[str, Any], message: str
) -> None:
    body = {"site_ids": [small.checkpoint.id], "time_limit": "5", **data}
    plain = staff.post(f"{roster_url(small)}/runs", data=body)
    assert plain.status_code == 422
    assert message in plain.get_data(as_text=True)
    htmx = staff.post(f"{roster_url(small)}/runs", data=body, headers=HX)
    assert htmx.status_code == 200
    assert htmx.headers["HX-Retarget"] == "#roster-form"
    assert message in htmx.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(SolveRun)) == 0


def test_plain_post_redirects_to_the_page(small: SmallWorld, staff: FlaskClient) -> None:
    body = {"site_ids": [small.checkpoint.id, small.testing.id], "time_limit": "5"}
    response = staff.post(f"{roster_url(small)}/runs", data=body)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(roster_url(small))


def test_one_active_run_per_period(small: SmallWorld, staff: FlaskClient) -> None:
    db.session.add(SolveRun(period_id=small.period.id, time_limit=30, status="running"))
    db.session.commit()
    db.session.expire_all()
    response = staff.post(
        f"{roster_url(small)}/runs", data={"site_ids": [small.testing.id], "time_limit": "5"}
    )
    assert response.status_code == 422
    assert "already being generated" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(SolveRun)) == 1


def _run(small: SmallWorld, status: str, **fields: Any) -> SolveRun:
    run = SolveRun(period_id=small.period.id, time_limit=30, status=status, **fields)
    db.session.add(run)
    db.session.commit()
    return run


def test_status_fragment_polls_while_running_and_stops_when_finished(
    small: SmallWorld, staff: FlaskClient
) -> None:
    run = _run(small, "running", started_at=utcnow(), posts_total=15, posts_filled=6, elapsed=3.2)
    url = f"{roster_url(small)}/runs/{run.id}"
    html = staff.get(url, headers=HX).get_data(as_text=True)
    assert 'hx-trigger="every 1s"' in html
    assert f'hx-get="{url}"' in html
    assert 'hx-swap="outerHTML"' in html
    assert '<progress value="6" max="15">' in html
    assert "6 of 15 posts filled" in html
    assert "Cancel" in html
    assert "Refresh" in html  # the no-JS way

    run.status, run.finished_at, run.posts_filled = "succeeded", utcnow(), 15
    db.session.commit()
    html = staff.get(url, headers=HX).get_data(as_text=True)
    assert "hx-trigger" not in html
    assert "hx-get" not in html
    assert "15 of 15 posts filled" in html
    # Without htmx the status URL is the whole roster page.
    page = staff.get(url)
    assert page.status_code == 200
    assert "Generate roster" in page.get_data(as_text=True)


def test_status_of_another_periods_run_is_404(
    small: SmallWorld, staff: FlaskClient, make_period: Any
) -> None:
    other = make_period(name="别的期")
    run = _run(small, "running")
    assert staff.get(f"/coordinator/periods/{other.id}/roster/runs/{run.id}").status_code == 404
    assert staff.get(f"{roster_url(small)}/runs/999999", headers=HX).status_code == 404


def test_cancel_a_queued_run_and_a_running_one(small: SmallWorld, staff: FlaskClient) -> None:
    queued = _run(small, "queued")
    response = staff.post(f"{roster_url(small)}/runs/{queued.id}/cancel", headers=HX)
    assert response.status_code == 200
    assert "Roster generation cancelled." in response.get_data(as_text=True)
    db.session.expire_all()
    assert (queued.status, queued.cancel_requested) == ("cancelled", True)

    running = _run(small, "running", started_at=utcnow())
    response = staff.post(f"{roster_url(small)}/runs/{running.id}/cancel")
    assert response.status_code == 302
    db.session.expire_all()
    assert (running.status, running.cancel_requested) == ("running", True)
    html = staff.get(f"{roster_url(small)}/runs/{running.id}", headers=HX).get_data(as_text=True)
    assert "Stopping: the best roster found so far will be kept." in html


def test_a_run_whose_process_died_is_marked_failed(small: SmallWorld, staff: FlaskClient) -> None:
    from datetime import timedelta

    started = utcnow() - timedelta(hours=2)
    run = _run(small, "running", started_at=started, created_at=started)
    html = staff.get(f"{roster_url(small)}/runs/{run.id}", headers=HX).get_data(as_text=True)
    assert "Roster generation failed." in html
    db.session.expire_all()
    assert run.status == "failed"
    assert "process ended" in (run.error or "")


def test_names_in_reasons_are_escaped(small: SmallWorld, staff: FlaskClient) -> None:
    small.people["lead"].name = "<script>alert(1)</script>"
    db.session.commit()
    generate(staff, small)
    html = staff.get(roster_url(small)).get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;" in html


def test_periods_list_links_to_the_roster(small: SmallWorld, staff: FlaskClient) -> None:
    html = staff.get("/coordinator/periods").get_data(as_text=True)
    assert f'href="{roster_url(small)}"' in html


def test_fairness_counts_offered_and_rostered(small: SmallWorld) -> None:
    problem_run = rosters.start_run(small.period, [small.checkpoint.id, small.testing.id], 5, None)
    from scheduler import jobs

    jobs.execute_run(problem_run.id)
    review = rosters.review(small.period)
    fair = review.fairness
    assert fair.offered == len(small.people)
    assert 0 < fair.rostered <= fair.offered
    assert sum(count for _, count in fair.load_histogram) == fair.offered
    assert fair.most
    assert fair.most[0].shifts >= fair.least[0].shifts


# --- schema guarantees, on SQLite and PostgreSQL ------------------------------------------------


@pytest.fixture
def db_world(any_db_app: Flask, make_site: Any, make_volunteer: Any) -> SmallWorld:
    return build_small_world(make_site, make_volunteer)


def _assignment(world: SmallWorld, roster: Roster, **fields: Any) -> Assignment:
    role = db.session.scalars(select(Role).where(Role.code == "registrar")).one()
    values = {
        "roster_id": roster.id,
        "site_id": world.checkpoint.id,
        "day": MON,
        "shift": "day",
        "role_id": role.id,
        "volunteer_id": world.vid("checker"),
        **fields,
    }
    return Assignment(**values)


def test_one_draft_per_period_and_unique_versions(db_world: SmallWorld) -> None:
    period_id = db_world.period.id
    db.session.add(Roster(period_id=period_id, status="draft"))
    db.session.commit()
    db.session.add(Roster(period_id=period_id, status="draft"))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
    now = utcnow()
    db.session.add(Roster(period_id=period_id, status="published", version=1, published_at=now))
    db.session.add(Roster(period_id=period_id, status="published", version=2, published_at=now))
    db.session.commit()
    db.session.add(Roster(period_id=period_id, status="published", version=2, published_at=now))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
    # A draft has no version; a published roster has one.
    db.session.add(Roster(period_id=period_id, status="draft", version=3))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
    db.session.add(Roster(period_id=period_id, status="published", published_at=now))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Roster)) == 3


def test_a_volunteer_holds_one_post_per_shift_slot(db_world: SmallWorld) -> None:
    roster = Roster(period_id=db_world.period.id, status="draft")
    db.session.add(roster)
    db.session.commit()
    db.session.add(_assignment(db_world, roster))
    db.session.commit()
    # Same shift, same site, another role.
    db.session.add(_assignment(db_world, roster, role_id=roster_role("code_checker")))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
    # Same day and shift kind at another site.
    db.session.add(_assignment(db_world, roster, site_id=db_world.testing.id))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
    # Another day is fine; so is the same slot in another roster.
    db.session.add(_assignment(db_world, roster, day=TUE))
    other = Roster(
        period_id=db_world.period.id, status="published", version=1, published_at=utcnow()
    )
    db.session.add(other)
    db.session.flush()
    db.session.add(_assignment(db_world, other))
    db.session.commit()
    # Unknown shift kinds and sources are refused by the schema.
    db.session.add(_assignment(db_world, roster, day=date(2026, 12, 9), shift="noon"))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
    db.session.add(_assignment(db_world, roster, day=date(2026, 12, 9), source="magic"))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Assignment)) == 3


def roster_role(code: str) -> int:
    return db.session.scalars(select(Role.id).where(Role.code == code)).one()


def test_run_and_unfilled_checks(db_world: SmallWorld) -> None:
    db.session.add(SolveRun(period_id=db_world.period.id, time_limit=4))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
    db.session.add(SolveRun(period_id=db_world.period.id, time_limit=30, status="paused"))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
    roster = Roster(period_id=db_world.period.id, status="draft")
    db.session.add(roster)
    db.session.flush()
    reasons = [{"code": "rest", "people": [db_world.vid("lead")], "hours": 16.0}]
    db.session.add(
        UnfilledPost(
            roster_id=roster.id,
            site_id=db_world.checkpoint.id,
            day=MON,
            shift="night",
            role_id=roster_role("site_lead"),
            missing=1,
            reasons=reasons,
        )
    )
    db.session.commit()
    db.session.expire_all()
    assert db.session.scalars(select(UnfilledPost)).one().reasons == reasons
    db.session.add(
        UnfilledPost(
            roster_id=roster.id,
            site_id=db_world.checkpoint.id,
            day=TUE,
            shift="night",
            role_id=roster_role("site_lead"),
            missing=0,
        )
    )
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
