"""Issue 12's lists and counts follow the scope (issue 13): a call-up's audience and head
count, the message audiences, the delivery page's counts, failed list and retry, and the
audit log (page, filters and CSV) show a district coordinator their districts only; the city
coordinator sees both. The world is tests/test_scope_access.py's: districts A and B, a
coordinator of each, the city coordinator and a liaison of A's grassroots union."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import func, select

from scheduler.extensions import db
from scheduler.models import (
    GRASSROOTS,
    AuditEntry,
    Organisation,
    PlanningPeriod,
    Site,
    User,
    Volunteer,
    WorkUnit,
)
from scheduler.models.notifications import FAILED, Notification, RobotMessage
from scheduler.models.rosters import PUBLISHED, Roster
from scheduler.services import audit, callups, messages, organisations, outbox
from scheduler.services.callups import Audience
from scheduler.services.catalogue import ensure_default_catalogue
from scheduler.services.messages import PERIOD, SITE, NotAllowed
from tests.fixtures.app import build_app
from tests.fixtures.database import POSTGRES_URL, postgres_schema_url
from tests.test_callups import form_fields
from tests.test_scope_access import (
    CITY_COORD,
    COORD_A,
    COORD_B,
    A,
    B,
    ScopedWorld,
    build_scoped_world,
    snapshot,
)


@pytest.fixture(params=["sqlite", "postgresql"])
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, worker_id: str
) -> Iterator[ScopedWorld]:
    folder = tmp_path_factory.mktemp("scope_lists")
    if request.param == "postgresql":
        if not POSTGRES_URL:
            pytest.skip("MUSTER_TEST_DATABASE_URL is not set: PostgreSQL variant not run")
        url = postgres_schema_url(f"{worker_id}_scope_lists")
    else:
        url = f"sqlite:///{folder / 'muster.sqlite'}"
    app: Flask = build_app(url)
    with app.app_context():
        db.create_all()
        ensure_default_catalogue()
        try:
            yield build_scoped_world(app, folder / "imports")
        finally:
            db.session.remove()
            db.engine.dispose()


def _period(world: ScopedWorld, district: str) -> PlanningPeriod:
    return db.session.get_one(PlanningPeriod, world.ids[district]["period"])


def _user(world: ScopedWorld, district: str) -> User:
    volunteer = db.session.get_one(Volunteer, world.ids[district]["volunteer"])
    return volunteer.user


# Call-ups -----------------------------------------------------------------------------------


def test_call_up_head_count_and_pickers_stay_in_the_district(world: ScopedWorld) -> None:
    coord_a = world.users[COORD_A]
    # The service: B's period reaches nobody for A's coordinator, everyone of B for the city.
    names = {p.name for p in callups.audience_people(_period(world, B), Audience(), coord_a)}
    assert names == set()
    city = world.users[CITY_COORD]
    assert {p.name for p in callups.audience_people(_period(world, B), Audience(), city)} == {
        "乙区志愿者"
    }
    # The compose page: A's districts and work units only.
    url = f"/coordinator/periods/{world.ids[A]['period']}/callups/new"
    page = world.clients[COORD_A].get(url).get_data(as_text=True)
    assert "甲区" in page
    assert "甲厂" in page
    assert "乙区" not in page
    assert "乙厂" not in page
    # The preview: A's volunteer and the two A imported; nobody of B.
    body = {**form_fields(page), "action": "preview"}
    preview = world.clients[COORD_A].post(url, data=body)
    assert preview.status_code == 200
    text = preview.get_data(as_text=True)
    assert "甲区志愿者" in text
    assert "乙区志愿者" not in text
    assert callups.preview(_period(world, A), Audience(), "集结", coord_a).count == 3
    # B's district typed into the form is not a choice: refused, nothing written.
    before = snapshot()
    refused = world.clients[COORD_A].post(
        url, data={**body, "district_ids": str(world.ids[B]["district"]), "action": "send"}
    )
    assert refused.status_code == 422
    assert snapshot() == before
    # Sent: to A's three, B's volunteer gets nothing.
    sent = world.clients[COORD_A].post(url, data={**body, "action": "send"})
    assert sent.status_code == 302
    db.session.expire_all()
    assert (
        db.session.scalar(
            select(func.count()).select_from(Notification).where(Notification.kind == "callup")
        )
        == 3
    )
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(Notification)
            .where(Notification.user_id == _user(world, B).id)
        )
        == 0
    )
    sent_row = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == audit.CALLUP_SEND)
    ).one()
    assert (sent_row.period_id, sent_row.organisation_id) == (
        world.ids[A]["period"],
        world.ids[A]["org"],
    )
    assert sent_row.details["recipients"] == 3


# Ad-hoc messages ----------------------------------------------------------------------------


def test_message_audiences_and_recipients_stay_in_the_district(world: ScopedWorld) -> None:
    coord_a = world.users[COORD_A]
    page = world.clients[COORD_A].get("/coordinator/messages").get_data(as_text=True)
    assert "甲区一期" in page
    assert "甲区点位" in page
    assert "乙区一期" not in page
    assert "乙区点位" not in page
    mine = messages.recipients(coord_a, messages.Audience(PERIOD, period=_period(world, A)))
    assert [u.name for u in mine] == ["甲区志愿者"]
    with pytest.raises(NotAllowed):
        messages.recipients(coord_a, messages.Audience(PERIOD, period=_period(world, B)))
    b_site = db.session.get_one(Site, world.ids[B]["site"])
    with pytest.raises(NotAllowed):
        messages.recipients(coord_a, messages.Audience(SITE, site=b_site))
    # B's period typed into the form: not a choice, nothing written.
    before = snapshot()
    response = world.clients[COORD_A].post(
        "/coordinator/messages",
        data={
            "audience": PERIOD,
            "period_id": str(world.ids[B]["period"]),
            "text": "越界",
            "action": "send",
        },
    )
    assert response.status_code == 422
    assert snapshot() == before
    # Sent to A's period: one row, on A's node, phone numbers masked.
    messages.send(coord_a, messages.Audience(PERIOD, period=_period(world, A)), "打13800001234")
    row = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == audit.MESSAGE_SEND)
    ).one()
    assert (row.period_id, row.organisation_id) == (world.ids[A]["period"], world.ids[A]["org"])
    assert (row.summary, row.details["recipients"]) == ("打138****1234", 1)


# The delivery page --------------------------------------------------------------------------


def _fail_messages(world: ScopedWorld) -> dict[str, tuple[int, int]]:
    """A failed message to each district's volunteer and to each district's site group chat:
    {district: (notification id, robot message id)}."""
    made = {}
    for district in (A, B):
        note = Notification(
            user_id=_user(world, district).id,
            kind="shift_new",
            delivery_status=FAILED,
            attempts=3,
            last_error=f"PermanentFailure: 号码停机{district}",
        )
        roster = db.session.scalars(
            select(Roster).where(
                Roster.period_id == world.ids[district]["period"], Roster.status == PUBLISHED
            )
        ).one()
        robot = RobotMessage(
            site_id=world.ids[district]["site"],
            roster_id=roster.id,
            kind="roster_published",
            delivery_status=FAILED,
            attempts=3,
            last_error=f"PermanentFailure: 机器人失效{district}",
        )
        db.session.add_all([note, robot])
        db.session.flush()
        made[district] = (note.id, robot.id)
    db.session.commit()
    return made


def test_delivery_counts_failed_list_and_retry_stay_in_the_district(world: ScopedWorld) -> None:
    made = _fail_messages(world)
    counts = {who: outbox.counts(world.users[who]) for who in (COORD_A, COORD_B, CITY_COORD)}
    assert (counts[COORD_A]["people"].failed, counts[COORD_A]["robots"].failed) == (1, 1)
    assert (counts[COORD_B]["people"].failed, counts[COORD_B]["robots"].failed) == (1, 1)
    assert (counts[CITY_COORD]["people"].failed, counts[CITY_COORD]["robots"].failed) == (2, 2)
    page = world.clients[COORD_A].get("/coordinator/delivery").get_data(as_text=True)
    assert "号码停机a" in page
    assert "机器人失效a" in page
    assert "号码停机b" not in page
    assert "机器人失效b" not in page
    assert "乙区点位" not in page
    # Retrying B's messages from A: nothing changes.
    before = snapshot()
    for field, index in (("notification", 0), ("robot", 1)):
        response = world.clients[COORD_A].post(
            "/coordinator/delivery/retry", data={field: str(made[B][index])}
        )
        assert response.status_code == 302
    assert snapshot() == before
    # "Send all again" from A: A's two only.
    world.clients[COORD_A].post("/coordinator/delivery/retry", data={"all": "1"})
    db.session.expire_all()
    status = {
        district: (
            db.session.get_one(Notification, made[district][0]).delivery_status,
            db.session.get_one(RobotMessage, made[district][1]).delivery_status,
        )
        for district in (A, B)
    }
    assert status == {A: ("pending", "pending"), B: (FAILED, FAILED)}
    retried = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == audit.MESSAGE_RETRY)
    ).one()
    assert retried.organisation_id == world.ids[A]["org"]
    assert retried.details == {"notifications": [made[A][0]], "robot_messages": [made[A][1]]}
    dash = world.clients[COORD_B].get("/coordinator/").get_data(as_text=True)
    assert "/coordinator/delivery" in dash  # B still has failed messages: its dashboard says so


# The audit log ------------------------------------------------------------------------------


def _csv_rows(body: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))


def test_audit_log_rows_filters_and_csv_stay_in_the_district(world: ScopedWorld) -> None:
    for district in (A, B):
        site = db.session.get_one(Site, world.ids[district]["site"])
        audit.record(
            audit.SITE_UPDATE,
            object_type="site",
            object_id=site.id,
            summary=f"{site.name}改动",
            site_id=site.id,
            actor=world.users[COORD_A if district == A else COORD_B],
        )
    audit.record(audit.CATALOGUE_SAVE, object_type="role", object_id=1, summary="全市角色改动")
    db.session.commit()
    rows = {
        e.summary: e.organisation_id
        for e in db.session.scalars(select(AuditEntry).where(AuditEntry.summary.like("%改动")))
    }
    assert rows == {
        "甲区点位改动": world.ids[A]["org"],
        "乙区点位改动": world.ids[B]["org"],
        "全市角色改动": None,
    }
    # The world's import (by A's coordinator) belongs to A's district node.
    imported = db.session.scalars(select(AuditEntry).where(AuditEntry.action == audit.IMPORT)).one()
    assert imported.organisation_id == world.ids[A]["org"]
    page = world.clients[COORD_A].get("/coordinator/audit").get_data(as_text=True)
    assert "甲区点位改动" in page
    assert "乙区点位改动" not in page
    assert "全市角色改动" not in page
    assert "乙区协调员" not in page  # B's coordinator is not even among the actor choices
    city = world.clients[CITY_COORD].get("/coordinator/audit").get_data(as_text=True)
    assert "甲区点位改动" in city
    assert "乙区点位改动" in city
    assert "全市角色改动" in city
    exported = _csv_rows(world.clients[COORD_A].get("/coordinator/audit.csv").get_data())
    summaries = {row["summary"] for row in exported}
    assert "甲区点位改动" in summaries
    assert "乙区点位改动" not in summaries
    assert "全市角色改动" not in summaries
    # Filtering by B's coordinator (an id typed into the URL) shows A nothing of B's.
    coord_b = world.users[COORD_B].id
    filtered = world.clients[COORD_A].get(f"/coordinator/audit?actor={coord_b}")
    assert "乙区点位改动" not in filtered.get_data(as_text=True)


def test_tree_actions_are_audited_and_a_merged_unions_rows_follow_it(world: ScopedWorld) -> None:
    """A grassroots union of district A with a row of its own is merged into A's other one:
    the node is gone, its rows stay readable by A's coordinator (and not by B's)."""
    a_district = db.session.get_one(Organisation, world.ids[A]["org"])
    node = organisations.create(GRASSROOTS, "甲厂二车间", a_district)
    organisations.rename(node, "甲厂二分厂")
    unit = db.session.scalars(select(WorkUnit).where(WorkUnit.organisation_id == node.id)).one()
    audit.record(
        audit.CATALOGUE_SAVE,
        object_type="work_unit",
        object_id=unit.id,
        summary="分厂的行",
        organisation_id=node.id,
    )
    db.session.commit()
    target = db.session.get_one(Organisation, world.ids[A]["unit_org"])
    organisations.merge(node, target)
    actions = set(
        db.session.scalars(select(AuditEntry.action).where(AuditEntry.object_id == node.id))
    )
    assert {audit.ORG_CREATE, audit.ORG_RENAME, audit.ORG_MERGE} <= actions
    seen = {
        who: {e.summary for e in audit.search(audit.LogQuery(), 100, user=world.users[who]).entries}
        for who in (COORD_A, COORD_B)
    }
    assert {"分厂的行", "甲厂二分厂"} <= seen[COORD_A]
    assert "分厂的行" not in seen[COORD_B]
    assert "甲厂二分厂" not in seen[COORD_B]


def test_reset_slip_is_audited_on_the_volunteers_node(world: ScopedWorld) -> None:
    volunteer = world.ids[A]["volunteer"]
    response = world.clients[COORD_A].post(f"/coordinator/volunteers/{volunteer}/reset-code")
    assert response.status_code == 200
    row = db.session.scalars(select(AuditEntry).where(AuditEntry.action == audit.RESET_CODE)).one()
    assert (row.volunteer_id, row.organisation_id) == (volunteer, world.ids[A]["unit_org"])
    assert row.actor_id == world.users[COORD_A].id
