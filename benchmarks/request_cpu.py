"""Server CPU and SQL statements per request of the call-up night's flow, in process.

    .venv/bin/python -m benchmarks.request_cpu                      # SQLite, a fresh seed
    .venv/bin/python -m benchmarks.request_cpu --database sqlite:////tmp/x.sqlite --reuse
    .venv/bin/python -m benchmarks.request_cpu --profile "POST tap"  # cProfile of one kind

The same requests as `benchmarks.web` (GET /register, POST /register, GET /me, the
availability grid, taps, /me of a rostered volunteer), but called straight through the WSGI
app with prepared environs: no HTTP, no client library in the measurement, only the app's own
CPU (time.process_time around the call and reading the body). The password hash of POST
/register is timed separately and subtracted. Load-independent enough to compare commits on a
busy machine (CPU time, not wall time); instruction counts (valgrind) are steadier still."""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterable
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from benchmarks.web import CSRF, DEMO_PASSWORD, prepare, registration_form

ROOT = Path(__file__).resolve().parent.parent


class Driver:
    """One browser: a cookie jar and the WSGI app, timing each call's CPU."""

    def __init__(self, app: Any, stats: Stats) -> None:
        self.app = app
        self.stats = stats
        self.cookies: dict[str, str] = {}

    def call(
        self, label: str, method: str, path: str, form: dict[str, str] | None = None, **h: str
    ) -> tuple[int, str]:
        from werkzeug.test import EnvironBuilder

        headers = {"Accept-Language": "zh-CN,zh;q=0.9", "Accept-Encoding": "gzip, deflate, br"}
        headers.update(h)
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = urlencode(form).encode() if form is not None else None
        builder = EnvironBuilder(
            path=path,
            method=method,
            headers=list(headers.items()),
            data=body,
            content_type="application/x-www-form-urlencoded" if body is not None else None,
        )
        environ = builder.get_environ()
        builder.close()
        seen: dict[str, Any] = {}

        def start_response(status: str, response_headers: list[tuple[str, str]], *_: Any) -> None:
            seen["status"] = int(status.split()[0])
            seen["headers"] = response_headers

        profiler = self.stats.profiler if label == self.stats.profile_label else None
        if self.stats.count_calls:
            profiler = cProfile.Profile()
        self.stats.begin()
        if profiler is not None:
            profiler.enable()
        chunks = self.app(environ, start_response)
        try:
            data = b"".join(chunks)
        finally:
            if hasattr(chunks, "close"):
                chunks.close()
        if profiler is not None:
            profiler.disable()
        self.stats.end(label)
        if self.stats.count_calls and profiler is not None:
            # total_calls is set by pstats at runtime and missing from typeshed's Stats
            self.stats.calls[label].append(pstats.Stats(profiler).total_calls)  # type: ignore[attr-defined]
        for name, value in seen["headers"]:
            if name.lower() == "set-cookie":
                cookie = SimpleCookie()
                cookie.load(value)
                for key, morsel in cookie.items():
                    self.cookies[key] = morsel.value
        encoding = {k.lower(): v for k, v in seen["headers"]}.get("content-encoding")
        if encoding == "br":
            import brotli

            data = brotli.decompress(data)
        elif encoding == "gzip":
            import gzip

            data = gzip.decompress(data)
        return seen["status"], data.decode("utf-8", "replace")


class Stats:
    """CPU seconds and statements per label; the hash's own CPU is kept apart."""

    def __init__(self) -> None:
        self.cpu: dict[str, list[float]] = defaultdict(list)
        self.statements: dict[str, list[int]] = defaultdict(list)
        self.calls: dict[str, list[int]] = defaultdict(list)
        self.trips: dict[str, list[int]] = defaultdict(list)
        self.backend: dict[str, list[float]] = defaultdict(list)
        self.backend_pids: set[int] | None = None  # PostgreSQL backends to read CPU of
        self._backend = 0.0
        self.round_trips: Any = None  # benchmarks.round_trips.RoundTrips when counted
        self.trip_counter: Any = None
        self._trips = 0
        self._commands = 0
        self.last_commands: dict[str, list[str]] = {}
        self.count_calls = False
        self.counter = 0
        self.hash_cpu = 0.0
        self._start = 0.0
        self._statements = 0
        self._hash = 0.0
        self.profiler: cProfile.Profile | None = None
        self.profile_label = ""
        self.current = ""

    def begin(self) -> None:
        self._statements = self.counter
        self._trips = self.round_trips.count if self.round_trips is not None else 0
        self._commands = len(self.round_trips.commands) if self.round_trips is not None else 0
        self._hash = self.hash_cpu
        if self.backend_pids is not None:
            self._backend = backend_cpu_seconds(self.backend_pids)
        self._start = time.process_time()

    def end(self, label: str) -> None:
        spent = time.process_time() - self._start - (self.hash_cpu - self._hash)
        self.cpu[label].append(spent)
        self.statements[label].append(self.counter - self._statements)
        if self.backend_pids is not None:
            self.backend[label].append(backend_cpu_seconds(self.backend_pids) - self._backend)
        if self.round_trips is not None:
            self.trips[label].append(self.round_trips.count - self._trips)
            self.last_commands[label] = self.round_trips.commands[self._commands :]


def backend_cpu_seconds(pids: set[int]) -> float:
    """CPU seconds the PostgreSQL backends `pids` (this process's connections, on this machine)
    have run: the scheduler's nanosecond count (/proc/PID/schedstat), not the 10 ms ticks of
    /proc/PID/stat. Read between requests, when the backends are idle, so it is up to date."""
    total = 0
    for pid in pids:
        try:
            total += int(Path(f"/proc/{pid}/schedstat").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            continue
    return total / 1e9


def summary(
    stats: Stats, skip: int
) -> list[tuple[str, int, float, float, float, float, float, float]]:
    rows = []
    for label, times in stats.cpu.items():
        kept = times[skip:] if len(times) > 2 * skip else times
        counts = stats.statements[label][-len(kept) :]
        calls = stats.calls[label][-len(kept) :]
        trips = stats.trips[label][-len(kept) :]
        backend = stats.backend[label][-len(kept) :]
        rows.append(
            (
                label,
                len(kept),
                statistics.median(kept) * 1000,
                statistics.fmean(kept) * 1000,
                statistics.fmean(counts),
                statistics.fmean(calls) if calls else 0.0,
                statistics.fmean(trips) if trips else 0.0,
                statistics.fmean(backend) * 1000 if backend else 0.0,
            )
        )
    return rows


def main(argv: Iterable[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", help="a database URL (default: a fresh SQLite file)")
    parser.add_argument("--reuse", action="store_true", help="the database is prepared already")
    parser.add_argument("--volunteers", type=int, default=60, help="registrations")
    parser.add_argument("--taps", type=int, default=10)
    parser.add_argument("--me", type=int, default=200, help="GET /me of rostered volunteers")
    parser.add_argument("--skip", type=int, default=10, help="warm-up requests per kind")
    parser.add_argument("--profile", help="cProfile this kind of request (its label)")
    parser.add_argument(
        "--profile-out",
        default="request_cpu.prof",
        help="where --profile writes its pstats file (default: request_cpu.prof here)",
    )
    parser.add_argument(
        "--calls",
        action="store_true",
        help="count Python function calls per request (deterministic, whatever the load; "
        "the CPU times are then inflated by the profiler)",
    )
    parser.add_argument(
        "--round-trips",
        action="store_true",
        help="count psycopg's round trips to PostgreSQL per request (BEGIN, COMMIT, ROLLBACK, "
        "PREPARE and pool pings included; benchmarks.round_trips)",
    )
    parser.add_argument(
        "--backend-cpu",
        action="store_true",
        help="also the CPU of this process's PostgreSQL backends per request (mean ms; the "
        "server on this machine, read from /proc)",
    )
    parser.add_argument("--solve-seconds", type=int, default=5)
    parser.add_argument("--repo", help="measure the app of another checkout (A/B)")
    args = parser.parse_args(list(argv) if argv is not None else None)

    if args.repo:
        sys.path.insert(0, str(Path(args.repo).resolve()))
    os.environ.setdefault("MUSTER_ENV", "development")
    os.environ.setdefault("SECRET_KEY", "benchmarks-request-cpu")
    url = args.database
    if url is None:
        url = f"sqlite:///{tempfile.mkdtemp(prefix='muster-request-cpu-')}/bench.sqlite"
    if not args.reuse:
        print("seeding, solving, publishing ...", file=sys.stderr)
        prepared = prepare(url, 300, 5, args.solve_seconds)
    else:
        prepared = None
    run(url, args, prepared)


def run(url: str, args: argparse.Namespace, prepared: Any) -> None:
    from sqlalchemy import event, select

    import scheduler.models.accounts as accounts
    from scheduler import create_app
    from scheduler.extensions import db
    from scheduler.models import Assignment, PlanningPeriod, Roster, User, Volunteer
    from scheduler.models.rosters import PUBLISHED
    from scheduler.services.availability import period_starts

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "RATELIMIT_ENABLED": False})
    stats = Stats()
    real_hash = accounts.generate_password_hash

    def timed_hash(*a: Any, **k: Any) -> str:
        start = time.process_time()
        try:
            return real_hash(*a, **k)
        finally:
            stats.hash_cpu += time.process_time() - start

    accounts.generate_password_hash = timed_hash

    with app.app_context():
        period = db.session.scalars(select(PlanningPeriod).order_by(PlanningPeriod.id)).first()
        assert period is not None
        period_id, week = period.id, period.start_date
        starts = period_starts(period)
        days = [week.fromordinal(week.toordinal() + i) for i in range(7)]
        published = db.session.scalar(
            select(Roster.id).where(Roster.period_id == period_id, Roster.status == PUBLISHED)
        )
        rostered = list(
            db.session.scalars(
                select(User.phone)
                .join(Volunteer, Volunteer.user_id == User.id)
                .join(Assignment, Assignment.volunteer_id == Volunteer.id)
                .where(Assignment.roster_id == published, User.role == "volunteer")
                .group_by(User.phone)
                .order_by(User.phone)
            )
        )[:20]
        engine = db.engine

    def count(*_a: Any) -> None:
        stats.counter += 1

    event.listen(engine, "before_cursor_execute", count)
    if args.backend_cpu and engine.dialect.name == "postgresql":
        pids: set[int] = set()

        def backend(dbapi_connection: Any, _record: Any) -> None:
            pids.add(dbapi_connection.info.backend_pid)

        engine.dispose()  # every connection from here on is seen connecting
        event.listen(engine, "connect", backend)
        stats.backend_pids = pids
    if args.round_trips:
        from benchmarks.round_trips import counting_round_trips

        # Counted until the process ends (the benchmark's last act); the context manager is
        # kept referenced, or its generator would be collected and stop counting.
        stats.trip_counter = counting_round_trips()
        stats.round_trips = stats.trip_counter.__enter__()
    cells = [(d, h) for d in days for h in starts]
    profiler = cProfile.Profile() if args.profile else None
    stats.profiler, stats.profile_label = profiler, args.profile or ""
    stats.count_calls = args.calls

    def go(driver: Driver, label: str, *a: Any, **k: Any) -> tuple[int, str]:
        return driver.call(label, *a, **k)

    tag = f"{int(time.time()) % 100000:05d}"
    for n in range(args.volunteers):
        driver = Driver(app, stats)
        status, page = go(driver, "GET /register", "GET", "/register")
        match = CSRF.search(page)
        assert status == 200, status
        assert match is not None
        phone = f"+86170{tag}{n:03d}"
        form = registration_form(match.group(1), phone, n)
        status, _ = go(driver, "POST /register", "POST", "/register", form)
        assert status == 302, (status, _[:2000])
        status, _ = go(driver, "GET /me (new)", "GET", "/me")
        assert status == 200, status
        query = urlencode({"period": period_id, "week": week.isoformat()})
        status, grid = go(driver, "GET availability", "GET", f"/me/availability?{query}")
        match = CSRF.search(grid)
        assert status == 200, status
        assert match is not None
        for t in range(args.taps):
            day, hour = cells[(n * 7 + t * 5) % len(cells)]
            status, _ = go(
                driver,
                "POST tap",
                "POST",
                "/me/availability/cell",
                {
                    "csrf_token": match.group(1),
                    "cell": f"{day.isoformat()} {hour:02d}",
                    "week": week.isoformat(),
                    "period": str(period_id),
                },
                **{"HX-Request": "true"},
            )
            assert status == 200, (status, _[:500])
    drivers = []
    for phone in rostered:
        driver = Driver(app, stats)
        _, page = driver.call("GET /login", "GET", "/login")
        match = CSRF.search(page)
        assert match
        form = {"csrf_token": match.group(1), "phone": phone, "password": DEMO_PASSWORD}
        status, _ = driver.call("POST /login", "POST", "/login", form)
        assert status == 302, status
        drivers.append(driver)
    for i in range(args.me):
        status, _ = go(drivers[i % len(drivers)], "GET /me (rostered)", "GET", "/me")
        assert status == 200, status
    del stats.cpu["GET /login"], stats.cpu["POST /login"]
    print(
        f"{'request':22} {'n':>5} {'median ms':>10} {'mean ms':>9} {'SQL':>6} {'calls':>8}"
        f" {'trips':>6} {'pg ms':>6}"
    )
    for label, n, median, mean, sql, calls, trips, pg in summary(stats, args.skip):
        print(
            f"{label:22} {n:5} {median:10.2f} {mean:9.2f} {sql:6.2f} {calls:8.0f} {trips:6.2f}"
            f" {pg:6.2f}"
        )
    for label, commands in stats.last_commands.items():
        print(f"{label}: {' '.join(commands)}")
    if profiler is not None:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(60)
        print(out.getvalue())
        pstats.Stats(profiler).dump_stats(args.profile_out)


if __name__ == "__main__":
    main()
