"""The organisation-tree migration maps a database of today's rows without loss: every
volunteer, site and period gets a node, work units sit under the district most of their
volunteers are in, and coordinators become coordinators of the city union."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import text

from scheduler.extensions import db
from tests.fixtures.app import build_app
from tests.fixtures.database import POSTGRES_URL, postgres_schema_url

PREVIOUS_HEAD = "h10b_001_availability_hours"
NOW = "2026-12-01 00:00:00"


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path, worker_id: str) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'migrated.sqlite'}"
    if not POSTGRES_URL:
        pytest.skip("MUSTER_TEST_DATABASE_URL is not set: PostgreSQL variant not run")
    return postgres_schema_url(f"{worker_id}_org_migration")


def _rows(sql: str) -> list[tuple[object, ...]]:
    return [tuple(r) for r in db.session.execute(text(sql))]


def test_rows_at_the_previous_head_are_all_mapped(database_url: str) -> None:
    app = build_app(database_url)
    with app.app_context():
        upgrade(revision=PREVIOUS_HEAD)
        statements = [
            "INSERT INTO districts (id, name) VALUES (1, '崇川区'), (2, '通州区')",
            "INSERT INTO work_units (id, name) VALUES (1, '电力公司'), (2, '无区单位')",
            *(
                "INSERT INTO users (id, phone, name, name_pinyin, password_hash, role, active,"
                f" created_at) VALUES ({i}, '+86139000000{i:02d}', '人{i}', 'ren', '!x', '{role}',"
                f" true, '{NOW}')"
                for i, role in [
                    (1, "volunteer"),
                    (2, "volunteer"),
                    (3, "volunteer"),
                    (4, "volunteer"),
                    (5, "coordinator"),
                    (6, "admin"),
                ]
            ),
            # Unit 1: two volunteers in district 2, one in district 1 -> under district 2.
            *(
                "INSERT INTO volunteers (id, user_id, work_unit_id, district_id, accepts_nights,"
                f" weekly_cap) VALUES ({i}, {i}, {unit}, {district}, false, 5)"
                for i, unit, district in [(1, 1, 2), (2, 1, 2), (3, 1, 1), (4, "NULL", 1)]
            ),
            "INSERT INTO sites (id, kind, name, address, district_id, timezone, first_shift_hour,"
            " runs_night, runs_day, runs_evening, created_at) VALUES"
            f" (1, 'testing', '甲点', '', 1, 'Asia/Shanghai', 0, true, true, true, '{NOW}'),"
            f" (2, 'testing', '乙点', '', 2, 'Asia/Shanghai', 0, true, true, true, '{NOW}'),"
            f" (3, 'checkpoint', '无区点', '', NULL, 'Asia/Shanghai', 0, true, true, true,"
            f" '{NOW}')",
            "INSERT INTO planning_periods (id, name, start_date, end_date, is_open,"
            " self_signup_open, deprioritise_no_shows) VALUES"
            " (1, '一区期', '2026-12-07', '2026-12-13', true, false, false),"
            " (2, '两区期', '2026-12-07', '2026-12-13', true, false, false),"
            " (3, '空期', '2026-12-07', '2026-12-13', true, false, false)",
            "INSERT INTO period_sites (period_id, site_id) VALUES (1, 1), (2, 1), (2, 2)",
        ]
        for statement in statements:
            db.session.execute(text(statement))
        db.session.commit()

        upgrade()

        (root,) = _rows("SELECT id FROM organisations WHERE parent_id IS NULL")
        root_id = root[0]
        nodes = {
            name: (kind, parent)
            for _, kind, name, parent in _rows(
                "SELECT id, kind, name, parent_id FROM organisations"
            )
        }
        node_id = {name: i for i, name in _rows("SELECT id, name FROM organisations")}
        assert nodes["崇川区"] == ("district", root_id)
        assert nodes["通州区"] == ("district", root_id)
        assert nodes["电力公司"] == ("grassroots", node_id["通州区"])
        assert nodes["无区单位"] == ("grassroots", root_id)
        assert dict(_rows("SELECT id, organisation_id FROM volunteers")) == {
            1: node_id["电力公司"],
            2: node_id["电力公司"],
            3: node_id["电力公司"],
            4: node_id["崇川区"],
        }
        assert dict(_rows("SELECT id, organisation_id FROM sites")) == {
            1: node_id["崇川区"],
            2: node_id["通州区"],
            3: root_id,
        }
        assert dict(_rows("SELECT id, organisation_id FROM planning_periods")) == {
            1: node_id["崇川区"],
            2: root_id,
            3: root_id,
        }
        assert dict(_rows("SELECT id, organisation_id FROM users WHERE role != 'volunteer'")) == {
            5: root_id,
            6: None,
        }
        db.session.commit()
        downgrade(revision=PREVIOUS_HEAD)
        assert _rows("SELECT count(*) FROM volunteers") == [(4,)]
        db.session.remove()
        db.engine.dispose()
