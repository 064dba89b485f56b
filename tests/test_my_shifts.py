"""A volunteer's published shifts on /me: only the latest published version (never a draft),
the lead's phone in full and teammates' names only; confirming, cancelling with a reason up to
the cutoff (and whom to call after it), notifications, and the holes coordinators see."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from scheduler.extensions import db
from scheduler.models import (
    Assignment,
    Notification,
    Role,
    Roster,
    ShiftResponse,
    Site,
    User,
)
from scheduler.services import my_shifts, signup
from scheduler.services.phones import mask, national
from tests.fixtures.auth import login
from tests.fixtures.rosters import PublishedRoster, make_roster, publish_roster

MON = date(2026, 12, 7)
NOW = datetime(2026, 12, 1, tzinfo=UTC)
# The day shift of MON at a default site (08:00–16:00 Asia/Shanghai) starts at 00:00 UTC.
MON_DAY_START = datetime(2026, 12, 7, tzinfo=UTC)


class Clock:
    """The time the services see; tests move it."""

    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(my_shifts, "utcnow", clock)
    monkeypatch.setattr(signup, "utcnow", clock)
    return clock


def role_id(code: str) -> int:
    return db.session.scalar(select(Role.id).where(Role.code == code))


def my_assignment(roster: Roster, user: User, day: date = MON, kind: str = "day") -> Assignment:
    return db.session.scalar(
        select(Assignment).where(
            Assignment.roster_id == roster.id,
            Assignment.volunteer_id == user.volunteer.id,
            Assignment.day == day,
            Assignment.shift == kind,
        )
    )


@pytest.fixture
def world(
    app: Flask,
    clock: Clock,
    make_site: Callable[..., Site],
    make_volunteer: Callable[..., User],
    coordinator: User,
) -> PublishedRoster:
    site = make_site(name="南通北高速卡口")
    site.address = "南通市崇川区 G15 出口"
    me = make_volunteer(name="我自己", phone="13900000001")
    lead = make_volunteer(name="<b>点位长</b>", phone="13900000002")
    mate = make_volunteer(name="队友甲", phone="13900000003")
    stranger = make_volunteer(name="陌生人", phone="13900000004")
    return publish_roster(
        {"site": site},
        {"me": me, "lead": lead, "mate": mate, "stranger": stranger, "coordinator": coordinator},
        [
            (site, MON, "day", "site_lead", lead),
            (site, MON, "day", "code_checker", me),
            (site, MON, "day", "code_checker", mate),
            (site, MON + timedelta(days=2), "day", "code_checker", stranger),
        ],
        draft=[
            (site, MON, "day", "site_lead", lead),
            (site, MON, "day", "code_checker", me),
            (site, MON, "day", "code_checker", mate),
            (site, MON + timedelta(days=4), "evening", "code_checker", me),  # draft only
        ],
    )


@pytest.fixture
def my_shift(world: PublishedRoster) -> Assignment:
    """My published day shift on MON."""
    return my_assignment(world.published, world["me"])


def client_for(app: Flask, user: User) -> FlaskClient:
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    login(client, user)
    return client


def responses() -> list[tuple[int, str, str | None]]:
    db.session.expire_all()
    return [
        (r.volunteer_id, r.status, r.reason)
        for r in db.session.scalars(select(ShiftResponse).order_by(ShiftResponse.id))
    ]


# --- /me --------------------------------------------------------------------------------------


def test_me_lists_published_shift_with_lead_phone_and_teammate_names_only(
    app: Flask, world: PublishedRoster
) -> None:
    html = client_for(app, world["me"]).get("/me").get_data(as_text=True)
    assert "南通北高速卡口" in html
    assert "南通市崇川区 G15 出口" in html
    assert "Mon, Dec 7 · 08:00–16:00" in html
    assert "Code checker" in html
    # The lead: name escaped, phone in full (and dialable).
    assert "&lt;b&gt;点位长&lt;/b&gt;" in html
    assert "<b>点位长" not in html
    assert national(world["lead"].phone) in html
    assert f'href="tel:{world["lead"].phone}"' in html
    # A teammate: the name only, never the number, not even masked.
    assert "队友甲" in html
    assert national(world["mate"].phone) not in html
    assert mask(world["mate"].phone) not in html
    assert world["mate"].phone not in html
    # Someone on another shift of the same roster is not a teammate.
    assert "陌生人" not in html


def test_the_shifts_lead_sees_the_teams_phones(app: Flask, world: PublishedRoster) -> None:
    html = client_for(app, world["lead"]).get("/me").get_data(as_text=True)
    assert "You lead this shift." in html
    assert national(world["me"].phone) in html
    assert national(world["mate"].phone) in html
    assert national(world["stranger"].phone) not in html


def test_draft_assignments_never_appear(app: Flask, world: PublishedRoster) -> None:
    html = client_for(app, world["me"]).get("/me").get_data(as_text=True)
    assert "Fri, Dec 11" not in html  # the draft-only evening shift
    assert html.count('class="shift-card') == 1


def test_only_the_latest_published_version_counts(
    app: Flask, world: PublishedRoster, my_shift: Assignment
) -> None:
    make_roster(
        world.period,
        [(world.site, MON + timedelta(days=1), "night", "code_checker", world["me"])],
        2,
    )
    html = client_for(app, world["me"]).get("/me").get_data(as_text=True)
    assert "Tue, Dec 8 · 00:00–08:00" in html
    assert "Mon, Dec 7" not in html
    # Version 1's assignment can no longer be answered.
    response = client_for(app, world["me"]).post(f"/me/shifts/{my_shift.id}/confirm")
    assert response.status_code == 404
    assert responses() == []


def test_no_shifts_yet_and_past_shifts_collapsed(
    app: Flask, world: PublishedRoster, clock: Clock
) -> None:
    stranger_client = client_for(app, world["stranger"])
    clock.now = datetime(2026, 12, 10, tzinfo=UTC)  # after the stranger's Wednesday shift
    html = stranger_client.get("/me").get_data(as_text=True)
    assert "You have no upcoming shifts." in html
    assert "1 past or cancelled shift" in html
    assert "<details" in html
    assert "Wed, Dec 9" in html.split("<details", 1)[1]
    nobody = client_for(app, world["coordinator"])  # staff without a profile: dashboard
    assert nobody.get("/me").status_code == 302


# --- confirm ----------------------------------------------------------------------------------


def test_confirm_plain_and_htmx(app: Flask, world: PublishedRoster, my_shift: Assignment) -> None:
    client = client_for(app, world["me"])
    response = client.post(f"/me/shifts/{my_shift.id}/confirm")
    assert response.status_code == 302
    assert response.headers["Location"] == "/me"
    assert responses() == [(world["me"].volunteer.id, "confirmed", None)]
    again = client.post(f"/me/shifts/{my_shift.id}/confirm", headers={"HX-Request": "true"})
    assert again.status_code == 200
    fragment = again.get_data(as_text=True)
    assert f'id="shift-{my_shift.id}"' in fragment
    assert "Confirmed" in fragment
    assert "<html" not in fragment
    assert responses() == [(world["me"].volunteer.id, "confirmed", None)]


def test_confirm_after_start_is_refused(
    app: Flask, world: PublishedRoster, my_shift: Assignment, clock: Clock
) -> None:
    client = client_for(app, world["me"])
    clock.now = MON_DAY_START + timedelta(minutes=1)
    response = client.post(f"/me/shifts/{my_shift.id}/confirm")
    assert response.status_code == 302
    assert "This shift has already started." in client.get("/me").get_data(as_text=True)
    assert responses() == []


# --- cancel -----------------------------------------------------------------------------------


def test_cancel_writes_response_frees_draft_and_notifies(
    app: Flask, world: PublishedRoster, my_shift: Assignment
) -> None:
    client = client_for(app, world["me"])
    form = client.get(f"/me/shifts/{my_shift.id}/cancel")
    assert form.status_code == 200
    assert 'name="reason"' in form.get_data(as_text=True)
    response = client.post(f"/me/shifts/{my_shift.id}/cancel", data={"reason": "  家里有事  "})
    assert response.status_code == 302
    assert responses() == [(world["me"].volunteer.id, "cancelled", "家里有事")]
    # The published version is untouched; the draft's copy of the post is freed.
    assert my_assignment(world.published, world["me"]) is not None
    assert my_assignment(world.draft, world["me"]) is None
    assert my_assignment(world.draft, world["mate"]) is not None
    notes = list(db.session.scalars(select(Notification).order_by(Notification.user_id)))
    assert {n.user_id for n in notes} == {world["coordinator"].id, world["lead"].id}
    assert all(n.kind == "volunteer_cancelled" for n in notes)
    assert notes[0].payload["reason"] == "家里有事"
    assert notes[0].payload["site_id"] == world.site.id
    assert notes[0].payload["day"] == MON.isoformat()
    # /me: no longer upcoming, shown among past and cancelled ones.
    html = client.get("/me").get_data(as_text=True)
    upcoming, past = html.split("<details", 1)
    assert "Mon, Dec 7" not in upcoming
    assert "Cancelled" in past
    assert "家里有事" in past
    # The hole, for the coordinator's review.
    holes = my_shifts.cancelled_posts(world.period)
    assert [(h.assignment.id, h.response.reason) for h in holes] == [(my_shift.id, "家里有事")]
    assert holes[0].response.source == "volunteer"
    # Cancelling twice is refused.
    twice = client.post(f"/me/shifts/{my_shift.id}/cancel", data={"reason": "again"})
    assert twice.status_code == 422
    assert db.session.scalar(select(func.count(Notification.id))) == 2


@pytest.mark.parametrize(
    ("reason", "message"),
    [
        ("", "Please say why you cancel."),
        ("   ", "Please say why you cancel."),
        ("长" * 201, "At most 200 characters."),
    ],
)
def test_cancel_reason_is_validated(
    app: Flask, world: PublishedRoster, reason: str, message: str, my_shift: Assignment
) -> None:
    response = client_for(app, world["me"]).post(
        f"/me/shifts/{my_shift.id}/cancel", data={"reason": reason}
    )
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert responses() == []
    assert db.session.scalar(select(func.count(Notification.id))) == 0
    assert my_assignment(world.draft, world["me"]) is not None


def test_cancel_reason_of_200_characters_and_markup_is_kept_escaped(
    app: Flask, world: PublishedRoster, my_shift: Assignment
) -> None:
    reason = "<script>x</script>" + "长" * 182
    client = client_for(app, world["me"])
    assert (
        client.post(f"/me/shifts/{my_shift.id}/cancel", data={"reason": reason}).status_code == 302
    )
    assert responses() == [(world["me"].volunteer.id, "cancelled", reason)]
    html = client.get("/me").get_data(as_text=True)
    assert "&lt;script&gt;x&lt;/script&gt;" in html
    assert "<script>x" not in html


def test_cancel_cutoff_boundary(
    app: Flask, world: PublishedRoster, my_shift: Assignment, clock: Clock
) -> None:
    client = client_for(app, world["me"])
    url = f"/me/shifts/{my_shift.id}/cancel"
    # One second inside the cutoff: refused, and the page says whom to call.
    clock.now = MON_DAY_START - timedelta(hours=12) + timedelta(seconds=1)
    late = client.post(url, data={"reason": "生病"})
    assert late.status_code == 422
    body = late.get_data(as_text=True)
    assert "too late to cancel online" in body
    assert national(world["lead"].phone) in body
    assert national(world["coordinator"].phone) in body
    assert 'name="reason"' not in body
    assert responses() == []
    me_page = client.get("/me").get_data(as_text=True)
    assert "Less than 12 hours before the start" in me_page
    assert "Cancel…" not in me_page
    # Exactly 12 hours before the start: still allowed.
    clock.now = MON_DAY_START - timedelta(hours=12)
    assert "Cancel…" in client.get("/me").get_data(as_text=True)
    assert client.post(url, data={"reason": "生病"}).status_code == 302
    assert responses() == [(world["me"].volunteer.id, "cancelled", "生病")]


def test_cutoff_is_configurable(
    app: Flask, world: PublishedRoster, my_shift: Assignment, clock: Clock
) -> None:
    app.config["CANCEL_CUTOFF_HOURS"] = 48
    clock.now = MON_DAY_START - timedelta(hours=47)
    client = client_for(app, world["me"])
    response = client.post(f"/me/shifts/{my_shift.id}/cancel", data={"reason": "出差"})
    assert response.status_code == 422
    assert responses() == []


def test_someone_elses_shift_or_a_draft_row_is_404_and_writes_nothing(
    app: Flask, world: PublishedRoster, my_shift: Assignment
) -> None:
    client = client_for(app, world["stranger"])
    others = [my_shift.id, my_assignment(world.draft, world["me"]).id, 999999]
    for assignment_id in others:
        assert client.get(f"/me/shifts/{assignment_id}").status_code == 404
        assert client.post(f"/me/shifts/{assignment_id}/confirm").status_code == 404
        cancel = client.post(f"/me/shifts/{assignment_id}/cancel", data={"reason": "x"})
        assert cancel.status_code == 404
    own_draft_row = my_assignment(world.draft, world["me"]).id
    mine = client_for(app, world["me"])
    assert mine.post(f"/me/shifts/{own_draft_row}/confirm").status_code == 404
    assert responses() == []
    assert db.session.scalar(select(func.count(Notification.id))) == 0
    assert my_assignment(world.draft, world["me"]) is not None


def test_shift_page(app: Flask, world: PublishedRoster, my_shift: Assignment) -> None:
    html = client_for(app, world["me"]).get(f"/me/shifts/{my_shift.id}").get_data(as_text=True)
    assert "南通北高速卡口" in html
    assert "Cancel this shift" in html


# --- access -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/me/shifts/{id}"),
        ("POST", "/me/shifts/{id}/confirm"),
        ("GET", "/me/shifts/{id}/cancel"),
        ("POST", "/me/shifts/{id}/cancel"),
    ],
)
def test_access_per_role(
    app: Flask,
    world: PublishedRoster,
    make_user: Callable[..., User],
    method: str,
    path: str,
    my_shift: Assignment,
) -> None:
    url = path.format(id=my_shift.id)
    anonymous = app.test_client().open(url, method=method)
    assert anonymous.status_code == 302
    assert anonymous.headers["Location"].startswith("/login")
    for role in ("coordinator", "admin"):
        staff = client_for(app, make_user(role))
        response = staff.open(url, method=method)
        assert (response.status_code, response.headers.get("Location")) == (302, "/coordinator/")
    lead_without_profile = client_for(app, make_user("site_lead"))
    response = lead_without_profile.open(url, method=method)
    assert (response.status_code, response.headers.get("Location")) == (302, "/me")
    # A site lead with a volunteer profile is a volunteer here: not their shift -> 404.
    lead_with_profile = client_for(app, make_user("site_lead", weekly_cap=3))
    assert lead_with_profile.open(url, method=method, data={"reason": "x"}).status_code == 404
    # The owner.
    owner = client_for(app, world["me"]).open(url, method=method, data={"reason": "有事"})
    assert owner.status_code in (200, 302)
