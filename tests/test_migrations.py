"""The migrations build exactly the schema the models declare, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from scheduler.extensions import db
from tests.fixtures.app import build_app
from tests.fixtures.database import POSTGRES_URL, postgres_schema_url


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path, worker_id: str) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'migrated.sqlite'}"
    if not POSTGRES_URL:
        pytest.skip("MUSTER_TEST_DATABASE_URL is not set: PostgreSQL variant not run")
    return postgres_schema_url(f"{worker_id}_migrations")


def test_upgrade_matches_models_and_downgrades_cleanly(empty_database_url: str) -> None:
    app = build_app(empty_database_url)
    with app.app_context():
        upgrade()
        with db.engine.connect() as connection:
            diff = compare_metadata(MigrationContext.configure(connection), db.metadata)
        assert diff == [], f"models and migrations disagree: {diff}"
        assert "users" in inspect(db.engine).get_table_names()

        downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        db.engine.dispose()
