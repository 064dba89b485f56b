"""The register page tells a volunteer whose union put them on its list what really happens:
their number is refused here (services.registration), so they claim the account with the
code on their slip, through the link the sentence carries (walkthrough, h12fix item 3)."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient

OLD = "Register here with that mobile number"


@pytest.mark.parametrize(
    ("accept", "words"),
    [
        ("zh-CN", ["请勿重复注册", "认领码", "认领账号"]),
        ("en", ["Do not register again", "Claim your account"]),
    ],
)
def test_register_page_sends_listed_volunteers_to_the_claim_page(
    client: FlaskClient, accept: str, words: list[str]
) -> None:
    html = client.get("/register", headers={"Accept-Language": accept}).get_data(as_text=True)
    hint = re.search(r'<p class="muted" id="claim-hint">(.*?)</p>', html, re.S)
    assert hint is not None, "the register page has no claim hint"
    for word in words:
        assert word in hint.group(1)
    assert 'href="/claim"' in hint.group(1)
    assert OLD not in html
    assert "请在此用名单上的手机号注册" not in html
    # Nor does the work unit's hint promise that an empty unit keeps the listed one.
    assert "leave this empty" not in html
    assert "可留空此项" not in html
