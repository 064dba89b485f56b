"""Senders: how one text reaches one phone. The outbox (services.delivery), one-time codes and
call-ups all hand a `Message` to the sender the configuration names (NOTIFY_SENDER), so a
channel is written once and every feature can use it.

A sender raises `PermanentFailure` when retrying cannot help (an invalid number, a refused
template) and any other exception for a failure worth retrying (a timeout, a 500, a rate limit).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import math
import smtplib
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Any, Protocol

from scheduler.models.sites import ROBOT_KINDS as SITE_ROBOT_KINDS

__all__ = [
    "ALIYUN_RETRY_CODES",
    "ROBOT_KINDS",
    "AliyunSmsSender",
    "LogSender",
    "Message",
    "PermanentFailure",
    "RetryLater",
    "Sender",
    "SmtpSender",
    "WebhookSender",
    "aliyun_signature",
    "channel_configured",
    "post_to_robot",
    "sender_from_config",
    "sms_segments",
    "webhook_signature",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Message:
    """One text to one phone. `to` is E.164 ("+8613800138000"); `kind` names what it is
    ("shift_new", "reset_code", ...); `message_id` is unique per message, so a gateway can
    de-duplicate a retried send; `subject` is only used where a channel has one (e-mail)."""

    to: str
    text: str
    kind: str
    locale: str
    message_id: str
    subject: str = ""


class PermanentFailure(Exception):
    """The channel refused the message for good (e.g. an invalid number): do not retry."""


class Sender(Protocol):
    """Delivers one message or raises (PermanentFailure: never retry; anything else: retry)."""

    def send(self, message: Message) -> None: ...


class LogSender:
    """Writes each message to the application log (development: nothing to configure). As a
    warning: nobody's phone got it, and a production server prints no INFO records."""

    def send(self, message: Message) -> None:
        """Log the message."""
        log.warning(
            "message %s to %s (%s) not sent, NOTIFY_SENDER=log: %s",
            message.message_id,
            message.to,
            message.kind,
            message.text,
        )


@dataclass
class SmtpSender:
    """Sends each message by e-mail to `recipient_template` filled with the phone without "+"
    (e.g. an e-mail-to-SMS gateway: "{phone}@sms.example")."""

    host: str
    port: int = 587
    username: str | None = None
    password: str | None = None
    sender: str = "muster@localhost"
    starttls: bool = True
    timeout: float = 20.0
    recipient_template: str | None = None

    def send(self, message: Message) -> None:
        """Send one e-mail; raises when no address is configured or the server refuses."""
        if not self.recipient_template:
            raise ValueError("SMTP_RECIPIENT_TEMPLATE is not set")
        email = EmailMessage()
        email["Subject"] = message.subject or message.text[:60]
        email["From"] = self.sender
        email["To"] = self.recipient_template.format(phone=message.to.lstrip("+"))
        email["Message-ID"] = f"<{message.message_id}@muster>"
        email.set_content(message.text)
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
            if self.starttls:
                smtp.starttls()
            if self.username:
                smtp.login(self.username, self.password or "")
            smtp.send_message(email)


# HTTP channels -----------------------------------------------------------------------------

# Seconds an HTTP channel waits for an answer: a gateway that hangs costs one short wait per
# message, then the message is retried later and the batch goes on.
HTTP_TIMEOUT = 10.0
# Statuses that say "later" rather than "never": a timeout, too early, too many requests.
_RETRY_4XX = (408, 425, 429)


class RetryLater(Exception):
    """The channel failed in a way worth retrying (a 5xx, a rate limit, a timeout)."""


def _post(url: str, body: bytes, headers: Mapping[str, str], timeout: float) -> tuple[int, bytes]:
    """POST `body`; (status, answer) for any HTTP answer. A network failure or a timeout
    raises RetryLater; a URL that cannot work (not http/https) raises PermanentFailure."""
    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        raise PermanentFailure(f"not an http(s) URL: {url[:80]}")
    request = urllib.request.Request(url, data=body, headers=dict(headers), method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read(65536)
    except urllib.error.HTTPError as error:
        return error.code, error.read(65536)
    except TimeoutError as error:
        raise RetryLater(f"no answer within {timeout:g} s") from error
    except urllib.error.URLError as error:
        if isinstance(error.reason, TimeoutError):
            raise RetryLater(f"no answer within {timeout:g} s") from error
        raise RetryLater(f"cannot connect: {error.reason}") from error
    except (ConnectionError, OSError) as error:
        raise RetryLater(f"connection failed: {error}") from error


def _refuse_or_retry(status: int, answer: bytes) -> None:
    """Raise for an HTTP status that is not a success: retry on 5xx, 408, 425 and 429; never
    retry another 4xx (a bad number or a bad request stays bad) or a redirect."""
    if 200 <= status < 300:
        return
    detail = f"HTTP {status}: {answer[:200].decode('utf-8', 'replace')}"
    if status >= 500 or status in _RETRY_4XX:
        raise RetryLater(detail)
    raise PermanentFailure(detail)


def webhook_signature(secret: str, timestamp: str, body: bytes) -> str:
    """The X-Muster-Signature value: "sha256=" and the hex HMAC-SHA256, keyed with the
    shared secret, of the timestamp, a dot and the raw body (b"1765000000." + body)."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


@dataclass
class WebhookSender:
    """POSTs each message as JSON {to, text, kind, locale, message_id} to an organisation's
    own gateway (its SMS provider, a chat bot, ...), signed so the gateway can trust it.

    Headers: X-Muster-Timestamp (Unix seconds), X-Muster-Signature (`webhook_signature`:
    "sha256=" + hex HMAC-SHA256 of timestamp + "." + raw body, keyed with the shared secret)
    and X-Muster-Message-Id (the same message_id on every retry: de-duplicate on it). A
    receiver recomputes the signature over the bytes it received, compares in constant time,
    and refuses a timestamp more than a few minutes away from its clock (a replay).

    Answers: 2xx sent; 400-499 refused for good (a bad number, a bad request) except 408, 425
    and 429; 5xx, 408, 425, 429 and no answer within `timeout` are retried later."""

    url: str
    secret: str
    timeout: float = HTTP_TIMEOUT

    def send(self, message: Message) -> None:
        """POST the message; raise PermanentFailure or RetryLater as the answer says."""
        body = json.dumps(
            {
                "to": message.to,
                "text": message.text,
                "kind": message.kind,
                "locale": message.locale,
                "message_id": message.message_id,
            },
            ensure_ascii=False,
            separators=(",", ":"),
        ).encode()
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "Muster",
            "X-Muster-Timestamp": timestamp,
            "X-Muster-Signature": webhook_signature(self.secret, timestamp, body),
            "X-Muster-Message-Id": message.message_id,
        }
        _refuse_or_retry(*_post(self.url, body, headers, self.timeout))


# Aliyun SMS (阿里云短信服务) SendSms, RPC style with signature version 1.0 ---------------------

ALIYUN_ENDPOINT = "https://dysmsapi.aliyuncs.com/"
# Error codes of SendSms worth retrying later: rate limits (per number, per day, per
# account), an empty balance that will be topped up, and the provider's own faults. Every
# other code (an illegal number, a refused sign name or template, a wrong key) is permanent:
# a coordinator fixes the cause and retries from the Messages page.
ALIYUN_RETRY_CODES = frozenset(
    {
        "isv.BUSINESS_LIMIT_CONTROL",
        "isv.DAY_LIMIT_CONTROL",
        "isv.AMOUNT_NOT_ENOUGH",
        "isp.SYSTEM_ERROR",
        "isp.GATEWAY_ERROR",
        "SignatureNonceUsed",
        "Throttling",
        "Throttling.User",
        "Throttling.Api",
        "ServiceUnavailable",
        "InternalError",
    }
)


def _percent(value: str) -> str:
    """Aliyun's percentEncode: RFC 3986, UTF-8, only A-Z a-z 0-9 - _ . ~ left as they are
    (so a space is %20, "*" is %2A and "~" stays)."""
    return urllib.parse.quote(value, safe="-_.~")


def aliyun_signature(params: Mapping[str, str], secret: str, method: str = "POST") -> str:
    """The Signature parameter of an Aliyun RPC request (signature version 1.0): HMAC-SHA1,
    keyed with the AccessKey secret and "&", of method & percent("/") & percent(canonical
    query), where the canonical query is the parameters (Signature excluded) sorted by name,
    each name and value percent-encoded, joined with "=" and "&"; base64."""
    canonical = "&".join(
        f"{_percent(k)}={_percent(v)}" for k, v in sorted(params.items()) if k != "Signature"
    )
    to_sign = f"{method}&{_percent('/')}&{_percent(canonical)}"
    digest = hmac.new(f"{secret}&".encode(), to_sign.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


@dataclass
class AliyunSmsSender:
    """Sends each message with Aliyun SMS `SendSms`: the text goes into the template's one
    parameter (`template_param`, e.g. a template "${content}"); `templates` picks another
    template code per message kind. Numbers are sent without "+" (mainland ones without 86).
    Answers: Code "OK" sent; codes in ALIYUN_RETRY_CODES and 5xx or no answer retried;
    anything else (isv.MOBILE_NUMBER_ILLEGAL, a wrong key, a refused template) permanent."""

    access_key_id: str
    access_key_secret: str
    sign_name: str
    template: str
    template_param: str = "content"
    templates: dict[str, str] = field(default_factory=dict)
    endpoint: str = ALIYUN_ENDPOINT
    region: str = "cn-hangzhou"
    timeout: float = HTTP_TIMEOUT

    def params(self, message: Message) -> dict[str, str]:
        """The signed request parameters for one message."""
        phone = message.to[3:] if message.to.startswith("+86") else message.to.lstrip("+")
        params = {
            "AccessKeyId": self.access_key_id,
            "Action": "SendSms",
            "Format": "JSON",
            "OutId": message.message_id[:64],
            "PhoneNumbers": phone,
            "RegionId": self.region,
            "SignName": self.sign_name,
            "SignatureMethod": "HMAC-SHA1",
            "SignatureNonce": uuid.uuid4().hex,
            "SignatureVersion": "1.0",
            "TemplateCode": self.templates.get(message.kind, self.template),
            "TemplateParam": json.dumps(
                {self.template_param: message.text}, ensure_ascii=False, separators=(",", ":")
            ),
            "Timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "Version": "2017-05-25",
        }
        params["Signature"] = aliyun_signature(params, self.access_key_secret, "POST")
        return params

    def send(self, message: Message) -> None:
        """POST SendSms; raise PermanentFailure or RetryLater as the answer's Code says."""
        body = urllib.parse.urlencode(self.params(message), quote_via=urllib.parse.quote).encode()
        headers = {"Content-Type": "application/x-www-form-urlencoded", "User-Agent": "Muster"}
        status, answer = _post(self.endpoint, body, headers, self.timeout)
        try:
            code = str(json.loads(answer).get("Code", ""))
            detail = json.loads(answer).get("Message", "")
        except (ValueError, AttributeError):
            _refuse_or_retry(status, answer)
            raise RetryLater(f"HTTP {status}: not a SendSms answer") from None
        if code == "OK" and status == 200:
            return
        if code in ALIYUN_RETRY_CODES or (not code and status >= 500):
            raise RetryLater(f"{code or status}: {detail}")
        raise PermanentFailure(f"{code or status}: {detail}")


# Group robots (WeCom 企业微信 and DingTalk 钉钉 群机器人) ----------------------------------------

ROBOT_KINDS = SITE_ROBOT_KINDS
# The hosts their webhook URLs live on (other hosts only with ROBOT_ALLOW_ANY_URL).
ROBOT_HOSTS = {"wecom": "qyapi.weixin.qq.com", "dingtalk": "oapi.dingtalk.com"}
# Longest markdown each accepts, in UTF-8 bytes (WeCom: 4096; DingTalk's limit is larger,
# kept well under it).
ROBOT_MAX_BYTES = {"wecom": 4096, "dingtalk": 15000}
# errcodes that mean "later": WeCom -1 (busy), 45009 (over the 20 a minute); DingTalk 130101
# (sending too fast), 90030 (over the webhook's quota), -1 (busy).
_ROBOT_RETRY_CODES = {"wecom": {-1, 45009}, "dingtalk": {-1, 130101, 90030}}


def dingtalk_signed_url(url: str, secret: str, timestamp_ms: int | None = None) -> str:
    """A DingTalk webhook URL with the 加签 query: timestamp (ms) and sign = URL-encoded
    base64 of HMAC-SHA256, keyed with the secret, of the timestamp, a newline and
    the secret."""
    timestamp = str(timestamp_ms if timestamp_ms is not None else int(time.time() * 1000))
    mac = hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256)
    sign = urllib.parse.quote_plus(base64.b64encode(mac.digest()))
    joiner = "&" if urllib.parse.urlsplit(url).query else "?"
    return f"{url}{joiner}timestamp={timestamp}&sign={sign}"


def post_to_robot(
    kind: str,
    url: str,
    title: str,
    markdown: str,
    secret: str | None = None,
    timeout: float = HTTP_TIMEOUT,
) -> None:
    """Post a markdown message to a WeCom or DingTalk group robot in their documented format
    (WeCom {"msgtype":"markdown","markdown":{"content":...}}; DingTalk
    {"msgtype":"markdown","markdown":{"title":...,"text":...}}, signed when a secret is set).
    Both answer {"errcode":0} on success; raises PermanentFailure or RetryLater otherwise."""
    if kind == "wecom":
        payload: dict[str, Any] = {"msgtype": "markdown", "markdown": {"content": markdown}}
    elif kind == "dingtalk":
        payload = {"msgtype": "markdown", "markdown": {"title": title, "text": markdown}}
        if secret:
            url = dingtalk_signed_url(url, secret)
    else:
        raise PermanentFailure(f"unknown robot kind {kind!r}")
    body = json.dumps(payload, ensure_ascii=False).encode()
    headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": "Muster"}
    status, answer = _post(url, body, headers, timeout)
    _refuse_or_retry(status, answer)
    try:
        reply = json.loads(answer)
        errcode = int(reply.get("errcode", 0))
    except (ValueError, AttributeError, TypeError):
        raise RetryLater(f"HTTP {status}: not a robot answer") from None
    if errcode == 0:
        return
    detail = f"errcode {errcode}: {reply.get('errmsg', '')}"
    if errcode in _ROBOT_RETRY_CODES[kind]:
        raise RetryLater(detail)
    raise PermanentFailure(detail)


def _kind_templates(spec: str | None) -> dict[str, str]:
    """ "reset_code=SMS_1,shift_new=SMS_2" -> {"reset_code": "SMS_1", "shift_new": "SMS_2"}."""
    pairs = (item.split("=", 1) for item in (spec or "").split(",") if "=" in item)
    return {kind.strip(): code.strip() for kind, code in pairs if kind.strip() and code.strip()}


def sender_from_config(config: Mapping[str, Any]) -> Sender:
    """The sender the configuration asks for (NOTIFY_SENDER): each channel only when its
    settings are there too, else the development log."""
    choice = config.get("NOTIFY_SENDER")
    timeout = float(config.get("NOTIFY_HTTP_TIMEOUT") or HTTP_TIMEOUT)
    if choice == "webhook" and config.get("NOTIFY_WEBHOOK_URL"):
        if not config.get("NOTIFY_WEBHOOK_SECRET"):
            # An unsigned gateway would accept anyone's messages: refuse to start unsigned.
            raise ValueError("NOTIFY_SENDER=webhook needs NOTIFY_WEBHOOK_SECRET")
        return WebhookSender(
            url=config["NOTIFY_WEBHOOK_URL"],
            secret=config["NOTIFY_WEBHOOK_SECRET"],
            timeout=timeout,
        )
    if choice == "aliyun" and config.get("ALIYUN_SMS_ACCESS_KEY_ID"):
        return AliyunSmsSender(
            access_key_id=config["ALIYUN_SMS_ACCESS_KEY_ID"],
            access_key_secret=config.get("ALIYUN_SMS_ACCESS_KEY_SECRET") or "",
            sign_name=config.get("ALIYUN_SMS_SIGN_NAME") or "",
            template=config.get("ALIYUN_SMS_TEMPLATE") or "",
            template_param=config.get("ALIYUN_SMS_TEMPLATE_PARAM") or "content",
            templates=_kind_templates(config.get("ALIYUN_SMS_TEMPLATES")),
            endpoint=config.get("ALIYUN_SMS_ENDPOINT") or ALIYUN_ENDPOINT,
            region=config.get("ALIYUN_SMS_REGION") or "cn-hangzhou",
            timeout=timeout,
        )
    if choice == "smtp" and config.get("SMTP_HOST"):
        return SmtpSender(
            host=config["SMTP_HOST"],
            port=int(config.get("SMTP_PORT") or 587),
            username=config.get("SMTP_USERNAME"),
            password=config.get("SMTP_PASSWORD"),
            sender=config.get("SMTP_FROM") or "muster@localhost",
            starttls=bool(config.get("SMTP_STARTTLS", True)),
            recipient_template=config.get("SMTP_RECIPIENT_TEMPLATE"),
        )
    return LogSender()


def require_channel(config: Mapping[str, Any]) -> None:
    """Refuse to run (production) where messages would reach nobody without anyone choosing
    it: NOTIFY_SENDER unset, or a channel whose settings are missing, which falls back to the
    log while every message is marked sent. `log` chosen explicitly is allowed."""
    choice = config.get("NOTIFY_SENDER")
    if choice == "log":
        return
    try:
        sender = sender_from_config(config)
    except ValueError as error:
        raise RuntimeError(str(error)) from None
    if isinstance(sender, LogSender):
        raise RuntimeError(
            f"NOTIFY_SENDER must name a channel and its settings in production (it is "
            f"{choice or 'unset'}{', without its settings' if choice else ''}): otherwise every "
            "message (new shifts, reminders, password-reset codes) is marked sent and reaches "
            "nobody. See 'Sending messages' in the README; NOTIFY_SENDER=log runs without "
            "sending, writing each message to the server log."
        )


def channel_configured(config: Mapping[str, Any]) -> bool:
    """Whether messages actually reach people's phones (anything but the development log):
    pages that would promise "we sent you a code" ask this first. A channel chosen but set up
    wrongly (webhook without its secret) counts as none."""
    try:
        return not isinstance(sender_from_config(config), LogSender)
    except ValueError:
        return False


# The GSM 03.38 default alphabet; the extension table's characters take two septets.
GSM7 = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENDED = set("^{}\\[~]|€\f")


def sms_segments(text: str) -> int:
    """How many SMS one person receives for `text`: GSM-7 fits 160 characters in one, 153 per
    part when concatenated; anything else (Chinese) is UCS-2, 70 in one and 67 per part
    (counted in UTF-16 units: an emoji takes two)."""
    if not text:
        return 0
    if all(ch in GSM7 or ch in GSM7_EXTENDED for ch in text):
        units, single, part = sum(2 if ch in GSM7_EXTENDED else 1 for ch in text), 160, 153
    else:
        units, single, part = len(text.encode("utf-16-le")) // 2, 70, 67
    return 1 if units <= single else math.ceil(units / part)
