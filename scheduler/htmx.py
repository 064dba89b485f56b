"""The one place that reads and writes HX-* headers: it decides between a whole page and a
fragment, marks answers that vary on HX-Request, and retargets a swap."""

from __future__ import annotations

from typing import Any

from flask import make_response, render_template, request
from werkzeug.wrappers import Response


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
    return varies(make_response(render_template(template, **context), status))


def fragment(template: str, *, status: int = 200, **context: Any) -> Response:
    """Render `template` alone, for a URL that answers htmx with it and others otherwise."""
    return varies(make_response(render_template(template, **context), status))


def varies(response: Response) -> Response:
    """Mark `response` as depending on HX-Request (`Vary`), so a cache never serves a
    fragment in place of a page or the other way round."""
    response.headers.add("Vary", "HX-Request")
    return response


# Events the roster page's parts listen for (hx-trigger="… from:body"): a run was started, or
# the run a status fragment followed has ended (the draft and the generate form reload).
RUN_STARTED, RUN_FINISHED = "roster-run-started", "roster-run-finished"


def trigger(response: Response, event: str) -> Response:
    """Have htmx fire `event` on the element that asked (it bubbles to <body>), so other parts
    of the page can reload themselves (`HX-Trigger`)."""
    response.headers["HX-Trigger"] = event
    return response


def retarget(response: Response, selector: str) -> Response:
    """Have htmx swap `response` over the element `selector` (outerHTML) instead of the
    element that asked."""
    response.headers["HX-Retarget"] = selector
    response.headers["HX-Reswap"] = "outerHTML"
    return response
