"""A user's sort key (pinyin) is computed when the name changes, not again when the same name
is set once more (registration sets it twice)."""

from __future__ import annotations

import pytest
from flask import Flask

from scheduler.models import User, accounts


def test_same_name_twice_computes_the_key_once(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    computed: list[str] = []
    real = accounts.name_sort_key

    def counting(name: str) -> str:
        computed.append(name)
        return real(name)

    monkeypatch.setattr(accounts, "name_sort_key", counting)
    user = User(name="张三", phone="+8613900139555", password_hash="x")
    user.name = "张三"
    assert computed == ["张三"]
    assert user.name_pinyin == "zhang san"
    user.name = "李四"
    assert user.name_pinyin == "li si"
    assert computed == ["张三", "李四"]
