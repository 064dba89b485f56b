"""Publishing: the draft becomes version 1, 2, ... (immutable copies; the draft stays as the
working copy), the diff names exactly the volunteers who moved, notifications are queued only
for them, the confirm step and the versions pages, the CLI's --publish, staff-only access."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from scheduler.extensions import db
from scheduler.models import Assignment, PlanningPeriod, Roster, User
from scheduler.models.notifications import Notification
from scheduler.models.rosters import DRAFT, PUBLISHED
from scheduler.services import editing, publishing
from scheduler.services.accounts import create_account
from scheduler.services.editing import EditError
from tests.fixtures.auth import PASSWORD, login
from tests.fixtures.rosters import publish_form
from tests.test_editing import D, EditWorld, put, role
from tests.test_editing import world as world
from tests.test_planning import build_small_world


def rosters_of(world: EditWorld) -> list[Roster]:
    return list(
        db.session.scalars(
            select(Roster).where(Roster.period_id == world.period.id).order_by(Roster.id)
        )
    )


def notes_for(user: User) -> list[Notification]:
    return list(
        db.session.scalars(
            select(Notification)
            # Reminders before each shift are tested in tests/test_reminders.py.
            .where(Notification.user_id == user.id, Notification.kind != "reminder")
            .order_by(Notification.id)
        )
    )


def test_publish_twice_versions_diff_and_notifications(
    world: EditWorld, client: FlaskClient, coordinator: User
) -> None:
    put(world, "anna", world.south, D[0], "day")
    put(world, "bo", world.south, D[0], "day")
    put(world, "capped", world.north, D[1], "night")
    login(client, coordinator)
    base = f"/coordinator/periods/{world.period.id}/roster"

    confirm = client.get(f"{base}/publish")
    assert confirm.status_code == 200
    html = confirm.get_data(as_text=True)
    assert "Nothing is published yet" in html
    assert "3 posts added, 0 posts removed, 3 volunteers affected." in html
    assert "&lt;script&gt;博&lt;/script&gt;" in html
    assert "<script>博" not in html

    response = client.post(f"{base}/publish", data=publish_form(client, base))
    assert response.status_code == 302
    assert response.location.endswith(f"{base}/versions/1")
    db.session.expire_all()
    draft, v1 = rosters_of(world)
    assert (draft.status, draft.version) == (DRAFT, None)
    assert (v1.status, v1.version, v1.published_by_id) == (PUBLISHED, 1, coordinator.id)
    assert v1.published_at is not None
    assert len(v1.assignments) == 3
    anna_notes = notes_for(world.people["anna"])
    assert [(n.kind, n.payload) for n in anna_notes] == [
        (
            "shift_new",
            {
                "site_id": world.south.id,
                "day": D[0].isoformat(),
                "shift": "day",
                "role_id": role("registrar").id,
                "version": 1,
            },
        )
    ]
    assert anna_notes[0].delivery_status == "pending"

    # Version 1 is immutable: edits go to the draft only.
    v1_row = next(a for a in v1.assignments if a.volunteer_id == world.vid("anna"))
    with pytest.raises(EditError):
        editing.unassign(v1_row)
    db.session.rollback()

    # Edit the draft: anna off, daytime on; bo and capped stay where they are.
    draft_row = db.session.scalars(
        select(Assignment).where(
            Assignment.roster_id == draft.id, Assignment.volunteer_id == world.vid("anna")
        )
    ).one()
    editing.unassign(draft_row)
    assert editing.assign(
        world.period, world.south, D[2], "day", role("registrar"), world.vid("daytime")
    ).applied
    db.session.commit()

    page = client.get(base).get_data(as_text=True)
    assert 'id="roster-changes"' in page
    assert "Compared with version 1." in page
    assert "1 posts added, 1 posts removed, 2 volunteers affected." in page

    assert client.post(f"{base}/publish", data=publish_form(client, base)).status_code == 302
    db.session.expire_all()
    draft, v1, v2 = rosters_of(world)
    assert v2.version == 2
    assert len(v1.assignments) == 3  # untouched
    assert {a.volunteer_id for a in v1.assignments} == {
        world.vid("anna"),
        world.vid("bo"),
        world.vid("capped"),
    }
    changes = publishing.diff(v1, v2)
    assert {c.volunteer_id: (len(c.added), len(c.removed)) for c in changes.changes} == {
        world.vid("anna"): (0, 1),
        world.vid("daytime"): (1, 0),
    }
    assert [n.kind for n in notes_for(world.people["anna"])] == ["shift_new", "shift_removed"]
    assert notes_for(world.people["anna"])[1].payload["version"] == 2
    assert [n.kind for n in notes_for(world.people["daytime"])] == ["shift_new"]
    assert len(notes_for(world.people["bo"])) == 1  # only version 1's
    assert len(notes_for(world.people["capped"])) == 1

    versions = client.get(f"{base}/versions").get_data(as_text=True)
    assert "Version 2" in versions
    assert "Version 1" in versions
    v2_page = client.get(f"{base}/versions/2")
    assert v2_page.status_code == 200
    v2_html = v2_page.get_data(as_text=True)
    assert "丁日" in v2_html
    assert "Compared with version 1." in v2_html
    assert 'id="version-assignments"' in v2_html
    assert client.get(f"{base}/versions/3").status_code == 404


def test_publishing_without_a_draft_writes_nothing(
    world: EditWorld, client: FlaskClient, coordinator: User
) -> None:
    db.session.delete(world.draft)
    db.session.commit()
    login(client, coordinator)
    base = f"/coordinator/periods/{world.period.id}/roster"
    assert "There is no draft to publish" in client.get(f"{base}/publish").get_data(as_text=True)
    response = client.post(f"{base}/publish", data={}, follow_redirects=True)
    assert response.status_code == 200
    assert "There is no draft to publish" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.scalar(select(func.count(Roster.id))) == 0
    assert db.session.scalar(select(func.count(Notification.id))) == 0
    assert "Nothing is published yet." in client.get(f"{base}/versions").get_data(as_text=True)


def test_publish_from_the_command_line(
    app: Flask, runner: Any, make_site: Any, make_volunteer: Any
) -> None:
    small = build_small_world(make_site, make_volunteer)
    result = runner.invoke(
        args=["solve", "--period", str(small.period.id), "--time-limit", "5", "--publish"]
    )
    assert result.exit_code == 0, result.output
    assert "published version 1:" in result.output
    db.session.expire_all()
    published = db.session.scalars(select(Roster).where(Roster.status == PUBLISHED)).one()
    assert published.version == 1
    assert published.assignments
    told = select(func.count(Notification.id)).where(Notification.kind == "shift_new")
    assert db.session.scalar(told) == len(published.assignments)


PUBLISH_ROUTES = [
    ("get", "/roster/publish"),
    ("post", "/roster/publish"),
    ("get", "/roster/versions"),
    ("get", "/roster/versions/1"),
]


@pytest.mark.parametrize(("method", "path"), PUBLISH_ROUTES)
def test_publish_routes_are_staff_only(
    world: EditWorld, app: Flask, make_user: Any, method: str, path: str
) -> None:
    put(world, "anna", world.south, D[0], "day")
    url = f"/coordinator/periods/{world.period.id}{path}"
    response = getattr(app.test_client(), method)(url)
    assert response.status_code == 302
    assert "/login" in response.location
    for who in (world.people["bo"], make_user("site_lead")):
        client = app.test_client()
        login(client, who)
        assert getattr(client, method)(url).status_code == 403
    db.session.expire_all()
    assert db.session.scalar(select(func.count(Roster.id)).where(Roster.status == PUBLISHED)) == 0


def test_publishing_delivers_the_notifications_right_away_when_configured(
    app_factory: Any, make_site: Any, make_volunteer: Any
) -> None:
    app = app_factory(NOTIFY_AFTER_PUBLISH=True, JOBS_SYNCHRONOUS=True)
    with app.app_context():
        site = make_site(name="东卡口", demand={"registrar": 1})
        period = make_period_with(site)
        user = make_volunteer(name="甲")
        staff = make_coordinator()
        draft = Roster(period_id=period.id, status=DRAFT)
        db.session.add(draft)
        db.session.flush()
        db.session.add(
            Assignment(
                roster_id=draft.id,
                site_id=site.id,
                day=D[0],
                shift="day",
                role_id=role("registrar").id,
                volunteer_id=user.volunteer.id,  # type: ignore[union-attr]
            )
        )
        db.session.commit()
        client = app.test_client()
        login(client, staff)
        base = f"/coordinator/periods/{period.id}/roster"
        assert client.post(f"{base}/publish", data=publish_form(client, base)).status_code == 302
        db.session.expire_all()
        [note] = notes_for(user)
        assert (note.kind, note.delivery_status) == ("shift_new", "sent")


def make_period_with(site: Any) -> PlanningPeriod:
    period = PlanningPeriod(name="期", start_date=D[0], end_date=D[2], is_open=True, sites=[site])
    db.session.add(period)
    db.session.commit()
    return period


def make_coordinator() -> User:
    return create_account(
        name="协调员乙", phone="13912345678", password=PASSWORD, role="coordinator"
    )
