"""Senders: how one text reaches one phone. The outbox (services.delivery), one-time codes and
call-ups all hand a `Message` to the sender the configuration names (NOTIFY_SENDER), so a
channel is written once and every feature can use it.

A sender raises `PermanentFailure` when retrying cannot help (an invalid number, a refused
template) and any other exception for a failure worth retrying (a timeout, a 500, a rate limit).
"""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any, Protocol

__all__ = [
    "LogSender",
    "Message",
    "PermanentFailure",
    "Sender",
    "SmtpSender",
    "channel_configured",
    "sender_from_config",
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
    """Writes each message to the application log (development: nothing to configure)."""

    def send(self, message: Message) -> None:
        """Log the message."""
        log.info(
            "message %s to %s (%s): %s", message.message_id, message.to, message.kind, message.text
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


def sender_from_config(config: Mapping[str, Any]) -> Sender:
    """The sender the configuration asks for: SMTP only when chosen and configured."""
    if config.get("NOTIFY_SENDER") == "smtp" and config.get("SMTP_HOST"):
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


def channel_configured(config: Mapping[str, Any]) -> bool:
    """Whether messages actually reach people's phones (anything but the development log):
    pages that would promise "we sent you a code" ask this first."""
    return not isinstance(sender_from_config(config), LogSender)
