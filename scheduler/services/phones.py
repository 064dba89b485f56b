"""Chinese mobile numbers: validated with `phonenumbers`, stored in E.164, shown masked."""

from __future__ import annotations

from typing import Any

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberType


class InvalidPhone(ValueError):
    """The text is not a Chinese mobile number."""


def normalize_mobile(raw: str) -> str:
    """'138 0013 8000', '+86 13800138000' or '8613800138000' -> '+8613800138000'."""
    text = (raw or "").strip()
    if not text or len(text) > 32:
        raise InvalidPhone(raw)
    digits = "".join(ch for ch in text if ch.isdigit())
    if not text.startswith("+") and digits.startswith("86") and len(digits) == 13:
        text = "+" + digits  # 86 written without the plus
    try:
        number = phonenumbers.parse(text, "CN")
    except NumberParseException as error:
        raise InvalidPhone(raw) from error
    if (
        number.country_code != 86
        or not phonenumbers.is_valid_number(number)
        or phonenumbers.number_type(number) != PhoneNumberType.MOBILE
    ):
        raise InvalidPhone(raw)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def national(e164: str) -> str:
    """'+8613800138000' -> '13800138000' (how people write and dial it in China)."""
    return e164[3:] if e164.startswith("+86") else e164


def mask(e164: str) -> str:
    """'+8613812345678' -> '138****5678', the form printed sheets and other volunteers see."""
    digits = national(e164)
    if len(digits) < 8:
        return "****"
    return f"{digits[:3]}****{digits[-4:]}"


def as_seen_by(viewer: Any, e164: str) -> str:
    """A number in a list already limited to `viewer`'s scope (a message's or a call-up's
    recipients), as the privacy rule lets them see it: in full for staff (coordinators and
    admins), masked for anyone else or no one (138****5678)."""
    return national(e164) if viewer is not None and viewer.is_staff else mask(e164)
