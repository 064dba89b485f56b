"""Who the client is and how often they may try: rate limits that stop guessing without
locking out an office.

A union office registers 300 people from one network in an evening, and every phone behind a
carrier's NAT shares an address, so a tight limit per IP address locks out crowds of honest
people. The limits that matter are therefore per *account*: failed logins and claim attempts
per phone number, failed phone changes per account. Per address there is only a generous
ceiling against bulk guessing. Every limit is a setting (scheduler.config, the README's table).

Counters live in Redis (REDIS_URL) so that every worker process shares them: counters in
memory are per process, which multiplies each limit by the number of gunicorn workers, so
production refuses to start without Redis. `TRUSTED_PROXIES` tells how many reverse proxies
stand in front of the app; only then is X-Forwarded-For believed (werkzeug's ProxyFix)."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask, Response, current_app, request
from limits import RateLimitItem, parse_many
from werkzeug.middleware.proxy_fix import ProxyFix

from scheduler.extensions import limiter
from scheduler.services.phones import InvalidPhone, normalize_mobile

__all__ = [
    "account_allowed",
    "count_account_failure",
    "failed_attempt",
    "init_app",
    "phone_key",
    "setting",
]

MAX_KEY_TEXT = 40


def init_app(app: Flask) -> None:
    """Trust `TRUSTED_PROXIES` hops of X-Forwarded-For/-Proto/-Host, refuse per-process
    counters where they would be wrong (production), and start the limiter."""
    hops = int(app.config.get("TRUSTED_PROXIES") or 0)
    if hops < 0:
        raise RuntimeError("TRUSTED_PROXIES must be a number of proxies, 0 or more")
    if hops:
        # Flask's documented way to wrap its WSGI callable, which mypy sees as a method.
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops
        )
    storage = str(app.config.get("RATELIMIT_STORAGE_URI") or "memory://")
    if (
        app.config.get("RATELIMIT_REQUIRE_SHARED_STORAGE")
        and app.config.get("RATELIMIT_ENABLED", True)
        and storage.startswith("memory://")
    ):
        raise RuntimeError(
            "REDIS_URL must be set in production: the rate limits (failed logins per phone, "
            "registrations per network) are counted in Redis so that every worker shares them; "
            "counters in memory would be per process and multiply every limit by the number "
            "of workers."
        )
    limiter.init_app(app)


def setting(name: str) -> Callable[[], str]:
    """The limit named by a config key, read per request (tests and deployments change it)."""
    return lambda: str(current_app.config[name])


def phone_key() -> str:
    """The limiter key of the phone number in the posted form, however it is spelled
    ('138 0013 8000', '+86 138…' count together); never empty."""
    raw = (request.form.get("phone") or "").strip()
    try:
        return "phone:" + normalize_mobile(raw)
    except InvalidPhone:
        return "phone?:" + "".join(raw.split())[:MAX_KEY_TEXT]


def failed_attempt(response: Response) -> bool:
    """A login or claim that did not succeed (the form came back with an error): only those
    count against the phone's limit, so logging in often is never punished."""
    return response.status_code == 422


def _items(name: str) -> list[RateLimitItem]:
    return list(parse_many(str(current_app.config[name])))


def account_allowed(name: str, key: str) -> bool:
    """Whether `key` may try once more under the limits of the config key `name` (always,
    when rate limiting is off). Counts nothing; see count_account_failure."""
    if not limiter.enabled:
        return True
    return all(limiter.limiter.test(item, name, key) for item in _items(name))


def count_account_failure(name: str, key: str) -> None:
    """Count one failed attempt of `key` against the limits of `name`."""
    if not limiter.enabled:
        return
    for item in _items(name):
        limiter.limiter.hit(item, name, key)
