"""Whether a change leaves a page byte for byte as it was, for every user of a database.

    .venv/bin/python -m benchmarks.same_pages --database URL --repo /work/main --out /tmp/a
    .venv/bin/python -m benchmarks.same_pages --database URL --repo . --out /tmp/b
    .venv/bin/python -m benchmarks.same_pages --compare /tmp/a /tmp/b

The first two runs ask for `--path` (default /me) as every account of the database, in Chinese
and in English, with the app of one checkout (`--repo`: another checkout's app, for an A/B),
the clock set to `--now` (so both runs see the same upcoming, past and too-late-to-cancel
shifts), and write each answer (status, redirect target, body with its CSRF tokens blanked)
to a file of `--out`. The third says which files differ. Every account is logged in by its
session cookie (no password hashing): a database of the benchmarks (benchmarks.web,
benchmarks.request_cpu) with a published roster makes a few hundred pages in seconds."""

from __future__ import annotations

import argparse
import filecmp
import os
import re
import sys
from datetime import UTC, datetime
from pathlib import Path

# Every CSRF token of a page: the one htmx sends (hx-headers) and each form's hidden field.
CSRF_TOKEN = re.compile(r'(?<=X-CSRFToken": ")[^"]+|(?<=name="csrf_token" value=")[^"]+')


def dump(url: str, out: Path, path: str, now: datetime) -> int:
    """Write `path` as every account of `url` sees it, in zh and en, into `out`."""
    os.environ.setdefault("MUSTER_ENV", "development")
    os.environ.setdefault("SECRET_KEY", "benchmarks-same-pages")
    from sqlalchemy import select

    from scheduler import create_app
    from scheduler.extensions import db
    from scheduler.models import User
    from scheduler.models.base import set_clock
    from scheduler.sessions import SESSION_KEY, password_version

    set_clock(now)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "RATELIMIT_ENABLED": False})
    with app.app_context():
        users = [
            (user.id, password_version(user))
            for user in db.session.scalars(select(User).order_by(User.id))
        ]
    out.mkdir(parents=True, exist_ok=True)
    for user_id, version in users:
        for lang in ("zh", "en"):
            client = app.test_client()
            with client.session_transaction() as session:
                session["_user_id"] = str(user_id)
                session["_fresh"] = True
                session[SESSION_KEY] = version
                session["lang"] = lang
            response = client.get(path)
            body = CSRF_TOKEN.sub("token", response.get_data(as_text=True))
            head = f"{response.status_code} {response.headers.get('Location', '')}\n"
            (out / f"{user_id}-{lang}.html").write_text(head + body, encoding="utf-8")
    return 2 * len(users)


def compare(first: Path, second: Path) -> list[str]:
    """The files of `first` and `second` that differ or are missing from one of them."""
    found = filecmp.dircmp(first, second)
    _match, mismatch, errors = filecmp.cmpfiles(first, second, found.common_files, shallow=False)
    return sorted(mismatch + errors + found.left_only + found.right_only)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", help="the database URL to read the pages from")
    parser.add_argument("--repo", help="the checkout whose app answers (default: this one)")
    parser.add_argument("--out", type=Path, help="where to write the pages")
    parser.add_argument("--path", default="/me", help="the page every account asks for")
    parser.add_argument(
        "--now",
        type=datetime.fromisoformat,
        default=datetime(2026, 12, 8, 6, 30, tzinfo=UTC),
        help="the app's clock (ISO, with its offset)",
    )
    parser.add_argument("--compare", nargs=2, type=Path, metavar="DIR")
    args = parser.parse_args()
    if args.compare:
        differ = compare(*args.compare)
        total = len(list(args.compare[0].iterdir()))
        print(f"{total} pages, {len(differ)} differ{': ' if differ else ''}{' '.join(differ)}")
        sys.exit(1 if differ else 0)
    if not args.database or not args.out:
        parser.error("--database and --out (or --compare)")
    if args.repo:
        sys.path.insert(0, str(Path(args.repo).resolve()))
    print(f"{dump(args.database, args.out, args.path, args.now)} pages")


if __name__ == "__main__":
    main()
