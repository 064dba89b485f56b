"""A worker's first requests compile nothing (scheduler.warm_up), and compiled templates are
shared between processes through the bytecode cache."""

from collections.abc import Callable
from typing import Any, NoReturn

import pytest
from flask import Flask


def _no_compiling(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    def compile_template(*_a: Any, **_k: Any) -> NoReturn:
        raise AssertionError("a template was compiled while serving")

    monkeypatch.setattr(app.jinja_env, "compile", compile_template)


def test_a_warmed_app_serves_its_first_pages_without_compiling(
    app_factory: Callable[..., Flask], monkeypatch: pytest.MonkeyPatch
) -> None:
    app = app_factory(WARM_UP=True)
    _no_compiling(app, monkeypatch)
    client = app.test_client()

    for path in ("/register", "/login", "/healthz"):
        assert client.get(path).status_code == 200, path
    assert client.get("/register", headers={"Accept-Language": "zh-CN"}).status_code == 200


def test_every_template_is_compiled_when_the_app_is_built(
    app_factory: Callable[..., Flask],
) -> None:
    app = app_factory(WARM_UP=True)

    names = app.jinja_env.list_templates()
    assert names
    assert app.jinja_env.cache is not None
    cached = {name for _loader, name in app.jinja_env.cache}
    assert cached >= set(names)


def test_a_second_process_loads_what_the_first_compiled(
    app_factory: Callable[..., Flask], monkeypatch: pytest.MonkeyPatch
) -> None:
    first = app_factory()
    with first.app_context():
        first.jinja_env.get_template("auth/register.html")
    second = app_factory()  # its own environment and in-memory cache, the same bytecode cache
    _no_compiling(second, monkeypatch)

    assert second.test_client().get("/register").status_code == 200
