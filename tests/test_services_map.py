"""The map in scheduler/services/__init__.py stays true: it names every service module and
every blueprint module (so a newcomer finds each from its feature), and nothing that is gone."""

from __future__ import annotations

import re
from pathlib import Path

import scheduler.services

SCHEDULER = Path(scheduler.services.__file__).resolve().parent.parent
BLUEPRINTS = ("admin", "auth", "checkin", "coordinator", "main", "sheets", "volunteer")


def _map() -> str:
    doc = scheduler.services.__doc__
    assert doc is not None
    return doc


def test_the_map_names_every_service_module() -> None:
    words = set(re.findall(r"\w+", _map()))
    services = {p.stem for p in (SCHEDULER / "services").glob("*.py")} - {"__init__"}
    assert services - words == set()


def test_the_map_names_every_blueprint_module_and_no_missing_one() -> None:
    named = set(re.findall(r"\b(" + "|".join(BLUEPRINTS) + r")/(\w+)\b", _map()))
    modules = {
        (package, p.stem)
        for package in BLUEPRINTS
        for p in (SCHEDULER / package).glob("*.py")
        if p.stem != "__init__"
    }
    assert modules - named == set()
    assert named - modules == set()


def test_the_map_names_only_template_folders_that_exist() -> None:
    folders = set(re.findall(r"\b(\w+)/\s*$", _map(), flags=re.MULTILINE))
    templates = SCHEDULER.parent / "templates"
    assert folders, "the table's last column lists template folders"
    assert {f for f in folders if not (templates / f).is_dir()} == set()
