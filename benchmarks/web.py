"""The call-up night against real gunicorn: requests/s, latency and errors per scenario, with
the rows counted afterwards.

    python -m benchmarks.web                      # SQLite and PostgreSQL, 2 and 4 workers
    python -m benchmarks.web --databases sqlite --workers 2 --json web.json
    python -m benchmarks.web --databases postgresql --workers 2 --threads 1,4  # sync, gthread

For each database (a scratch SQLite file, and a scratch PostgreSQL database that is dropped and
created: `--postgres`, on 127.0.0.1 only) the demo is seeded, a roster generated and
published, and one self-sign-up post left with a single free place. Then for each worker
count (and each `--threads` count: 1 is gunicorn's sync worker, more a gthread worker with that
many threads), gunicorn, bound to 127.0.0.1, is started on the app and driven by `--clients`
threads, each a virtual user with its own http.client connection and cookies (the client runs
on the same cores as the server, so it is kept as cheap as Python allows):

- register: GET /register (the CSRF token), POST /register, GET /me (the redirect) — each
  virtual volunteer once;
- taps: each new volunteer opens its availability grid and taps `--taps` cells (some twice);
- my_shifts: volunteers of the published roster open /me (their shifts with the crews);
- claim: `--claims` volunteers claim the same last free place at once.

Reported per scenario: requests/s, p50/p95/p99 latency (ms), statuses, errors by status, and
the server's CPU per request (the gunicorn workers' user+system time; the database server's
own CPU is not in it) and the client's (this process). Afterwards the rows are counted:
users created == successful registrations, each volunteer's availability rows == its final
toggle state, no duplicate rows, exactly one claim won the last place. One password hash is
timed on this machine, just before and just after each registration scenario, and
registrations/s are reported as a share of the hash-bound limit (cores / the mean of the two
hash times). They are also reported as a share of the bound from the hashes the workers
computed during the scenario (each one's CPU time, logged by benchmarks.web_gunicorn): the
steadier figure where the machine's speed drifts, since the bound and the rate are then
measured on the same cores at the same minutes.

The rate limiter is off in the served app (the per-IP limits would refuse one client machine);
everything else is the app as configured by the environment. Every request count is bounded by
the arguments and every scenario by `--max-seconds`. Numbers depend on the machine and its
load: compare figures from one run, and state the cores (`machine` in the JSON).
"""

from __future__ import annotations

import argparse
import gzip
import http.client
import json
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import quote_plus, urlencode, urlsplit

import brotli
import requests

ROOT = Path(__file__).resolve().parent.parent
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
CLAIM_KEY = re.compile(r'name="post" value="([^"]+)"')
PASSWORD = "bench-password-1"
DEMO_PASSWORD = "muster-demo-4"  # every seeded demo volunteer's password (services.demo)
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
HTMX = {"HX-Request": "true"}


# --- measuring -------------------------------------------------------------------------------


@dataclass
class Scenario:
    """The requests of one scenario: (label, status, seconds), and its wall time."""

    name: str
    samples: list[tuple[str, int, float]] = field(default_factory=list)
    wall: float = 0.0
    cpu: float = 0.0  # seconds of gunicorn worker CPU during the scenario
    client_cpu: float = 0.0  # seconds of CPU of this process (the clients) during it
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, label: str, status: int, seconds: float) -> None:
        with self.lock:
            self.samples.append((label, status, seconds))

    def summary(self, expected: dict[str, set[int]]) -> dict[str, Any]:
        times = sorted(s for _, _, s in self.samples)
        by_label: dict[str, list[float]] = {}
        for label, _, seconds in self.samples:
            by_label.setdefault(label, []).append(seconds)
        errors = Counter(
            f"{label} {status}"
            for label, status, _ in self.samples
            if status not in expected.get(label, {200})
        )
        return {
            "requests": len(self.samples),
            "wall_s": round(self.wall, 3),
            "rps": round(len(self.samples) / self.wall, 1) if self.wall else 0.0,
            "p50_ms": _ms(_quantile(times, 0.50)),
            "p95_ms": _ms(_quantile(times, 0.95)),
            "p99_ms": _ms(_quantile(times, 0.99)),
            # a scenario's requests of each kind on their own (the taps scenario opens each
            # volunteer's grid once before it taps: the page weighs on the scenario's tail)
            "by_request": {
                label: {
                    "requests": len(values),
                    "p50_ms": _ms(_quantile(sorted(values), 0.50)),
                    "p99_ms": _ms(_quantile(sorted(values), 0.99)),
                }
                for label, values in sorted(by_label.items())
            },
            "statuses": dict(Counter(f"{label} {status}" for label, status, _ in self.samples)),
            "errors": dict(errors),
            "server_cpu_ms_per_request": _ms(self.cpu / len(self.samples))
            if self.samples
            else None,
            "client_cpu_ms_per_request": round(self.client_cpu * 1000 / len(self.samples), 2)
            if self.samples
            else None,
        }


def _quantile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    return values[min(len(values) - 1, int(q * len(values)))]


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


class Reply:
    """A response as the scenarios read it: the status, and the body decoded only when asked
    (only the pages a token is read from)."""

    __slots__ = ("body", "encoding", "status_code")

    def __init__(self, status: int, body: bytes, encoding: str | None) -> None:
        self.status_code, self.body, self.encoding = status, body, encoding

    @property
    def text(self) -> str:
        body = self.body
        if self.encoding == "br":
            body = brotli.decompress(body)
        elif self.encoding == "gzip":
            body = gzip.decompress(body)
        elif self.encoding == "deflate":
            body = zlib.decompress(body)
        return body.decode()


class Client:
    """One virtual user, as cheap in CPU as a Python client gets (it runs on the same cores as
    the server): one http.client connection (reopened when the server closes it, as gunicorn's
    sync workers do after each response), the session cookies, the headers of a mobile
    browser, timing every request. Bodies are read whole; decompressed only when read."""

    HEADERS: ClassVar[dict[str, str]] = {
        "Accept-Language": "zh-CN,zh;q=0.9",
        "Accept-Encoding": "gzip, deflate, br",
    }

    def __init__(self, base: str, scenario: Scenario | None = None) -> None:
        parts = urlsplit(base)
        self.http = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=60)
        self.cookies: dict[str, str] = {}
        self.scenario = scenario

    def request(
        self,
        label: str,
        method: str,
        path: str,
        data: dict[str, str] | str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        send = dict(self.HEADERS)
        if headers:
            send.update(headers)
        if self.cookies:
            send["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if data is not None:
            body = (data if isinstance(data, str) else urlencode(data)).encode()
            send["Content-Type"] = "application/x-www-form-urlencoded"
        start = time.perf_counter()
        try:
            reply = self._exchange(method, path, body, send)
            status = reply.status_code
        except (OSError, http.client.HTTPException):
            self.http.close()
            reply, status = None, 0
        if self.scenario is not None:
            self.scenario.record(label, status, time.perf_counter() - start)
        if reply is None:
            raise ConnectionError(f"{method} {path} failed")
        return reply

    def _exchange(
        self, method: str, path: str, body: bytes | None, headers: dict[str, str]
    ) -> Reply:
        reused = self.http.sock is not None
        try:
            self.http.request(method, path, body, headers)
            response = self.http.getresponse()
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            if not reused:
                raise
            # The server closed a kept-alive connection while it was idle (gthread workers do
            # after gunicorn's --keep-alive seconds) and never read this request: send it
            # again on a new connection, as browsers do.
            self.http.close()
            self.http.request(method, path, body, headers)
            response = self.http.getresponse()
        content = response.read()
        for cookie in response.msg.get_all("Set-Cookie") or ():
            name, _, value = cookie.partition(";")[0].partition("=")
            if value and "Max-Age=0" not in cookie and "1970" not in cookie:
                self.cookies[name.strip()] = value
            else:
                self.cookies.pop(name.strip(), None)
        if response.will_close:
            self.http.close()
        return Reply(response.status, content, response.getheader("Content-Encoding"))

    def token(self, html: str) -> str:
        match = CSRF.search(html)
        if match is None:
            raise ValueError("no CSRF token on the page")
        return match.group(1)


def run_threads(clients: int, work: Callable[[int], None], deadline: float) -> None:
    """`work(i)` for i in 0..clients-1, each on its own thread; stops waiting at the deadline
    (threads see the deadline themselves and stop issuing requests)."""
    errors: list[BaseException] = []

    def target(index: int) -> None:
        try:
            work(index)
        except Exception as error:  # a refused connection ends that client, not the run
            errors.append(error)

    threads = [threading.Thread(target=target, args=(i,), daemon=True) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()) + 30)
    if errors:
        print(f"    {len(errors)} client(s) stopped early: {errors[0]!r}", file=sys.stderr)


# --- the server -------------------------------------------------------------------------------


def worker_cpu_seconds(master_pid: int) -> float:
    """User + system CPU seconds of the gunicorn master's live children (its workers)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == master_pid:  # fields[1] is the parent pid
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / tick


def wait_for_workers(master_pid: int, deadline: float) -> None:
    """Until every worker has built its app: one answering /healthz does not mean the others
    have, and a worker still starting would be measured as serving. Booted workers wait on
    their socket, so their CPU stops growing."""
    before = worker_cpu_seconds(master_pid)
    while time.monotonic() < deadline:
        time.sleep(0.3)
        now = worker_cpu_seconds(master_pid)
        if now - before < 0.02:
            return
        before = now


@contextmanager
def gunicorn(
    database_url: str, workers: int, port: int, log: Path, threads: int = 1
) -> Iterator[int]:
    """gunicorn with `workers` workers on 127.0.0.1:port, sync ones, or gthread ones with
    `threads` threads each when `threads` > 1; yields the master's pid."""
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL",)}
    env.update(
        MUSTER_BENCH_HASH_LOG=str(log.parent),
        DATABASE_URL=database_url,
        MUSTER_ENV="development",
        SECRET_KEY=env.get("SECRET_KEY") or "benchmarks-web-not-secret",
        NOTIFY_AFTER_PUBLISH="0",
    )
    app = "scheduler:create_app({'RATELIMIT_ENABLED': False})"
    kind = ["-k", "gthread", "--threads", str(threads)] if threads > 1 else ["-k", "sync"]
    command = [sys.executable, "-m", "gunicorn", "-w", str(workers), *kind]
    command += ["-b", f"127.0.0.1:{port}", "--timeout", "120", "--no-control-socket"]
    command += ["-c", "python:benchmarks.web_gunicorn", app]
    with log.open("ab") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=out)
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"gunicorn exited ({process.returncode}); see {log}")
            try:
                if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2).ok:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn did not answer within 60 s; see {log}")
            time.sleep(0.2)
        wait_for_workers(process.pid, deadline)
        yield process.pid
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# --- the data ---------------------------------------------------------------------------------


@dataclass
class Prepared:
    """What the scenarios need from the seeded database."""

    period_id: int
    days: list[date]
    starts: tuple[int, ...]  # the spans the period's grid shows, by start hour
    rostered_phones: list[str]  # demo volunteers with published shifts
    claim_key: str  # the post with one free place
    claimant_phones: list[str]
    claim_post: tuple[int, date, str, int]  # site, day, shift, role
    claim_headcount: int


def scratch_postgres(url: str) -> None:
    """Drop and create the database named in `url` (on 127.0.0.1 only)."""
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if not re.fullmatch(r"[a-z0-9_]+", name):
        raise SystemExit(f"scratch database name must be lowercase letters, digits, _: {name!r}")
    admin = f"postgresql://{parts.netloc}/postgres"
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')


def prepare(database_url: str, volunteers: int, claimants: int, solve_seconds: int) -> Prepared:
    """Migrate, seed the demo, generate and publish a roster, and leave one post of the period
    open for self-sign-up with exactly one free place, which `claimants` fresh volunteers
    (available, rested and qualified for it) may claim."""
    from flask_migrate import upgrade
    from sqlalchemy import delete, func, insert, select

    from scheduler import create_app, jobs
    from scheduler.extensions import db
    from scheduler.models import (
        VOLUNTEER,
        Assignment,
        Availability,
        PlanningPeriod,
        Role,
        Roster,
        Site,
        SolveRun,
        User,
        Volunteer,
        WorkUnit,
    )
    from scheduler.models.accounts import hash_password, name_sort_key
    from scheduler.models.base import utcnow
    from scheduler.models.rosters import PUBLISHED
    from scheduler.services import rosters, signup
    from scheduler.services.availability import period_starts
    from scheduler.services.coverage import held_in, roster_coverage
    from scheduler.services.demo import seed_demo
    from scheduler.services.publishing import publish

    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": database_url, "RATELIMIT_ENABLED": False}
        | {"NOTIFY_AFTER_PUBLISH": False, "REDIS_URL": None}
    )
    with app.app_context():
        upgrade()
        seed_demo(volunteers=volunteers, seed=1)
        db.session.commit()
        period = db.session.scalars(select(PlanningPeriod).order_by(PlanningPeriod.id)).first()
        assert period is not None
        run = rosters.start_run(
            period, [s.id for s in rosters.active_sites(period)], solve_seconds, None
        )
        jobs.execute_run(run.id)
        db.session.expire_all()
        run = db.session.get_one(SolveRun, run.id)
        if run.status != "succeeded":
            raise RuntimeError(f"the roster run failed: {run.error}")
        publish(period, None)
        db.session.commit()
        published = db.session.scalar(
            select(Roster.id).where(Roster.period_id == period.id, Roster.status == PUBLISHED)
        )
        rostered = list(
            db.session.scalars(
                select(User.phone)
                .join(Volunteer, Volunteer.user_id == User.id)
                .join(Assignment, Assignment.volunteer_id == Volunteer.id)
                .where(Assignment.roster_id == published, User.role == VOLUNTEER)
                .group_by(User.phone)
                .order_by(func.count(Assignment.id).desc(), User.phone)
            )
        )

        # The last free place: a fully staffed post of a role anyone may take, on the last day.
        period.self_signup_open = True
        draft = signup.ensure_draft(period)
        open_roles = {
            r.id
            for r in db.session.scalars(
                select(Role).where(Role.required_skill_id.is_(None), Role.is_lead.is_(False))
            )
        }
        # Fully staffed (people == head count): taking one person off leaves exactly one place.
        # The latest day first (far from any cut-off), day shifts before others.
        needs = roster_coverage(period, held_in(draft.id)).needs
        candidates = sorted(
            (
                key
                for key, count in needs.items()
                if key[3] in open_roles and count.needed >= 1 and count.held == count.needed
            ),
            key=lambda key: (-key[1].toordinal(), key[2] != "day", key),
        )
        if not candidates:
            raise RuntimeError("no fully staffed post of an open role to leave one place free")
        site_id, day, kind, role_id = candidates[0]
        taken = db.session.scalars(
            select(Assignment).where(
                Assignment.roster_id == draft.id,
                Assignment.site_id == site_id,
                Assignment.day == day,
                Assignment.shift == kind,
                Assignment.role_id == role_id,
            )
        ).all()
        db.session.execute(delete(Assignment).where(Assignment.id == taken[-1].id))
        site = db.session.get(Site, site_id)
        assert site is not None
        start, _end = site.shift_window(day, kind)  # the claimants offer exactly its hours

        unit = db.session.scalars(select(WorkUnit).order_by(WorkUnit.id)).first()
        shared_hash = hash_password(DEMO_PASSWORD)
        now = utcnow()
        phones = [f"+861710{n:07d}" for n in range(1, claimants + 1)]
        users = db.session.execute(
            insert(User).returning(User.id, sort_by_parameter_order=True),
            [
                {
                    "phone": phone,
                    "name": f"抢岗{n}",
                    "name_pinyin": name_sort_key(f"抢岗{n}"),
                    "password_hash": shared_hash,
                    "role": "volunteer",
                    "active": True,
                    "created_at": now,
                }
                for n, phone in enumerate(phones, 1)
            ],
        ).scalars()
        volunteer_ids = db.session.execute(
            insert(Volunteer).returning(Volunteer.id, sort_by_parameter_order=True),
            [
                {
                    "user_id": uid,
                    "work_unit_id": unit.id if unit else None,
                    "accepts_nights": True,
                    "weekly_cap": 7,
                    "consented_at": now,
                    "trained_at": now,
                }
                for uid in users
            ],
        ).scalars()
        db.session.execute(
            insert(Availability),
            [{"volunteer_id": v, "day": day, "start_hour": start.hour} for v in volunteer_ids],
        )
        db.session.commit()
        key = f"{period.id}:{site_id}:{day.isoformat()}:{kind}:{role_id}"
        first = db.session.scalar(select(Volunteer).join(User).where(User.phone == phones[0]))
        assert first is not None
        post = next((p for p in signup.eligible_posts(period, first) if p.key == key), None)
        if post is None or post.free != 1:
            raise RuntimeError(f"the claim post {key} is not open with one place: {post}")
        return Prepared(
            period_id=period.id,
            days=_days(period.start_date, period.end_date),
            starts=period_starts(period),
            rostered_phones=rostered,
            claim_key=key,
            claimant_phones=phones,
            claim_post=(site_id, day, kind, role_id),
            claim_headcount=post.headcount,
        )


def reopen_claim(database_url: str, prepared: Prepared) -> None:
    """Free the claim post's self-sign-up place again (each configuration claims it anew)."""
    from sqlalchemy import delete, select

    from scheduler import create_app
    from scheduler.extensions import db
    from scheduler.models import Assignment, Roster
    from scheduler.models.rosters import DRAFT, SOURCE_SELF_SIGNUP

    site_id, day, kind, role_id = prepared.claim_post
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "RATELIMIT_ENABLED": False})
    with app.app_context():
        db.session.execute(
            delete(Assignment).where(
                Assignment.roster_id.in_(
                    select(Roster.id).where(
                        Roster.period_id == prepared.period_id, Roster.status == DRAFT
                    )
                ),
                Assignment.site_id == site_id,
                Assignment.day == day,
                Assignment.shift == kind,
                Assignment.role_id == role_id,
                Assignment.source == SOURCE_SELF_SIGNUP,
            )
        )
        db.session.commit()
        db.engine.dispose()


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def count_rows(
    database_url: str,
    prepared: Prepared,
    registered: dict[str, set[tuple[date, int]]],
    run_prefix: str,
) -> dict[str, Any]:
    """Rows after a run: users of this run's phones vs successful registrations, availability
    vs each volunteer's final toggle state, duplicates, and the claimed post."""
    from sqlalchemy import func, select

    from scheduler import create_app
    from scheduler.extensions import db
    from scheduler.models import Assignment, Availability, Roster, User, Volunteer
    from scheduler.models.rosters import DRAFT, SOURCE_SELF_SIGNUP

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "RATELIMIT_ENABLED": False})
    with app.app_context():
        users = dict(
            db.session.execute(
                select(User.phone, Volunteer.id)
                .join(Volunteer, Volunteer.user_id == User.id)
                .where(User.phone.like(f"{run_prefix}%"))
            ).all()
        )
        rows: dict[int, set[tuple[date, int]]] = {}
        for vid, day, start_hour in db.session.execute(
            select(Availability.volunteer_id, Availability.day, Availability.start_hour).where(
                Availability.volunteer_id.in_(list(users.values()) or [0])
            )
        ):
            rows.setdefault(vid, set()).add((day, start_hour))
        mismatched = sorted(
            phone
            for phone, cells in registered.items()
            if rows.get(users.get(phone, 0), set()) != cells
        )
        duplicate_phones = db.session.scalar(
            select(func.count()).select_from(
                select(User.phone).group_by(User.phone).having(func.count() > 1).subquery()
            )
        )
        site_id, day, kind, role_id = prepared.claim_post
        draft = select(Roster.id).where(
            Roster.period_id == prepared.period_id, Roster.status == DRAFT
        )
        post = db.session.execute(
            select(Assignment.volunteer_id, Assignment.source).where(
                Assignment.roster_id.in_(draft),
                Assignment.site_id == site_id,
                Assignment.day == day,
                Assignment.shift == kind,
                Assignment.role_id == role_id,
            )
        ).all()
        return {
            "users_created": len(users),
            "registrations_ok": len(registered),
            "users_match": set(users) == set(registered),
            "availability_rows": sum(len(c) for c in rows.values()),
            "availability_expected": sum(len(c) for c in registered.values()),
            "availability_mismatched_volunteers": len(mismatched),
            "duplicate_phones": duplicate_phones,
            "claim_post_filled": len(post),
            "claim_post_headcount": prepared.claim_headcount,
            "claims_won": sum(1 for _v, source in post if source == SOURCE_SELF_SIGNUP),
            "claim_post_duplicate_volunteers": len(post) - len({v for v, _ in post}),
        }


# --- scenarios ---------------------------------------------------------------------------------


EXPECTED = {
    "GET /register": {200},
    "POST /register": {302},
    "GET /me": {200},
    "GET /me/availability": {200},
    "POST /me/availability/cell": {200},
    "POST /login": {302},
    "GET /me/signup": {200},
    "POST /me/signup/claim": {303},
}


def registration_form(token: str, phone: str, index: int) -> dict[str, str]:
    return {
        "csrf_token": token,
        "name": f"压测{index}",
        "phone": phone,
        "password": PASSWORD,
        "confirm": PASSWORD,
        "work_unit": "南通供电公司",
        "district": "0",
        "weekly_cap": "5",
        "accepts_nights": "y",
        "partner_phone": "",
        "emergency_name": "王大明",
        "emergency_phone": "13700137000",
        "consent": "y",
    }


def login(base: str, phone: str, password: str) -> Client:
    client = Client(base)
    token = client.token(client.request("GET /login", "GET", "/login").text)
    response = client.request(
        "POST /login",
        "POST",
        "/login",
        data={"csrf_token": token, "phone": phone, "password": password},
    )
    if response.status_code != 302:
        raise RuntimeError(f"login as {phone} failed: {response.status_code}")
    return client


def run_config(
    args: argparse.Namespace,
    database_url: str,
    prepared: Prepared,
    workers: int,
    run_index: int,
    log: Path,
    threads: int = 1,
) -> dict[str, Any]:
    base = f"http://127.0.0.1:{args.port}"
    run_prefix = f"+861700{run_index:02d}"
    phones = [f"{run_prefix}{n:05d}" for n in range(args.volunteers)]
    rng = random.Random(run_index)
    results: dict[str, Any] = {}
    with gunicorn(database_url, workers, args.port, log, threads) as master:

        def measured(name: str, clients: int, work: Callable[[Scenario, int, float], None]) -> None:
            scenario = Scenario(name)
            cpu = worker_cpu_seconds(master)
            client_cpu = time.process_time()
            start = time.monotonic()
            deadline = start + args.max_seconds
            run_threads(clients, lambda i: work(scenario, i, deadline), deadline)
            scenario.wall = time.monotonic() - start
            scenario.client_cpu = time.process_time() - client_cpu
            scenario.cpu = worker_cpu_seconds(master) - cpu
            results[name] = scenario.summary(EXPECTED)
            line = results[name]
            print(
                f"  {name:10} {line['requests']:6} req {line['rps']:8.1f}/s"
                f"  p50 {line['p50_ms']:7.1f}"
                f"  p95 {line['p95_ms']:7.1f}  p99 {line['p99_ms']:7.1f} ms  cpu/req "
                f"{line['server_cpu_ms_per_request']} ms  client cpu/req "
                f"{line['client_cpu_ms_per_request']} ms  errors {line['errors'] or 0}"
            )
            if len(line["by_request"]) > 1:
                for label, one in line["by_request"].items():
                    print(
                        f"    {label:28} {one['requests']:6} req  p50 {one['p50_ms']:7.1f}"
                        f"  p99 {one['p99_ms']:7.1f} ms"
                    )

        # register: every virtual volunteer once, spread over the clients.
        sessions: dict[str, Client] = {}
        registered: dict[str, set[tuple[date, int]]] = {}
        lock = threading.Lock()

        def register(scenario: Scenario, i: int, deadline: float) -> None:
            for n in range(i, len(phones), args.clients):
                if time.monotonic() > deadline:
                    return
                client = Client(base, scenario)
                page = client.request("GET /register", "GET", "/register")
                form = registration_form(client.token(page.text), phones[n], n)
                posted = client.request("POST /register", "POST", "/register", data=form)
                if posted.status_code == 302:
                    with lock:
                        sessions[phones[n]] = client
                        registered[phones[n]] = set()
                    client.request("GET /me", "GET", "/me")

        # The hash is timed again on both sides of the scenario: this VM's speed drifts by a
        # third within minutes, and the start's figure is minutes older than a later run's.
        # The workers time the hashes they compute during it too (benchmarks.web_gunicorn).
        hashed_before = hash_seconds()[1]
        window = time.monotonic()
        measured("register", args.clients, register)
        results["register"]["hash_ms_around"] = [
            round(hashed_before * 1000, 1),
            round(hash_seconds()[1] * 1000, 1),
        ]
        in_workers = worker_hash_seconds(log.parent, window, time.monotonic())
        results["register"]["hash_ms_in_workers"] = (
            round(statistics.fmean(in_workers) * 1000, 1) if in_workers else None
        )
        results["register"]["hashes_in_workers"] = len(in_workers)
        results["register"]["registrations"] = len(registered)
        results["register"]["registrations_per_s"] = round(
            len(registered) / results["register"]["wall_s"], 2
        )

        # taps: each new volunteer opens its grid and taps cells, some of them twice.
        volunteers = sorted(sessions)
        cells = [(d, h) for d in prepared.days[:7] for h in prepared.starts]
        cell_values = {(d, h): quote_plus(f"{d.isoformat()} {h:02d}") for d, h in cells}

        def taps(scenario: Scenario, i: int, deadline: float) -> None:
            for phone in volunteers[i :: args.clients]:
                client = sessions[phone]
                client.scenario = scenario
                week = prepared.days[0].isoformat()
                grid = client.request(
                    "GET /me/availability",
                    "GET",
                    f"/me/availability?period={prepared.period_id}&week={week}",
                )
                # The form as the grid posts it; only the cell changes from tap to tap.
                form = urlencode(
                    {
                        "csrf_token": client.token(grid.text),
                        "week": week,
                        "period": str(prepared.period_id),
                    }
                )
                state = registered[phone]
                for _ in range(args.taps):
                    if time.monotonic() > deadline:
                        return
                    day, start_hour = rng.choice(cells)
                    response = client.request(
                        "POST /me/availability/cell",
                        "POST",
                        "/me/availability/cell",
                        data=f"{form}&cell={cell_values[day, start_hour]}",
                        headers=HTMX,
                    )
                    if response.status_code == 200:
                        state.symmetric_difference_update({(day, start_hour)})

        measured("taps", args.clients, taps)

        # my_shifts: rostered demo volunteers open /me (their shifts, crews and leads).
        rostered = prepared.rostered_phones[: args.clients]
        logged_in = [login(base, phone, DEMO_PASSWORD) for phone in rostered]
        per_client = max(1, args.me_requests // max(1, len(logged_in)))

        def my_shifts(scenario: Scenario, i: int, deadline: float) -> None:
            client = logged_in[i]
            client.scenario = scenario
            for _ in range(per_client):
                if time.monotonic() > deadline:
                    return
                client.request("GET /me", "GET", "/me")

        measured("my_shifts", len(logged_in), my_shifts)

        # claim: the claimants load the sign-up page, then all claim the last place at once.
        claimants = [login(base, p, DEMO_PASSWORD) for p in prepared.claimant_phones]
        tokens = []
        for client in claimants:
            page = client.request("GET /me/signup", "GET", "/me/signup").text
            tokens.append(client.token(page))
        barrier = threading.Barrier(len(claimants))

        def claim(scenario: Scenario, i: int, deadline: float) -> None:
            client = claimants[i]
            client.scenario = scenario
            barrier.wait(timeout=60)
            client.request(
                "POST /me/signup/claim",
                "POST",
                "/me/signup/claim",
                data={"csrf_token": tokens[i], "post": prepared.claim_key},
            )

        reopen_claim(database_url, prepared)  # the place a previous configuration gave away
        measured("claim", len(claimants), claim)

    results["rows"] = count_rows(database_url, prepared, registered, run_prefix)
    return results


def worker_hash_seconds(folder: Path, start: float, end: float) -> list[float]:
    """The CPU seconds of each hash the workers finished between `start` and `end` (monotonic),
    from the logs benchmarks.web_gunicorn has them write into `folder`."""
    seconds = []
    for log in folder.glob("hash-*.log"):
        for line in log.read_text().splitlines():
            finished, cpu = (float(value) for value in line.split())
            if start <= finished <= end:
                seconds.append(cpu)
    return seconds


def hash_seconds(repeat: int = 5) -> tuple[str, float]:
    """The app's password hash method and the median time of one hash on this machine."""
    from werkzeug.security import generate_password_hash

    from scheduler.config import Config

    method = Config.PASSWORD_HASH_METHOD
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        generate_password_hash(PASSWORD, method=method)
        times.append(time.perf_counter() - start)
    return method, statistics.median(times)


def check_local(url: str) -> None:
    host = urlsplit(url).hostname
    if host not in LOCAL_HOSTS:
        raise SystemExit(f"only a local database is used (127.0.0.1), not {host!r}")


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--workers", default="2,4", help="gunicorn worker counts")
    parser.add_argument(
        "--threads",
        default="1",
        help="threads per worker, each count run with each worker count: 1 is gunicorn's sync "
        "worker, more a gthread worker (a thread waiting for the database, e.g. a commit's "
        "disk flush, leaves its process to the others)",
    )
    parser.add_argument(
        "--postgres",
        default="postgresql+psycopg://postgres@127.0.0.1:5432/muster_bench_web",
        help="a scratch database: dropped and created",
    )
    parser.add_argument("--port", type=int, default=5107)
    parser.add_argument("--clients", type=int, default=32, help="concurrent virtual users")
    parser.add_argument("--volunteers", type=int, default=320, help="registrations per run")
    parser.add_argument("--taps", type=int, default=10, help="taps per new volunteer")
    parser.add_argument("--me-requests", type=int, default=1600, help="GET /me in my_shifts")
    parser.add_argument("--claims", type=int, default=50, help="concurrent claims of one place")
    parser.add_argument("--seed-volunteers", type=int, default=300, help="demo pool size")
    parser.add_argument("--solve-seconds", type=int, default=10)
    parser.add_argument("--max-seconds", type=float, default=120, help="per scenario")
    parser.add_argument("--json", type=Path, help="write every figure to this file")
    args = parser.parse_args(argv)
    args.volunteers = min(args.volunteers, 99999)

    method, hashed = hash_seconds()
    cores = os.cpu_count() or 1
    bound = cores / hashed
    print(
        f"{cores} cores; one {method} hash {hashed * 1000:.0f} ms"
        f" -> bound {bound:.1f} registrations/s"
    )
    report: dict[str, Any] = {
        "machine": {"cores": cores, "hash_method": method, "hash_ms": round(hashed * 1000, 1)},
        "hash_bound_registrations_per_s": round(bound, 2),
        "arguments": {k: str(v) for k, v in vars(args).items()},
        "runs": [],
    }
    workdir = Path(tempfile.mkdtemp(prefix="muster-bench-web-"))
    log = workdir / "gunicorn.log"
    for database in args.databases.split(","):
        if database == "sqlite":
            url = f"sqlite:///{workdir / 'bench.sqlite'}"
        elif database == "postgresql":
            url = args.postgres
            check_local(url)
            scratch_postgres(url)
        else:
            parser.error(f"unknown database {database!r}")
        print(f"{database}: seeding, solving and publishing ...")
        prepared = prepare(url, args.seed_volunteers, args.claims, args.solve_seconds)
        configs = [
            (int(w), int(t)) for t in args.threads.split(",") for w in args.workers.split(",")
        ]
        for index, (workers, threads) in enumerate(configs):
            kind = f"gthread workers x {threads} threads" if threads > 1 else "sync workers"
            print(f"{database}, gunicorn {workers} {kind}, {args.clients} clients:")
            result = run_config(args, url, prepared, workers, index, log, threads)
            registered = result["register"]["registrations_per_s"]
            around = result["register"]["hash_ms_around"]
            local_bound = cores / (statistics.fmean(around) / 1000)
            result["register"]["hash_bound_registrations_per_s"] = round(local_bound, 2)
            result["register"]["share_of_hash_bound"] = round(registered / local_bound, 3)
            in_workers = result["register"]["hash_ms_in_workers"]
            worker_bound = cores / (in_workers / 1000) if in_workers else None
            result["register"]["share_of_worker_hash_bound"] = (
                round(registered / worker_bound, 3) if worker_bound else None
            )
            print(
                f"  registrations {registered}/s = {registered / local_bound:.0%} of the hash"
                f" bound (one hash {around[0]:.0f} ms before, {around[1]:.0f} ms after)"
                + (
                    f", {registered / worker_bound:.0%} of the bound from the hashes the workers"
                    f" computed during it ({in_workers:.0f} ms of CPU each)"
                    if worker_bound
                    else ""
                )
                + f"; rows {result['rows']}"
            )
            report["runs"].append(
                {"database": database, "workers": workers, "threads": threads, **result}
            )
    if args.json:
        args.json.write_text(json.dumps(report, indent=2, ensure_ascii=False, default=str))
        print(f"written {args.json}")
    return report


if __name__ == "__main__":
    main()
