"""Page weight and server time of Muster's pages, as a logged-in user sees them.

    DATABASE_URL=sqlite:///instance/muster.sqlite python -m benchmarks.pages \\
        --phone 13912340002 --password muster-demo-2 /coordinator/periods/1/roster ...

Runs the app in-process (no server), logs in through the real login form, then asks for each
URL `--repeat` times with `Accept-Encoding: br` and once without, and prints, per URL: the
status, the median server time, and the bytes over the wire (brotli) and uncompressed. The
defaults are the demo coordinator of `flask seed-demo`. Times are medians of one run on a
shared machine: compare them within a run, not across machines.
"""

from __future__ import annotations

import argparse
import re
import statistics
import time

from scheduler import create_app

# The login form's CSRF token: itsdangerous' base64 of a JSON string, a timestamp, a signature.
CSRF_TOKEN = re.compile(rb'name="csrf_token" value="([\w.-]+)"')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("urls", nargs="+", help="paths to measure, e.g. /coordinator/")
    parser.add_argument("--phone", default="13912340002", help="login (demo coordinator)")
    parser.add_argument("--password", default="muster-demo-2")
    parser.add_argument("--repeat", type=int, default=3, help="requests per URL (median)")
    args = parser.parse_args()

    app = create_app({"RATELIMIT_ENABLED": False})
    client = app.test_client()
    token = CSRF_TOKEN.search(client.get("/login").data)
    if token is None:
        parser.error("no CSRF token on /login")
    login = client.post(
        "/login",
        data={"phone": args.phone, "password": args.password, "csrf_token": token.group(1)},
    )
    if login.status_code not in (302, 303):
        parser.error(f"login as {args.phone} failed ({login.status_code})")

    print(f"{'url':60} status  median s  br bytes  raw bytes")
    for url in args.urls:
        times, packed = [], b""
        for _ in range(max(1, args.repeat)):
            start = time.perf_counter()
            response = client.get(url, headers={"Accept-Encoding": "br"})
            times.append(time.perf_counter() - start)
            packed = response.data
        raw = client.get(url).data
        median = statistics.median(times)
        print(f"{url:60} {response.status_code:6} {median:9.2f} {len(packed):9} {len(raw):10}")


if __name__ == "__main__":
    main()
