"""Logged-in sessions that end when the password changes.

A session remembers a version of the account's password hash from when it logged in; the
user loader compares it on every request. Changing or resetting the password (a new hash)
therefore ends every session opened with the old one — a stolen phone's, a shared
computer's — while the session that made the change is given the new version and stays."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from flask import Flask, session
from flask.json import dumps, loads
from flask.json.tag import TaggedJSONSerializer
from flask.sessions import SecureCookieSessionInterface
from flask_login import login_user
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from itsdangerous.encoding import want_bytes
from itsdangerous.signer import HMACAlgorithm

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


# Values the session's tagged JSON keeps as they are (Flask's tags are for dicts, tuples,
# lists, bytes, Markup, UUIDs and datetimes).
_PLAIN = frozenset({str, int, float, bool, type(None)})


class _SessionJSON(TaggedJSONSerializer):
    """Flask's session serializer (`flask.json.tag`), the same JSON text and values, without
    running every plain value of the session (the CSRF token, the user id, the password
    version...) past each of its eight tags on every save and every load."""

    def dumps(self, value: Any) -> str:
        if type(value) is dict and not (len(value) == 1 and next(iter(value)) in self.tags):
            value = {k: v if type(v) in _PLAIN else self.tag(v) for k, v in value.items()}
        else:
            value = self.tag(value)
        return dumps(value, separators=(",", ":"))

    def loads(self, value: str | bytes) -> Any:
        data = loads(value)
        if type(data) is not dict:
            return self._untag_scan(data)
        return self.untag(
            {k: v if type(v) in _PLAIN else self._untag_scan(v) for k, v in data.items()}
        )


class _HMACSHA1(HMACAlgorithm):
    """itsdangerous' HMAC with SHA-1 (what Flask signs sessions with), computed by hashlib's
    one-shot HMAC instead of Python's `hmac.HMAC` object: the same bytes."""

    def __init__(self) -> None:
        super().__init__(hashlib.sha1)

    def get_signature(self, key: bytes, value: bytes) -> bytes:
        return hmac.digest(key, value, "sha1")


# Derived signing keys by (secret key, salt): a few per process (the key and its fallbacks).
_derived: dict[tuple[bytes, bytes], bytes] = {}


class _SessionSigner(TimestampSigner):
    """itsdangerous' TimestampSigner with Flask's session settings (HMAC key derivation,
    SHA-1), deriving each secret key once per process instead of twice per request."""

    def derive_key(self, secret_key: str | bytes | None = None) -> bytes:
        key = self.secret_keys[-1] if secret_key is None else want_bytes(secret_key)
        derived = _derived.get((key, self.salt))
        if derived is None:
            derived = hmac.digest(key, self.salt, "sha1")
            if len(_derived) < 64:
                _derived[(key, self.salt)] = derived
        return derived


class SigningOnceSessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session, with its signing serializer built once per secret key
    instead of on every request (and again when the cookie is written): building one encodes
    an empty dict to learn the serializer's output type, some hundred Python calls each time.
    Its JSON skips the tags for plain values and its signer derives the key once and signs
    with hashlib's HMAC (`_SessionJSON`, `_SessionSigner`). The cookie is the same, signed with
    the same key, salt and fallback keys (tests/test_sessions_fast.py)."""

    serializer = _SessionJSON()

    def __init__(self) -> None:
        self._built: tuple[Any, URLSafeTimedSerializer | None] | None = None

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        keys = (app.secret_key, tuple(app.config.get("SECRET_KEY_FALLBACKS") or ()))
        built = self._built
        if built is not None and built[0] == keys:
            return built[1]
        serializer = None
        if app.secret_key:
            serializer = URLSafeTimedSerializer(
                [*keys[1], app.secret_key],  # itsdangerous expects the current key last
                salt=self.salt,
                serializer=self.serializer,
                signer=_SessionSigner,
                signer_kwargs={
                    "key_derivation": "hmac",
                    "digest_method": hashlib.sha1,
                    "algorithm": _HMACSHA1(),
                },
            )
        self._built = (keys, serializer)
        return serializer
