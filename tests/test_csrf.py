"""CSRF: every POST route refuses a request without a token (400, nothing written), and the
two ways the app sends the token work: the hidden field of a plain form and the X-CSRFToken
header that base.html's hx-headers adds to every htmx request."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from scheduler.extensions import db
from scheduler.models import ADMIN, COORDINATOR, VOLUNTEER, Availability, District, User
from tests.fixtures.auth import PASSWORD
from tests.test_access import (
    ANON,
    MON,
    POST,
    ROWS,
    Row,
    World,
    build_world,
    csrf_token_in,
    snapshot,
    world_on_new_app,
)

POST_ROWS = [row for row in ROWS if row.method == POST]

# Who sends each POST: someone the route would otherwise serve. The admin has a volunteer
# profile here, so it reaches every route but deleting a volunteer account.
SENDER: dict[str, str] = {
    "auth.login": ANON,
    "auth.register": ANON,
    "auth.claim": ANON,
    "volunteer.delete": VOLUNTEER,
}

# Bodies that would write something if the token were not checked (the others come from the
# access table's BODIES).
BODIES: dict[str, Callable[[World], dict[str, Any]]] = {
    "main.set_language": lambda w: {"lang": "en", "next": "/privacy"},
    "auth.login": lambda w: {"phone": w.users[ADMIN].phone, "password": PASSWORD},
    "auth.claim": lambda w: {
        "phone": "13800000077",
        "code": w.ids["claim_code"],
        "password": "a-good-password-1",
        "confirm": "a-good-password-1",
        "consent": "y",
    },
    "auth.register": lambda w: {
        "name": "新志愿者",
        "phone": "13711112222",
        "work_unit": "甲单位",
        "weekly_cap": "3",
        "emergency_name": "家人",
        "emergency_phone": "13711113333",
        "password": "a-good-password-1",
        "confirm": "a-good-password-1",
        "consent": "y",
    },
}


@pytest.fixture(scope="module")
def csrf_world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """CSRF on; shared by the refusal tests, each of which asserts it wrote nothing."""
    folder = tmp_path_factory.mktemp("csrf")
    with world_on_new_app(folder, admin_volunteer=True, WTF_CSRF_ENABLED=True) as world:
        yield world


def test_every_post_route_is_checked(csrf_world: World) -> None:
    """The routes come from the URL map: a new POST route without a row fails here."""
    posts = {
        rule.endpoint
        for rule in csrf_world.app.url_map.iter_rules()
        if "POST" in (rule.methods or set())
    }
    assert posts == {row.endpoint for row in POST_ROWS}
    assert csrf_world.app.config["WTF_CSRF_ENABLED"] is True


@pytest.mark.parametrize("row", POST_ROWS, ids=lambda row: row.endpoint)
def test_post_without_token_is_refused_and_writes_nothing(csrf_world: World, row: Row) -> None:
    world = csrf_world
    role = SENDER.get(row.endpoint, ADMIN)
    body = BODIES[row.endpoint](world) if row.endpoint in BODIES else world.body(row.endpoint, role)
    client = world.client(role)
    before = snapshot(world)

    response = client.post(world.fill(row.url, role), data=body, headers={"Accept-Language": "en"})

    assert response.status_code == 400, response.get_data(as_text=True)[:300]
    assert "This form expired or was sent from elsewhere" in response.get_data(as_text=True)
    assert snapshot(world) == before, f"{row.endpoint} wrote without a CSRF token"
    # The session is untouched too: still logged in (logout) or still anonymous (login).
    me = client.get("/me")
    assert me.status_code == (302 if role == ANON else 200)


def test_plain_form_with_token_from_the_page_succeeds(
    app_factory: Callable[..., Flask], tmp_path: Path
) -> None:
    app = app_factory(WTF_CSRF_ENABLED=True)
    with app.app_context():
        world = build_world(app, tmp_path / "imports")
        client = world.client(COORDINATOR)
        page = client.get("/coordinator/districts").get_data(as_text=True)
        token = csrf_token_in(page)
        assert token

        response = client.post(
            "/coordinator/districts", data={"name": "通州区", "csrf_token": token}
        )

        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        assert db.session.scalar(select(District).where(District.name == "通州区")) is not None


def test_htmx_post_with_token_in_header_succeeds(
    app_factory: Callable[..., Flask], tmp_path: Path
) -> None:
    app = app_factory(WTF_CSRF_ENABLED=True)
    with app.app_context():
        world = build_world(app, tmp_path / "imports")
        client = world.client(VOLUNTEER)
        page = client.get("/me/availability").get_data(as_text=True)
        match = re.search(r"<body hx-headers='\{\"X-CSRFToken\": \"([^\"]+)\"\}'", page)
        assert match, "base.html's body carries no hx-headers token"

        response = client.post(
            "/me/availability/cell",
            data={"cell": f"{MON} 08", "period": str(world.ids["period"]), "week": f"{MON}"},
            headers={"HX-Request": "true", "X-CSRFToken": match.group(1)},
        )

        assert response.status_code == 200, response.get_data(as_text=True)[:500]
        assert "HX-Request" in response.headers["Vary"]
        volunteer = db.session.get(User, world.users[VOLUNTEER].id)
        assert volunteer is not None
        assert volunteer.volunteer is not None
        cells = db.session.execute(
            select(Availability.day, Availability.start_hour).where(
                Availability.volunteer_id == volunteer.volunteer.id
            )
        ).all()
        assert [tuple(cell) for cell in cells] == [(MON, 8)]


def test_htmx_post_with_a_wrong_header_token_is_refused(
    app_factory: Callable[..., Flask], tmp_path: Path
) -> None:
    app = app_factory(WTF_CSRF_ENABLED=True)
    with app.app_context():
        world = build_world(app, tmp_path / "imports")
        before = snapshot(world)
        response = world.client(VOLUNTEER).post(
            "/me/availability/cell",
            data={"cell": f"{MON} 08", "period": str(world.ids["period"]), "week": f"{MON}"},
            headers={"HX-Request": "true", "X-CSRFToken": "forged"},
        )
        assert response.status_code == 400
        assert snapshot(world) == before
