"""Availability taps in process: CPU and SQL statements per tap through Flask's test client.

    .venv/bin/python -m benchmarks.tap_loop                  # this checkout
    .venv/bin/python benchmarks/tap_loop.py /work/main kind  # another checkout, old cell values

`kind` posts the old cell values ('2026-12-08 night'), `hour` the spans ('2026-12-08 00').
One volunteer, one open period, SQLite in a temporary folder, 20 warm-up taps, then N taps
cycling over 42 cells (each tap flips one on or off). Reports CPU (user and system) and wall
time per tap and SQL statements per tap. No HTTP server: benchmarks/web.py measures that."""

from __future__ import annotations

import os
import resource
import sys
import tempfile
import time
from datetime import date

N = 500


def main(repo: str, fmt: str) -> None:
    sys.path.insert(0, repo)
    os.chdir(repo)
    from sqlalchemy import event

    from scheduler.extensions import db
    from scheduler.models import PlanningPeriod, Volunteer
    from scheduler.services.accounts import create_account
    from scheduler.services.catalogue import ensure_default_catalogue
    from tests.fixtures.app import build_app

    app = build_app(f"sqlite:///{tempfile.mkdtemp()}/taps.sqlite", RATELIMIT_ENABLED=False)
    with app.app_context():
        db.create_all()
        ensure_default_catalogue()
        user = create_account(
            name="王", phone="13800000001", password="password-123", role="volunteer",
            volunteer=Volunteer(),
        )  # fmt: skip
        db.session.add(
            PlanningPeriod(
                name="p", start_date=date(2026, 12, 7), end_date=date(2026, 12, 20), is_open=True
            )
        )
        db.session.commit()
        phone, engine = user.phone, db.engine
    statements = [0]

    def count(*_args: object) -> None:
        statements[0] += 1

    event.listen(engine, "before_cursor_execute", count)
    client = app.test_client()
    response = client.post("/login", data={"phone": phone, "password": "password-123"})
    assert response.status_code in (302, 303), response.status_code
    spans = (("night", "00"), ("day", "08"), ("evening", "16"))
    cells = [
        f"2026-12-{d:02d} {kind if fmt == 'kind' else hour}"
        for d in range(7, 21)
        for kind, hour in spans
    ]
    headers = {"HX-Request": "true"}
    for cell in cells[:20]:
        client.post("/me/availability/cell", data={"cell": cell}, headers=headers)
    statements[0] = 0
    before = resource.getrusage(resource.RUSAGE_SELF)
    cpu, wall = time.process_time(), time.perf_counter()
    for i in range(N):
        response = client.post(
            "/me/availability/cell", data={"cell": cells[i % len(cells)]}, headers=headers
        )
        assert response.status_code == 200, response.status_code
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    after = resource.getrusage(resource.RUSAGE_SELF)
    user_ms = (after.ru_utime - before.ru_utime) / N * 1000
    system_ms = (after.ru_stime - before.ru_stime) / N * 1000
    print(
        f"{repo}: {N} taps, CPU {cpu / N * 1000:.2f} ms/tap (user {user_ms:.2f}, "
        f"system {system_ms:.2f}), wall {wall / N * 1000:.2f} ms/tap, "
        f"SQL {statements[0] / N:.2f} statements/tap"
    )


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else ".", sys.argv[2] if len(sys.argv) > 2 else "hour")
