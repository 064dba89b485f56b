"""The one place that reads HX-* headers and decides between a whole page and a fragment."""

from __future__ import annotations

from typing import Any

from flask import Response, make_response, render_template, request


def is_htmx() -> bool:
    """A request that wants a fragment. History restores (after a cache miss on Back) carry
    HX-Request too, but must get the whole page."""
    headers = request.headers
    return (
        headers.get("HX-Request") == "true" and headers.get("HX-History-Restore-Request") != "true"
    )


def render(page: str, fragment: str, status: int = 200, **context: Any) -> Response:
    """Render `fragment` for htmx requests and `page` (which includes the fragment) otherwise.
    The response varies on HX-Request so caches never serve one in place of the other."""
    template = fragment if is_htmx() else page
    response = make_response(render_template(template, **context), status)
    response.headers.add("Vary", "HX-Request")
    return response
