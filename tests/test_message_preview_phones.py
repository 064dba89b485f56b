"""A message preview shows phones as the product's privacy rule has it (walkthrough, session 5,
item 6): in full to a coordinator, who may see the numbers of their scope's volunteers, and
masked (138****5678) to a site lead previewing the shift they lead. A call-up's preview
(tests/test_callups.py) follows the same rule, services.phones.as_seen_by."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask

from scheduler.models import COORDINATOR, User
from scheduler.services.phones import as_seen_by, mask, national
from tests.fixtures.auth import signed_in
from tests.test_messages import SHIFT, World, world  # noqa: F401 (the fixture)


def preview_part(page: str) -> str:
    return page.split("message-preview", 1)[1]


def test_a_coordinator_s_preview_shows_full_numbers(world: World) -> None:  # noqa: F811
    client = signed_in(world.app, world["coordinator"])
    page = client.post(
        "/coordinator/messages",
        data={"site_id": str(world.east.id), "text": "集合", "action": "preview", **SHIFT},
    ).get_data(as_text=True)
    for name in ("li", "alice"):
        assert national(world[name].phone) in preview_part(page)
        assert mask(world[name].phone) not in preview_part(page)


def test_a_lead_s_preview_stays_masked(world: World) -> None:  # noqa: F811
    client = signed_in(world.app, world["li"])
    url = f"/checkin/sites/{world.east.id}/2026-12-10/day/message"
    page = client.post(url, data={"text": "请提前十分钟到", "action": "preview"}).get_data(
        as_text=True
    )
    assert mask(world["alice"].phone) in preview_part(page)
    assert national(world["alice"].phone) not in preview_part(page)


def test_a_call_up_preview_follows_the_same_rule(
    app: Flask, make_volunteer: Callable[..., User]
) -> None:
    """The call-up's audience is limited to the asking user's scope; no user (an internal
    caller) or a user who is not staff gets masked numbers."""
    user = make_volunteer()
    staff = User(name="协调员", phone="+8613900000009", role=COORDINATOR)
    assert as_seen_by(staff, user.phone) == national(user.phone)
    assert as_seen_by(user, user.phone) == mask(user.phone)
    assert as_seen_by(None, user.phone) == mask(user.phone)
