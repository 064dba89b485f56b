"""Forgot password (issue 12, "back into the account"): a 6-digit code texted through the
configured channel — here the existing SmtpSender talking to a real SMTP server on 127.0.0.1
that plays the gateway — then a new password that ends every other session. Codes expire in
10 minutes (the test clock moves), are stored only as a keyed digest, burn after 5 wrong
tries, work once; asking is rate limited per phone and per address; the page answers the same
whether or not the number has an account. Where no channel is configured the page says to
ask a coordinator, whose reset code on a slip works on the same reset page."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm.attributes import set_committed_value
from werkzeug.test import TestResponse

from scheduler.extensions import db
from scheduler.models import User
from scheduler.models.base import set_clock
from scheduler.models.codes import RESET, OneTimeCode
from scheduler.services import codes
from tests.fixtures.app import TEST_CLOCK_START
from tests.fixtures.auth import PASSWORD, login, signed_in
from tests.fixtures.smtp import SmtpReceiver, smtp_receiver

PHONE = "13912340001"
E164 = "+8613912340001"
NEW_PASSWORD = "a-brand-new-pass-5"
SLIP_CODE = re.compile(r"\b([2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4})\b")


@pytest.fixture
def gateway(app: Flask) -> Iterator[SmtpReceiver]:
    """The app sends through SMTP to a real server on 127.0.0.1."""
    with smtp_receiver() as receiver:
        app.config.update(receiver.config())
        yield receiver


@pytest.fixture
def any_gateway(any_db_app: Flask) -> Iterator[SmtpReceiver]:
    with smtp_receiver() as receiver:
        any_db_app.config.update(receiver.config())
        yield receiver


def reset_form(code: str, password: str = NEW_PASSWORD, **overrides: str) -> dict[str, str]:
    return {"phone": PHONE, "code": code, "password": password, "confirm": password, **overrides}


def text(response: TestResponse) -> str:
    return response.get_data(as_text=True)


def password_works(app: Flask, phone: str, password: str) -> bool:
    response = app.test_client().post("/login", data={"phone": phone, "password": password})
    return response.status_code == 302


def test_forgot_password_end_to_end(
    any_db_app: Flask, any_gateway: SmtpReceiver, make_volunteer: Callable[..., User]
) -> None:
    """Log-in page -> forgot -> a code arrives at the gateway -> a new password; the other
    session that was open ends, the old password stops working, the code works once."""
    app, gateway = any_db_app, any_gateway
    user = make_volunteer(phone=PHONE)
    elsewhere = signed_in(app, user)  # e.g. a phone that was lost
    assert elsewhere.get("/me").status_code == 200
    client = app.test_client()
    assert "/password/forgot" in text(client.get("/login"))

    asked = client.post("/password/forgot", data={"phone": "139 1234 0001"})
    assert asked.status_code == 302
    assert asked.headers["Location"].endswith("/password/reset")
    assert len(gateway.messages) == 1
    (received,) = gateway.messages
    assert received.recipients == ["8613912340001@sms.test"]
    code = gateway.code()
    assert "10" in received.text  # how long it works
    page = text(client.get("/password/reset"))
    assert "139****0001" in page  # the flash, masked
    assert f'value="{PHONE}"' in page  # the number is filled in

    # Only a keyed digest is stored, never the code.
    row = db.session.scalars(select(OneTimeCode)).one()
    assert row.purpose == RESET
    assert row.phone == E164
    assert row.used_at is None
    assert code not in row.code_hash
    assert len(row.code_hash) == 64

    done = client.post("/password/reset", data=reset_form(code))
    assert done.status_code == 302, text(done)
    assert client.get("/me").status_code == 200  # logged in here
    assert elsewhere.get("/me").status_code == 302  # ...and logged out there
    assert password_works(app, PHONE, NEW_PASSWORD)
    assert not password_works(app, PHONE, PASSWORD)

    again = app.test_client().post("/password/reset", data=reset_form(code, "yet-another-pass-6"))
    assert again.status_code == 422
    assert "no longer works" in text(again)
    assert password_works(app, PHONE, NEW_PASSWORD)


@pytest.mark.parametrize(
    ("language", "page_words", "message_words"),
    [
        ("zh-CN", "忘记密码", "验证码"),
        ("en", "Forgot your password?", "your code to set a new password"),
    ],
)
def test_pages_and_the_text_message_speak_the_language_of_the_asker(
    app: Flask,
    gateway: SmtpReceiver,
    make_volunteer: Callable[..., User],
    language: str,
    page_words: str,
    message_words: str,
) -> None:
    make_volunteer(phone=PHONE)
    client = app.test_client()
    headers = {"Accept-Language": language}
    assert page_words in text(client.get("/password/forgot", headers=headers))
    assert (
        client.post("/password/forgot", data={"phone": PHONE}, headers=headers).status_code == 302
    )
    assert message_words in gateway.messages[-1].text
    reset_page = text(client.get("/password/reset", headers=headers))
    assert ("设置新密码" if language == "zh-CN" else "Set a new password") in reset_page
    wrong = client.post("/password/reset", data=reset_form("000000"), headers=headers)
    assert ("验证码不正确" if language == "zh-CN" else "The code is not correct") in text(wrong)


def test_the_answer_is_the_same_for_a_number_without_an_account(
    app: Flask, gateway: SmtpReceiver, make_volunteer: Callable[..., User]
) -> None:
    """Same redirect, same words on the page; but a number without an account is sent
    nothing (a text costs money and would let anyone message strangers through Muster)."""
    make_volunteer(phone=PHONE)
    known, unknown = app.test_client(), app.test_client()
    a = known.post("/password/forgot", data={"phone": PHONE})
    b = unknown.post("/password/forgot", data={"phone": "13900000009"})
    assert (a.status_code, a.headers["Location"]) == (b.status_code, b.headers["Location"])
    page_a = text(known.get("/password/reset")).replace(PHONE, "N").replace("139****0001", "M")
    page_b = text(unknown.get("/password/reset")).replace("13900000009", "N")
    page_b = page_b.replace("139****0009", "M")
    strip = re.compile(r'(name="csrf_token"[^>]*>|"X-CSRFToken": "[^"]*")')
    assert strip.sub("", page_a) == strip.sub("", page_b)
    assert db.session.scalar(select(func.count(OneTimeCode.id))) == 1
    assert len(gateway.messages) == 1
    assert re.search(r"\b\d{6}\b", gateway.messages[0].text)
    assert not any("13900000009" in r for r in gateway.messages[0].recipients)
    # No code reached the unknown number, so nothing there can be reset or created.
    refused = unknown.post("/password/reset", data=reset_form("123456", phone="13900000009"))
    assert refused.status_code == 422
    assert db.session.scalar(select(func.count(User.id))) == 1


def test_an_imported_volunteer_is_pointed_to_the_claim_code(
    app: Flask, gateway: SmtpReceiver, make_volunteer: Callable[..., User]
) -> None:
    user = make_volunteer(phone=PHONE)
    user.password_hash = "!imported"
    db.session.commit()
    assert app.test_client().post("/password/forgot", data={"phone": PHONE}).status_code == 302
    assert "claim your account" in gateway.messages[-1].text
    assert not re.search(r"\b\d{6}\b", gateway.messages[-1].text)


def test_without_a_channel_the_page_says_ask_a_coordinator(
    app: Flask, make_volunteer: Callable[..., User]
) -> None:
    """The development log sender reaches nobody: no pretending to send."""
    make_volunteer(phone=PHONE)
    client = app.test_client()
    for language, words in (("en", "Ask your coordinator"), ("zh-CN", "请联系协调员")):
        page = text(client.get("/password/forgot", headers={"Accept-Language": language}))
        assert words in page
        assert 'name="phone"' not in page
    posted = client.post("/password/forgot", data={"phone": PHONE})
    assert posted.status_code == 200
    assert db.session.scalar(select(func.count(OneTimeCode.id))) == 0


def test_a_channel_that_fails_says_so_and_leaves_no_usable_code(
    app: Flask, gateway: SmtpReceiver, make_volunteer: Callable[..., User]
) -> None:
    make_volunteer(phone=PHONE)
    gateway.refuse = True
    client = app.test_client()
    for language, words in (("en", "could not be sent"), ("zh-CN", "未能发送")):
        failed = client.post(
            "/password/forgot", data={"phone": PHONE}, headers={"Accept-Language": language}
        )
        assert failed.status_code == 422
        assert words in text(failed)
    rows = list(db.session.scalars(select(OneTimeCode)))
    assert len(rows) == 2
    assert all(row.used_at is not None for row in rows)
    # The gateway is back: the next ask works.
    gateway.refuse = False
    assert client.post("/password/forgot", data={"phone": PHONE}).status_code == 302
    assert client.post("/password/reset", data=reset_form(gateway.code())).status_code == 302


def test_a_code_expires_after_10_minutes(
    any_db_app: Flask, any_gateway: SmtpReceiver, make_volunteer: Callable[..., User]
) -> None:
    make_volunteer(phone=PHONE)
    client = any_db_app.test_client()
    set_clock(TEST_CLOCK_START)  # building the app (a PostgreSQL schema) takes a while
    client.post("/password/forgot", data={"phone": PHONE})
    code = any_gateway.code()
    set_clock(TEST_CLOCK_START + timedelta(minutes=10, seconds=2))
    late = client.post("/password/reset", data=reset_form(code))
    assert late.status_code == 422
    assert "expired" in text(late)
    assert password_works(any_db_app, PHONE, PASSWORD)
    # Within the 10 minutes it works.
    set_clock(TEST_CLOCK_START)
    client.post("/password/forgot", data={"phone": PHONE})
    set_clock(TEST_CLOCK_START + timedelta(minutes=9, seconds=50))
    assert client.post("/password/reset", data=reset_form(any_gateway.code())).status_code == 302


def test_five_wrong_codes_burn_it(
    any_db_app: Flask, any_gateway: SmtpReceiver, make_volunteer: Callable[..., User]
) -> None:
    make_volunteer(phone=PHONE)
    client = any_db_app.test_client()
    client.post("/password/forgot", data={"phone": PHONE})
    code = any_gateway.code()
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for left in (4, 3, 2):
        response = client.post("/password/reset", data=reset_form(wrong))
        assert response.status_code == 422
        assert f"{left} tries left" in text(response)
    assert "One try left" in text(client.post("/password/reset", data=reset_form(wrong)))
    burnt = client.post("/password/reset", data=reset_form(wrong))
    assert "wrongly 5 times" in text(burnt)
    # The right code no longer helps.
    too_late = client.post("/password/reset", data=reset_form(code))
    assert too_late.status_code == 422
    assert "wrongly 5 times" in text(too_late)
    db.session.rollback()
    assert db.session.scalars(select(OneTimeCode)).one().attempts == codes.MAX_ATTEMPTS
    assert password_works(any_db_app, PHONE, PASSWORD)
    # A new code works again (and the old one does not).
    client.post("/password/forgot", data={"phone": PHONE})
    assert client.post("/password/reset", data=reset_form(any_gateway.code())).status_code == 302


def test_bad_input_changes_nothing_and_says_what_is_wrong(
    app: Flask, gateway: SmtpReceiver, make_volunteer: Callable[..., User]
) -> None:
    make_volunteer(phone=PHONE)
    client = app.test_client()
    not_mobile = client.post("/password/forgot", data={"phone": "12345"})
    assert not_mobile.status_code == 422
    assert "Not a valid Chinese mobile number" in text(not_mobile)
    empty = client.post("/password/forgot", data={})
    assert empty.status_code == 422
    assert "This field is required" in text(empty)
    assert gateway.messages == []
    nothing_asked = client.post("/password/reset", data=reset_form("123456"))
    assert nothing_asked.status_code == 422
    assert "no code waiting" in text(nothing_asked)

    client.post("/password/forgot", data={"phone": PHONE})
    code = gateway.code()
    cases = [
        (reset_form(code, "short"), "at least 8 characters"),
        (reset_form(code, confirm="something-else-1"), "do not match"),
        (reset_form("not a code!"), "not correct"),
        (reset_form(code, phone="13912340002"), "no code waiting"),
        (reset_form(code, phone="abc"), "no code waiting"),
    ]
    for form, words in cases:
        response = client.post("/password/reset", data=form)
        assert response.status_code == 422, form
        assert words in text(response), (form, text(response)[:2000])
    db.session.rollback()
    # The weak password and the mismatch never reached the code: one wrong try counted.
    assert db.session.scalars(select(OneTimeCode)).one().attempts == 1
    assert password_works(app, PHONE, PASSWORD)
    assert client.post("/password/reset", data=reset_form(code)).status_code == 302


def test_a_reset_post_without_csrf_token_is_refused(
    app_factory: Callable[..., Flask], make_volunteer: Callable[..., User]
) -> None:
    app = app_factory(WTF_CSRF_ENABLED=True)
    with app.app_context(), smtp_receiver() as gateway:
        app.config.update(gateway.config())
        make_volunteer(phone=PHONE)
        client = app.test_client()
        for url, data in (("/password/forgot", {"phone": PHONE}), ("/password/reset", {})):
            response = client.post(url, data=data or reset_form("123456"))
            assert response.status_code == 400
        assert gateway.messages == []
        assert db.session.scalar(select(func.count(OneTimeCode.id))) == 0
        # With the page's token it works.
        page = text(client.get("/password/forgot"))
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
        assert token
        sent = client.post("/password/forgot", data={"phone": PHONE, "csrf_token": token.group(1)})
        assert sent.status_code == 302


def test_a_phone_that_asked_5_times_in_an_hour_is_told_to_wait(
    app_factory: Callable[..., Flask], make_volunteer: Callable[..., User]
) -> None:
    app = app_factory(RATELIMIT_ENABLED=True)
    with app.app_context(), smtp_receiver() as gateway:
        app.config.update(gateway.config())
        make_volunteer(phone=PHONE)
        office = {"REMOTE_ADDR": "203.0.113.7"}
        for n in range(5):
            spelled = PHONE if n % 2 else "+86 139 1234 0001"
            asked = app.test_client().post(
                "/password/forgot", data={"phone": spelled}, environ_base=office
            )
            assert asked.status_code == 302, n
        sixth = app.test_client().post(
            "/password/forgot", data={"phone": PHONE}, environ_base={"REMOTE_ADDR": "198.51.100.9"}
        )
        assert sixth.status_code == 429
        assert "asked for codes too often" in text(sixth)
        assert len(gateway.messages) == 5
        # The newest code still works, and a colleague in the same office can still ask.
        reset = app.test_client().post("/password/reset", data=reset_form(gateway.code()))
        assert reset.status_code == 302
        colleague = app.test_client().post(
            "/password/forgot", data={"phone": "13912340002"}, environ_base=office
        )
        assert colleague.status_code == 302


def test_the_per_address_ceiling(
    app_factory: Callable[..., Flask], make_volunteer: Callable[..., User]
) -> None:
    app = app_factory(RATELIMIT_ENABLED=True, CODE_RATE_LIMIT_PER_IP="3 per hour")
    with app.app_context(), smtp_receiver() as gateway:
        app.config.update(gateway.config())
        here = {"REMOTE_ADDR": "203.0.113.8"}
        for n in range(3):
            phone = f"1380000010{n}"
            response = app.test_client().post(
                "/password/forgot", data={"phone": phone}, environ_base=here
            )
            assert response.status_code == 302
        fourth = app.test_client().post(
            "/password/forgot", data={"phone": "13800000109"}, environ_base=here
        )
        assert fourth.status_code == 429
        # Numbers without an account are texted nothing, yet every ask counted.
        assert len(gateway.messages) == 0


# --- a coordinator's reset code on a slip --------------------------------------------------


def issue_slip(client: FlaskClient, volunteer_id: int) -> str:
    response = client.post(f"/coordinator/volunteers/{volunteer_id}/reset-code")
    assert response.status_code == 200, text(response)[:500]
    assert response.headers["Cache-Control"] == "private, no-store"
    match = SLIP_CODE.search(text(response))
    assert match, text(response)
    return match.group(1)


def test_a_coordinator_prints_a_reset_code_that_works_once(
    any_db_app: Flask, make_volunteer: Callable[..., User], coordinator: User
) -> None:
    """No channel configured: the coordinator issues a code from the volunteer's page; it is
    printed on the claim codes' slip; a newer one voids it; it works once, for 24 hours."""
    app = any_db_app
    set_clock(TEST_CLOCK_START)  # building the app (a PostgreSQL schema) takes a while
    user = make_volunteer(phone=PHONE, name="李四")
    assert user.volunteer is not None
    staff = signed_in(app, coordinator)
    detail = text(staff.get(f"/coordinator/volunteers/{user.volunteer.id}"))
    assert f"/coordinator/volunteers/{user.volunteer.id}/reset-code" in detail

    first = issue_slip(staff, user.volunteer.id)
    page = text(staff.post(f"/coordinator/volunteers/{user.volunteer.id}/reset-code"))
    second = SLIP_CODE.search(page)
    assert second
    assert second.group(1) != first
    assert "139****0001" in page
    assert "/password/reset" in page
    assert "<svg" in page
    assert "2026-11-23 20:00" in page  # 24 h from 20:00 local on 11-22

    client = app.test_client()
    old = client.post("/password/reset", data=reset_form(first.lower()))
    assert old.status_code == 422
    done = client.post("/password/reset", data=reset_form(second.group(1).replace("-", " ")))
    assert done.status_code == 302, text(done)
    assert password_works(app, PHONE, NEW_PASSWORD)
    reused = app.test_client().post("/password/reset", data=reset_form(second.group(1)))
    assert "no longer works" in text(reused)


def test_a_slip_expires_after_24_hours(
    app: Flask, make_volunteer: Callable[..., User], coordinator: User
) -> None:
    user = make_volunteer(phone=PHONE)
    assert user.volunteer is not None
    code = issue_slip(signed_in(app, coordinator), user.volunteer.id)
    set_clock(TEST_CLOCK_START + timedelta(hours=24, minutes=1))
    late = app.test_client().post("/password/reset", data=reset_form(code))
    assert late.status_code == 422
    assert "expired" in text(late)


@pytest.mark.parametrize("language", ["en", "zh-CN"])
def test_the_coordinator_page_and_slip_in_both_languages(
    app: Flask, make_volunteer: Callable[..., User], coordinator: User, language: str
) -> None:
    user = make_volunteer(phone=PHONE)
    assert user.volunteer is not None
    staff = signed_in(app, coordinator)
    headers = {"Accept-Language": language}
    detail = text(staff.get(f"/coordinator/volunteers/{user.volunteer.id}", headers=headers))
    slip = text(
        staff.post(f"/coordinator/volunteers/{user.volunteer.id}/reset-code", headers=headers)
    )
    if language == "en":
        assert "Issue a password reset code" in detail
        assert "Password reset code" in slip
        assert "choose a new password" in slip
    else:
        assert "发放密码重置码" in detail
        assert "密码重置码" in slip
        assert "设置新密码" in slip


def test_no_reset_code_for_an_imported_or_deactivated_account(
    app: Flask, make_volunteer: Callable[..., User], coordinator: User
) -> None:
    imported = make_volunteer(phone=PHONE)
    imported.password_hash = "!imported"
    gone = make_volunteer(phone="13912340002")
    gone.active = False
    db.session.commit()
    staff = signed_in(app, coordinator)
    for user in (imported, gone):
        assert user.volunteer is not None
        detail = text(staff.get(f"/coordinator/volunteers/{user.volunteer.id}"))
        assert "reset-code" not in detail
        refused = staff.post(f"/coordinator/volunteers/{user.volunteer.id}/reset-code")
        assert refused.status_code == 302
        assert "gets a claim code instead" in text(staff.get(refused.headers["Location"]))
    assert db.session.scalar(select(func.count(OneTimeCode.id))) == 0


def test_only_staff_issue_reset_codes(app: Flask, make_volunteer: Callable[..., User]) -> None:
    user = make_volunteer(phone=PHONE)
    other = make_volunteer(phone="13912340002")
    assert user.volunteer is not None
    client = app.test_client()
    login(client, other)
    assert client.post(f"/coordinator/volunteers/{user.volunteer.id}/reset-code").status_code == 403
    assert db.session.scalar(select(func.count(OneTimeCode.id))) == 0


# --- races ----------------------------------------------------------------------------------


def test_two_resets_with_the_code_at_once_exactly_one_wins(
    any_db_app: Flask, any_gateway: SmtpReceiver, make_volunteer: Callable[..., User]
) -> None:
    make_volunteer(phone=PHONE)
    any_db_app.test_client().post("/password/forgot", data={"phone": PHONE})
    code = any_gateway.code()
    passwords = ["password-of-a-1", "password-of-b-2"]
    barrier = threading.Barrier(2)
    results = [0, 0]

    def worker(i: int) -> None:
        client = any_db_app.test_client()
        client.get("/password/reset")
        barrier.wait(timeout=10)
        results[i] = client.post("/password/reset", data=reset_form(code, passwords[i])).status_code

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(results) == [302, 422]
    winner = results.index(302)
    assert password_works(any_db_app, PHONE, passwords[winner])
    assert not password_works(any_db_app, PHONE, passwords[1 - winner])


def test_a_reset_that_read_the_code_before_it_was_used_is_refused(
    any_db_app: Flask,
    any_gateway: SmtpReceiver,
    make_volunteer: Callable[..., User],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The race made deterministic: the second reset read the code row as unused, so only the
    conditional UPDATE stands between it and a second password."""
    make_volunteer(phone=PHONE)
    any_db_app.test_client().post("/password/forgot", data={"phone": PHONE})
    code = any_gateway.code()
    assert (
        any_db_app.test_client().post("/password/reset", data=reset_form(code)).status_code == 302
    )

    real_scalar = db.session.scalar

    def stale_scalar(statement: Any, *args: Any, **kwargs: Any) -> Any:
        found = real_scalar(statement, *args, **kwargs)
        if isinstance(found, OneTimeCode):
            set_committed_value(found, "used_at", None)
        return found

    monkeypatch.setattr(db.session, "scalar", stale_scalar)
    second = any_db_app.test_client().post(
        "/password/reset", data=reset_form(code, "another-pass-77")
    )
    monkeypatch.undo()
    assert second.status_code == 422
    assert "no longer works" in text(second)
    assert password_works(any_db_app, PHONE, NEW_PASSWORD)
    assert not password_works(any_db_app, PHONE, "another-pass-77")
