"""Redis going down on the call-up night (it keeps production's rate-limit counters) must not
turn every login and registration into an error: the limits go on counting in each worker's
memory until Redis is back. Against a real redis-server started on a free port here."""

from __future__ import annotations

from collections.abc import Callable

import redis
from flask import Flask

from scheduler.models import User
from tests.fixtures.auth import PASSWORD
from tests.fixtures.redis_server import RedisServer
from tests.test_auth import registration_form


def test_logins_and_registrations_go_on_when_redis_goes_down(
    app_factory: Callable[..., Flask],
    make_volunteer: Callable[..., User],
    redis_server: RedisServer,
) -> None:
    port = redis_server.port
    app = app_factory(
        RATELIMIT_ENABLED=True,
        RATELIMIT_STORAGE_URI=f"redis://127.0.0.1:{port}/0",
        LOGIN_RATE_LIMIT_PER_PHONE="3 per 15 minutes",
    )
    with app.app_context():
        make_volunteer(phone="13800000001")
        make_volunteer(phone="13800000002")
        wrong = {"phone": "13800000001", "password": "not-the-password"}
        assert app.test_client().post("/login", data=wrong).status_code == 422
        assert redis.Redis(port=port).keys(), "the failure was counted in Redis"

        redis_server.stop()

        # Redis is gone: a registration and a colleague's login work as usual ...
        registered = app.test_client().post(
            "/register", data=registration_form(phone="13900000001", name="新志愿者")
        )
        assert registered.status_code == 302
        right = {"phone": "13800000002", "password": PASSWORD}
        assert app.test_client().post("/login", data=right).status_code == 302
        # ... and guessing is still limited, counted in memory from the moment Redis went.
        for _ in range(3):
            assert app.test_client().post("/login", data=wrong).status_code == 422
        assert app.test_client().post("/login", data=wrong).status_code == 429
