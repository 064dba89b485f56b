"""normalize_mobile remembers its answers: a registration parses its number once, whether
the later checks see it as typed or in E.164; invalid numbers are refused every time."""

from __future__ import annotations

import phonenumbers
import pytest

from scheduler.services import phones
from scheduler.services.phones import InvalidPhone, normalize_mobile


def test_the_typed_and_the_e164_spelling_parse_once(monkeypatch: pytest.MonkeyPatch) -> None:
    parsed: list[str] = []
    real = phonenumbers.parse

    def counting(text: str, region: str) -> phonenumbers.PhoneNumber:
        parsed.append(text)
        return real(text, region)

    monkeypatch.setattr(phones.phonenumbers, "parse", counting)
    monkeypatch.setattr(phones, "_KNOWN", {})
    assert normalize_mobile("139 0013 9777") == "+8613900139777"
    assert normalize_mobile("+8613900139777") == "+8613900139777"
    assert normalize_mobile("139 0013 9777") == "+8613900139777"
    assert parsed == ["139 0013 9777"]


@pytest.mark.parametrize(
    "raw", ["13800138000", "+86 138 0013 8000", "8613800138000", "１３８００１３８０００"]
)
def test_same_answer_as_parsing(raw: str) -> None:
    assert normalize_mobile(raw) == phones._normalize(raw) == "+8613800138000"


@pytest.mark.parametrize("raw", ["", "12345", "+12025550123", "010 1234 5678", "²"])
def test_invalid_numbers_are_refused_every_time(raw: str) -> None:
    for _ in range(2):
        with pytest.raises(InvalidPhone):
            normalize_mobile(raw)
    assert raw not in phones._KNOWN


def test_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(phones, "_KNOWN", {})
    monkeypatch.setattr(phones, "_KNOWN_MAX", 4)
    for n in range(10):
        normalize_mobile(f"1390013{n:04d}")
        assert len(phones._KNOWN) <= 4
