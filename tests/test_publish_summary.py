"""Publishing twice is refused when nothing changed (the service and the page), and the publish
and version pages put the summary and the button first with the details folded."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from scheduler.extensions import db
from scheduler.models import Assignment, Roster
from scheduler.models.rosters import PUBLISHED
from scheduler.services import editing, publishing
from scheduler.services.lookups import current_draft
from scheduler.services.publishing import NothingChanged
from tests.fixtures.auth import login
from tests.fixtures.rosters import make_roster, publish_form
from tests.test_planning import MON, TUE, SmallWorld, build_small_world


@pytest.fixture
def world(app: Flask, make_site: Any, make_volunteer: Any) -> SmallWorld:
    return build_small_world(make_site, make_volunteer)


@pytest.fixture
def staff(app: Flask, coordinator: Any) -> FlaskClient:
    client = app.test_client()
    login(client, coordinator)
    return client


def _draft(world: SmallWorld) -> Roster:
    return make_roster(
        world.period,
        [
            (world.checkpoint, MON, "day", "site_lead", world.people["lead"]),
            (world.checkpoint, MON, "day", "code_checker", world.people["checker"]),
            (world.testing, TUE, "day", "sampler", world.people["nurse"]),
        ],
    )


def _versions(world: SmallWorld) -> int:
    return db.session.scalar(
        select(func.count(Roster.id)).where(
            Roster.period_id == world.period.id, Roster.status == PUBLISHED
        )
    )


def test_publishing_an_unchanged_draft_is_refused(world: SmallWorld, coordinator: Any) -> None:
    _draft(world)
    publishing.publish(world.period, coordinator)
    db.session.commit()
    with pytest.raises(NothingChanged) as refused:
        publishing.publish(world.period, coordinator)
    db.session.rollback()
    assert refused.value.version == 1
    assert "Nothing changed since version 1" in str(refused.value)
    assert _versions(world) == 1
    # A change makes it publishable again.
    draft = current_draft(world.period.id)
    assert draft is not None
    row = next(a for a in draft.assignments if a.role.code == "sampler")
    editing.unassign(row)
    db.session.commit()
    version, changes = publishing.publish(world.period, coordinator)
    db.session.commit()
    assert (version.version, changes.removed) == (2, 1)


def test_browser_back_to_the_publish_page_after_publishing(
    world: SmallWorld, staff: FlaskClient
) -> None:
    _draft(world)
    base = f"/coordinator/periods/{world.period.id}/roster"
    first = staff.get(f"{base}/publish")
    assert first.headers["Cache-Control"] == "no-store"  # back asks the server again
    assert 'id="publish-button"' in first.get_data(as_text=True)
    old_form = {"revision": re.search(r'name="revision"[^>]*value="(\d+)"', first.text).group(1)}  # type: ignore[union-attr]
    assert staff.post(f"{base}/publish", data=old_form).status_code == 302

    again = staff.get(f"{base}/publish")
    html = again.get_data(as_text=True)
    assert again.status_code == 200
    assert "Nothing changed since version 1: there is nothing to publish." in html
    assert 'id="publish-button"' not in html
    assert "<form" not in html.split('id="publish-nothing"')[1]
    assert "0 posts added" not in html

    # The old page's button, pressed anyway: refused, no version 2.
    pressed = staff.post(f"{base}/publish", data=old_form)
    assert pressed.status_code == 302
    assert pressed.location.endswith(f"{base}/publish")
    assert _versions(world) == 1
    assert "Nothing changed since version 1" in staff.get(pressed.location).get_data(as_text=True)


def test_the_publish_page_leads_with_the_summary_and_the_button(
    world: SmallWorld, staff: FlaskClient, make_volunteer: Any
) -> None:
    _draft(world)
    base = f"/coordinator/periods/{world.period.id}/roster"
    assert staff.post(f"{base}/publish", data=publish_form(staff, base)).status_code == 302
    # Version 2 moves the checker to Tuesday, takes the nurse off, adds a newcomer.
    draft = current_draft(world.period.id)
    assert draft is not None
    rows = {a.role.code: a for a in draft.assignments}
    rows["code_checker"].day = TUE
    db.session.delete(rows["sampler"])
    newcomer = make_volunteer(name="吴新来")
    db.session.add(
        Assignment(
            roster_id=draft.id,
            site_id=world.testing.id,
            day=MON,
            shift="day",
            role_id=rows["sampler"].role_id,
            volunteer_id=newcomer.volunteer.id,
        )
    )
    db.session.commit()

    html = staff.get(f"{base}/publish").get_data(as_text=True)
    order = [
        html.index('id="roster-counts"'),
        html.index('id="roster-diff-counts"'),
        html.index('id="publish-button"'),
        html.index('id="publish-sites"'),
        html.index('id="publish-diff"'),
    ]
    assert order == sorted(order)
    assert "2 posts added, 2 posts removed, 3 volunteers affected." in html
    assert "1 volunteer new on the roster · 1 volunteer moved · 1 volunteer taken off" in " ".join(
        html.split()
    )
    for kind, name in (("new", "吴新来"), ("moved", "陈查验"), ("removed", "赵护士")):
        group = html.split(f'id="roster-diff-{kind}"')[1].split("</details>")[0]
        assert name in group
    assert "<details" in html.split('id="publish-diff"')[1]  # the details are folded
    assert "<details open" not in html

    assert staff.post(f"{base}/publish", data=publish_form(staff, base)).status_code == 302
    version = staff.get(f"{base}/versions/2").get_data(as_text=True)
    assert version.index('id="roster-counts"') < version.index('id="publish-sites"')
    assert version.index('id="publish-diff"') < version.index('id="version-assignments-list"')
    assert "<details" in version.split('id="version-assignments-list"')[0][-40:]


def test_changed_people_counts_what_diff_lists(
    any_db_app: Flask, make_site: Any, make_volunteer: Any
) -> None:
    """The dashboard's count of changes (set differences in SQL) agrees with the diff, on
    SQLite and PostgreSQL."""
    world = build_small_world(make_site, make_volunteer)
    draft = _draft(world)
    assert publishing.changed_people(None, draft) == 3
    v1, _ = publishing.publish(world.period, None)
    db.session.commit()
    assert publishing.changed_people(v1, draft) == 0
    rows = {a.role.code: a for a in draft.assignments}
    rows["code_checker"].day = TUE  # moved
    db.session.delete(rows["sampler"])  # taken off
    db.session.commit()
    assert publishing.changed_people(v1, draft) == len(publishing.diff(v1, draft).changes) == 2
    assert not publishing.repeats(draft, 2)
