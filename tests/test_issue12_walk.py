"""What walking issue 12 as a new user found (the demo: ten sites, a call-up for samplers,
the delivery page after a publish, a lead's message for tonight): the poster stays one A4
page however many sites the period has; a call-up for a role names the sites that need that
role; the delivery page names every kind of message in words and links each person to their
page (where the number to correct is shown in full); a message's preview counts the SMS parts
of what is sent (signed with the sender's name); an ad-hoc message goes out at once, not at
the next delivery pass; the lead's message page names the day like every other page."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import subprocess
import threading
from collections.abc import Callable, Iterator
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from scheduler.extensions import db
from scheduler.models import PlanningPeriod, Role, Site, User
from scheduler.models.notifications import FAILED, Notification
from scheduler.services import callups
from scheduler.services.callups import Audience
from scheduler.services.messages import MESSAGE
from scheduler.services.notifications import notify
from scheduler.services.reminders import REMINDER
from tests.fixtures.auth import signed_in
from tests.fixtures.rosters import make_roster

THU = date(2026, 12, 10)
SECRET = "walk-secret"
ZH = {"Accept-Language": "zh-CN"}


def _text(response: Any) -> str:
    return str(response.get_data(as_text=True))


# The poster --------------------------------------------------------------------------------


def test_the_poster_of_a_period_with_many_sites_is_one_a4_page(
    app: Flask,
    tmp_path: Path,
    make_site: Callable[..., Site],
    make_period: Callable[..., PlanningPeriod],
    make_volunteer: Callable[..., User],
    coordinator: User,
) -> None:
    sites = []
    for n in range(12):
        site = make_site(name=f"{'ABCDEFGHIJKL'[n]}社区核酸检测点", kind="testing")
        site.address = f"某某街道第{n + 1}社区居委会门前停车场东侧"
        sites.append(site)
    db.session.commit()
    period = make_period(sites=sites)
    make_volunteer(name="王三")
    token = callups.new_token()
    callup = callups.send(
        period, Audience(), f"请报名 /c/{token}", locale="zh_Hans", token=token, by=coordinator
    )
    response = signed_in(app, coordinator).get(
        f"/coordinator/callups/{callup.id}/poster.pdf", headers={"Accept-Language": "zh-CN"}
    )
    assert response.status_code == 200
    pdf = tmp_path / "poster.pdf"
    pdf.write_bytes(response.data)
    info = subprocess.run(["pdfinfo", str(pdf)], check=True, capture_output=True, text=True)
    assert re.search(r"^Pages:\s+1$", info.stdout, re.M), info.stdout
    text = subprocess.run(
        ["pdftotext", str(pdf), "-"], check=True, capture_output=True, text=True
    ).stdout
    assert "H社区核酸检测点" in text
    assert "I社区核酸检测点" not in text
    assert "另有 4 处点位" in text
    assert f"/c/{token}" in text


# The call-up's message for a shortage -------------------------------------------------------


def test_a_call_up_for_a_role_names_only_the_sites_that_need_it(
    app: Flask,
    make_site: Callable[..., Site],
    make_period: Callable[..., PlanningPeriod],
    coordinator: User,
) -> None:
    checkpoints = [make_site(name=f"{n}高速卡口") for n in ("小海", "南通北", "如东")]
    testing = [
        make_site(name=f"{n}核酸检测点", kind="testing", demand={"sampler": 2})
        for n in ("城南", "汇龙镇")
    ]
    period = make_period(sites=[*checkpoints, *testing])
    sampler = db.session.scalars(select(Role).where(Role.code == "sampler")).one()
    client = signed_in(app, coordinator)
    page = _text(
        client.get(
            f"/coordinator/periods/{period.id}/callups/new"
            f"?role={sampler.id}&shift=day&from=2026-12-08&to=2026-12-10"
        )
    )
    message = re.search(r"<textarea[^>]*>(.*?)</textarea>", page, re.S)
    assert message is not None
    assert "城南核酸检测点" in message.group(1)
    assert "汇龙镇核酸检测点" in message.group(1)
    assert "高速卡口" not in message.group(1)
    # Without a role the call names the period's sites, and "等另外 n 处" counts the others.
    general = _text(client.get(f"/coordinator/periods/{period.id}/callups/new"))
    assert "等另外2处" in general


# The delivery page --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        ("zh-CN", ["班次提醒", "集结号", "工作人员发的消息"]),
        ("en", ["Shift reminder", "Call-up", "Message from staff"]),
    ],
)
def test_the_delivery_page_names_each_kind_of_failed_message(
    app: Flask,
    make_volunteer: Callable[..., User],
    coordinator: User,
    lang: str,
    words: list[str],
) -> None:
    person = make_volunteer(name="王五")
    for kind in (REMINDER, callups.KIND, MESSAGE):
        note = notify(person.id, kind)
        note.delivery_status = FAILED
        note.last_error = "PermanentFailure: HTTP 400: invalid number"
    db.session.commit()
    page = _text(
        signed_in(app, coordinator).get("/coordinator/delivery", headers={"Accept-Language": lang})
    )
    cells = re.findall(r"<td>([^<]*)</td>", page)
    for word in words:
        assert word in cells, word
    for code in (REMINDER, callups.KIND, MESSAGE):
        assert code not in cells, code
    # The number is masked here; the name opens the person's page, where it is corrected.
    assert person.volunteer is not None
    assert f'<a href="/coordinator/volunteers/{person.volunteer.id}">王五</a>' in page


# Ad-hoc messages: the preview's SMS parts, and sending at once -----------------------------


class Gateway:
    """A webhook receiver on 127.0.0.1 that checks the signature and keeps what it got."""

    def __init__(self) -> None:
        self.got: list[dict[str, Any]] = []
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                stamp = self.headers.get("X-Muster-Timestamp", "")
                mac = hmac.new(SECRET.encode(), stamp.encode() + b"." + body, hashlib.sha256)
                good = hmac.compare_digest(
                    "sha256=" + mac.hexdigest(), self.headers.get("X-Muster-Signature", "")
                )
                if good:
                    gateway.got.append(json.loads(body))
                self.send_response(200 if good else 401)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/sms"


@pytest.fixture
def gateway() -> Iterator[Gateway]:
    served = Gateway()
    yield served
    served.server.shutdown()
    served.server.server_close()


@pytest.fixture
def shift(
    any_db_app: Flask,
    gateway: Gateway,
    make_site: Callable[..., Site],
    make_period: Callable[..., PlanningPeriod],
    make_volunteer: Callable[..., User],
) -> dict[str, Any]:
    """A published shift at 小海 on Thursday: its lead and two volunteers; the webhook
    channel pointed at the gateway, delivering right after a send (as `make run` does)."""
    any_db_app.config.update(
        NOTIFY_SENDER="webhook",
        NOTIFY_WEBHOOK_URL=gateway.url,
        NOTIFY_WEBHOOK_SECRET=SECRET,
        NOTIFY_HTTP_TIMEOUT=2,
        NOTIFY_AFTER_PUBLISH=True,
        JOBS_SYNCHRONOUS=True,
    )
    site = make_site(name="小海高速卡口")
    period = make_period(sites=[site])
    lead = make_volunteer(name="李点位长")
    people = [make_volunteer(name="张三"), make_volunteer(name="王五")]
    make_roster(
        period,
        [
            (site, THU, "day", "site_lead", lead),
            (site, THU, "day", "code_checker", people[0]),
            (site, THU, "day", "code_checker", people[1]),
        ],
        version=1,
    )
    return {"app": any_db_app, "site": site, "lead": lead, "people": people}


def test_the_preview_counts_the_sms_parts_of_the_signed_text(
    shift: dict[str, Any], coordinator: User
) -> None:
    # 68 Chinese characters fit one SMS (70); signed " — 协调员" they take two.
    text = "今" * 68
    client = signed_in(shift["app"], coordinator)
    page = _text(
        client.post(
            "/coordinator/messages",
            data={
                "audience": "shift",
                "site_id": str(shift["site"].id),
                "day": THU.isoformat(),
                "shift": "day",
                "text": text,
                "action": "preview",
            },
            headers=ZH,
        )
    )
    assert "每人 2 条短信" in page
    lead = signed_in(shift["app"], shift["lead"])
    url = f"/checkin/sites/{shift['site'].id}/{THU.isoformat()}/day/message"
    page = _text(lead.post(url, data={"text": "今" * 60, "action": "preview"}, headers=ZH))
    assert "每人 1 条短信" in page
    page = _text(lead.post(url, data={"text": "今" * 66, "action": "preview"}, headers=ZH))
    assert "每人 2 条短信" in page  # + " — 李点位长"


def test_a_leads_and_a_coordinators_message_go_out_at_once(
    shift: dict[str, Any], gateway: Gateway, coordinator: User
) -> None:
    lead = signed_in(shift["app"], shift["lead"])
    url = f"/checkin/sites/{shift['site'].id}/{THU.isoformat()}/day/message"
    response = lead.post(url, data={"text": "今晚改到东侧车道", "action": "send"})
    assert response.status_code == 302
    phones = {p.phone for p in shift["people"]}
    assert {m["to"] for m in gateway.got} == phones
    assert {m["text"] for m in gateway.got} == {"今晚改到东侧车道 — 李点位长"}
    assert {m["kind"] for m in gateway.got} == {MESSAGE}
    client = signed_in(shift["app"], coordinator)
    response = client.post(
        "/coordinator/messages",
        data={
            "audience": "shift",
            "site_id": str(shift["site"].id),
            "day": THU.isoformat(),
            "shift": "day",
            "text": "带好身份证",
            "action": "send",
        },
    )
    assert response.status_code == 302
    assert len(gateway.got) == 5  # two from the lead, three (lead too) from the coordinator
    db.session.expire_all()
    states = set(
        db.session.scalars(select(Notification.delivery_status).where(Notification.kind == MESSAGE))
    )
    assert states == {"sent"}


def test_the_leads_message_page_names_the_day_as_every_page_does(shift: dict[str, Any]) -> None:
    lead = signed_in(shift["app"], shift["lead"])
    url = f"/checkin/sites/{shift['site'].id}/{THU.isoformat()}/day/message"
    assert "· 12月10日 ·" in _text(lead.get(url, headers=ZH))
    assert "· Dec 10 ·" in _text(lead.get(url, headers={"Accept-Language": "en"}))


def test_the_roster_page_leads_to_the_periods_call_ups(
    app: Flask,
    make_site: Callable[..., Site],
    make_period: Callable[..., PlanningPeriod],
    coordinator: User,
) -> None:
    period = make_period(sites=[make_site()])
    client = signed_in(app, coordinator)
    page = _text(client.get(f"/coordinator/periods/{period.id}/roster"))
    assert f'href="/coordinator/periods/{period.id}/callups"' in page
    listing = _text(client.get(f"/coordinator/periods/{period.id}/callups"))
    assert f'href="/coordinator/periods/{period.id}/callups/new"' in listing
