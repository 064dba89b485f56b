"""Rate limits that stop guessing without locking out an office (issue 9, item 6): failed
logins count per phone number, registrations have a per-network ceiling an office of 300
stays under, X-Forwarded-For is believed only behind TRUSTED_PROXIES, and production refuses
counters kept per process. Every limit is a setting from the environment, in the README."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from scheduler.extensions import db
from scheduler.models import User
from tests.fixtures.auth import PASSWORD
from tests.test_auth import registration_form

ROOT = Path(__file__).resolve().parent.parent
LIMIT_SETTINGS = (
    "RATELIMIT_ENABLED",
    "TRUSTED_PROXIES",
    "LOGIN_RATE_LIMIT_PER_PHONE",
    "LOGIN_RATE_LIMIT_PER_IP",
    "REGISTER_RATE_LIMIT_PER_IP",
    "CLAIM_RATE_LIMIT_PER_PHONE",
    "CLAIM_RATE_LIMIT_PER_IP",
    "PHONE_CHANGE_RATE_LIMIT",
    "CLAIM_CODE_DAYS",
)


def test_an_office_registers_300_people_from_one_address(
    app_factory: Callable[..., Flask],
) -> None:
    """The default limits, with the limiter on: all 300 succeed (the password hash is the
    test configuration's cheap one)."""
    app = app_factory(RATELIMIT_ENABLED=True)
    with app.app_context():
        for n in range(300):
            client = app.test_client()  # each volunteer on their own phone, one network
            response = client.post(
                "/register",
                data=registration_form(phone=f"1390000{n:04d}", name=f"志愿者{n}"),
                environ_base={"REMOTE_ADDR": "203.0.113.7"},
            )
            assert response.status_code == 302, (n, response.status_code)
        assert db.session.scalar(select(func.count(User.id))) == 300


def test_the_11th_failed_login_for_a_phone_is_refused_but_not_the_office(
    app_factory: Callable[..., Flask], make_volunteer: Callable[..., User]
) -> None:
    app = app_factory(RATELIMIT_ENABLED=True)
    with app.app_context():
        make_volunteer(phone="13800000001")
        make_volunteer(phone="13800000002")
        office = {"REMOTE_ADDR": "203.0.113.7"}
        client = app.test_client()
        for _ in range(10):
            wrong = {"phone": "138 0000 0001", "password": "not-the-password"}
            assert client.post("/login", data=wrong, environ_base=office).status_code == 422
        # The 11th try for that account is refused, even with the right password and spelled
        # another way, from another address.
        right = {"phone": "+86 13800000001", "password": PASSWORD}
        elsewhere = {"REMOTE_ADDR": "198.51.100.1"}
        refused = app.test_client().post("/login", data=right, environ_base=elsewhere)
        assert refused.status_code == 429
        # A colleague on the same network logs in as usual.
        colleague = app.test_client().post(
            "/login", data={"phone": "13800000002", "password": PASSWORD}, environ_base=office
        )
        assert colleague.status_code == 302


def test_successful_logins_do_not_count(
    app_factory: Callable[..., Flask], make_volunteer: Callable[..., User]
) -> None:
    app = app_factory(RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT_PER_PHONE="3 per hour")
    with app.app_context():
        make_volunteer(phone="13800000001")
        for _ in range(6):
            response = app.test_client().post(
                "/login", data={"phone": "13800000001", "password": PASSWORD}
            )
            assert response.status_code == 302


def test_the_per_address_ceiling_still_holds(
    app_factory: Callable[..., Flask], make_volunteer: Callable[..., User]
) -> None:
    app = app_factory(RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT_PER_IP="3 per hour")
    with app.app_context():
        for n in range(3):
            data = {"phone": f"1380000000{n}", "password": "guess-guess"}
            assert app.test_client().post("/login", data=data).status_code == 422
        data = {"phone": "13800000009", "password": "guess-guess"}
        assert app.test_client().post("/login", data=data).status_code == 429


@pytest.mark.parametrize(("hops", "second_status"), [(0, 429), (1, 422)])
def test_x_forwarded_for_is_believed_only_behind_trusted_proxies(
    app_factory: Callable[..., Flask], hops: int, second_status: int
) -> None:
    """Two clients behind one proxy: with TRUSTED_PROXIES=1 each has its own ceiling; with
    the default 0 a forged header changes nothing (both are the proxy's address)."""
    app = app_factory(
        RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT_PER_IP="1 per hour", TRUSTED_PROXIES=hops
    )
    with app.app_context():
        proxy = {"REMOTE_ADDR": "10.0.0.2"}
        data = {"phone": "13800000001", "password": "guess-guess"}
        first = app.test_client().post(
            "/login", data=data, environ_base=proxy, headers={"X-Forwarded-For": "203.0.113.7"}
        )
        assert first.status_code == 422
        data = {"phone": "13800000002", "password": "guess-guess"}
        second = app.test_client().post(
            "/login", data=data, environ_base=proxy, headers={"X-Forwarded-For": "198.51.100.1"}
        )
        assert second.status_code == second_status


def test_trusted_proxies_must_not_be_negative(app_factory: Callable[..., Flask]) -> None:
    with pytest.raises(RuntimeError, match="TRUSTED_PROXIES"):
        app_factory(TRUSTED_PROXIES=-1)


def test_production_refuses_in_memory_counters(monkeypatch: pytest.MonkeyPatch) -> None:
    from scheduler import create_app
    from scheduler.config import ProductionConfig

    monkeypatch.setattr(ProductionConfig, "SECRET_KEY", "from-the-environment")
    monkeypatch.setattr(ProductionConfig, "NOTIFY_SENDER", "log")
    monkeypatch.setattr(ProductionConfig, "RATELIMIT_STORAGE_URI", "memory://")
    with pytest.raises(RuntimeError, match="REDIS_URL must be set in production"):
        create_app("production")
    monkeypatch.setattr(ProductionConfig, "RATELIMIT_STORAGE_URI", "redis://127.0.0.1:6379/2")
    assert create_app("production").config["RATELIMIT_STORAGE_URI"].startswith("redis://")


def test_development_keeps_memory_counters(monkeypatch: pytest.MonkeyPatch) -> None:
    from scheduler import create_app
    from scheduler.config import DevelopmentConfig

    monkeypatch.setattr(DevelopmentConfig, "RATELIMIT_STORAGE_URI", "memory://")
    assert create_app("development").config["RATELIMIT_STORAGE_URI"] == "memory://"


def _config_in_a_fresh_process(env: dict[str, str], names: tuple[str, ...]) -> list[str]:
    """The Config values as a new process reads them from `env` (Config reads the environment
    once, at import)."""
    code = (
        "from scheduler.config import Config\n"
        f"for name in {names!r}: print(getattr(Config, name))\n"
    )
    clean = {k: v for k, v in os.environ.items() if k not in LIMIT_SETTINGS and k != "REDIS_URL"}
    result = subprocess.run(
        [sys.executable, "-c", code],
        env={**clean, **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.splitlines()


def test_every_limit_is_read_from_the_environment() -> None:
    env = {
        "RATELIMIT_ENABLED": "0",
        "TRUSTED_PROXIES": "2",
        "LOGIN_RATE_LIMIT_PER_PHONE": "7 per hour",
        "LOGIN_RATE_LIMIT_PER_IP": "70 per hour",
        "REGISTER_RATE_LIMIT_PER_IP": "700 per hour",
        "CLAIM_RATE_LIMIT_PER_PHONE": "3 per hour",
        "CLAIM_RATE_LIMIT_PER_IP": "30 per hour",
        "PHONE_CHANGE_RATE_LIMIT": "2 per hour",
        "CLAIM_CODE_DAYS": "9",
        "REDIS_URL": "redis://127.0.0.1:6379/2",
    }
    values = _config_in_a_fresh_process(env, (*LIMIT_SETTINGS, "RATELIMIT_STORAGE_URI"))
    expected = [
        "False",
        "2",
        "7 per hour",
        "70 per hour",
        "700 per hour",
        "3 per hour",
        "30 per hour",
        "2 per hour",
        "9",
        "redis://127.0.0.1:6379/2",
    ]
    assert values == expected


def test_every_limit_setting_is_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = readme[readme.index("## Configuration") :]
    for name in LIMIT_SETTINGS:
        assert re.search(rf"^\| `{name}` \|", table, re.MULTILINE), name
