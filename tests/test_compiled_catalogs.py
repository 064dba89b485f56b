"""The catalogs are compiled once per test session (tests/conftest.py), before any test runs:
whatever the test order or xdist worker, the .mo files on disk say what the .po files say."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from babel.messages.catalog import Message
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from tests.fixtures.translations import TRANSLATIONS, compile_catalogs


def _frozen(value: object) -> object:
    return tuple(value) if isinstance(value, list | tuple) else value


def _translations(catalog: Iterable[Message]) -> dict[object, object]:
    """msgid -> msgstr of every translated, non-fuzzy message (plurals as tuples)."""
    return {
        _frozen(m.id): _frozen(m.string)
        for m in catalog
        if m.id
        and (all(m.string) if isinstance(m.string, list | tuple) else m.string)
        and not m.fuzzy
        and not m.context  # babel's read_mo does not split msgctxt back out
    }


def test_the_session_compiled_every_catalog_from_its_current_po() -> None:
    pos = sorted(TRANSLATIONS.glob("*/LC_MESSAGES/messages.po"))
    assert {p.parent.parent.name for p in pos} >= {"zh_Hans", "en"}
    for po_path in pos:
        mo_path = po_path.with_suffix(".mo")
        assert mo_path.exists(), mo_path
        with po_path.open("rb") as f:
            wanted = _translations(read_po(f))
        with mo_path.open("rb") as f:
            compiled = _translations(read_mo(f))
        stale = {k: v for k, v in wanted.items() if compiled.get(k) != v}
        assert not stale, f"{mo_path} is stale: {list(stale)[:3]}"


def test_compile_catalogs_writes_each_mo_whole(tmp_path: Path) -> None:
    po = tmp_path / "zh_Hans" / "LC_MESSAGES" / "messages.po"
    po.parent.mkdir(parents=True)
    po.write_text('msgid ""\nmsgstr ""\n\nmsgid "Log in"\nmsgstr "登录"\n', encoding="utf-8")
    [mo] = compile_catalogs(tmp_path)
    with mo.open("rb") as f:
        assert _translations(read_mo(f)) == {"Log in": "登录"}
    # No temporary file is left behind.
    assert {p.name for p in mo.parent.iterdir()} == {"messages.po", "messages.mo"}
