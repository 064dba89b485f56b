"""Delivery channels against real HTTP servers on 127.0.0.1: the signed webhook, Aliyun SMS
SendSms (the server recomputes the signature), the WeCom and DingTalk group robots fed by
publishing; the outbox states after each answer (sent, retried, failed at once), a slow or
failing endpoint not blocking the others, and the passes that run by themselves."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from scheduler.extensions import db
from scheduler.models import Site, User
from scheduler.models.base import utcnow
from scheduler.models.notifications import Notification, RobotMessage
from scheduler.services import publishing
from scheduler.services.delivery import deliver_pending
from scheduler.services.notifications import notify
from scheduler.services.senders import (
    AliyunSmsSender,
    LogSender,
    WebhookSender,
    aliyun_signature,
    channel_configured,
    sender_from_config,
)
from tests.fixtures.redis_server import RedisServer
from tests.fixtures.rosters import publish_roster

SECRET = "webhook-shared-secret"
DAY = date(2026, 12, 7)


@pytest.fixture(params=["sqlite", "postgresql"])
def app(request: pytest.FixtureRequest, app_factory: Callable[..., Flask]) -> Iterator[Flask]:
    """Every test here on SQLite and on PostgreSQL (the outbox query locks rows there)."""
    url = request.getfixturevalue("postgres_url") if request.param == "postgresql" else None
    flask_app = app_factory(url)
    with flask_app.app_context():
        yield flask_app


# A real HTTP server that plays the other side ---------------------------------------------


@dataclass
class Seen:
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes


@dataclass
class Endpoint:
    """An HTTP server on 127.0.0.1 (port 0): `answer(seen)` returns (status, body, delay)."""

    answer: Callable[[Seen], tuple[int, bytes, float]]
    seen: list[Seen] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> Endpoint:
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                parts = urllib.parse.urlsplit(self.path)
                seen = Seen(
                    parts.path,
                    dict(urllib.parse.parse_qsl(parts.query)),
                    {k.lower(): v for k, v in self.headers.items()},
                    body,
                )
                endpoint.seen.append(seen)
                status, answer, delay = endpoint.answer(seen)
                if delay:
                    time.sleep(delay)
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(answer)))
                    self.end_headers()
                    self.wfile.write(answer)
                except OSError:  # the client gave up (a timeout test)
                    pass

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()


@pytest.fixture
def serve() -> Iterator[Callable[[Callable[[Seen], tuple[int, bytes, float]]], Endpoint]]:
    started: list[Endpoint] = []

    def start(answer: Callable[[Seen], tuple[int, bytes, float]]) -> Endpoint:
        endpoint = Endpoint(answer).start()
        started.append(endpoint)
        return endpoint

    yield start
    for endpoint in started:
        endpoint.stop()


def states(model: type[Notification] | type[RobotMessage]) -> list[tuple[str, int]]:
    db.session.expire_all()
    return [
        (row.delivery_status, row.attempts)
        for row in db.session.scalars(select(model).order_by(model.id))
    ]


def queue_for(users: list[User]) -> list[Notification]:
    notes = [notify(user.id, "something_else") for user in users]
    db.session.commit()
    return notes


# The webhook -------------------------------------------------------------------------------


def webhook_receiver(seen: Seen, secret: str = SECRET) -> tuple[int, bytes, float]:
    """What an organisation's gateway does: check the signature over the raw body and the
    timestamp's age, then act on the number."""
    timestamp = seen.headers.get("x-muster-timestamp", "")
    expected = (
        "sha256="
        + hmac.new(
            secret.encode(), timestamp.encode() + b"." + seen.body, hashlib.sha256
        ).hexdigest()
    )
    if not hmac.compare_digest(expected, seen.headers.get("x-muster-signature", "")):
        return 401, b'{"error":"bad signature"}', 0
    if abs(time.time() - int(timestamp)) > 300:
        return 401, b'{"error":"replayed"}', 0
    message = json.loads(seen.body)
    assert set(message) == {"to", "text", "kind", "locale", "message_id"}
    assert seen.headers["x-muster-message-id"] == message["message_id"]
    to = message["to"]
    if to.endswith("0400"):
        return 400, b'{"error":"invalid number"}', 0
    if to.endswith("0429"):
        return 429, b'{"error":"slow down"}', 0
    if to.endswith("0500"):
        return 500, b"oops", 0
    if to.endswith("0999"):
        return 200, b"{}", 3  # past the client's timeout
    return 200, b'{"ok":true}', 0


@pytest.fixture
def webhook(app: Flask, serve: Callable[..., Endpoint]) -> Endpoint:
    endpoint = serve(webhook_receiver)
    app.config.update(
        NOTIFY_SENDER="webhook",
        NOTIFY_WEBHOOK_URL=endpoint.url + "/sms",
        NOTIFY_WEBHOOK_SECRET=SECRET,
        NOTIFY_HTTP_TIMEOUT=1,
    )
    return endpoint


def test_the_webhook_posts_signed_json_the_receiver_verifies(
    app: Flask, webhook: Endpoint, make_volunteer: Callable[..., User]
) -> None:
    user = make_volunteer(name="张三", phone="13900010001")
    user.locale = "zh_Hans"
    [note] = queue_for([user])
    sender = sender_from_config(app.config)
    assert isinstance(sender, WebhookSender)
    report = deliver_pending(sender)
    assert (report.sent, report.retried, report.failed) == (1, 0, 0)
    [seen] = webhook.seen
    assert seen.path == "/sms"
    message = json.loads(seen.body)
    assert message == {
        "to": "+8613900010001",
        "text": "您在集结号中有一条新消息。",
        "kind": "something_else",
        "locale": "zh_Hans",
        "message_id": f"n{note.id}",
    }
    assert states(Notification) == [("sent", 1)]


def test_the_webhook_answers_decide_sent_retry_or_failed(
    app: Flask, webhook: Endpoint, make_volunteer: Callable[..., User]
) -> None:
    phones = ["13900010400", "13900010429", "13900010500", "13900010999", "13900010002"]
    queue_for([make_volunteer(phone=p) for p in phones])
    now = utcnow()
    started = time.monotonic()
    report = deliver_pending(sender_from_config(app.config), now=now)
    # The hanging gateway cost one short timeout; the message after it still went out.
    assert time.monotonic() - started < 5
    assert (report.sent, report.retried, report.failed) == (1, 3, 1)
    assert states(Notification) == [
        ("failed", 1),  # 400: an invalid number is never retried
        ("pending", 1),  # 429
        ("pending", 1),  # 500
        ("pending", 1),  # no answer within the timeout
        ("sent", 1),
    ]
    errors = [
        n.last_error for n in db.session.scalars(select(Notification).order_by(Notification.id))
    ]
    assert "HTTP 400" in errors[0]
    assert "invalid number" in errors[0]
    assert "no answer within 1 s" in errors[3]
    retried = db.session.scalars(select(Notification).where(Notification.attempts == 1)).all()
    assert {n.next_attempt_at for n in retried if n.delivery_status == "pending"} == {
        now + timedelta(minutes=1)
    }


def test_a_webhook_answering_500_for_an_hour_does_not_block_the_others(
    app: Flask, webhook: Endpoint, make_volunteer: Callable[..., User]
) -> None:
    broken = make_volunteer(phone="13900020500")
    queue_for([broken])
    now = utcnow()
    deliver_pending(sender_from_config(app.config), now=now)
    # New messages queued while the broken one keeps failing go out at once, every pass.
    for minutes in (2, 10, 40):
        queue_for([make_volunteer()])
        deliver_pending(sender_from_config(app.config), now=now + timedelta(minutes=minutes))
    assert [s for s, _ in states(Notification)] == ["pending", "sent", "sent", "sent"]
    deliver_pending(sender_from_config(app.config), now=now + timedelta(hours=3))
    assert states(Notification)[0] == ("failed", 5)  # gave up after MAX_ATTEMPTS


def test_a_wrong_secret_is_refused_for_good(
    app: Flask, webhook: Endpoint, make_volunteer: Callable[..., User]
) -> None:
    queue_for([make_volunteer()])
    app.config["NOTIFY_WEBHOOK_SECRET"] = "not-the-secret"
    assert deliver_pending(sender_from_config(app.config)).failed == 1
    assert "HTTP 401" in (db.session.scalars(select(Notification)).one().last_error or "")


def test_webhook_without_secret_is_a_configuration_error(app: Flask) -> None:
    unsigned = {"NOTIFY_SENDER": "webhook", "NOTIFY_WEBHOOK_URL": "http://x"}
    with pytest.raises(ValueError, match="NOTIFY_WEBHOOK_SECRET"):
        sender_from_config(unsigned)
    assert channel_configured(unsigned) is False
    assert channel_configured({**unsigned, "NOTIFY_WEBHOOK_SECRET": "s"}) is True
    aliyun = {"NOTIFY_SENDER": "aliyun", "ALIYUN_SMS_ACCESS_KEY_ID": "LTAI"}
    assert channel_configured(aliyun) is True


# Aliyun SMS --------------------------------------------------------------------------------


def test_the_signature_matches_aliyuns_documented_examples() -> None:
    # The SendSms example of Aliyun's "HTTP protocol and signature" page (GET), and the
    # DescribeRegions example of its RPC signature page.
    send_sms = {
        "AccessKeyId": "testId",
        "Action": "SendSms",
        "Format": "XML",
        "OutId": "123",
        "PhoneNumbers": "15300000001",
        "RegionId": "cn-hangzhou",
        "SignName": "阿里云短信测试专用",
        "SignatureMethod": "HMAC-SHA1",
        "SignatureNonce": "45e25e9b-0a6f-4070-8c85-2956eda1b466",
        "SignatureVersion": "1.0",
        "TemplateCode": "SMS_71390007",
        "TemplateParam": '{"customer":"test"}',
        "Timestamp": "2017-07-12T02:42:19Z",
        "Version": "2017-05-25",
    }
    assert aliyun_signature(send_sms, "testSecret", "GET") == "zJDF+Lrzhj/ThnlvIToysFRq6t4="
    regions = {
        "Format": "XML",
        "AccessKeyId": "testid",
        "Action": "DescribeRegions",
        "SignatureMethod": "HMAC-SHA1",
        "SignatureNonce": "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf",
        "SignatureVersion": "1.0",
        "Version": "2014-05-26",
        "Timestamp": "2016-02-23T12:46:24Z",
    }
    assert aliyun_signature(regions, "testsecret", "GET") == "OLeaidS1JvxuMvnyHOwuJ+uX5qY="


ALIYUN_SECRET = "aliyun-test-secret"


def _pop_encode(text: str) -> str:
    # The provider's side, written independently: java.net.URLEncoder-style, then the fixes
    # Aliyun's page lists ("+" -> %20, "*" -> %2A, %7E -> "~").
    return (
        urllib.parse.quote_plus(text, safe="")
        .replace("+", "%20")
        .replace("*", "%2A")
        .replace("%7E", "~")
    )


def aliyun_provider(seen: Seen) -> tuple[int, bytes, float]:
    """Plays dysmsapi.aliyuncs.com: checks the signature from the request, then answers by
    the number (success, throttled, illegal number, a 500, a hang)."""
    params = dict(urllib.parse.parse_qsl(seen.body.decode(), keep_blank_values=True))
    signature = params.pop("Signature", "")
    canonical = "&".join(f"{_pop_encode(k)}={_pop_encode(v)}" for k, v in sorted(params.items()))
    to_sign = "POST&%2F&" + _pop_encode(canonical)
    expected = base64.b64encode(
        hmac.new(f"{ALIYUN_SECRET}&".encode(), to_sign.encode(), hashlib.sha1).digest()
    ).decode()

    def reply(code: str, status: int = 200) -> tuple[int, bytes, float]:
        body = {"Code": code, "Message": code, "RequestId": "R", "BizId": "B"}
        return status, json.dumps(body).encode(), 0

    if signature != expected:
        return reply("SignatureDoesNotMatch", 400)
    assert params["Action"] == "SendSms"
    assert params["Version"] == "2017-05-25"
    assert params["AccessKeyId"] == "LTAItest"
    assert params["SignName"] == "南通志愿者"
    assert params["SignatureMethod"] == "HMAC-SHA1"
    assert params["SignatureVersion"] == "1.0"
    text = json.loads(params["TemplateParam"])["content"]
    assert text
    phone = params["PhoneNumbers"]
    expected_template = "SMS_2" if phone.endswith("0002") else "SMS_1"
    assert params["TemplateCode"] == expected_template
    if phone.endswith("0429"):
        return reply("isv.BUSINESS_LIMIT_CONTROL")
    if phone.endswith("0400"):
        return reply("isv.MOBILE_NUMBER_ILLEGAL")
    if phone.endswith("0500"):
        return 500, b"<html>Internal Server Error</html>", 0
    if phone.endswith("0999"):
        return 200, b"{}", 3
    return reply("OK")


@pytest.fixture
def aliyun(app: Flask, serve: Callable[..., Endpoint]) -> Endpoint:
    endpoint = serve(aliyun_provider)
    app.config.update(
        NOTIFY_SENDER="aliyun",
        ALIYUN_SMS_ACCESS_KEY_ID="LTAItest",
        ALIYUN_SMS_ACCESS_KEY_SECRET=ALIYUN_SECRET,
        ALIYUN_SMS_SIGN_NAME="南通志愿者",
        ALIYUN_SMS_TEMPLATE="SMS_1",
        ALIYUN_SMS_TEMPLATES="shift_removed=SMS_2",
        ALIYUN_SMS_ENDPOINT=endpoint.url + "/",
        NOTIFY_HTTP_TIMEOUT=1,
    )
    return endpoint


def test_aliyun_sendsms_answers_decide_sent_retry_or_failed(
    app: Flask, aliyun: Endpoint, make_volunteer: Callable[..., User]
) -> None:
    phones = ["13900030001", "13900030429", "13900030400", "13900030500", "13900030999"]
    queue_for([make_volunteer(phone=p) for p in phones])
    sender = sender_from_config(app.config)
    assert isinstance(sender, AliyunSmsSender)
    report = deliver_pending(sender)
    assert (report.sent, report.retried, report.failed) == (1, 3, 1)
    assert states(Notification) == [
        ("sent", 1),
        ("pending", 1),  # throttled: later
        ("failed", 1),  # illegal number: never
        ("pending", 1),  # the provider's 500
        ("pending", 1),  # no answer
    ]
    errors = [
        n.last_error for n in db.session.scalars(select(Notification).order_by(Notification.id))
    ]
    assert "isv.BUSINESS_LIMIT_CONTROL" in errors[1]
    assert "isv.MOBILE_NUMBER_ILLEGAL" in errors[2]
    first = json.loads(dict(urllib.parse.parse_qsl(aliyun.seen[0].body.decode()))["TemplateParam"])
    assert first == {"content": "You have a new message in Muster."}
    # Mainland numbers go without +86.
    assert (
        dict(urllib.parse.parse_qsl(aliyun.seen[0].body.decode()))["PhoneNumbers"] == "13900030001"
    )


def test_aliyun_template_per_kind_and_a_wrong_key_secret(
    app: Flask, aliyun: Endpoint, make_volunteer: Callable[..., User]
) -> None:
    user = make_volunteer(phone="13900040002")
    notify(user.id, "shift_removed", site_id=1, day="2026-12-08", shift="day", role_id=1)
    db.session.commit()
    assert deliver_pending(sender_from_config(app.config)).sent == 1  # SMS_2, the server checked
    queue_for([make_volunteer(phone="13900040003")])
    app.config["ALIYUN_SMS_ACCESS_KEY_SECRET"] = "wrong"
    assert deliver_pending(sender_from_config(app.config)).failed == 1
    last = db.session.scalars(select(Notification).order_by(Notification.id.desc())).first()
    assert last is not None
    assert "SignatureDoesNotMatch" in (last.last_error or "")


# Group robots ------------------------------------------------------------------------------


def wecom_robot(seen: Seen) -> tuple[int, bytes, float]:
    body = json.loads(seen.body)
    assert seen.path == "/cgi-bin/webhook/send"
    assert seen.query.get("key") == "K1"
    assert body["msgtype"] == "markdown"
    assert set(body["markdown"]) == {"content"}
    assert len(body["markdown"]["content"].encode()) <= 4096
    if "忙" in body["markdown"]["content"]:
        return 200, b'{"errcode":45009,"errmsg":"api freq out of limit"}', 0
    return 200, b'{"errcode":0,"errmsg":"ok"}', 0


DING_SECRET = "SECdingtalk-secret"


def dingtalk_robot(seen: Seen) -> tuple[int, bytes, float]:
    body = json.loads(seen.body)
    assert seen.path == "/robot/send"
    assert seen.query.get("access_token") == "T1"
    assert body["msgtype"] == "markdown"
    assert set(body["markdown"]) == {"title", "text"}
    timestamp = seen.query.get("timestamp", "")
    expected = base64.b64encode(
        hmac.new(
            DING_SECRET.encode(), f"{timestamp}\n{DING_SECRET}".encode(), hashlib.sha256
        ).digest()
    ).decode()
    # parse_qsl already undid the URL encoding of the sign.
    if seen.query.get("sign") != expected or abs(time.time() * 1000 - int(timestamp)) > 3600_000:
        return 200, b'{"errcode":310000,"errmsg":"sign not match"}', 0
    return 200, b'{"errcode":0,"errmsg":"ok"}', 0


@pytest.fixture
def robot_world(
    app: Flask,
    serve: Callable[..., Endpoint],
    make_site: Callable[..., Site],
    make_volunteer: Callable[..., User],
) -> tuple[Any, Endpoint, Endpoint]:
    wecom, ding = serve(wecom_robot), serve(dingtalk_robot)
    north = make_site(name="南通北高速卡口", demand={"temperature": 1})
    south = make_site(name="小海检测点", demand={"temperature": 1})
    quiet = make_site(name="没有机器人的点位", demand={"temperature": 1})
    north.robot_kind, north.robot_url = "wecom", wecom.url + "/cgi-bin/webhook/send?key=K1"
    south.robot_kind, south.robot_url = "dingtalk", ding.url + "/robot/send?access_token=T1"
    south.robot_secret = DING_SECRET
    db.session.commit()
    zhang = make_volunteer(name="张三", phone="13812340001")
    li = make_volunteer(name="李四", phone="13812340002")
    sites = {"north": north, "south": south, "quiet": quiet}
    world = publish_roster(
        sites,
        {"zhang": zhang, "li": li},
        [],
        draft=[
            (north, DAY, "day", "temperature", zhang),
            (south, DAY, "night", "temperature", li),
            (quiet, DAY, "day", "temperature", li),
        ],
    )
    # Version 1 (made by the fixture, not by publish) held nothing: publish version 2 for real.
    return world, wecom, ding


def test_publishing_posts_each_changed_sites_shift_list_to_its_robot(
    app: Flask, robot_world: tuple[Any, Endpoint, Endpoint], coordinator: User
) -> None:
    world, wecom, ding = robot_world
    publishing.publish(world.period, coordinator)
    db.session.commit()
    # One per site with a robot, none for the site without.
    assert states(RobotMessage) == [("pending", 0), ("pending", 0)]
    deliver_pending(LogSender())  # the volunteers' notifications, then the robots
    assert states(RobotMessage) == [("sent", 1), ("sent", 1)]
    [posted] = wecom.seen
    content = json.loads(posted.body)["markdown"]["content"]
    assert "南通北高速卡口" in content
    assert "第一期" in content
    assert "2" in content
    assert "张三 138****0001" in content
    assert "13812340001" not in content  # phone numbers masked in group chats
    assert "李四" not in content  # only this site's people
    [signed] = ding.seen
    text = json.loads(signed.body)["markdown"]["text"]
    assert "小海检测点" in text
    assert "李四 138****0002" in text


def test_a_rolled_back_publish_leaves_no_robot_message(
    app: Flask, robot_world: tuple[Any, Endpoint, Endpoint], coordinator: User
) -> None:
    world, _wecom, _ding = robot_world
    publishing.publish(world.period, coordinator)
    assert db.session.scalar(select(func.count()).select_from(RobotMessage)) == 2  # flushed
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(RobotMessage)) == 0


def test_robot_refusals_and_a_fixed_address_on_retry(
    app: Flask, robot_world: tuple[Any, Endpoint, Endpoint], coordinator: User
) -> None:
    world, _wecom, _ding = robot_world
    south = world.sites["south"]
    south.robot_secret = "SECwrong"
    north = world.sites["north"]
    north.name = "南通北高速卡口忙"  # the WeCom robot answers 45009 "too many" for this one
    db.session.commit()
    publishing.publish(world.period, coordinator)
    db.session.commit()
    now = utcnow()
    deliver_pending(LogSender(), now=now)
    assert states(RobotMessage) == [("pending", 1), ("failed", 1)]
    failed = db.session.scalars(select(RobotMessage).where(RobotMessage.attempts == 1)).all()
    assert any("errcode 310000" in (m.last_error or "") for m in failed)
    # Fixed: the secret corrected, the name calm again; a retry sends both.
    south.robot_secret, north.name = DING_SECRET, "南通北高速卡口"
    db.session.commit()
    from scheduler.services import outbox

    assert outbox.retry(everything=True) == 1
    db.session.commit()
    deliver_pending(LogSender(), now=now + timedelta(minutes=2))
    assert states(RobotMessage) == [("sent", 2), ("sent", 1)]


def test_a_long_shift_list_is_cut_to_what_wecom_accepts(
    app: Flask,
    serve: Callable[..., Endpoint],
    make_site: Callable[..., Site],
    make_volunteer: Callable[..., User],
    coordinator: User,
) -> None:
    wecom = serve(wecom_robot)
    site = make_site(name="大点位", demand={"temperature": 30})
    site.robot_kind, site.robot_url = "wecom", wecom.url + "/cgi-bin/webhook/send?key=K1"
    people = [make_volunteer(name=f"志愿者{i:02d}") for i in range(30)]
    rows = [
        (site, DAY + timedelta(days=d), kind, "temperature", person)
        for d in range(14)
        for kind in ("night", "day", "evening")
        for person in people[(d * 3 + ("night", "day", "evening").index(kind)) % 30 :][:5]
    ]
    world = publish_roster({"site": site}, {}, [], draft=rows)
    app.config["PUBLIC_BASE_URL"] = "https://muster.example.org"
    publishing.publish(world.period, coordinator)
    db.session.commit()
    deliver_pending(LogSender(), batch=200)
    assert states(RobotMessage) == [("sent", 1)]
    content = json.loads(wecom.seen[0].body)["markdown"]["content"]
    assert len(content.encode()) <= 4096
    assert "more lines: see the full roster in Muster. https://muster.example.org/" in content


# The site form -----------------------------------------------------------------------------


def _site_form(site: Site, **robot: str) -> dict[str, Any]:
    return {
        "kind": site.kind,
        "name": site.name,
        "district_id": "0",
        "address": site.address,
        "timezone": "Asia/Shanghai",
        "first_shift_hour": "0",
        "shifts": ["day"],
        **robot,
    }


def test_coordinators_set_a_sites_robot_and_bad_addresses_are_refused(
    app: Flask, make_site: Callable[..., Site], coordinator: User, login_as: Any
) -> None:
    site = make_site(name="点位甲")
    client = login_as(coordinator)
    url = f"/coordinator/sites/{site.id}/edit"
    page = client.get(url).get_data(as_text=True)
    assert 'name="robot_url"' in page
    assert 'name="robot_secret"' in page
    for kind, address, message in (
        ("wecom", "http://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=K", "https://qyapi"),
        ("wecom", "https://evil.example/cgi-bin/webhook/send", "https://qyapi.weixin.qq.com/"),
        ("dingtalk", "https://qyapi.weixin.qq.com/x", "https://oapi.dingtalk.com/"),
        ("nonsense", "https://oapi.dingtalk.com/robot/send", "Not a valid choice"),
    ):
        response = client.post(url, data=_site_form(site, robot_kind=kind, robot_url=address))
        assert response.status_code == 422, address
        assert message in response.get_data(as_text=True)
    response = client.post(
        url,
        data=_site_form(
            site,
            robot_kind="wecom",
            robot_url="https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=K",
            robot_secret="SECx",
        ),
    )
    assert "Only DingTalk robots have a signing secret." in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Site, site.id).robot_url is None  # nothing written
    response = client.post(
        url,
        data=_site_form(
            site,
            robot_kind="dingtalk",
            robot_url="https://oapi.dingtalk.com/robot/send?access_token=T",
            robot_secret="SECx",
        ),
    )
    assert response.status_code == 302
    db.session.expire_all()
    saved = db.session.get(Site, site.id)
    assert (saved.robot_kind, saved.robot_secret) == ("dingtalk", "SECx")
    # Emptying the address removes the robot.
    client.post(url, data=_site_form(site, robot_kind="dingtalk", robot_url=""))
    db.session.expire_all()
    saved = db.session.get(Site, site.id)
    assert (saved.robot_kind, saved.robot_url, saved.robot_secret) == (None, None, None)


def test_any_address_only_when_the_deployment_allows_it(
    app: Flask, make_site: Callable[..., Site], coordinator: User, login_as: Any
) -> None:
    site = make_site(name="点位乙")
    client = login_as(coordinator)
    url = f"/coordinator/sites/{site.id}/edit"
    local = {"robot_kind": "wecom", "robot_url": "http://127.0.0.1:9/cgi-bin/webhook/send"}
    assert client.post(url, data=_site_form(site, **local)).status_code == 422
    app.config["ROBOT_ALLOW_ANY_URL"] = True
    assert client.post(url, data=_site_form(site, **local)).status_code == 302


# The Messages page -------------------------------------------------------------------------


def test_the_messages_page_lists_failures_and_sends_them_again(
    app: Flask,
    webhook: Endpoint,
    make_volunteer: Callable[..., User],
    coordinator: User,
    login_as: Any,
) -> None:
    bad = make_volunteer(name="王五", phone="13900050400")
    queue_for([bad, make_volunteer(phone="13900050001"), make_volunteer(phone="13900050500")])
    deliver_pending(sender_from_config(app.config))
    client = login_as(coordinator)
    dashboard = client.get("/coordinator/").get_data(as_text=True)
    assert "1 message could not be sent." in dashboard
    assert 'href="/coordinator/delivery"' in dashboard
    page = client.get("/coordinator/delivery").get_data(as_text=True)
    assert "Messages go out through: webhook" in page
    assert 'data-state="sent">1<' in page
    assert "1 being retried" in page
    assert "王五" in page
    assert "139****0400" in page
    assert "13900050400" not in page
    assert "HTTP 400" in page
    assert "invalid number" in page
    note = db.session.scalars(select(Notification).where(Notification.user_id == bad.id)).one()
    response = client.post("/coordinator/delivery/retry", data={"notification": str(note.id)})
    assert response.status_code == 302
    assert "1 message will be sent again" in client.get("/coordinator/delivery").get_data(
        as_text=True
    )
    db.session.expire_all()
    assert (note.delivery_status, note.attempts) == ("pending", 0)
    # A sent or pending message is not touched; nonsense is refused.
    assert client.post("/coordinator/delivery/retry", data={"notification": "x"}).status_code == 400
    response = client.post("/coordinator/delivery/retry", data={"all": "1"})
    assert response.status_code == 302
    assert [s for s, _ in states(Notification)] == ["pending", "sent", "pending"]


def test_the_messages_page_says_when_nothing_leaves_the_server(
    app: Flask, coordinator: User, login_as: Any
) -> None:
    page = login_as(coordinator).get("/coordinator/delivery").get_data(as_text=True)
    assert "No sending channel is set up (NOTIFY_SENDER=log)" in page
    assert "None: every message went out or is still on its way." in page


# Passes that run by themselves -------------------------------------------------------------


def test_the_background_thread_delivers_what_was_queued_while_it_was_down(
    app: Flask, webhook: Endpoint, make_volunteer: Callable[..., User]
) -> None:
    from scheduler.sending import start_delivery_thread

    assert start_delivery_thread(app) is None  # never on its own in tests
    queue_for([make_volunteer(), make_volunteer()])
    app.config["NOTIFY_LOOP_SECONDS"] = 1
    thread = start_delivery_thread(app, force=True)
    assert thread is not None
    try:
        deadline = time.monotonic() + 10
        while len(webhook.seen) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(webhook.seen) == 2
        queue_for([make_volunteer()])  # and keeps going
        while len(webhook.seen) < 3 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(webhook.seen) == 3
    finally:
        thread.stop.set()  # type: ignore[attr-defined]  # the Event start_delivery_thread adds
        thread.join(5)


def test_a_full_batch_is_followed_by_the_next_pass_at_once(
    app: Flask, webhook: Endpoint, make_user: Callable[..., User]
) -> None:
    from scheduler.sending import BATCH, start_delivery_thread

    user = make_user()  # one person, many messages: a publish to a thousand looks the same
    for _ in range(BATCH + 50):
        notify(user.id, "something_else")
    db.session.commit()
    app.config["NOTIFY_LOOP_SECONDS"] = 600
    thread = start_delivery_thread(app, force=True)
    assert thread is not None
    try:
        deadline = time.monotonic() + 30
        while len(webhook.seen) < BATCH + 50 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert len(webhook.seen) == BATCH + 50  # not 100 now and the rest in ten minutes
    finally:
        thread.stop.set()  # type: ignore[attr-defined]  # the Event start_delivery_thread adds
        thread.join(5)


def test_the_thread_starts_only_in_the_process_flask_run_serves_from(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    import click

    from scheduler.sending import _under_flask_run

    assert not _under_flask_run(app)  # no command at all (gunicorn, tests)
    for name, reload, main, expected in (
        ("run", False, None, True),
        ("run", True, None, False),  # the reloader's watching parent
        ("run", True, "true", True),  # the reloader's serving child
        ("db", False, None, False),
    ):
        if main is None:
            monkeypatch.delenv("WERKZEUG_RUN_MAIN", raising=False)
        else:
            monkeypatch.setenv("WERKZEUG_RUN_MAIN", main)
        with click.Context(click.Command(name), info_name=name) as ctx:
            ctx.params["reload"] = reload
            assert _under_flask_run(app) is expected, (name, reload, main)


def test_the_rq_worker_runs_a_chain_of_delivery_jobs(
    app: Flask, webhook: Endpoint, make_volunteer: Callable[..., User], redis_server: RedisServer
) -> None:
    from rq import SimpleWorker

    from scheduler.sending import ensure_delivery_chain, notify_queue_for

    app.config["REDIS_URL"] = redis_server.url
    queue_for([make_volunteer()])
    queue = notify_queue_for(app)
    assert ensure_delivery_chain(app, queue) is True
    assert ensure_delivery_chain(app, queue) is False  # a second worker joins the chain
    SimpleWorker([queue], connection=queue.connection).work(burst=True)
    assert len(webhook.seen) == 1
    assert states(Notification) == [("sent", 1)]
    # The job enqueued the next pass, NOTIFY_LOOP_SECONDS later, for RQ's scheduler.
    assert queue.scheduled_job_registry.count == 1
