"""Chinese mobile numbers: validated with `phonenumbers`, stored in E.164, shown masked."""

from __future__ import annotations

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberType


class InvalidPhone(ValueError):
    """The text is not a Chinese mobile number."""


# A registration checks its number twice (the profile as typed, then the account in E.164), a
# login once: parsing with phonenumbers is the costly part, and its answer never changes. Both
# spellings are remembered (a few thousand at most, then forgotten at once).
_KNOWN: dict[str, str] = {}
_KNOWN_MAX = 4096


def normalize_mobile(raw: str) -> str:
    """'138 0013 8000', '+86 13800138000' or '8613800138000' -> '+8613800138000'."""
    known = _KNOWN.get(raw)
    if known is not None:
        return known
    e164 = _normalize(raw)
    if len(_KNOWN) >= _KNOWN_MAX:
        _KNOWN.clear()
    _KNOWN[raw] = _KNOWN[e164] = e164
    return e164


def _normalize(raw: str) -> str:
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
