"""Logged-in sessions that end when the password changes.

A session remembers a version of the account's password hash from when it logged in; the
user loader compares it on every request. Changing or resetting the password (a new hash)
therefore ends every session opened with the old one — a stolen phone's, a shared
computer's — while the session that made the change is given the new version and stays."""

from __future__ import annotations

import hashlib

from flask import session
from flask_login import login_user

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
