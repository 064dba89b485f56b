"""Configuration classes; values come from the environment so nothing secret lives in git."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import ClassVar

INSTANCE_DIR = Path(__file__).resolve().parent.parent / "instance"


def _dev_secret_key(instance_dir: Path | None = None) -> str:
    """A per-checkout random key kept in instance/, so sessions survive restarts in development."""
    folder = instance_dir or INSTANCE_DIR
    folder.mkdir(exist_ok=True)
    path = folder / "secret_key"
    if not path.exists():
        # Created readable by the owner only (0600): whoever reads the key can forge sessions.
        # O_EXCL: two processes starting at once do not both write (the loser reads the file).
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as file:
                file.write(secrets.token_hex(32))
    elif path.stat().st_mode & 0o077:
        path.chmod(0o600)  # written world-readable by an older version
    return path.read_text().strip()


class Config:
    SECRET_KEY = os.environ.get("SECRET_KEY")
    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL") or (
        f"sqlite:///{INSTANCE_DIR / 'muster.sqlite'}"
    )
    # No pool_pre_ping: a connection the server closed is found without a round trip on
    # checkout (scheduler.connections).
    SQLALCHEMY_ENGINE_OPTIONS: ClassVar[dict[str, object]] = {}
    PASSWORD_HASH_METHOD = "scrypt"  # werkzeug's default
    REDIS_URL = os.environ.get("REDIS_URL")
    # Rate limits (scheduler.limits): per account where guessing happens, and only a generous
    # ceiling per address, which a whole office or a carrier's NAT shares. Limits are
    # "N per minute;M per hour" strings; counters are in Redis when REDIS_URL is set.
    RATELIMIT_ENABLED = os.environ.get("RATELIMIT_ENABLED", "1").lower() in ("1", "true")
    RATELIMIT_STORAGE_URI = os.environ.get("REDIS_URL") or "memory://"
    RATELIMIT_HEADERS_ENABLED = True
    # Redis down must not turn every login and registration into an error: the limits go on
    # counting in each worker's memory until Redis answers again (Flask-Limiter retries it).
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    RATELIMIT_REQUIRE_SHARED_STORAGE = False  # production: refuse per-process counters
    # How many reverse proxies stand in front of the app: X-Forwarded-For is believed only
    # for that many hops (0: the address of the connection is the client's).
    TRUSTED_PROXIES = int(os.environ.get("TRUSTED_PROXIES") or 0)
    LOGIN_RATE_LIMIT_PER_PHONE = os.environ.get("LOGIN_RATE_LIMIT_PER_PHONE", "10 per 15 minutes")
    LOGIN_RATE_LIMIT_PER_IP = os.environ.get("LOGIN_RATE_LIMIT_PER_IP", "2000 per hour")
    REGISTER_RATE_LIMIT_PER_IP = os.environ.get("REGISTER_RATE_LIMIT_PER_IP", "1000 per hour")
    CLAIM_RATE_LIMIT_PER_PHONE = os.environ.get("CLAIM_RATE_LIMIT_PER_PHONE", "5 per 15 minutes")
    CLAIM_RATE_LIMIT_PER_IP = os.environ.get("CLAIM_RATE_LIMIT_PER_IP", "1000 per hour")
    PHONE_CHANGE_RATE_LIMIT = os.environ.get("PHONE_CHANGE_RATE_LIMIT", "5 per hour")
    # How long a claim code printed for an imported volunteer stays valid.
    CLAIM_CODE_DAYS = int(os.environ.get("CLAIM_CODE_DAYS") or 14)
    # One-time codes (scheduler.services.codes): a code texted to a phone (a password reset,
    # or with VERIFY_PHONE=sms a registration or claim) works for CODE_MINUTES; one printed by
    # a coordinator for a password reset, RESET_SLIP_HOURS. Each phone may ask for a code
    # CODE_RATE_LIMIT_PER_PHONE times; each address has a ceiling on asking and on entering.
    CODE_MINUTES = int(os.environ.get("CODE_MINUTES") or 10)
    RESET_SLIP_HOURS = int(os.environ.get("RESET_SLIP_HOURS") or 24)
    CODE_RATE_LIMIT_PER_PHONE = os.environ.get("CODE_RATE_LIMIT_PER_PHONE", "5 per hour")
    CODE_RATE_LIMIT_PER_IP = os.environ.get("CODE_RATE_LIMIT_PER_IP", "200 per hour")
    # "sms": registrations and claims of imported accounts wait for a code texted to the
    # number (only where a channel is configured, NOTIFY_SENDER); anything else: they do not.
    VERIFY_PHONE = os.environ.get("VERIFY_PHONE", "")
    # Days after a planning period is closed (the emergency is over) until the personal data
    # of its volunteers who have no later period is anonymised (`flask retention`).
    RETENTION_DAYS = int(os.environ.get("RETENTION_DAYS") or 180)
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
    # Bodies under one TCP segment's worth go out as they are: compressing the tap's 1.2 KB
    # reply to 0.45 KB saves no round trip on a phone's connection (its first flight holds
    # ten segments), and it cost ~0.17 ms of server CPU per tap (~9 % of it; in process,
    # Flask-Compress's headers and ETag as much as the compressor). Pages stay compressed.
    COMPRESS_MIN_SIZE = 1400
    # Brotli at quality 2, not Flask-Compress's 4: a page's body is 10-14 % larger (the
    # registration page 1.96 -> 2.24 KB, a rostered /me 3.0 -> 3.3 KB; the static files a first
    # visit loads 35 -> 38 KB, once a year), and it costs 0.16 ms less server CPU per
    # registration page (8 %) and 0.28 ms per /me (3 %): quality 4 sets up far larger tables
    # for every response (in process, interleaved A/B, 300 requests each).
    COMPRESS_BR_LEVEL = 2
    MAX_CONTENT_LENGTH = 5 * 1024 * 1024  # imports of a few thousand rows fit easily
    POOL_PAGE_SIZE = 25
    # Notification delivery (scheduler.services.delivery, channels in services.senders):
    # NOTIFY_SENDER is "log" (default: the application log), "smtp", "webhook" or "aliyun";
    # each channel is used only when its settings below are set too. README: "Sending messages".
    NOTIFY_SENDER: str | None = os.environ.get("NOTIFY_SENDER", "log")
    NOTIFY_REQUIRE_CHANNEL = False  # production: refuse to start without one (or `log` knowingly)
    # Seconds an HTTP channel (webhook, Aliyun, group robots) waits for an answer.
    NOTIFY_HTTP_TIMEOUT = float(os.environ.get("NOTIFY_HTTP_TIMEOUT") or 10)
    # Seconds between two delivery passes: the background thread of `flask run`, or the RQ
    # worker's job chain (scheduler.sending). 0 turns the automatic passes off.
    NOTIFY_LOOP_SECONDS = int(os.environ.get("NOTIFY_LOOP_SECONDS") or 30)
    # webhook: POST JSON {to, text, kind, locale, message_id} to this URL, signed with an
    # HMAC-SHA256 of the timestamp and body keyed with the secret (services.senders).
    NOTIFY_WEBHOOK_URL = os.environ.get("NOTIFY_WEBHOOK_URL")
    NOTIFY_WEBHOOK_SECRET = os.environ.get("NOTIFY_WEBHOOK_SECRET")
    # aliyun: Aliyun SMS SendSms. The AccessKey pair of a RAM user allowed to send SMS, the
    # approved sign name (签名), the template code of a general template with one variable
    # (ALIYUN_SMS_TEMPLATE_PARAM, default "content": "${content}"), optional template codes per
    # message kind ("reset_code=SMS_1,shift_new=SMS_2"), and the endpoint (tests: 127.0.0.1).
    ALIYUN_SMS_ACCESS_KEY_ID = os.environ.get("ALIYUN_SMS_ACCESS_KEY_ID")
    ALIYUN_SMS_ACCESS_KEY_SECRET = os.environ.get("ALIYUN_SMS_ACCESS_KEY_SECRET")
    ALIYUN_SMS_SIGN_NAME = os.environ.get("ALIYUN_SMS_SIGN_NAME")
    ALIYUN_SMS_TEMPLATE = os.environ.get("ALIYUN_SMS_TEMPLATE")
    ALIYUN_SMS_TEMPLATE_PARAM = os.environ.get("ALIYUN_SMS_TEMPLATE_PARAM", "content")
    ALIYUN_SMS_TEMPLATES = os.environ.get("ALIYUN_SMS_TEMPLATES")
    ALIYUN_SMS_ENDPOINT = os.environ.get("ALIYUN_SMS_ENDPOINT", "https://dysmsapi.aliyuncs.com/")
    ALIYUN_SMS_REGION = os.environ.get("ALIYUN_SMS_REGION", "cn-hangzhou")
    # Group robots: a site's robot URL must be https on qyapi.weixin.qq.com (WeCom) or
    # oapi.dingtalk.com (DingTalk) unless this is on (a self-hosted relay; tests).
    ROBOT_ALLOW_ANY_URL = os.environ.get("ROBOT_ALLOW_ANY_URL", "").lower() in ("1", "true")
    SMTP_HOST = os.environ.get("SMTP_HOST")
    SMTP_PORT = int(os.environ.get("SMTP_PORT") or 587)
    SMTP_USERNAME = os.environ.get("SMTP_USERNAME")
    SMTP_PASSWORD = os.environ.get("SMTP_PASSWORD")
    SMTP_FROM = os.environ.get("SMTP_FROM", "muster@localhost")
    SMTP_STARTTLS = os.environ.get("SMTP_STARTTLS", "1").lower() in ("1", "true")
    SMTP_RECIPIENT_TEMPLATE = os.environ.get("SMTP_RECIPIENT_TEMPLATE")
    # One delivery pass in a background thread right after each publish.
    NOTIFY_AFTER_PUBLISH = os.environ.get("NOTIFY_AFTER_PUBLISH", "1").lower() in ("1", "true")
    # A solve run still queued this many seconds after it was requested has lost its job (a
    # worker or process that ended): it is failed so it no longer blocks runs and sign-up.
    JOBS_QUEUED_TIMEOUT = int(os.environ.get("JOBS_QUEUED_TIMEOUT", "1800"))
    # With REDIS_URL, a queued run whose RQ job is missing counts as lost only once it is
    # older than this many seconds: the run is committed just before its job is enqueued.
    JOBS_ENQUEUE_GRACE = int(os.environ.get("JOBS_ENQUEUE_GRACE", "30"))
    # Volunteers can cancel a published shift up to this many hours before it starts.
    CANCEL_CUTOFF_HOURS = int(os.environ.get("CANCEL_CUTOFF_HOURS", "12"))
    # Where the app is served (https://muster.example.org): links made outside a request, such
    # as the QR codes on sheets printed by `flask export-sheets`.
    PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL")
    # Who issues the certificates of service hours (e.g. 南通市总工会); "Muster" when unset.
    CERTIFICATE_ISSUER = os.environ.get("CERTIFICATE_ISSUER")
    # Compile every template and load every language when the app is built, not on the first
    # requests of each worker (scheduler.warm_up).
    WARM_UP = True


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
    WARM_UP = False  # an app per test: each compiles only the templates it renders


class ProductionConfig(Config):
    RATELIMIT_REQUIRE_SHARED_STORAGE = True
    # No default channel: the log reaches nobody, so production starts only once NOTIFY_SENDER
    # names a channel with its settings, or `log` knowingly (services.senders.require_channel).
    NOTIFY_SENDER = os.environ.get("NOTIFY_SENDER")
    NOTIFY_REQUIRE_CHANNEL = True
    SESSION_COOKIE_SECURE = os.environ.get("SESSION_COOKIE_SECURE", "1").lower() in ("1", "true")
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE


CONFIGS = {
    "development": DevelopmentConfig,
    "production": ProductionConfig,
    "testing": TestConfig,
}
