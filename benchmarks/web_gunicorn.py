"""gunicorn settings for `benchmarks.web`: each worker times the password hashes it computes.

    gunicorn -c python:benchmarks.web_gunicorn ...   (with MUSTER_BENCH_HASH_LOG=<folder>)

The hash bound (cores / one hash) is only as good as the hash time it divides by, and this
machine's speed drifts by a third within minutes: a hash timed in the benchmark's own process
before or after a scenario is not the hash the workers paid during it. Here each worker appends,
for every hash it computes, the monotonic time it finished (one clock for every process) and the
CPU time it took (its thread's, so a gthread worker's other threads are not counted) to
`<folder>/hash-<pid>.log`; the benchmark reads back the hashes of each scenario's window."""

from __future__ import annotations

import os
import time
from typing import Any


def post_worker_init(worker: Any) -> None:
    folder = os.environ.get("MUSTER_BENCH_HASH_LOG")
    if not folder:
        return
    import scheduler.models.accounts as accounts

    real_hash = accounts.generate_password_hash
    log = open(os.path.join(folder, f"hash-{os.getpid()}.log"), "a", buffering=1)  # noqa: SIM115

    def timed_hash(*args: Any, **kwargs: Any) -> str:
        start = time.thread_time()
        try:
            return real_hash(*args, **kwargs)
        finally:
            log.write(f"{time.monotonic():.6f} {time.thread_time() - start:.6f}\n")

    accounts.generate_password_hash = timed_hash
