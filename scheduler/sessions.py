"""Logged-in sessions that end when the password changes.

A session remembers a version of the account's password hash from when it logged in; the
user loader compares it on every request. Changing or resetting the password (a new hash)
therefore ends every session opened with the old one — a stolen phone's, a shared
computer's — while the session that made the change is given the new version and stays."""

from __future__ import annotations

import hashlib
from typing import Any

from flask import Flask, session
from flask.sessions import SecureCookieSessionInterface
from flask_login import login_user
from itsdangerous import URLSafeTimedSerializer

from scheduler.models import User

SESSION_KEY = "pwv"


def password_version(user: User) -> str:
    """A short digest of the password hash: changes whenever the password does, and tells
    nothing about the password (it is a digest of a salted hash, in a signed cookie)."""
    return hashlib.sha256((user.password_hash or "").encode()).hexdigest()[:16]


def log_in(user: User) -> bool:
    """Log `user` in for this browser, bound to the current password."""
    if not login_user(user):
        return False
    session[SESSION_KEY] = password_version(user)
    return True


def keep_session(user: User) -> None:
    """After this session changed `user`'s password: keep it logged in (the others end)."""
    session[SESSION_KEY] = password_version(user)


def session_is_current(user: User) -> bool:
    """Whether this session was opened with the account's current password."""
    return session.get(SESSION_KEY) == password_version(user)


class SigningOnceSessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session, with its signing serializer built once per secret key
    instead of on every request (and again when the cookie is written): building one encodes
    an empty dict to learn the serializer's output type, some hundred Python calls each time.
    The cookie is the same, signed with the same key, salt and fallback keys."""

    def __init__(self) -> None:
        self._built: tuple[Any, URLSafeTimedSerializer | None] | None = None

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        keys = (app.secret_key, tuple(app.config.get("SECRET_KEY_FALLBACKS") or ()))
        built = self._built
        if built is not None and built[0] == keys:
            return built[1]
        serializer = super().get_signing_serializer(app)
        self._built = (keys, serializer)
        return serializer
