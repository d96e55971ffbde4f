"""``flask db upgrade`` on an empty database builds exactly the schema the models describe."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from scheduler import create_app
from scheduler.db import Base

from .conftest import app_config


def _fresh_url(database_url: str, tmp_path) -> tuple[str, object]:
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        return f"sqlite:///{tmp_path / 'migrated.sqlite'}", None
    name = f"{url.database}_mig"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    return url.set(database=name).render_as_string(hide_password=False), (admin, name)


def test_upgrade_builds_the_models_schema(database_url, tmp_path):
    url, cleanup = _fresh_url(database_url, tmp_path)
    app = create_app(app_config(url))
    try:
        with app.app_context():
            upgrade()
        engine = create_engine(url)
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
            if engine.dialect.name == "postgresql":
                found = conn.execute(
                    text("SELECT 1 FROM pg_constraint WHERE conname = 'no_overlapping_claims'")
                ).first()
                assert found, "the exclusion constraint is missing"
        engine.dispose()
        # Index/constraint naming is covered by the naming convention; types must match.
        assert diff == [], diff
    finally:
        if cleanup:
            admin, name = cleanup
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
