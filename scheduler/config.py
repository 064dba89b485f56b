"""Configuration classes; values come from the environment so nothing secret lives in git."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import ClassVar

INSTANCE_DIR = Path(__file__).resolve().parent.parent / "instance"


def _dev_secret_key() -> str:
    """A per-checkout random key kept in instance/, so sessions survive restarts in development."""
    INSTANCE_DIR.mkdir(exist_ok=True)
    path = INSTANCE_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_hex(32))
    return path.read_text().strip()


class Config:
    SECRET_KEY = os.environ.get("SECRET_KEY")
    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL") or (
        f"sqlite:///{INSTANCE_DIR / 'muster.sqlite'}"
    )
    SQLALCHEMY_ENGINE_OPTIONS: ClassVar[dict[str, object]] = {"pool_pre_ping": True}
    PASSWORD_HASH_METHOD = "scrypt"  # werkzeug's default
    REDIS_URL = os.environ.get("REDIS_URL")
    RATELIMIT_STORAGE_URI = os.environ.get("REDIS_URL") or "memory://"
    RATELIMIT_HEADERS_ENABLED = True
    LOGIN_RATE_LIMIT = "10 per minute;50 per hour"
    REGISTER_RATE_LIMIT = "20 per hour"
    BABEL_DEFAULT_LOCALE = "zh_Hans"
    BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"
    LANGUAGES = ("zh_Hans", "en")
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = os.environ.get("SESSION_COOKIE_SECURE", "").lower() in ("1", "true")
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE
    WTF_CSRF_TIME_LIMIT = None  # a volunteer may leave the availability page open all evening
    # Static files are streamed responses, and Flask-Compress streams only zstd, br and deflate
    # by default: a browser offering just gzip got every stylesheet and script uncompressed.
    COMPRESS_ALGORITHM_STREAMING = ("zstd", "br", "gzip", "deflate")
    MAX_CONTENT_LENGTH = 5 * 1024 * 1024  # imports of a few thousand rows fit easily
    POOL_PAGE_SIZE = 25
    # Notification delivery (scheduler.services.delivery): "log" (default) or "smtp"; SMTP is
    # used only when SMTP_HOST is set too. SMTP_RECIPIENT_TEMPLATE turns a user into an
    # address, e.g. "{phone}@sms-gateway.example" for an e-mail-to-SMS gateway.
    NOTIFY_SENDER = os.environ.get("NOTIFY_SENDER", "log")
    SMTP_HOST = os.environ.get("SMTP_HOST")
    SMTP_PORT = int(os.environ.get("SMTP_PORT") or 587)
    SMTP_USERNAME = os.environ.get("SMTP_USERNAME")
    SMTP_PASSWORD = os.environ.get("SMTP_PASSWORD")
    SMTP_FROM = os.environ.get("SMTP_FROM", "muster@localhost")
    SMTP_STARTTLS = os.environ.get("SMTP_STARTTLS", "1").lower() in ("1", "true")
    SMTP_RECIPIENT_TEMPLATE = os.environ.get("SMTP_RECIPIENT_TEMPLATE")
    # One delivery pass in a background thread right after each publish.
    NOTIFY_AFTER_PUBLISH = os.environ.get("NOTIFY_AFTER_PUBLISH", "1").lower() in ("1", "true")
    # Volunteers can cancel a published shift up to this many hours before it starts.
    CANCEL_CUTOFF_HOURS = int(os.environ.get("CANCEL_CUTOFF_HOURS", "12"))
    # Where the app is served (https://muster.example.org): links made outside a request, such
    # as the QR codes on sheets printed by `flask export-sheets`.
    PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL")
    # Who issues the certificates of service hours (e.g. 南通市总工会); "Muster" when unset.
    CERTIFICATE_ISSUER = os.environ.get("CERTIFICATE_ISSUER")


class DevelopmentConfig(Config):
    DEBUG = False
    SECRET_KEY = Config.SECRET_KEY or _dev_secret_key()


class TestConfig(Config):
    TESTING = True
    SECRET_KEY = "test-secret-key"
    SQLALCHEMY_DATABASE_URI = "sqlite://"
    WTF_CSRF_ENABLED = False
    RATELIMIT_ENABLED = False
    RATELIMIT_STORAGE_URI = "memory://"
    PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"  # scrypt's cost adds minutes to the suite
    # Tests read English unless they ask for Chinese (Accept-Language); the product default,
    # Chinese, is checked on its own in tests/test_auth.py.
    BABEL_DEFAULT_LOCALE = "en"
    NOTIFY_AFTER_PUBLISH = False  # no stray delivery threads in tests


class ProductionConfig(Config):
    SESSION_COOKIE_SECURE = os.environ.get("SESSION_COOKIE_SECURE", "1").lower() in ("1", "true")
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE


CONFIGS = {
    "development": DevelopmentConfig,
    "production": ProductionConfig,
    "testing": TestConfig,
}
