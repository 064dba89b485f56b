"""The app asks once per function whether it is a coroutine function (scheduler._Muster):
the same answer as Flask's, async views still run, hooks of one request are not kept without
bound."""

from __future__ import annotations

import inspect
from typing import Any

from flask import Flask, after_this_request

import scheduler


def test_plain_functions_come_back_as_they_are_and_are_asked_once(
    app: Flask, monkeypatch: Any
) -> None:
    asked: list[object] = []
    real = inspect.iscoroutinefunction

    def counting(func: object) -> bool:
        asked.append(func)
        return real(func)

    monkeypatch.setattr("flask.app.iscoroutinefunction", counting)

    def hook() -> None:
        pass

    assert app.ensure_sync(hook) is hook
    assert app.ensure_sync(hook) is hook
    assert asked == [hook]


def test_a_coroutine_function_is_still_made_synchronous(app: Flask, monkeypatch: Any) -> None:
    # Flask runs it through async_to_sync (which needs Flask's async extra, not installed).
    made: list[object] = []

    def async_to_sync(func: Any) -> Any:
        made.append(func)
        return lambda: "ran"

    monkeypatch.setattr(app, "async_to_sync", async_to_sync)

    async def view() -> str:
        return "hello"

    assert app.ensure_sync(view)() == "ran"
    assert app.ensure_sync(view)() == "ran"
    assert made == [view]  # remembered, like a plain function


def test_an_unhashable_callable_is_not_remembered(app: Flask) -> None:
    class Unhashable:
        __hash__ = None  # type: ignore[assignment]  # the point of the test

        def __call__(self) -> str:
            return "called"

    callable_object = Unhashable()
    assert app.ensure_sync(callable_object) is callable_object


def test_hooks_of_single_requests_are_kept_up_to_the_bound(app: Flask, monkeypatch: Any) -> None:
    monkeypatch.setattr(scheduler, "_MAX_SYNC", len(app._sync) + 3)  # type: ignore[attr-defined]  # the subclass's memo
    for _ in range(10):
        with app.test_request_context("/"):

            @after_this_request
            def hook(response: Any) -> Any:
                return response

            app.process_response(app.response_class("ok"))
    assert len(app._sync) <= scheduler._MAX_SYNC  # type: ignore[attr-defined]  # the subclass's memo
