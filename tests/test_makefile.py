"""`make run` on a fresh machine: the printed sheets need the Chinese font, so `run` installs it
(like `make test` does) before it serves, without the test-only packages."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def dry_run(target: str) -> list[str]:
    """The shell lines `make <target>` would run (`make -n`: nothing is executed)."""
    out = subprocess.run(
        ["make", "-n", "-C", str(ROOT), target],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return out.splitlines()


def installed_packages(lines: list[str]) -> set[str]:
    packages: set[str] = set()
    for line in lines:
        m = re.search(r"for p in ([^;]+); do dpkg -s", line)
        if m:
            packages.update(m.group(1).split())
    return packages


def test_run_installs_the_font_the_sign_in_sheets_need_before_serving():
    lines = dry_run("run")
    assert "fonts-wqy-microhei" in installed_packages(lines)
    install = next(i for i, line in enumerate(lines) if "dpkg -s" in line)
    serve = next(i for i, line in enumerate(lines) if " run --host" in line)
    assert install < serve
    # the browser and pdftotext are only for the tests
    assert not {"chromium", "poppler-utils"} & installed_packages(lines)


def test_test_still_installs_everything_the_tests_use():
    assert {"fonts-wqy-microhei", "chromium", "poppler-utils"} <= installed_packages(
        dry_run("test")
    )
