"""Static files that browsers may keep for a year.

- Vendored files live in versioned folders (`static/vendor/<name>-<version>/`): a new version
  is a new URL, so what is behind a URL never changes.
- The app's own files (`static/css/...`) get their content hash in the URL (`?v=<hash>`,
  added to every `url_for('static', ...)`): a changed file is a new URL too.

Both are served with `Cache-Control: public, max-age=31536000, immutable`; a request without
the current hash (an old page, a hand-typed URL) gets Flask's default (`no-cache` with an ETag),
so it is never cached as something it is not. Compression is Flask-Compress's job
(`COMPRESS_ALGORITHM_STREAMING` in config.py: static files are streamed responses)."""

from __future__ import annotations

import hashlib
import os
import re
from typing import Any

from flask import Flask, Response, request

IMMUTABLE = "public, max-age=31536000, immutable"
VERSIONED_VENDOR = re.compile(r"^vendor/[a-z0-9_.-]+-\d+(\.\d+)*[a-z0-9.-]*/")

__all__ = ["IMMUTABLE", "content_hash", "init_app"]


class _Hashes:
    """Content hashes of static files, recomputed when a file's size or mtime changes (a stat per
    page render; the file is read only when it changed)."""

    def __init__(self, folder: str) -> None:
        self.folder = folder
        self._known: dict[str, tuple[tuple[int, int], str]] = {}

    def get(self, filename: str) -> str | None:
        path = os.path.join(self.folder, filename)
        try:
            stat = os.stat(path)
        except OSError:
            return None
        key = (stat.st_size, stat.st_mtime_ns)
        known = self._known.get(filename)
        if known is not None and known[0] == key:
            return known[1]
        with open(path, "rb") as handle:
            digest = hashlib.sha256(handle.read()).hexdigest()[:12]
        self._known[filename] = (key, digest)
        return digest


def content_hash(app: Flask, filename: str) -> str | None:
    """The hash put in the URL of `static/<filename>`, or None when there is no such file."""
    return app.extensions["muster_static_hashes"].get(filename)


def init_app(app: Flask) -> None:
    assert app.static_folder is not None
    hashes = _Hashes(app.static_folder)
    app.extensions["muster_static_hashes"] = hashes

    @app.url_defaults
    def hash_in_static_urls(endpoint: str, values: dict[str, Any]) -> None:
        if endpoint != "static" or "v" in values:
            return
        filename = values.get("filename")
        if not filename or VERSIONED_VENDOR.match(filename):
            return
        digest = hashes.get(filename)
        if digest is not None:
            values["v"] = digest

    @app.after_request
    def cache_forever_when_versioned(response: Response) -> Response:
        if request.endpoint != "static" or response.status_code not in (200, 304):
            return response
        filename = (request.view_args or {}).get("filename", "")
        versioned = bool(VERSIONED_VENDOR.match(filename)) or (
            request.args.get("v") is not None and request.args.get("v") == hashes.get(filename)
        )
        if versioned:
            response.headers["Cache-Control"] = IMMUTABLE
        return response
