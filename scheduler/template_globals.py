"""`url_for` and `csrf_token` as templates call them, at a fraction of the libraries' cost and
with the same answers. /me calls url_for about forty times (three per shift card) and
csrf_token once per confirm form; Flask's url_for walks the request context, the blueprint
and every url_defaults function to build each one, Flask-WTF's csrf_token reads its settings
from the config each time.

- url_for: a URL whose values are only integers (an id) or none is built once per process and
  script root as a pattern, then filled in. A static file's URL is built once per file, script
  root and content hash (the hash is looked up on every call, see static_assets; a versioned
  vendor file has none). Everything
  else -- other static calls, blueprint-relative endpoints,
  `_anchor`/`_external`/..., string values, no request -- goes to Flask's url_for as before.
  The patterns are of the URL map, which does not change while the process runs; no user
  data is kept.
- csrf_token: Flask-WTF's own token of this request, once it has made it (it keeps it in `g`
  for the rest of the request and answers it from there).

`install(app)` puts them in place of the libraries' globals and Flask-WTF's context value (after
CSRFProtect's init_app)."""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, g, has_request_context, request, url_for
from flask_wtf.csrf import generate_csrf

from scheduler.static_assets import VERSIONED_VENDOR, content_hash

# Integers that stand for the values while a pattern is built (distinct, never real ids).
_SENTINEL = 2_000_000_000
_patterns: dict[tuple[str, tuple[str, ...], str], str | None] = {}


def template_url_for(endpoint: str, **values: Any) -> str:
    """`url_for(endpoint, **values)`, from a pattern when the values are only integers."""
    if endpoint == "static":
        return _static_url(values)
    if (
        endpoint[:1] == "."
        or not has_request_context()
        or (values and any(type(v) is not int or k[:1] == "_" for k, v in values.items()))
    ):
        return url_for(endpoint, **values)
    key = (endpoint, tuple(values), request.script_root)
    try:
        pattern = _patterns[key]
    except KeyError:
        pattern = _patterns[key] = _pattern(endpoint, key[1])
    if pattern is None:
        return url_for(endpoint, **values)
    return pattern.format_map(values)  # also with no values: it undoes the braces' escape


# Static URLs by file, script root and the file's content hash (which url_for puts in them:
# static_assets); the hash is asked on every call, so a changed file gets its new URL at once
# (a versioned vendor file has none: its folder's name changes instead).
_static: dict[tuple[str, str, str | None], str] = {}
_MAX_STATIC = 1000


def _static_url(values: dict[str, Any]) -> str:
    """`url_for("static", filename=...)`, built once per file, script root and content hash."""
    filename = values.get("filename")
    if len(values) != 1 or type(filename) is not str or not has_request_context():
        return url_for("static", **values)
    # A versioned vendor file's URL carries no hash (static_assets): no need to look it up.
    digest = None if VERSIONED_VENDOR.match(filename) else content_hash(current_app, filename)
    key = (filename, request.script_root, digest)
    url = _static.get(key)
    if url is None:
        url = url_for("static", filename=filename)
        if len(_static) < _MAX_STATIC:
            _static[key] = url
    return url


def _pattern(endpoint: str, names: tuple[str, ...]) -> str | None:
    """The URL with `{name}` where each value goes, or None when a value does not appear in it
    exactly once as its decimal digits (then url_for builds every one)."""
    stand_ins: dict[str, Any] = {name: _SENTINEL + n for n, name in enumerate(names)}
    built = url_for(endpoint, **stand_ins).replace("{", "{{").replace("}", "}}")
    for name, number in stand_ins.items():
        if built.count(str(number)) != 1:
            return None
        built = built.replace(str(number), "{" + name + "}")
    return built


def csrf_token() -> str:
    """Flask-WTF's `generate_csrf()`: its token of this request, straight from `g` once made."""
    token: str | None = g.get(_field_name)
    return token if token is not None else generate_csrf()


_field_name = "csrf_token"


def install(app: Flask) -> None:
    global _field_name
    _field_name = app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
    app.jinja_env.globals.update(url_for=template_url_for, csrf_token=csrf_token)
    # Flask-WTF also puts its own in every render_template context: this one, registered
    # after it, wins.
    app.context_processor(_csrf_token_in_context)


def _csrf_token_in_context() -> dict[str, Any]:
    return {"csrf_token": csrf_token}
